"""History caches answer exactly as a fresh read does (GTASK_NO_CACHE=1): the order of closing evidence, a
history reshaped by a deepened clone or a graft, and time order across time zones."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import git, make_repo, run_process, task_text

COLD = {"GTASK_NO_CACHE": "1"}


def js(cwd: Path, *args: str, **env: str) -> Any:
    done = run_process(cwd, *args, "--json", env=env or None)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def commit_at(repo: Path, when: str, *args: str) -> str:
    """`git commit ARGS` with this author and committer date; returns the new commit."""
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(["git", "commit", "-q", *args], cwd=repo, env=env, check=True, capture_output=True)
    return git(repo, "rev-parse", "HEAD")


def set_priority(repo: Path, task_id: str, priority: int) -> None:
    path = repo / ".tasks" / f"{task_id}.md"
    lines = [line for line in path.read_text().split("\n") if not line.startswith("priority:")]
    lines.insert(lines.index("status: todo") + 1, f"priority: {priority}")
    path.write_text("\n".join(lines))
    git(repo, "add", "-A")


def log_of(cwd: Path, task_id: str, **env: str) -> list[tuple[str, str, str]]:
    return [(e["commit"], e["date"], e["action"]) for e in js(cwd, "log", task_id, **env)]


def test_the_newest_closing_commit_closes_when_an_older_one_is_merged_after_the_cache_was_filled(
        tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {"fix-bug": task_text("Fix bug")})
    git(repo, "branch", "side")
    newest = commit_at(repo, "2020-01-05T00:00Z", "--allow-empty", "-m", "E1", "-m", "Closes: fix-bug")
    git(repo, "switch", "-q", "side")
    older = commit_at(repo, "2020-01-03T00:00Z", "--allow-empty", "-m", "E0", "-m", "Closes: fix-bug\nFixes: prose")
    git(repo, "switch", "-q", "main")
    assert [c["commit"] for c in js(repo, "reconcile", "--dry-run")["closed"]] == [newest]  # fills the cache
    subprocess.run(["git", "merge", "-q", "--no-ff", "side", "-m", "merge"], cwd=repo, check=True,
                   env={**os.environ, "GIT_COMMITTER_DATE": "2020-01-06T00:00Z"})
    warm, cold = js(repo, "reconcile", "--dry-run"), js(repo, "reconcile", "--dry-run", **COLD)
    assert warm == cold and [c["commit"] for c in warm["closed"]] == [newest]
    assert [t["closed_by_commits"] for t in js(repo, "status")["tasks"]] == \
           [t["closed_by_commits"] for t in js(repo, "status", **COLD)["tasks"]]
    js(repo, "reconcile")  # writes what it said
    text = (repo / ".tasks" / "fix-bug.md").read_text()
    assert f"closed_by: {newest}" in text and older not in text and "2020-01-05" in text


def test_a_deepened_shallow_clone_is_read_again_by_log_and_reconcile(tmp_path: Path) -> None:
    origin = make_repo(tmp_path, "o", {"fix-bug": task_text("Fix bug")})
    set_priority(origin, "fix-bug", 1)
    git(origin, "commit", "-q", "-m", "prio")
    git(origin, "commit", "-q", "--allow-empty", "-m", "fix", "-m", "Closes: fix-bug")
    git(origin, "commit", "-q", "--allow-empty", "-m", "other")
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", "c")
    clone = tmp_path / "c"
    assert js(clone, "reconcile", "--dry-run")["closed"] == []  # the closing commit is beyond the cut
    assert len(log_of(clone, "fix-bug")) == 1
    git(clone, "fetch", "-q", "--unshallow")
    assert log_of(clone, "fix-bug") == log_of(clone, "fix-bug", **COLD)
    assert [e[2] for e in log_of(clone, "fix-bug")] == ["create", "edit", "closes"]
    assert js(clone, "reconcile", "--dry-run") == js(clone, "reconcile", "--dry-run", **COLD)
    assert len(js(clone, "reconcile", "--dry-run")["closed"]) == 1


def test_a_graft_reshapes_the_log_as_a_fresh_read_sees_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {"t": task_text("T")})
    set_priority(repo, "t", 1)
    git(repo, "commit", "-q", "-m", "e1")
    set_priority(repo, "t", 3)
    git(repo, "commit", "-q", "-m", "e2", "-m", "Closes: t")
    before = log_of(repo, "t")
    assert len(before) == 3  # fills the caches
    git(repo, "replace", "--graft", "HEAD~1")  # e1 becomes a root: the file's creation is e1 now
    after = log_of(repo, "t")
    assert after == log_of(repo, "t", **COLD) and [e[2] for e in after] == ["create", "closes"]
    assert js(repo, "reconcile", "--dry-run") == js(repo, "reconcile", "--dry-run", **COLD)
    git(repo, "replace", "-d", git(repo, "rev-parse", "HEAD~1"))  # and back
    assert log_of(repo, "t") == before


def test_log_is_in_time_order_across_time_zones(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {})
    (repo / ".tasks" / "t.md").write_text(task_text("T"))
    git(repo, "add", "-A")
    create = commit_at(repo, "2020-01-01T06:00:00+00:00", "-m", "create")
    set_priority(repo, "t", 1)
    edit = commit_at(repo, "2020-01-01T03:00:00-05:00", "-m", "edit")  # 08:00Z: two hours later
    later = commit_at(repo, "2020-01-01T09:30:00+01:00", "--allow-empty", "-m", "fix", "-m", "Closes: t")  # 08:30Z
    for env in ({}, COLD):
        assert [e[0] for e in log_of(repo, "t", **env)] == [create, edit, later]


def test_commits_of_one_second_are_in_ancestry_order_from_one_bounded_walk(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {"t": task_text("T")})
    when = "2021-06-01T12:00:00+02:00"
    git(repo, "switch", "-q", "-c", "side")
    side = [commit_at(repo, when, "--allow-empty", "-m", f"side {n}", "-m", "Closes: t") for n in range(4)]
    git(repo, "switch", "-q", "main")
    main = []
    for n in range(7):  # every other one edits the file, the rest close it: one chain, unrelated to `side`
        if n % 2:
            set_priority(repo, "t", n)
            main.append(commit_at(repo, when, "-m", f"edit {n}"))
        else:
            main.append(commit_at(repo, when, "--allow-empty", "-m", f"fix {n}", "-m", "Closes: t"))
    trace = tmp_path / "trace.txt"
    warm = [e[0] for e in log_of(repo, "t")]
    warm = [e[0] for e in log_of(repo, "t", GIT_TRACE=str(trace))]
    assert warm == [e[0] for e in log_of(repo, "t", **COLD)]
    assert set(side + main) <= set(warm)
    assert [c for c in warm if c in main] == main and [c for c in warm if c in side] == side  # ancestors first
    asked = [line for line in trace.read_text().splitlines() if "built-in: git merge-base" in line
             or "built-in: git rev-list" in line]
    assert len(asked) <= 2, asked  # one `merge-base --is-ancestor` per pair was 11 * 10


def test_layers_agree_with_git_merge_base_whichever_commits_are_grouped(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from itertools import combinations

    from gtask.gitio import history
    from gtask.gitio.git import Git
    from gtask.gitio.history import layers

    repo = make_repo(tmp_path, "r", {})
    commits = [git(repo, "rev-parse", "HEAD")]

    def commit(name: str) -> None:
        git(repo, "commit", "-q", "--allow-empty", "-m", name)
        commits.append(git(repo, "rev-parse", "HEAD"))

    commit("m1")
    git(repo, "switch", "-q", "-c", "x")
    commit("x1")
    git(repo, "switch", "-q", "-c", "y", "main")
    commit("y1")
    git(repo, "merge", "-q", "--no-ff", "-m", "y takes x", "x")  # a criss-cross
    commits.append(git(repo, "rev-parse", "HEAD"))
    git(repo, "switch", "-q", "x")
    commit("x2")
    git(repo, "switch", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "main takes x", "x")
    commits.append(git(repo, "rev-parse", "HEAD"))
    handle = Git.discover(repo)
    assert handle is not None

    def peeled(group: list[str]) -> dict[str, int]:  # the definition: most group members on a path down to it
        below = {c: {o for o in group if o != c and handle.is_ancestor(c, o)} for c in group}
        depth: dict[str, int] = {}
        for c in sorted(group, key=lambda c: len(below[c])):
            depth[c] = max((depth[o] + 1 for o in below[c]), default=0)
        return depth

    groups = [list(g) for size in (2, 3, 4) for g in combinations(commits, size)][::3]
    for first, second in zip(groups, groups[1:] + groups[:1], strict=True):
        together = layers(handle, [first, [c for c in second if c not in first]])  # groups sharing one walk
        assert {c: together[c] for c in first} == peeled(first), first
    assert layers(handle, [commits]) == peeled(commits)  # the root, a member, is the merge base of all
    monkeypatch.setattr(history, "_ON_COMMAND_LINE", 2)  # too many for a command line: the whole listing
    assert layers(handle, [commits]) == peeled(commits)


def test_of_two_closing_commits_in_one_second_the_descendant_closes_warm_and_cold(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {"a": task_text("A")})
    when = "2022-03-03T03:03:03+00:00"
    assert js(repo, "reconcile", "--dry-run")["closed"] == []  # the evidence cache starts at this tip
    firsts = [commit_at(repo, when, "--allow-empty", "-m", f"fix {n}", "-m", "Closes: a") for n in range(6)]
    warm, cold = js(repo, "reconcile", "--dry-run"), js(repo, "reconcile", "--dry-run", **COLD)
    assert warm == cold and [c["commit"] for c in warm["closed"]] == [firsts[-1]]
    status = {t["id"]: t["closed_by_commits"] for t in js(repo, "status")["tasks"]}
    assert [c["commit"] for c in status["a"]] == firsts[::-1]
