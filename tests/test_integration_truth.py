"""What design §2 reads from the integration branch stays its: gates come from its config and a tombstone is
voided by its version of the task, whatever the work tree's files say (every view agrees, warm and cold)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Cli, git, run_process
from test_fleet import clone, make_remote
from test_warm_path import git_log

__all__ = ["git_log"]  # the fixture, used by name

GATED = 'milestones:\n  m1:\n    gate: "false"\n  m2:\n    after: m1\n'


def gt(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = run_process(cwd, *args, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def views(cli: Cli, task_id: str) -> dict[str, object]:
    """What each view says of one task, with the caches and without (both must agree)."""
    seen: dict[str, object] = {}
    for flags in ((), ("--no-cache",)):
        found = {
            "list": {t["id"]: t["state"] for t in json.loads(cli(*flags, "list", "--json").stdout)}[task_id],
            "ready": task_id in [t["id"] for t in json.loads(cli(*flags, "ready", "--json").stdout)],
            "next": task_id in cli(*flags, "next", "--json").stdout,
            "show": json.loads(cli(*flags, "show", task_id, "--json").stdout)["state"],
            "status": {t["id"]: t["state"] for t in json.loads(cli(*flags, "status", "--json").stdout)["tasks"]}[
                task_id],
        }
        assert not seen or found == seen, (flags, found, seen)
        seen = found
    return seen


HELD = {"list": "waiting", "ready": False, "next": False, "show": "waiting", "status": "waiting"}
FREE = {"list": "ready", "ready": True, "next": True, "show": "ready", "status": "ready"}


def file_held_task(cli: Cli, repo: Path, config: str) -> None:
    """`held` of milestone m2, committed with the config `config` appended."""
    with (repo / ".tasks" / "config.yaml").open("a") as handle:
        handle.write(config)
    assert cli("new", "Held", "--milestone", "m2").exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "held")


def drop_milestones(repo: Path) -> None:
    config = repo / ".tasks" / "config.yaml"
    config.write_text(config.read_text().split("milestones:")[0])


def test_gates_come_from_the_integration_branch_not_the_work_tree(cli: Cli, repo: Path) -> None:
    file_held_task(cli, repo, GATED)
    assert views(cli, "held") == HELD
    drop_milestones(repo)  # uncommitted: the integration branch's config still gates m2
    assert views(cli, "held") == HELD
    git(repo, "branch", "unrelated")  # another branch changes nothing
    assert views(cli, "held") == HELD
    git(repo, "branch", "-D", "unrelated")
    assert views(cli, "held") == HELD
    claim = cli("claim", "held", "--agent", "bot")
    assert claim.exit_code != 0 and "waiting" in claim.stderr


def test_work_tree_milestones_gate_nothing_until_committed(cli: Cli, repo: Path) -> None:
    file_held_task(cli, repo, "")
    assert views(cli, "held") == FREE
    with (repo / ".tasks" / "config.yaml").open("a") as handle:
        handle.write(GATED)  # uncommitted: the integration branch has no milestones
    assert views(cli, "held") == FREE
    git(repo, "commit", "-q", "-am", "gate m2")  # now it has: the remembered answer follows the commit
    assert views(cli, "held") == HELD
    drop_milestones(repo)
    git(repo, "commit", "-q", "-am", "no gates")
    assert views(cli, "held") == FREE
    assert cli("claim", "held", "--agent", "bot").exit_code == 0


def test_gates_on_the_integration_branch_hold_on_another_checked_out_branch(cli: Cli, repo: Path) -> None:
    file_held_task(cli, repo, GATED)
    git(repo, "switch", "-q", "-c", "feature")
    drop_milestones(repo)
    git(repo, "commit", "-q", "-am", "no gates on this branch")  # not on the integration branch
    assert views(cli, "held") == HELD


def test_view_of_the_work_tree_gates_by_the_integration_branch_too(cli: Cli, repo: Path) -> None:
    file_held_task(cli, repo, GATED)
    drop_milestones(repo)
    for mode in ((), ("--worktree",)):
        data = json.loads(gt(repo, "view", ".", *mode, "--json"))
        assert {t["id"]: t["state"] for t in data["repos"][0]["tasks"]}["held"] == "waiting", mode


@pytest.mark.parametrize("milestones", ["", GATED.replace("    after: m1\n", ""), GATED],
                         ids=["none", "unordered", "ordered"])
def test_a_warm_ready_in_a_one_branch_repository_runs_git_only_for_gates(
        repo: Path, git_log: tuple[dict[str, str], Path], milestones: str) -> None:
    env, log = git_log
    with (repo / ".tasks" / "config.yaml").open("a") as handle:
        handle.write(milestones)
    gt(repo, "new", "Task", env=env)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "task")
    first = gt(repo, "ready", env=env)
    log.unlink(missing_ok=True)
    assert gt(repo, "ready", env=env) == first
    if "after" in milestones:
        assert log.exists()  # gate results are read from HEAD's history
    else:
        assert not log.exists(), log.read_text()


# -- tombstones ----------------------------------------------------------------------------------------------

ALICE = {"GTASK_AGENT": "alice"}


@pytest.fixture
def reopened(tmp_path: Path) -> Path:
    """A clone that synced a tombstone of `x`, which landed and was reopened on main since (the tombstone is void)."""
    remote = make_remote(tmp_path, {"x": [], "y": []})
    a = clone(tmp_path, remote, "a")
    gt(a, "claim", "x", env=ALICE)
    gt(a, "done", "x", "--push", env=ALICE)
    gt(a, "set", "x", "status=todo")
    git(a, "commit", "-q", "-am", "reopen x")
    git(a, "push", "-q", "origin", "main")
    b = clone(tmp_path, remote, "b")
    gt(b, "sync")
    assert "refs/gtask/origin/done/x" in git(b, "for-each-ref", "refs/gtask")
    return b


def viewed(cwd: Path) -> dict[str, str]:
    """`view .` with the caches and without (they must agree): each task's state."""
    seen: dict[str, str] = {}
    for env in ({}, {"GTASK_NO_CACHE": "1"}):
        data = json.loads(gt(cwd, "view", ".", "--json", env=env))
        found = {t["id"]: t["state"] for repo in data["repos"] for t in repo["tasks"]}
        assert not seen or found == seen, (env, found, seen)
        seen = found
    return seen


