"""Squash and merge commits without `Closes:` lines still land a task (issue 14, design §2 `landed`).

GitLab's and Gitea's default squash messages (and GitHub's "PR title") drop the branch's commit messages.
The task file's `done` still arrives in the commit that brought the work: that commit is the evidence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import Cli, git, task_text, write_task


def _status(cli: Cli) -> dict[str, Any]:
    result = cli("status", "--json")
    assert result.exit_code == 0, result.stderr
    return {t["id"]: t for t in json.loads(result.stdout)["tasks"]}


def _reconcile(cli: Cli) -> dict[str, Any]:
    result = cli("reconcile", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def _branch_finishes(repo: Path, cli: Cli, task_id: str, closes: bool = True) -> None:
    """On agent/a: code for the task, and the task file set done (by `gtask done`, or by hand without Closes)."""
    write_task(repo, task_id, task_text(f"Task {task_id}"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"plan {task_id}")
    git(repo, "switch", "-q", "-c", "agent/a")
    (repo / "feature.py").write_text(f"print('{task_id}')\n")
    git(repo, "add", "feature.py")
    git(repo, "commit", "-q", "-m", "the feature")
    if closes:
        assert cli("claim", task_id, "--agent", "alice").exit_code == 0
        assert cli("done", task_id, "--agent", "alice").exit_code == 0
    else:
        write_task(repo, task_id, task_text(f"Task {task_id}", status="done"))
        git(repo, "commit", "-q", "-am", "finish it")
    git(repo, "switch", "-q", "main")


def test_a_squash_without_closes_lands_the_task(repo: Path, cli: Cli) -> None:
    _branch_finishes(repo, cli, "one")
    git(repo, "merge", "-q", "--squash", "agent/a")
    git(repo, "commit", "-q", "-m", "Add the feature (#12)")  # GitLab's `%{title}`: no Closes line
    squash = git(repo, "rev-parse", "HEAD")
    git(repo, "branch", "-q", "-D", "agent/a")  # the forge deletes the branch after merging
    one = _status(cli)["one"]
    assert one["state"] == "landed" and one["closed_by_commits"] == []
    assert one["landed_by"]["commit"] == squash and one["landed_by"]["kind"] == "squash"
    line = next(row for row in cli("status").stdout.splitlines() if row.startswith("one "))
    assert f"landed by {squash[:7]}" in line and "squash" in line
    report = _reconcile(cli)
    assert report["unverified"] == [] and [t["id"] for t in report["landed_by_work"]] == ["one"]
    log = json.loads(cli("log", "one", "--json").stdout)
    landed = [e for e in log if e["action"] == "landed"]
    assert [e["commit"] for e in landed] == [squash] and landed[0]["landed_by"]["kind"] == "squash"
    assert "squash" in cli("log", "one").stdout


def test_a_merge_commit_without_closes_lands_the_task(repo: Path, cli: Cli) -> None:
    _branch_finishes(repo, cli, "one", closes=False)  # no commit anywhere says Closes: one
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge the feature", "agent/a")
    merge = git(repo, "rev-parse", "HEAD")
    one = _status(cli)["one"]
    assert one["state"] == "landed" and one["landed_by"] == {**one["landed_by"], "commit": merge, "kind": "merge"}
    assert _reconcile(cli)["unverified"] == []
    log = json.loads(cli("log", "one", "--json").stdout)
    assert [e["commit"] for e in log if e["action"] == "landed"] == [merge]


def test_a_hand_commit_that_only_sets_done_stays_unverified(repo: Path, cli: Cli) -> None:
    write_task(repo, "one", task_text("Task one"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "plan")
    write_task(repo, "one", task_text("Task one", status="done"))
    git(repo, "commit", "-q", "-am", "one is done, trust me")
    one = _status(cli)["one"]
    assert one["state"] == "unverified" and one["landed_by"] is None
    assert _reconcile(cli)["unverified"] == ["one"]
    assert all(e["action"] != "landed" for e in json.loads(cli("log", "one", "--json").stdout))


def test_a_task_reopened_after_the_squash_is_not_landed(repo: Path, cli: Cli) -> None:
    _branch_finishes(repo, cli, "one")
    git(repo, "merge", "-q", "--squash", "agent/a")
    git(repo, "commit", "-q", "-m", "Add the feature (#12)")
    git(repo, "branch", "-q", "-D", "agent/a")
    assert _status(cli)["one"]["state"] == "landed"
    path = repo / ".tasks" / "one.md"
    path.write_text(path.read_text().replace("status: done", "status: todo"))
    git(repo, "commit", "-q", "-am", "reopen one: the feature broke")
    assert _status(cli)["one"]["state"] == "ready"
    assert all(e["action"] != "landed" for e in json.loads(cli("log", "one", "--json").stdout))
    path.write_text(path.read_text().replace("status: todo", "status: done"))
    git(repo, "commit", "-q", "-am", "one is done again")  # a bare claim: the squash is older than the reopening
    one = _status(cli)["one"]
    assert one["state"] == "unverified" and one["landed_by"] is None


def test_many_tasks_landed_by_one_squash_all_count(repo: Path, cli: Cli) -> None:
    ids = [f"t{i:03d}" for i in range(205)]  # more than are named on git's command line: the folder is read
    for task_id in ids:
        write_task(repo, task_id, task_text(f"Task {task_id}"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "plan")
    git(repo, "switch", "-q", "-c", "agent/a")
    for task_id in ids:
        write_task(repo, task_id, task_text(f"Task {task_id}", status="done"))
    (repo / "feature.py").write_text("print('all')\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "all of it")
    git(repo, "switch", "-q", "main")
    write_task(repo, "bare", task_text("Bare", status="done"))  # added as done with no work: a bare claim
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "bare")
    git(repo, "merge", "-q", "--squash", "agent/a")
    git(repo, "commit", "-q", "-m", "Everything (#7)")
    states = {task_id: t["state"] for task_id, t in _status(cli).items()}
    assert {states[task_id] for task_id in ids} == {"landed"} and states["bare"] == "unverified"


def test_reconcile_fills_closed_by_with_the_squash_that_landed_the_task(repo: Path, cli: Cli) -> None:
    _branch_finishes(repo, cli, "one", closes=False)  # done by hand: no closed_by, no Closes line anywhere
    git(repo, "merge", "-q", "--squash", "agent/a")
    git(repo, "commit", "-q", "-m", "Add the feature (#12)")
    squash = git(repo, "rev-parse", "HEAD")
    filled = _reconcile(cli)["closed_by_filled"]
    assert [(t["id"], t["commit"]) for t in filled] == [("one", squash)]
    result = cli("reconcile", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["commit"] is not None
    text = (repo / ".tasks" / "one.md").read_text()
    assert f"closed_by: {squash}" in text and "status: done" in text
    assert _reconcile(cli)["closed_by_filled"] == []  # written once: nothing left to fill
    assert _status(cli)["one"]["state"] == "landed"
