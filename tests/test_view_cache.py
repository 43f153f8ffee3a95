"""The remembered answer of `gtask view` equals `--no-cache` after any one change in one of several repositories."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import git, make_repo, run_process, task_text
from test_ages_exact import DAY, OLD, commit
from test_fleet import clone, make_remote

MODES = ((), ("--json",), ("--all",))


def backdate(*repos: Path) -> None:
    """Config files written by the fixture a moment ago are not trusted by their stat key yet (racy-clean rule)."""
    past = time.time() - 60
    for repo in repos:
        config = repo / ".tasks" / "config.yaml"
        if config.exists():
            os.utime(config, (past, past))


def remembered(first: Path) -> list[str]:
    """Every standard output the view cache in `first`'s git directory holds."""
    texts = []
    for path in (first / ".git" / "gtask" / "cache").glob("view-*.json"):
        head, text = path.read_text().split("\n", 1)
        start, printed = 0, ""
        for to_err, length in json.loads(head)["parts"]:
            printed += "" if to_err else text[start:start + length]
            start += length
        texts.append(printed)
    return texts


def check(cwd: Path, repos: list[str], *modes: tuple[str, ...],
          env: dict[str, str] | None = None) -> dict[tuple[str, ...], str]:
    """Warm `view` (twice: remembering, then remembered) and `--no-cache` print what GTASK_NO_CACHE prints, in every
    mode."""
    printed = {}
    for mode in modes or MODES:
        runs = [run_process(cwd, *extra, "view", *repos, *mode, env=env) for extra in ((), (), ("--no-cache",))]
        runs.append(run_process(cwd, "view", *repos, *mode, env={**(env or {}), "GTASK_NO_CACHE": "1"}))
        assert all(r.returncode == 0 for r in runs), runs[-1].stderr
        assert [(r.stdout, r.stderr) for r in runs[:3]] == [(runs[3].stdout, runs[3].stderr)] * 3, mode
        printed[mode] = runs[0].stdout
    return printed


def assert_served(first: Path, printed: dict[tuple[str, ...], str]) -> None:
    """The warm runs were answered from the remembered record (the checks above compared something real)."""
    texts = remembered(first)
    assert all(text in texts for text in printed.values())


@pytest.fixture
def three(tmp_path: Path) -> list[Path]:
    api = make_repo(tmp_path, "api", {"tokens": task_text("Tokens"), "auth": task_text("Auth", depends_on="[tokens]")})
    web = make_repo(tmp_path, "web", {"login": task_text("Login", depends_on="['api:auth']"), "css": task_text("CSS")})
    docs = make_repo(tmp_path, "docs", {"guide": task_text("Guide")})
    backdate(api, web, docs)
    return [api, web, docs]


def test_each_change_in_one_repository_shows_in_the_warm_view(three: list[Path]) -> None:
    api, web, docs = three
    repos = [str(p) for p in three]
    before = check(api, repos)
    assert_served(api, before)
    tokens = web / ".tasks" / "css.md"
    tokens.write_text(tokens.read_text().replace("title: CSS", "title: CSZ"))  # same size, not committed
    assert check(api, repos) == before  # the view reads the integration branch, not the work tree
    git(web, "commit", "-q", "-am", "same-size edit")  # now committed on main
    after = check(api, repos)
    assert after != before and "CSZ" in after[("--all",)]
    assert_served(api, after)
    (docs / ".tasks" / "more.md").write_text(task_text("More", priority="0"))
    git(docs, "add", "-A")
    git(docs, "commit", "-q", "-m", "a new commit on the integration branch")
    assert "docs:more" in check(api, repos)[()]
    (docs / ".tasks" / "bad.md").write_text("---\ntitle: [unclosed\n---\n")
    git(docs, "add", "-A")
    git(docs, "commit", "-q", "-m", "a broken task file: a problem on standard error, between the lines")
    assert "bad.md" in run_process(api, "view", *repos).stderr
    check(api, repos)
    git(api, "switch", "-q", "-c", "agent/x")  # HEAD and a new branch: a claim committed on it
    (api / ".tasks" / "tokens.md").write_text(task_text("Tokens", "in_progress").replace(
        "status: in_progress", "status: in_progress\nclaimed_by: alice\nlease_until: '2999-01-01T00:00:00Z'"))
    git(api, "commit", "-q", "-am", "claim tokens")
    claimed = check(api, repos)
    assert "[taken on agent/x]" in claimed[()]
    assert_served(api, claimed)
    git(api, "switch", "-q", "main")
    git(api, "branch", "-q", "-D", "agent/x")
    assert "[taken on" not in check(api, repos)[()]
    git(docs, "switch", "-q", "-c", "trunk")
    (docs / ".tasks" / "guide.md").write_text(task_text("Guide", "done"))
    git(docs, "commit", "-q", "-am", "done on trunk")
    git(docs, "switch", "-q", "main")
    assert "docs  main @" in check(api, repos, ())[()]
    (docs / ".tasks" / "config.yaml").write_text("project: docs\nintegration_branch: trunk\n")  # nothing else
    backdate(docs)
    assert "docs  trunk @" in check(api, repos, ())[()]  # the configured integration branch