def test_a_void_tombstone_stays_void_for_view_without_the_work_tree_file(reopened: Path, tmp_path: Path) -> None:
    listed = {t["id"]: t["state"] for t in json.loads(gt(reopened, "list", "--json"))}
    assert listed == {"x": "ready", "y": "ready"}
    assert viewed(reopened)["x"] == "ready"
    shutil.move(reopened / ".tasks" / "x.md", tmp_path / "saved.md")  # the view reads main, not the work tree
    assert viewed(reopened)["x"] == "ready"
    shutil.move(tmp_path / "saved.md", reopened / ".tasks" / "x.md")
    git(reopened, "switch", "-q", "-c", "side")
    git(reopened, "rm", "-q", ".tasks/x.md")
    git(reopened, "commit", "-q", "-m", "x is not on this branch")
    assert viewed(reopened)["x"] == "ready"


def test_a_holding_tombstone_takes_the_task_in_view_whatever_the_work_tree_says(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, {"x": [], "y": []})
    a = clone(tmp_path, remote, "a")
    git(a, "switch", "-q", "-c", "agent/a")
    gt(a, "claim", "x", env=ALICE)
    gt(a, "done", "x", "--push", env=ALICE)  # the completion is on a branch that never landed: the tombstone holds
    b = clone(tmp_path, remote, "b")
    gt(b, "sync")
    assert {t["id"]: t["state"] for t in json.loads(gt(b, "list", "--json"))}["x"] == "claimed"
    assert viewed(b)["x"] == "claimed"
    (b / ".tasks" / "x.md").unlink()
    assert viewed(b)["x"] == "claimed"


def test_claim_still_judges_a_tombstone_by_the_integration_branch(reopened: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "gtask", "claim", "x", "--push", "--agent", "bob"], cwd=reopened,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_workspace_view_names_the_gate_a_task_waits_on(cli: Cli, repo: Path) -> None:
    """A task held only by a gate said "waits on" and nothing more in `view --all`."""
    file_held_task(cli, repo, GATED)
    line = next(line for line in gt(repo.parent, "view", repo.name, "--all").splitlines() if " held " in line)
    assert line.rstrip().endswith("waits on gate:m1")
