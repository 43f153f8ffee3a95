"""What an agent pays to read: the whole cycle on the example's api-auth-check stays within 2,800 characters."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import git, run_process

EXAMPLE = Path(__file__).resolve().parent.parent / ".tasks-example"
BUDGET = 2_800


def _clone_with_remote(tmp_path: Path) -> Path:
    remote, work = tmp_path / "remote.git", tmp_path / "work"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(tmp_path, "clone", "-q", str(remote), str(work))
    (work / ".tasks").mkdir()
    for name in ("config.yaml", "api-auth-check.md", "session-tokens.md"):
        shutil.copy(EXAMPLE / name, work / ".tasks" / name)
    prerequisite = work / ".tasks" / "session-tokens.md"
    text = prerequisite.read_text()
    status = next(line for line in text.splitlines() if line.startswith("status:"))
    prerequisite.write_text(text.replace(status, "status: done", 1))
    git(work, "add", ".tasks")
    git(work, "commit", "-q", "-m", "plan")
    git(work, "push", "-q", "origin", "main")
    return work


def test_an_agents_whole_cycle_prints_at_most_the_budget(tmp_path: Path) -> None:
    work = _clone_with_remote(tmp_path)
    env = {"GTASK_AGENT": "codex"}
    printed = 0
    outputs: dict[str, str] = {}
    for args in (["agents"], ["sync"], ["next", "--claim", "--push", "--json"],
                 ["attempt", "start", "api-auth-check"],
                 ["attempt", "end", "api-auth-check", "--outcome", "success"],
                 ["done", "api-auth-check", "--push"]):
        proc = run_process(work, *args, env=env)
        assert proc.returncode == 0, (args, proc.stderr)
        outputs[args[0]] = proc.stdout
        printed += len(proc.stdout) + len(proc.stderr)
    claimed = json.loads(outputs["next"])
    assert claimed["task"]["id"] == "api-auth-check" and claimed["task"]["state"] == "claimed"
    body = (EXAMPLE / "api-auth-check.md").read_text().split("\n---\n", 1)[1]
    assert claimed["task"]["body"].strip() == body.strip()  # the spec itself: no `show` needed
    assert "body" in outputs["agents"] and "gtask show" not in outputs["agents"]
    assert printed <= BUDGET, f"the cycle printed {printed} characters (budget {BUDGET})"
    assert git(work, "ls-remote", "origin", "main").split()[0] == git(work, "rev-parse", "HEAD")