def test_lease_refs_and_pushed_claim_branches_show_in_the_warm_view(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, {"one": [], "two": [], "three": ["one"]})
    a, person = clone(tmp_path, remote, "a"), clone(tmp_path, remote, "person")
    other = make_repo(tmp_path, "other", {"x": task_text("Needs one", depends_on="[fleet:one]")})
    backdate(person, other)
    repos = [str(person), str(other)]
    assert_served(person, check(person, repos))
    git(a, "switch", "-q", "-c", "agent/a")
    assert run_process(a, "claim", "one", "--push", "--agent", "alice").returncode == 0
    git(a, "push", "-q", "origin", "--delete", "agent/a")
    assert run_process(person, "sync").returncode == 0  # a lease ref arrives
    leased = check(person, repos)
    assert "[taken on lease@origin]" in leased[()]
    assert_served(person, leased)
    assert run_process(a, "claim", "two", "--agent", "alice").returncode == 0
    git(a, "push", "-q", "origin", "agent/a")
    git(person, "fetch", "-q", "origin")  # a pushed claim branch arrives
    assert "[taken on origin/agent/a]" in check(person, repos)[()]


def test_a_lease_passing_changes_the_warm_view(tmp_path: Path) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    lease = f"claimed_by: alice\nlease_until: '{soon}'"
    api = make_repo(tmp_path, "api", {"a": task_text("A", "in_progress").replace("status: in_progress",
                                                                                  f"status: in_progress\n{lease}"),
                                      "b": task_text("B")})
    web = make_repo(tmp_path, "web", {"c": task_text("C")})
    git(web, "switch", "-q", "-c", "agent/y")  # a live claim on the checked-out branch, for as long
    (web / ".tasks" / "c.md").write_text(task_text("C", "in_progress").replace(
        "status: in_progress", f"status: in_progress\n{lease}"))
    git(web, "commit", "-q", "-am", "claim c")
    backdate(api, web)
    repos = [str(api), str(web)]
    live = check(api, repos, (), ("--json",))
    assert_served(api, live)
    states = {t["id"]: t["state"] for r in json.loads(live[("--json",)])["repos"] for t in r["tasks"]}
    assert states == {"a": "claimed", "b": "ready", "c": "claimed"}
    time.sleep(max(0.0, datetime.strptime(soon, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
                   - time.time() + 0.5))
    passed = check(api, repos, (), ("--json",))
    states = {t["id"]: t["state"] for r in json.loads(passed[("--json",)])["repos"] for t in r["tasks"]}
    assert states == {"a": "stale", "b": "ready", "c": "ready"}


def test_repositories_added_to_and_removed_from_the_workspace(tmp_path: Path) -> None:
    root = tmp_path / "code"
    root.mkdir()
    api = make_repo(root, "api", {"a": task_text("A")})
    web = make_repo(root, "web", {"b": task_text("B")})
    backdate(api, web)
    (tmp_path / "gtask-workspace.yaml").write_text("repos: [code/api]\n")
    assert "REPOSITORIES (1)" in check(tmp_path, [], ())[()]
    (tmp_path / "gtask-workspace.yaml").write_text("repos: [code/api, code/web]\n")
    assert "REPOSITORIES (2)" in check(tmp_path, [], ())[()]
    assert "REPOSITORIES (2)" in check(tmp_path, [str(root)], ())[()]  # a folder of repositories
    backdate(make_repo(root, "docs", {"c": task_text("C")}))
    assert "REPOSITORIES (3)" in check(tmp_path, [str(root)], ())[()]
    os.rename(root / "docs", tmp_path / "docs-gone")
    assert "REPOSITORIES (2)" in check(tmp_path, [str(root)], ())[()]


def test_a_config_file_changed_a_moment_ago_is_not_trusted(tmp_path: Path) -> None:
    api = make_repo(tmp_path, "api", {"a": task_text("A")})  # its config.yaml was written just now
    printed = check(api, [str(api)], ())
    assert remembered(api) == []  # a same-size edit within one clock tick would keep the stat key: not remembered
    backdate(api)
    assert check(api, [str(api)], ()) == printed
    assert_served(api, printed)


def test_a_deeper_history_replaced_commits_and_grafts_change_the_warm_view(tmp_path: Path) -> None:
    """Tasks' ages rank the ready tasks; they change with the history under an unmoved HEAD."""
    origin = make_repo(tmp_path, "origin", {})
    (origin / ".tasks" / "zeta.md").write_text(task_text("Zeta old"))
    commit(origin, "zeta", OLD + DAY)
    (origin / ".tasks" / "alpha.md").write_text(task_text("Alpha new"))
    alpha = commit(origin, "alpha", OLD + 2 * DAY)
    for n in range(3):
        (origin / "R").write_text(f"{n}\n")
        commit(origin, "other", OLD + (3 + n) * DAY)
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(shallow))
    backdate(shallow)

    def ready(env: dict[str, str] | None = None) -> list[str]:
        printed = check(shallow, ["."], (), env=env)
        assert_served(shallow, printed)
        return [line.split()[1] for line in printed[()].splitlines() if line.strip().startswith("ready ")]

    assert ready() == ["origin:alpha", "origin:zeta"]  # both added by the boundary commit
    git(shallow, "fetch", "-q", "--deepen=1")  # still shallow, the same refs: new ages
    assert ready() == ["origin:alpha", "origin:zeta"]
    git(shallow, "fetch", "-q", "--deepen=3")  # down to Zeta's commit
    assert (shallow / ".git" / "shallow").exists() and ready() == ["origin:zeta", "origin:alpha"]
    git(shallow, "fetch", "-q", "--unshallow")
    git(shallow, "replace", "--graft", alpha)  # Alpha's commit without a parent adds both
    assert ready() == ["origin:alpha", "origin:zeta"]
    assert ready({"GIT_NO_REPLACE_OBJECTS": "1"}) == ["origin:zeta", "origin:alpha"]
    git(shallow, "replace", "-d", alpha)
    assert ready() == ["origin:zeta", "origin:alpha"]
    (shallow / ".git" / "info" / "grafts").write_text(f"{alpha}\n")
    assert ready() == ["origin:alpha", "origin:zeta"]


