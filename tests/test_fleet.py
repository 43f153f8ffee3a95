"""Exactly-once claims across clones: 8 agent processes race over one bare remote."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from conftest import git

HERE = Path(__file__).resolve().parent


def make_remote(tmp_path: Path, tasks: dict[str, list[str]]) -> Path:
    """A bare remote whose main holds `tasks` ({id: depends_on})."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(remote), str(seed))
    (seed / ".tasks").mkdir()
    (seed / ".tasks" / "config.yaml").write_text("project: fleet\nlease: 1h\n")
    for task_id, deps in tasks.items():
        lines = ["---", f"title: Task {task_id}", "status: todo"]
        if deps:
            lines += ["depends_on:"] + [f"  - {d}" for d in deps]
        (seed / ".tasks" / f"{task_id}.md").write_text("\n".join(lines + ["---", ""]))
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "plan")
    git(seed, "push", "-q", "origin", "main")
    return remote


def clone(tmp_path: Path, remote: Path, name: str) -> Path:
    path = tmp_path / name
    git(tmp_path, "clone", "-q", str(remote), str(path))
    git(path, "config", "user.name", name)
    git(path, "config", "user.email", f"{name}@example.com")
    return path


def test_eight_clones_claim_forty_tasks_exactly_once(tmp_path: Path) -> None:
    tasks = {f"t{i:02d}": ([f"t{i - 10:02d}"] if i >= 10 and i % 3 == 0 else []) for i in range(40)}
    remote = make_remote(tmp_path, tasks)
    log = tmp_path / "claims.jsonl"
    deadline = time.time() + 240
    agents = [
        subprocess.Popen([sys.executable, str(HERE / "fleet_agent.py"), str(clone(tmp_path, remote, f"a{n}")),
                          f"a{n}", str(log), str(deadline)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(8)
    ]
    for agent in agents:
        _, err = agent.communicate(timeout=300)
        assert agent.returncode == 0, err
    claims = [json.loads(line) for line in log.read_text().splitlines()]
    claimed = sorted(c["task"] for c in claims)
    assert claimed == sorted(tasks), "every task claimed exactly once"
    assert len({c["agent"] for c in claims}) > 1
    check = clone(tmp_path, remote, "check")
    assert git(check, "ls-remote", "origin", "refs/gtask/claims/*") == ""  # no lease refs left
    tombstones = git(check, "ls-remote", "origin", "refs/gtask/done/*").splitlines()
    assert sorted(line.rsplit("/", 1)[1] for line in tombstones) == sorted(tasks)
    result = subprocess.run([sys.executable, "-m", "gtask", "list", "--json"], cwd=check, capture_output=True, text=True)
    statuses = {t["id"]: t["status"] for t in json.loads(result.stdout)}
    assert statuses == {task_id: "done" for task_id in tasks}
    subjects = git(check, "log", "origin/main", "--format=%s").splitlines()
    for task_id in tasks:
        assert subjects.count(f"gtask: claim {task_id}") == 1
        assert subjects.count(f"gtask: done {task_id}") == 1
