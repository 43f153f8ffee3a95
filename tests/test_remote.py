"""Claims across clones through a bare remote: races, stale takeovers, crashes, remote failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import git
from test_fleet import clone, make_remote

STALE = ("claimed_by: ghost\nclaimed_at: 2020-01-01T00:00:00+00:00\n"
         "lease_until: 2020-01-01T02:00:00+00:00\nclaim_branch: agent/ghost\n")


def gtask(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gtask", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **env})


def agent_clone(tmp_path: Path, remote: Path, name: str) -> Path:
    path = clone(tmp_path, remote, name)
    git(path, "switch", "-q", "-c", f"agent/{name}")
    return path


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return make_remote(tmp_path, {"one": [], "two": [], "three": ["one"]})


def test_loser_is_told_who_won_and_keeps_its_branch(tmp_path: Path, remote: Path) -> None:
    a, b = agent_clone(tmp_path, remote, "a"), agent_clone(tmp_path, remote, "b")
    assert gtask(a, "claim", "one", "--push", "--agent", "alice").returncode == 0
    head, status = git(b, "rev-parse", "HEAD"), git(b, "status", "--porcelain")
    lost = gtask(b, "claim", "one", "--push", "--agent", "bob")
    assert lost.returncode == 3
    assert "claimed by alice on agent/a until" in lost.stderr
    assert git(b, "rev-parse", "HEAD") == head and git(b, "status", "--porcelain") == status
    assert git(b, "diff", "HEAD") == ""
    assert git(a, "ls-remote", "origin", "refs/gtask/claims/one").split()[0] == git(a, "rev-parse", "HEAD")


def test_simultaneous_claims_exactly_one_wins(tmp_path: Path, remote: Path) -> None:
    clones = [agent_clone(tmp_path, remote, f"c{i}") for i in range(6)]
    procs = [subprocess.Popen([sys.executable, "-m", "gtask", "claim", "two", "--push", "--agent", f"c{i}"],
                              cwd=path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i, path in enumerate(clones)]
    codes = [p.wait(timeout=60) for p in procs]
    assert sorted(codes) == [0] + [3] * 5, [p.stderr.read() for p in procs]


def test_two_agents_take_over_one_stale_lease_exactly_one_wins(tmp_path: Path) -> None:
    rounds = [f"s{i}" for i in range(4)]
    remote = make_remote(tmp_path, {task_id: [] for task_id in rounds})
    ghost = agent_clone(tmp_path, remote, "ghost")
    for task_id in rounds:  # a claim whose lease passed long ago, with its lease ref on the remote
        path = ghost / ".tasks" / f"{task_id}.md"
        path.write_text(path.read_text().replace("status: todo\n", "status: in_progress\n" + STALE))
        git(ghost, "commit", "-q", "-am", f"ghost claims {task_id}")
        sha = git(ghost, "rev-parse", "HEAD")
        git(ghost, "push", "-q", "origin", f"{sha}:refs/heads/agent/ghost", f"{sha}:refs/gtask/claims/{task_id}")
    for task_id in rounds:
        racers = [agent_clone(tmp_path, remote, f"{task_id}-{side}") for side in "ab"]
        for path in racers:
            git(path, "merge", "-q", "origin/agent/ghost")
            assert gtask(path, "sync").returncode == 0
        procs = [subprocess.Popen([sys.executable, "-m", "gtask", "claim", task_id, "--push", "--agent", path.name],
                                  cwd=path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for path in racers]
        codes = sorted(p.wait(timeout=60) for p in procs)
        assert codes == [0, 3], [p.stderr.read() for p in procs]
        winner = git(racers[0], "ls-remote", "origin", f"refs/gtask/claims/{task_id}").split()[0]
        assert winner in (git(path, "rev-parse", "HEAD") for path in racers)


def test_done_push_removes_the_lease_and_leaves_a_tombstone(tmp_path: Path, remote: Path) -> None:
    a, b = agent_clone(tmp_path, remote, "a"), agent_clone(tmp_path, remote, "b")
    assert gtask(b, "sync").returncode == 0  # b plans before a finishes
    assert gtask(a, "claim", "one", "--push", "--agent", "alice").returncode == 0
    done = gtask(a, "done", "one", "--push", "--agent", "alice", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["now_ready"][0]["id"] == "three"
    refs = git(a, "ls-remote", "origin", "refs/gtask/*")
    assert "refs/gtask/claims/one" not in refs and "refs/gtask/done/one" in refs
    late = gtask(b, "claim", "one", "--push", "--agent", "bob")  # b never saw the completion
    assert late.returncode == 3 and "already completed" in late.stderr
    assert git(b, "status", "--porcelain") == ""


def test_release_push_frees_the_task(tmp_path: Path, remote: Path) -> None:
    a, b = agent_clone(tmp_path, remote, "a"), agent_clone(tmp_path, remote, "b")
    assert gtask(a, "claim", "two", "--push", "--agent", "alice").returncode == 0
    assert gtask(a, "release", "two", "--push", "--agent", "alice", "--note", "stuck").returncode == 0
    assert git(a, "ls-remote", "origin", "refs/gtask/*") == ""
    assert gtask(b, "claim", "two", "--push", "--agent", "bob").returncode == 0


def test_renew_moves_the_lease(tmp_path: Path, remote: Path) -> None:
    a = agent_clone(tmp_path, remote, "a")
    assert gtask(a, "claim", "two", "--push", "--agent", "alice", "--lease", "10m").returncode == 0
    renewed = gtask(a, "renew", "two", "--push", "--agent", "alice", "--lease", "3h", "--json")
    assert renewed.returncode == 0, renewed.stderr
    assert git(a, "ls-remote", "origin", "refs/gtask/claims/two").split()[0] == git(a, "rev-parse", "HEAD")
    assert gtask(a, "renew", "two", "--agent", "bob").returncode == 3


def test_sync_lets_ready_and_next_see_remote_leases(tmp_path: Path, remote: Path) -> None:
    a, b = agent_clone(tmp_path, remote, "a"), agent_clone(tmp_path, remote, "b")
    assert gtask(a, "claim", "one", "--push", "--agent", "alice").returncode == 0
    git(a, "push", "-q", "origin", "--delete", "agent/a")  # the claiming branch is not on the remote
    assert gtask(b, "sync").returncode == 0
    ready = [t["id"] for t in json.loads(gtask(b, "ready", "--json").stdout)]
    assert "one" not in ready and "two" in ready
    status = json.loads(gtask(b, "status", "--json").stdout)
    one = next(t for t in status["tasks"] if t["id"] == "one")
    assert one["state"] == "claimed" and one["elsewhere"][0]["ref"] == "lease@origin"


@pytest.mark.parametrize("fault", ["claim-before-push", "after-push"])
def test_killed_claim_is_recovered_by_claiming_again(tmp_path: Path, remote: Path, fault: str) -> None:
    a, b = agent_clone(tmp_path, remote, "a"), agent_clone(tmp_path, remote, "b")
    killed = gtask(a, "claim", "one", "--push", "--agent", "alice", GTASK_FAULT=fault)
    assert killed.returncode == -9
    report = json.loads(gtask(a, "sync", "--agent", "alice", "--json").stdout)
    assert report["unpushed_claims"] == (["one"] if fault == "claim-before-push" else [])
    again = gtask(a, "claim", "one", "--push", "--agent", "alice")
    assert again.returncode == 0, again.stderr
    assert git(a, "ls-remote", "origin", "refs/gtask/claims/one").split()[0] == git(a, "rev-parse", "HEAD")
    assert gtask(b, "claim", "one", "--push", "--agent", "bob").returncode == 3


def test_unreachable_remote_is_an_error_not_a_lost_race(tmp_path: Path, remote: Path) -> None:
    a = agent_clone(tmp_path, remote, "a")
    git(a, "remote", "set-url", "origin", str(tmp_path / "nowhere.git"))
    head = git(a, "rev-parse", "HEAD")
    result = gtask(a, "claim", "one", "--push", "--agent", "alice")
    assert result.returncode == 1
    assert "cannot reach the remote 'origin'" in result.stderr
    assert git(a, "rev-parse", "HEAD") == head and git(a, "status", "--porcelain") == ""


def test_remote_that_refuses_custom_refs(tmp_path: Path, remote: Path) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nwhile read old new ref; do case $ref in refs/gtask/*) "
                    "echo 'custom refs are not allowed' >&2; exit 1;; esac; done\n")
    hook.chmod(0o755)
    a = agent_clone(tmp_path, remote, "a")
    head = git(a, "rev-parse", "HEAD")
    result = gtask(a, "claim", "one", "--push", "--agent", "alice")
    assert result.returncode == 1
    assert "rejected" in result.stderr and "refs/heads and refs/tags" in result.stderr
    assert git(a, "rev-parse", "HEAD") == head and git(a, "status", "--porcelain") == ""
    assert gtask(a, "claim", "one", "--agent", "alice").returncode == 0  # a local claim still works