def test_a_replaced_integration_commit_changes_warm_workspace_reads(tmp_path: Path) -> None:
    """`git replace` makes the integration branch's commit read as another one: the remembered tasks of a
    workspace repository and the evidence of its other branches are read again."""
    api = make_repo(tmp_path, "api", {"a": task_text("A"), "b": task_text("B")})
    git(api, "switch", "-q", "-c", "agent/x")
    (api / ".tasks" / "a.md").write_text(task_text("A", "in_progress").replace(
        "status: in_progress", "status: in_progress\nclaimed_by: alice\nlease_until: '2999-01-01T00:00:00Z'"))
    git(api, "commit", "-q", "-am", "claim a")
    git(api, "switch", "-q", "main")
    (api / ".tasks" / "c.md").write_text(task_text("C", priority="0"))
    git(api, "add", "-A")
    git(api, "commit", "-q", "-m", "c")
    other = git(api, "commit-tree", "-p", "HEAD", "-m", "other", git(api, "rev-parse", "HEAD~1^{tree}"))
    backdate(api)

    def reads(env: dict[str, str] | None = None) -> list[str]:
        printed = []
        for args in (("ready", "--repo", "."), ("order", "--repo", "."), ("blocked", "--repo", ".")):
            runs = [run_process(api, *args, env=env), run_process(api, *args, env=env),
                    run_process(api, *args, env={**(env or {}), "GTASK_NO_CACHE": "1"})]
            assert [(r.returncode, r.stdout, r.stderr) for r in runs[:2]] == \
                [(runs[2].returncode, runs[2].stdout, runs[2].stderr)] * 2, args
            printed.append(runs[0].stdout)
        return printed

    assert "api:c" in reads()[0]
    git(api, "replace", git(api, "rev-parse", "main"), other)  # main reads as a commit without C
    assert "api:c" not in reads()[0]
    assert "api:c" in reads({"GIT_NO_REPLACE_OBJECTS": "1"})[0]
    assert "api:c" not in check(api, ["."], ("--all",))[("--all",)]
    unclaimed = git(api, "commit-tree", "-p", "main~1", "-m", "no claim", git(api, "rev-parse", "main~1^{tree}"))
    git(api, "replace", git(api, "rev-parse", "agent/x"), unclaimed)  # the claim on agent/x reads as gone
    assert "api:a" in reads()[0]
