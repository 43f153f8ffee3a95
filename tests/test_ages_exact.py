"""Tasks' ages (when each file was first committed) and the rankings made from them: a warm run prints what a cold
one prints when history changes shape under an unmoved HEAD (deepen, unshallow, replace refs, grafts and the
variables that switch them), when HEAD moves across cherry-picks and merges, and `--no-cache` neither reads nor
writes a cache."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import git, run_process, task_text, write_task

from gtask.gitio.git import Git
from gtask.plan.checks import check_files
from gtask.store.cache import first_added

DAY = 86_400
OLD = 1_577_836_800  # 2020-01-01: the commits' times, far from now
RACY = 2.1  # a task file's change time must be this old before the caches remember it
LISTINGS = (("next",), ("ready",), ("ready", "--json"), ("list",))


def commit(repo: Path, message: str, when: int) -> str:
    """Commit everything at the time `when`; the commit's ID."""
    git(repo, "add", "-A")
    stamp = {"GIT_AUTHOR_DATE": f"{when} +0000", "GIT_COMMITTER_DATE": f"{when} +0000"}
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", message], cwd=repo, check=True,
                   env={**os.environ, **stamp})
    return git(repo, "rev-parse", "HEAD")


def settle(repo: Path) -> None:
    """Make the task files old enough for every cache to remember them (the racily-clean rule)."""
    for path in (repo / ".tasks").iterdir():
        os.utime(path, (OLD, OLD))
    time.sleep(RACY)


def exact(repo: Path, *commands: tuple[str, ...], env: dict[str, str] | None = None) -> dict[tuple[str, ...], str]:
    """Each command twice with the caches (writing, then reading them) prints what it prints with --no-cache and
    with GTASK_NO_CACHE; the printed output by command."""
    printed = {}
    for args in commands or LISTINGS:
        cold = run_process(repo, "--no-cache", *args, env=env)
        runs = [run_process(repo, *args, env={**(env or {}), "GTASK_NO_CACHE": "1"}),
                run_process(repo, *args, env=env), run_process(repo, *args, env=env)]
        for run in runs:
            assert (run.returncode, run.stdout, run.stderr) == (cold.returncode, cold.stdout, cold.stderr), args
        printed[args] = cold.stdout
    return printed


def first(repo: Path, env: dict[str, str] | None = None) -> str:
    """The ID `next` offers."""
    return exact(repo, ("next",), env=env)[("next",)].split()[0]


@pytest.fixture
def origin(repo: Path) -> Path:
    """Zeta added a day before Alpha, then a commit that adds no task: Zeta is the older (it comes first)."""
    write_task(repo, "zeta", task_text("Zeta old"))
    commit(repo, "zeta", OLD + DAY)
    write_task(repo, "alpha", task_text("Alpha new"))
    commit(repo, "alpha", OLD + 2 * DAY)
    (repo / "R").write_text("x\n")
    commit(repo, "other", OLD + 3 * DAY)
    return repo


def test_deepening_a_shallow_clone_changes_warm_ages(origin: Path, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(shallow))
    settle(shallow)
    assert first(shallow) == "alpha"  # both added by the boundary commit: the same age, the ID decides
    exact(shallow)
    git(shallow, "fetch", "-q", "--deepen=1")  # the boundary moves to Alpha's commit: new times, same order
    exact(shallow)
    git(shallow, "fetch", "-q", "--unshallow")  # HEAD has not moved; the history under it has
    exact(shallow)
    assert first(shallow) == "zeta"


def test_replace_refs_grafts_and_their_switches_change_warm_ages(origin: Path) -> None:
    settle(origin)
    assert first(origin) == "zeta"
    exact(origin)
    alpha = git(origin, "rev-parse", "HEAD~1")
    git(origin, "replace", "--graft", alpha)  # Alpha's commit has no parent now: it adds both tasks
    exact(origin)
    assert first(origin) == "alpha"
    assert first(origin, {"GIT_NO_REPLACE_OBJECTS": "1"}) == "zeta"
    exact(origin, env={"GIT_NO_REPLACE_OBJECTS": "1"})
    exact(origin)  # the variable unset again
    git(origin, "replace", "-d", alpha)
    exact(origin)
    assert first(origin) == "zeta"
    (origin / ".git" / "info").mkdir(exist_ok=True)
    (origin / ".git" / "info" / "grafts").write_text(f"{alpha}\n")  # the old way to cut history
    exact(origin)
    assert first(origin) == "alpha"


def test_a_cherry_picked_task_merged_back_ages_as_a_full_walk_says(repo: Path) -> None:
    """A task added on a side branch, cherry-picked to main, the side branch merged: the side commit's time counts
    however HEAD got to main (this differed once: warm Xray, cold Yankee)."""
    commit(repo, "start", OLD)
    git(repo, "checkout", "-q", "-b", "side")
    write_task(repo, "xray", task_text("Xray"))
    commit(repo, "x", OLD + DAY)
    git(repo, "checkout", "-q", "main")
    write_task(repo, "yankee", task_text("Yankee"))
    commit(repo, "y", OLD + 2 * DAY)
    stamp = {"GIT_COMMITTER_DATE": f"{OLD + 3 * DAY} +0000"}
    subprocess.run(["git", "cherry-pick", "side"], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, **stamp})
    stamp = {"GIT_COMMITTER_DATE": f"{OLD + 4 * DAY} +0000"}
    subprocess.run(["git", "merge", "-q", "--no-ff", "side", "-m", "merge"], cwd=repo, check=True,
                   env={**os.environ, **stamp})
    settle(repo)
    for branch in ("side", "main", "side", "main"):  # each move: from an ancestor, then to one
        git(repo, "checkout", "-q", branch)
        exact(repo)
    assert first(repo) == "xray"


