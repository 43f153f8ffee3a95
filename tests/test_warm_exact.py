"""A warm command (the folder's snapshot matches, remembered rankings, states and config) prints byte for byte what
`--no-cache` prints, across edits, deletions, config changes, lease expiry, HEAD moves and damaged caches."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Cli, git, run_process, task_text, write_task

OLD = 1_600_000_000_000_000_000  # 2020: old enough to be cached (not "racily clean")
RACY = 2.1  # a change time (which cannot be set back) must be this old before a snapshot is written
COMMANDS = (("ready",), ("list",), ("next",), ("show", "t0"), ("show", "t2"), ("list", "--json"), ("ready", "--json"),
            ("next", "--json"), ("list", "--tree"), ("ready", "--label", "api"), ("list", "--status", "todo"),
            ("show", "T1", "--json"), ("list", "--ready"))


def age(path: Path, ns: int = OLD) -> Path:
    os.utime(path, ns=(ns, ns))
    return path


def cache(repo: Path, kind: str) -> list[Path]:
    return sorted((repo / ".git" / "gtask" / "cache").glob(f"{kind}-*.json"))


def exact(cli: Cli, *commands: tuple[str, ...]) -> None:
    """Each command twice with the caches (writing, then reading them) prints exactly what it prints without."""
    for args in commands or COMMANDS:
        fresh = cli("--no-cache", *args)
        for _ in range(2):
            cached = cli(*args)
            assert (cached.exit_code, cached.stdout, cached.stderr) == (fresh.exit_code, fresh.stdout,
                                                                        fresh.stderr), args


def edit_in_place(path: Path, text: str) -> None:
    """Rewrite a file with text of the same size, keeping its modification time (only its change time moves)."""
    before = path.stat()
    assert len(text.encode()) == before.st_size
    path.write_text(text)
    age(path, before.st_mtime_ns)


@pytest.fixture
def tasks(repo: Path) -> Path:
    """Tasks with dependencies, labels, a lane, a parent, a live claim and a broken file, all settled (old)."""
    until = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat()
    files = {
        "t0": task_text("Task 0", priority="1", labels="[api]"),
        "t1": task_text("Task 1", depends_on="[t0]", lane="autonomous"),
        "t2": task_text("Task 2", parent="t0", labels="[api, ui]"),
        "t3": task_text("Task 3", "in_progress", claimed_by="agent-1", lease_until=until),
        "t4": task_text("Task 4", "done"),
        "broken": "---\ntitle: [unclosed\n---\n",
    }
    for task_id, text in files.items():
        age(write_task(repo, task_id, text))
    age(repo / ".tasks" / "config.yaml")
    time.sleep(RACY)
    return repo


def test_warm_output_is_exact_across_edits(cli: Cli, tasks: Path) -> None:
    exact(cli)
    assert cache(tasks, "snapshot") and cache(tasks, "config")  # the warm path below is the one that ran
    edit_in_place(tasks / ".tasks" / "t2.md", task_text("Task X", parent="t0", labels="[api, ui]"))
    exact(cli)
    (tasks / ".tasks" / "t4.md").unlink()  # t4 is gone
    age(write_task(tasks, "t5", task_text("Task 5", depends_on="[t2]", priority="0")))
    exact(cli)
    config = tasks / ".tasks" / "config.yaml"
    config.write_text(config.read_text() + "agent_lanes: [triage]\n")
    exact(cli, ("ready",), ("next",), ("list",))
    time.sleep(RACY)  # settled again: a new snapshot and config record are written, then read
    exact(cli)
    config.write_text(config.read_text().replace("project: demo", "project: dem2"))  # same size: a rename
    age(config)
    exact(cli)
    assert {task["project"] for task in json.loads(cli("list", "--json").stdout)} == {"dem2"}


def test_an_agent_sees_the_lanes_of_the_config_as_it_is_now(repo: Path) -> None:
    for task_id, lane in (("a", "autonomous"), ("b", "triage")):
        age(write_task(repo, task_id, task_text(task_id.upper(), lane=lane)))
    config = repo / ".tasks" / "config.yaml"
    config.write_text(config.read_text() + "agent_lanes: [autonomous]\n")
    age(config)
    time.sleep(RACY)

    def ready(*flags: str) -> str:
        proc = run_process(repo, *flags, "ready", env={"GTASK_AGENT": "agent-7"})
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert ready() == ready() == ready("--no-cache") and "a " in ready() and "b " not in ready()
    before = config.stat()
    config.write_text(config.read_text().replace("[autonomous]", "[triage]    "))  # same size, same mtime
    age(config, before.st_mtime_ns)
    assert ready() == ready("--no-cache") and "b " in ready() and "a " not in ready()


def test_a_lease_running_out_ends_a_warm_answer(cli: Cli, repo: Path) -> None:
    until = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0).isoformat()
    age(write_task(repo, "held", task_text("Held", claimed_by="agent-1", lease_until=until)))
    age(write_task(repo, "free", task_text("Free")))
    time.sleep(RACY)
    exact(cli, ("ready",), ("list",), ("next", "--json"))
    assert "held" not in cli("ready").stdout and cache(repo, "snapshot")
    time.sleep(max(0.0, datetime.fromisoformat(until).timestamp() - time.time()) + 1.1)
    exact(cli, ("ready",), ("list",), ("next", "--json"))
    assert "held" in cli("ready").stdout


def test_head_moves_change_warm_ages(cli: Cli, repo: Path) -> None:
    for task_id in ("a", "b"):
        age(write_task(repo, task_id, task_text(task_id.upper())))
    time.sleep(RACY)
    exact(cli, ("ready",), ("next", "--json"))
    for task_id, when in (("b", 1_700_000_000), ("a", 1_700_000_500)):  # committing leaves the files untouched
        git(repo, "add", f".tasks/{task_id}.md")
        env = {"GIT_AUTHOR_DATE": f"{when} +0000", "GIT_COMMITTER_DATE": f"{when} +0000"}
        subprocess.run(["git", "commit", "-q", "-m", f"add {task_id}"], cwd=repo, check=True,
                       env={**os.environ, **env})
    exact(cli, ("ready",), ("next", "--json"))
    assert cli("ready").stdout.splitlines()[1].startswith("b ")  # b is older now
    git(repo, "branch", "agent/x")  # another branch: git is asked, and the answer is the same
    exact(cli, ("ready",), ("list",))


def test_damaged_or_deleted_caches_under_a_matching_snapshot(cli: Cli, tasks: Path) -> None:
    exact(cli)
    for parse_cache in cache(tasks, "tasks"):
        parse_cache.unlink()  # the snapshot still matches the folder: tasks are read from their files
    exact(cli, ("list", "--json"), ("ready", "--json"), ("list", "--tree"), ("show", "t0"))
    for record in (*cache(tasks, "ranking"), *cache(tasks, "states")):
        data = json.loads(record.read_text())
        data["data"] = [["x"]] if isinstance(data["data"], list) else data["data"]
        record.write_text(json.dumps(data))
    exact(cli, ("ready",), ("list",))
    for index in cache(tasks, "dependents"):
        index.unlink()
    exact(cli, ("show", "t0"), ("show", "t0", "--json"))
    snapshot = cache(tasks, "snapshot")[0]
    snapshot.write_text("{not json")
    exact(cli, ("ready",), ("list",), ("show", "t0"))
    data = json.loads(cache(tasks, "snapshot")[0].read_text())
    data["names"] = data["names"][:-1]  # a snapshot that lies about the names but has the right listing and keys
    data["keys"][0] += 1
    cache(tasks, "snapshot")[0].write_text(json.dumps(data))
    exact(cli, ("list",))


def test_a_new_dependent_under_a_stale_index_is_found(cli: Cli, tasks: Path) -> None:
    exact(cli, ("list",), ("show", "t0"))
    edit_in_place(tasks / ".tasks" / "t4.md", task_text("Task 4", "done").replace("Body.", "Bod:."))
    path = tasks / ".tasks" / "t3.md"
    text = path.read_text()
    edit_in_place(path, text.replace("agent-1", "agent-2"))
    exact(cli, ("show", "t0"), ("show", "t0", "--json"), ("list",))
    before = (tasks / ".tasks" / "t4.md").stat()
    (tasks / ".tasks" / "t4.md").write_text(task_text("Task 4", depends_on="[t0]"))
    age(tasks / ".tasks" / "t4.md", before.st_mtime_ns)
    exact(cli, ("show", "t0", "--json"))
    assert "t4" in {d["id"] for d in json.loads(cli("show", "t0", "--json").stdout)["dependents"]}


def test_a_folder_changed_within_the_racy_window_is_not_snapshotted(cli: Cli, repo: Path) -> None:
    for number in range(3):
        age(write_task(repo, f"t{number}", task_text(f"Task {number}")))  # old modification, new change time
    age(repo / ".tasks" / "config.yaml")
    exact(cli, ("list",), ("ready",))
    assert cache(repo, "tasks") and not cache(repo, "snapshot")  # parsed and cached, but not known settled


def test_check_points_at_the_same_lines_from_the_cache(cli: Cli, repo: Path) -> None:
    """Parent cycles, a missing parent and a parent whose children are all finished point at the parent and status
    lines; a cached task must still know them (they were lost once: `check` printed no line when warm)."""
    files = {"a": task_text("A", labels="[x]", parent="b"), "b": task_text("B", parent="a"),
             "c": task_text("C", "todo", milestone="m1", parent="d"), "d": task_text("D", "done", parent="c"),
             "e": task_text("E", "done", parent="f"), "f": task_text("F"), "g": task_text("G", parent="nowhere")}
    for task_id, text in files.items():
        age(write_task(repo, task_id, text))
    age(repo / ".tasks" / "config.yaml")
    time.sleep(RACY)
    exact(cli, ("check",), ("check", "--json"))
    assert all(p["line"] for p in json.loads(cli("check", "--json").stdout)["problems"])
