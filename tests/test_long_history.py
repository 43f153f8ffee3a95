"""Long histories (issue 16): `status` and `reconcile` read closing evidence and reopenings alike, in a fixed
number of git processes however many closing commits there are; the answers with caches equal those without."""

from __future__ import annotations

import json
from itertools import permutations
from pathlib import Path
from typing import Any

import pytest
from conftest import git, make_repo, run_process, task_text

from gtask.gitio.git import Git
from gtask.gitio.history import Ancestry


def js(cwd: Path, *args: str, **env: str) -> Any:
    done = run_process(cwd, *args, "--json", env=env or None)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def closed_by(cwd: Path, **env: str) -> dict[str, list[str]]:
    return {t["id"]: [c["commit"] for c in t["closed_by_commits"]] for t in js(cwd, "status", **env)["tasks"]}


def reconciled(cwd: Path, **env: str) -> list[tuple[str, str]]:
    return [(c["id"], c["commit"]) for c in js(cwd, "reconcile", "--dry-run", **env)["closed"]]


def set_status(repo: Path, task_id: str, status: str, message: str) -> str:
    path = repo / ".tasks" / f"{task_id}.md"
    text = path.read_text()
    path.write_text("\n".join(f"status: {status}" if line.startswith("status:") else line
                              for line in text.split("\n")))
    git(repo, "commit", "-q", "-am", message)
    return git(repo, "rev-parse", "HEAD")


def side_branch_closes(repo: Path, name: str, task_id: str) -> str:
    """A commit on branch `name` (from HEAD) whose message closes the task; returns to main."""
    git(repo, "switch", "-q", "-c", name)
    (repo / f"{name}.txt").write_text(name)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"work on {name}\n\nCloses: {task_id}")
    commit = git(repo, "rev-parse", "HEAD")
    git(repo, "switch", "-q", "main")
    return commit


