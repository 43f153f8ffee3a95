"""The warm path's shortcuts stay exact: remembered rankings and states, rows decoded on use, no git when
git cannot change a state. Every result is compared with --no-cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Cli, git, task_text, write_task

OLD = 1_600_000_000_000_000_000  # 2020: old enough to be cached (not "racily clean")


def age(path: Path, ns: int = OLD) -> Path:
    os.utime(path, ns=(ns, ns))
    return path


def both(cli: Cli, *args: str) -> str:
    """The command's output with the caches, after checking that it equals the output without them."""
    cached = cli(*args)
    fresh = cli("--no-cache", *args)
    assert cached.exit_code == fresh.exit_code == 0, cached.stderr + fresh.stderr
    assert cached.stdout == fresh.stdout
    return cached.stdout


def ready_ids(cli: Cli) -> list[str]:
    return [task["id"] for task in json.loads(both(cli, "ready", "--json"))]


def cache_dir(repo: Path) -> Path:
    return repo / ".git" / "gtask" / "cache"


def test_remembered_ranking_and_states_follow_every_edit(cli: Cli, repo: Path) -> None:
    for number, priority in enumerate((2, 1, 3)):
        age(write_task(repo, f"t{number}", task_text(f"Task {number}", priority=str(priority))))
    age(write_task(repo, "after", task_text("After", priority="0", depends_on="[t0]")))
    assert ready_ids(cli) == ["t1", "t0", "t2"]
    assert list(cache_dir(repo).glob("ranking-*.json"))  # written, and read back by the run below
    assert ready_ids(cli) == ["t1", "t0", "t2"]
    both(cli, "list", "--json")
    assert list(cache_dir(repo).glob("states-*.json"))
    path = repo / ".tasks" / "t2.md"
    before = path.stat()
    path.write_text(task_text("Task 2", priority="0"))  # same size, same modification time
    age(path, before.st_mtime_ns)
    assert ready_ids(cli) == ["t2", "t1", "t0"]
    age(write_task(repo, "t0", task_text("Task 0", "done", priority="2")))
    assert ready_ids(cli) == ["after", "t2", "t1"]
    states = {t["id"]: t["state"] for t in json.loads(both(cli, "list", "--json"))}
    assert states["after"] == "ready" and states["t0"] == "done"
    (repo / ".tasks" / "t1.md").unlink()
    assert ready_ids(cli) == ["after", "t2"]
    assert "t1" not in both(cli, "list")


def test_a_remembered_ranking_ends_when_a_lease_runs_out(cli: Cli, repo: Path) -> None:
    until = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0).isoformat()
    age(write_task(repo, "held", task_text("Held", claimed_by="agent-1", lease_until=until)))
    age(write_task(repo, "free", task_text("Free")))
    assert ready_ids(cli) == ["free"]
    assert {t["id"]: t["state"] for t in json.loads(both(cli, "list", "--json"))}["held"] == "claimed"
    time.sleep(3.2)  # the lease has run out: the same files now give another answer
    assert ready_ids(cli) == ["free", "held"]
    assert {t["id"]: t["state"] for t in json.loads(both(cli, "list", "--json"))}["held"] == "ready"


def test_ages_follow_head_while_the_files_stay_the_same(cli: Cli, repo: Path) -> None:
    for task_id in ("a", "b"):
        age(write_task(repo, task_id, task_text(task_id.upper())))
    assert ready_ids(cli) == ["a", "b"]  # no history: ties break by ID
    for task_id, when in (("b", 1_700_000_000), ("a", 1_700_000_500)):  # committing leaves the files untouched
        git(repo, "add", f".tasks/{task_id}.md")
        env = {**os.environ, "GIT_AUTHOR_DATE": f"{when} +0000", "GIT_COMMITTER_DATE": f"{when} +0000"}
        subprocess.run(["git", "commit", "-q", "-m", f"add {task_id}"], cwd=repo, env=env, check=True)
    assert ready_ids(cli) == ["b", "a"]  # b is older


def test_a_claim_on_another_branch_changes_the_remembered_answers(cli: Cli, repo: Path, tmp_path: Path) -> None:
    for task_id in ("a", "b"):
        age(write_task(repo, task_id, task_text(task_id.upper())))
    git(repo, "add", ".tasks")
    git(repo, "commit", "-q", "-m", "tasks")
    assert ready_ids(cli) == ["a", "b"]
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(repo), str(other))
    until = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat()
    write_task(other, "a", task_text("A", "in_progress", claimed_by="agent-2", lease_until=until))
    git(other, "commit", "-q", "-am", "claim a")
    git(other, "push", "-q", "origin", "HEAD:refs/heads/agent/a")  # the work tree of `repo` is not touched
    assert ready_ids(cli) == ["b"]
    assert {t["id"]: t["state"] for t in json.loads(both(cli, "list", "--json"))}["a"] == "claimed"


def test_a_damaged_cache_row_is_read_from_its_file(cli: Cli, repo: Path) -> None:
    for number in range(3):
        age(write_task(repo, f"t{number}", task_text(f"Task {number}")))
    expected = both(cli, "list", "--json")
    cache = next(cache_dir(repo).glob("tasks-*.json"))
    data = json.loads(cache.read_text())
    data["entries"]["t1.md"][1] = '["not", "a task"]'
    cache.write_text(json.dumps(data))
    assert both(cli, "list", "--json") == expected
    assert json.loads(both(cli, "show", "t1", "--json"))["title"] == "Task 1"


@pytest.fixture
def git_log(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose `git` logs every call (then runs the real git), and the log."""
    folder, log = tmp_path / "bin", tmp_path / "git.log"
    folder.mkdir()
    real = shutil.which("git")
    (folder / "git").write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    (folder / "git").chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}, log


def test_a_warm_read_of_a_one_branch_repository_runs_no_git(repo: Path, git_log: tuple[dict[str, str], Path]) -> None:
    env, log = git_log
    for number in range(3):
        age(write_task(repo, f"t{number}", task_text(f"Task {number}", depends_on="[t0]" if number else "[]")))
    git(repo, "add", ".tasks")
    git(repo, "commit", "-q", "-m", "tasks")

    def gtask(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "gtask", *args], cwd=repo, env=env, capture_output=True,
                              text=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    for command in (["ready"], ["list"], ["next"], ["show", "t1"]):
        first = gtask(*command)  # warms the caches
        log.unlink(missing_ok=True)
        assert gtask(*command) == first
        assert not log.exists(), f"gtask {' '.join(command)} ran git: {log.read_text()}"
    git(repo, "branch", "agent/x")  # now another branch could hold a claim: git is asked, HEAD once
    log.unlink(missing_ok=True)
    gtask("ready")
    calls = log.read_text().splitlines()
    assert calls and len([c for c in calls if c.startswith("rev-parse --verify")]) == 1, calls


def test_the_cli_agent_rule_is_the_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    from gtask.cli.options import acts_as_agent
    from gtask.protocol.session import acts_as_agent as session_rule

    for explicit in (None, "", "agent-7"):
        for env in (None, "agent-8"):
            if env is None:
                monkeypatch.delenv("GTASK_AGENT", raising=False)
            else:
                monkeypatch.setenv("GTASK_AGENT", env)
            assert acts_as_agent(explicit) == session_rule(explicit)