def test_remembered_ages_merged_over_any_move_equal_a_full_walk(repo: Path) -> None:
    """Branches with adds, a delete and a re-add, a cherry-pick merged back and a merge that changes files; for
    every pair of commits, the ages remembered at one and brought up to the other equal a walk of the other's whole
    history."""
    commit(repo, "start", OLD)
    when = itertools.count(OLD + DAY, 3600)

    def pick(commit_id: str) -> None:
        stamp = {"GIT_COMMITTER_DATE": f"{next(when)} +0000"}
        subprocess.run(["git", "cherry-pick", commit_id], cwd=repo, check=True, capture_output=True,
                       env={**os.environ, **stamp})

    def merge(branch: str) -> None:
        stamp = {"GIT_COMMITTER_DATE": f"{next(when)} +0000"}
        subprocess.run(["git", "merge", "-q", "--no-ff", "-X", "theirs", branch, "-m", f"merge {branch}"], cwd=repo,
                       check=True, env={**os.environ, **stamp})

    git(repo, "checkout", "-q", "-b", "side")
    write_task(repo, "a", task_text("A"))
    side_a = commit(repo, "a", next(when))
    (repo / ".tasks" / "a.md").unlink()
    commit(repo, "drop a", next(when))
    write_task(repo, "a", task_text("A again"))
    commit(repo, "a again", next(when))
    git(repo, "checkout", "-q", "-b", "picked", "main")
    write_task(repo, "x", task_text("X"))
    side_x = commit(repo, "x", next(when))
    git(repo, "checkout", "-q", "main")
    write_task(repo, "b", task_text("B"))
    commit(repo, "b", next(when))
    pick(side_x)
    merge("picked")  # the same files as main's: a walk that simplifies history leaves `picked` out
    pick(side_a)
    merge("side")
    write_task(repo, "c", task_text("C"))
    commit(repo, "c", next(when))
    folder = ".tasks"
    for old, new in itertools.permutations(git(repo, "rev-list", "--all").split(), 2):
        git(repo, "checkout", "-q", "--detach", old)
        first_added(Git.discover(repo), folder)  # remembered at `old`
        git(repo, "checkout", "-q", "--detach", new)
        remembered = first_added(Git.discover(repo), folder)  # brought up from `old`
        assert remembered == Git.discover(repo).first_added(folder), (old, new)


NO_CACHE_COMMANDS = (  # every command that only reads, in one repository and as a workspace of it
    ("view", "."), ("view", "--worktree", "."), ("check",), ("ready",), ("list",), ("show", "alpha"), ("next",),
    ("status",), ("blocked",), ("order",), ("graph",), ("log", "alpha"), ("events", "--since", "HEAD~2"),
    ("export",), ("triage",), ("report", "--since", "1d", "."), ("stats",), ("reconcile", "--dry-run"),
    ("ready", "--repo", "."), ("next", "--repo", "."), ("blocked", "--repo", "."), ("order", "--repo", "."),
    ("check", "--repo", "."), ("graph", "--repo", "."), ("stats", "--repo", "."))


def test_no_cache_reads_and_writes_no_cache(origin: Path) -> None:
    settle(origin)
    cache = origin / ".git" / "gtask" / "cache"
    for args in NO_CACHE_COMMANDS:
        for flag_or_env in (("--no-cache",), ()):
            env = None if flag_or_env else {"GTASK_NO_CACHE": "1"}
            run = run_process(origin, *flag_or_env, *args, env=env)
            assert run.returncode in (0, 1), (args, run.stderr)
            assert not cache.exists() or not list(cache.iterdir()), (args, flag_or_env, list(cache.iterdir()))
    exact(origin, ("view", "."), ("next",))  # remembered now
    ages = cache / "first-added.json"
    data = json.loads(ages.read_text())
    data["added"]["alpha.md"] = 1.0  # a lie in the cache: --no-cache does not read it
    ages.write_text(json.dumps(data))
    for view in cache.glob("view-*"):
        view.unlink()
    for args in (("view", "."), ("ready", "--repo", ".")):
        assert run_process(origin, "--no-cache", *args).stdout == \
            run_process(origin, *args, env={"GTASK_NO_CACHE": "1"}).stdout, args


def test_no_cache_check_of_files_writes_no_cache(origin: Path) -> None:
    settle(origin)
    cache = origin / ".git" / "gtask" / "cache"
    found, checked = check_files([origin / ".tasks" / "alpha.md", origin / ".tasks" / "config.yaml"], use_cache=False)
    assert (found, checked) == ([], 2) and not cache.exists()
    for flag_or_env in (("--no-cache",), ()):
        run = run_process(origin, *flag_or_env, "check", "--files", ".tasks/alpha.md",
                          env=None if flag_or_env else {"GTASK_NO_CACHE": "1"})
        assert run.returncode == 0 and not cache.exists(), (flag_or_env, run.stderr)