def test_status_drops_evidence_older_than_a_reopening_as_reconcile_does(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {"a": task_text("A"), "b": task_text("B")})
    old = side_branch_closes(repo, "feat", "a")  # the evidence comes from a merged branch: off the first-parent line
    (repo / "main.txt").write_text("main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "meanwhile on main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge feat", "feat")
    later = side_branch_closes(repo, "later", "a")  # forked before the reopening, merged after it
    set_status(repo, "a", "done", "a is done")
    set_status(repo, "a", "todo", "reopen a: it broke again")
    assert closed_by(repo)["a"] == [] and reconciled(repo) == []  # the old closing commit is older than the reopening
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge later", "later")
    assert closed_by(repo)["a"] == [later]
    assert reconciled(repo) == [("a", later)]
    assert closed_by(repo, GTASK_NO_CACHE="1")["a"] == [later]
    assert reconciled(repo, GTASK_NO_CACHE="1") == [("a", later)]
    assert old not in closed_by(repo)["a"]


def test_a_reopened_task_with_only_old_evidence_is_closed_by_nothing_in_any_view(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {"a": task_text("A")})
    git(repo, "commit", "-q", "--allow-empty", "-m", "Fix\n\nCloses: a")
    fix = git(repo, "rev-parse", "HEAD")
    assert closed_by(repo)["a"] == [fix] and reconciled(repo) == [("a", fix)]  # before: it counts (cache filled)
    set_status(repo, "a", "in_progress", "working on a again")
    for env in ({}, {"GTASK_NO_CACHE": "1"}):
        assert closed_by(repo, **env)["a"] == [] and reconciled(repo, **env) == []


def test_reconcile_runs_a_fixed_number_of_git_processes_however_many_closing_commits(tmp_path: Path) -> None:
    tasks = {f"t{n:02d}": task_text(f"Task {n}") for n in range(30)}
    repo = make_repo(tmp_path, "r", tasks)
    for n in range(60):  # every task closed twice, none reconciled, one reopened after its evidence
        git(repo, "commit", "-q", "--allow-empty", "-m", f"fix {n}\n\nCloses: t{n % 30:02d}\nFixes: the build")
    set_status(repo, "t05", "blocked", "t05 is blocked after all")
    trace = tmp_path / "trace.txt"
    report = js(repo, "reconcile", "--dry-run", GIT_TRACE=str(trace))
    started = trace.read_text().count("trace: built-in: git ")
    assert started <= 12, started  # one process per closing commit was 60 and more
    assert sorted(c["id"] for c in report["closed"]) == sorted(set(tasks) - {"t05"})
    assert len(report["ignored_lines"]) == 60 and {i["line"] for i in report["ignored_lines"]} == {"the build"}
    assert js(repo, "reconcile", "--dry-run", GTASK_NO_CACHE="1") == report


def test_ignored_lines_are_the_same_when_read_from_the_cache_and_after_new_commits(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {"real": task_text("Real")})
    git(repo, "commit", "-q", "--allow-empty", "-m", "one\n\nFixes: crash in the parser\nCloses: nothing")
    first = js(repo, "reconcile", "--dry-run")["ignored_lines"]
    assert [i["line"] for i in first] == ["crash in the parser", "nothing"]
    assert js(repo, "reconcile", "--dry-run")["ignored_lines"] == first  # from the cache
    git(repo, "commit", "-q", "--allow-empty", "-m", "two\n\nResolves: #12")
    both = js(repo, "reconcile", "--dry-run")["ignored_lines"]  # the cache read on from its tip
    assert [i["line"] for i in both] == ["#12", "crash in the parser", "nothing"]
    assert js(repo, "reconcile", "--dry-run", GTASK_NO_CACHE="1")["ignored_lines"] == both


def test_ancestry_from_one_rev_list_agrees_with_git_merge_base(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {})
    commits = [git(repo, "rev-parse", "HEAD")]

    def commit(name: str) -> None:
        (repo / f"{name}.txt").write_text(name)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", name)
        commits.append(git(repo, "rev-parse", "HEAD"))

    commit("m1")
    git(repo, "switch", "-q", "-c", "x")
    commit("x1")
    git(repo, "switch", "-q", "-c", "y", "main")
    commit("y1")
    git(repo, "merge", "-q", "--no-ff", "-m", "y takes x", "x")  # a criss-cross: x and y merge each other
    commits.append(git(repo, "rev-parse", "HEAD"))
    git(repo, "switch", "-q", "x")
    commit("x2")
    git(repo, "switch", "-q", "main")
    commit("m2")
    git(repo, "merge", "-q", "--no-ff", "-m", "main takes x", "x")
    commits.append(git(repo, "rev-parse", "HEAD"))
    commit("m3")
    git(repo, "merge", "-q", "--no-ff", "-m", "main takes y", "y")
    commits.append(git(repo, "rev-parse", "HEAD"))
    handle = Git.discover(repo)
    assert handle is not None
    for tips in ([commits[-1]], [git(repo, "rev-parse", "x"), git(repo, "rev-parse", "y")], commits[3:5]):
        ancestry = Ancestry(handle, tips)  # a listing below some tips: what is outside it is no ancestor
        for older, younger in permutations(commits, 2):
            if ancestry.is_ancestor(older, younger) is not None:
                assert ancestry.is_ancestor(older, younger) == handle.is_ancestor(older, younger), (older, younger)
        assert all(ancestry.is_ancestor(c, tip) is not None for tip in tips for c in commits)
    assert Ancestry(handle, commits[:1]).is_ancestor(commits[0], commits[-1]) is None  # not listed: unknown


def log_commits(cwd: Path, task_id: str, **env: str) -> list[tuple[str, str]]:
    return [(e["commit"], e["action"]) for e in js(cwd, "log", task_id, **env)]


def test_log_reads_new_commits_and_forgets_deleted_branches_as_a_fresh_read_does(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {"a": task_text("A")})
    git(repo, "switch", "-q", "-c", "side")
    on_side = set_status(repo, "a", "blocked", "a blocked on side")
    git(repo, "switch", "-q", "main")
    closes = side_branch_closes(repo, "fix", "a")  # a closing line on a branch not merged
    first = log_commits(repo, "a")
    assert {on_side, closes} <= {c for c, _ in first} and (closes, "closes") in first
    later = set_status(repo, "a", "in_progress", "a started on main")  # the refs move forward: only it is read
    after = log_commits(repo, "a")
    assert sorted(after) == sorted([*first, (later, "edit")])  # in the same second: ordered by ancestry, then id
    assert after == log_commits(repo, "a", GTASK_NO_CACHE="1")
    git(repo, "branch", "-q", "-D", "side")  # a commit no ref reaches any more is not in the log
    gone = log_commits(repo, "a")
    assert on_side not in {c for c, _ in gone} and gone == log_commits(repo, "a", GTASK_NO_CACHE="1")


def test_log_of_a_task_walks_no_history_while_the_refs_stay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path, "r", {"a": task_text("A"), "b": task_text("B")})
    for n in range(20):  # a minute apart: ordering commits of one second is a bounded walk (test_history_exact)
        monkeypatch.setenv("GIT_COMMITTER_DATE", f"2020-01-01T00:{n:02d}:00+00:00")
        git(repo, "commit", "-q", "--allow-empty", "-m", f"fix {n}\n\nCloses: {'ab'[n % 2]}")
    assert len(log_commits(repo, "b")) == 11  # reads the history once for every task
    trace = tmp_path / "trace.txt"
    entries = log_commits(repo, "a", GIT_TRACE=str(trace))
    assert len(entries) == 11 and entries == log_commits(repo, "a", GTASK_NO_CACHE="1")
    walks = [line for line in trace.read_text().splitlines()
             if ("built-in: git log" in line and "--no-walk" not in line) or "built-in: git rev-list" in line]
    assert walks == []
