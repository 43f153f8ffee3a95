"""Many processes in one work tree at once: no lost update, no corrupt file, a history that explains itself."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from conftest import git, run_process, task_text, write_task

WORKERS = 8
ROUNDS = 4
TASKS = 10


def test_eight_processes_claim_attempt_release_and_complete_in_one_work_tree(repo: Path, tmp_path: Path) -> None:
    for number in range(TASKS):
        write_task(repo, f"t{number}", task_text(f"Task {number}"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tasks")
    start = git(repo, "rev-parse", "HEAD")
    log_path = tmp_path / "outcomes.jsonl"
    worker = Path(__file__).with_name("concurrency_worker.py")
    procs = [subprocess.Popen([sys.executable, str(worker), str(repo), f"agent{n}", str(ROUNDS), str(n), str(log_path)])
             for n in range(WORKERS)]
    assert [proc.wait(timeout=600) for proc in procs] == [0] * WORKERS

    outcomes = [json.loads(line) for line in log_path.read_text().splitlines()]
    succeeded = Counter(o["action"].split("-")[0] for o in outcomes if o["exit"] == 0 and o["task"])
    failures = [o for o in outcomes if o["exit"] not in (0, 3) or (o["exit"] == 3 and o["action"] != "claim")]
    assert failures == []  # a claim may lose every race (exit 3); nothing else may fail

    # every success is exactly one commit, and every commit is a success: no update was lost
    events = json.loads(run_process(repo, "events", "--since", start, "--json").stdout)
    committed = Counter(e["action"] for e in events)
    assert committed == succeeded
    assert git(repo, "status", "--porcelain") == ""
    assert run_process(repo, "check").returncode == 0

    # replaying the history: a task is held by one agent at a time, and only its holder ends the hold
    holder: dict[str, str | None] = {}
    finished: set[str] = set()
    for event in events:
        (task,) = event["tasks"]
        if event["action"] == "claim":
            assert holder.get(task) is None and task not in finished, f"{task} claimed twice: {event}"
            holder[task] = event["agent"]
        else:
            assert holder.get(task) == event["agent"], f"{event['agent']} acted on {task} held by {holder.get(task)}"
            if event["action"] in ("release", "done"):
                holder[task] = None
                if event["action"] == "done":
                    finished.add(task)
    assert not any(holder.values())

    # the files say what the history says
    listed = {t["id"]: t for t in json.loads(run_process(repo, "list", "--json").stdout)}
    assert {t for t, task in listed.items() if task["status"] == "done"} == finished
    attempts = sum(len(task["attempts"]) for task in listed.values())
    assert attempts == succeeded["attempt"] // 2  # each attempt is one start and one end
    assert all(not task["claimed_by"] for task in listed.values())


def test_worktrees_of_one_clone_share_the_writer_lock(repo: Path, tmp_path: Path) -> None:
    import fcntl
    import os

    write_task(repo, "t0", task_text("Task 0"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tasks")
    other = tmp_path / "other-tree"
    git(repo, "worktree", "add", "-q", "-b", "other", str(other))
    lock = repo / ".git" / "gtask" / "lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as if a gtask process in the main work tree were writing
        blocked = run_process(other, "claim", "t0", "--agent", "bot", env={"GTASK_LOCK_WAIT": "0.5"})
        assert blocked.returncode == 1 and "another gtask process" in blocked.stderr
        assert git(other, "status", "--porcelain") == "" and "in_progress" not in (other / ".tasks/t0.md").read_text()
    finally:
        os.close(fd)
    assert run_process(other, "claim", "t0", "--agent", "bot").returncode == 0
