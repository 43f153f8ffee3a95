"""One truth in every view (issue 14): list, show, ready, next, status and the protocol agree across clones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import git, make_repo, run_process, task_text
from test_fleet import clone, make_remote
from test_remote import STALE


def gt(cwd: Path, *args: str, **env: str) -> tuple[int, str, str]:
    done = run_process(cwd, *args, env=env or None)
    return done.returncode, done.stdout, done.stderr


def js(cwd: Path, *args: str) -> object:
    code, out, err = gt(cwd, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def states(cwd: Path) -> dict[str, str]:
    return {t["id"]: t["state"] for t in js(cwd, "list")}  # type: ignore[union-attr]


def assert_views_agree(cwd: Path, task_id: str, expected: str) -> None:
    assert states(cwd)[task_id] == expected
    assert js(cwd, "show", task_id)["state"] == expected  # type: ignore[index]
    ready = [t["id"] for t in js(cwd, "ready")]  # type: ignore[union-attr]
    listed_ready = [t["id"] for t in js(cwd, "list", "--ready")]  # type: ignore[union-attr]
    assert (task_id in ready) == (task_id in listed_ready) == (expected == "ready")


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return make_remote(tmp_path, {"one": [], "two": [], "three": ["one"]})


def agent(tmp_path: Path, remote: Path, name: str) -> Path:
    path = clone(tmp_path, remote, name)
    git(path, "switch", "-q", "-c", f"agent/{name}")
    return path


def test_after_sync_a_remote_lease_and_a_claim_on_another_branch_agree_everywhere(tmp_path: Path,
                                                                                    remote: Path) -> None:
    a, person = agent(tmp_path, remote, "a"), clone(tmp_path, remote, "person")
    assert gt(a, "claim", "one", "--push", "--agent", "alice")[0] == 0  # lease ref + branch
    assert gt(a, "claim", "two", "--agent", "alice")[0] == 0
    git(a, "push", "-q", "origin", "agent/a")  # two: a claim on a pushed branch, no lease
    assert gt(person, "sync")[0] == 0
    for task_id in ("one", "two"):
        assert_views_agree(person, task_id, "claimed")
    nxt = js(person, "next")
    assert nxt is None or nxt["id"] not in ("one", "two")  # type: ignore[index]
    status = {t["id"]: t for t in js(person, "status")["tasks"]}  # type: ignore[index]
    assert status["one"]["state"] == status["two"]["state"] == "claimed"


def test_claim_json_says_claimed_as_show_does(tmp_path: Path, remote: Path) -> None:
    a = agent(tmp_path, remote, "a")
    claimed = js(a, "claim", "one", "--agent", "alice")
    assert claimed["task"]["state"] == "claimed" == js(a, "show", "one")["state"]  # type: ignore[index]
    taken = js(a, "next", "--claim", "--agent", "alice")
    assert taken["task"]["state"] == "claimed" == js(a, "show", taken["task"]["id"])["state"]  # type: ignore[index]


def test_status_says_stale_for_a_passed_lease_and_one_line_per_task(tmp_path: Path, remote: Path) -> None:
    ghost, person = agent(tmp_path, remote, "ghost"), clone(tmp_path, remote, "person")
    path = ghost / ".tasks" / "one.md"
    path.write_text(path.read_text().replace("status: todo\n", "status: in_progress\n" + STALE))
    git(ghost, "commit", "-q", "-am", "ghost claims one")
    sha = git(ghost, "rev-parse", "HEAD")
    git(ghost, "push", "-q", "origin", f"{sha}:refs/heads/agent/ghost", f"{sha}:refs/gtask/claims/one")
    assert gt(person, "sync")[0] == 0
    assert_views_agree(person, "one", "ready")  # a passed lease holds nothing
    out = gt(person, "status")[1]
    line = next(row for row in out.splitlines() if row.startswith("one "))
    assert "stale claim by ghost" in line and "claimed" not in line.split()[1]
    assert out.count("\none ") == 1 and "lease@origin" not in line  # the refs are in --json
    refs = {v["ref"] for t in js(person, "status")["tasks"] if t["id"] == "one" for v in t["elsewhere"]}  # type: ignore
    assert refs == {"origin/agent/ghost", "lease@origin"}


def test_squash_merged_work_is_landed_not_done_unmerged(tmp_path: Path, remote: Path) -> None:
    a = agent(tmp_path, remote, "a")
    assert gt(a, "claim", "one", "--agent", "alice")[0] == 0
    assert gt(a, "done", "one", "--agent", "alice")[0] == 0
    git(a, "switch", "-q", "main")
    git(a, "merge", "-q", "--squash", "agent/a")
    git(a, "commit", "-q", "-m", "Squashed work\n\nCloses: one")
    status = {t["id"]: t for t in js(a, "status")["tasks"]}  # type: ignore[index]
    assert status["one"]["state"] == "landed"
    line = next(row for row in gt(a, "status")[1].splitlines() if row.startswith("one "))
    assert "not merged" not in line and "landed" in line
    git(a, "revert", "--no-edit", "HEAD")  # undo the squash: done on agent/a only, so taken there
    assert js(a, "show", "one")["state"] == "claimed" == states(a)["one"]  # type: ignore[index]


def test_unverified_says_how_to_fix_it(tmp_path: Path, remote: Path) -> None:
    a = clone(tmp_path, remote, "a")
    path = a / ".tasks" / "two.md"
    path.write_text(path.read_text().replace("status: todo", "status: done"))
    git(a, "commit", "-q", "-am", "mark two done by hand")
    line = next(row for row in gt(a, "status")[1].splitlines() if row.startswith("two "))
    assert "unverified" in line and "Closes: two" in line


def test_list_sorts_by_id_string(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {"x-awmv": task_text("Second"), "x": task_text("First"),
                                     "W": task_text("Upper")})
    assert [t["id"] for t in js(repo, "list")] == ["W", "x", "x-awmv"]  # type: ignore[union-attr]
    assert [t["id"] for t in js(repo, "status")["tasks"]] == ["W", "x", "x-awmv"]  # type: ignore[index]


def test_events_name_a_task_closed_twice_once(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {"a": task_text("A")})
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "commit", "-q", "--allow-empty", "-m", "Fix\n\nCloses: a\nFixes: a, a")
    events = js(repo, "events", "--since", base)
    assert [e["tasks"] for e in events] == [["a"]]  # type: ignore[union-attr]
    assert "closes a,a" not in gt(repo, "events", "--since", base)[1]


def test_next_explain_across_a_workspace_gives_ages_and_projects(tmp_path: Path) -> None:
    one = make_repo(tmp_path, "one", {"a": task_text("A"), "b": task_text("B")})
    two = make_repo(tmp_path, "two", {"c": task_text("C")})
    code, out, err = gt(tmp_path, "next", "--explain", "--repo", str(one), "--repo", str(two))
    assert code == 0, err
    assert "unknown (not committed)" not in out and "age: added" in out
    assert all(":" in line.split()[1] for line in out.splitlines() if line.strip().startswith("then "))


def test_an_agents_ready_is_what_it_may_take(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {"auto": task_text("Auto", lane="autonomous"),
                                     "decide": task_text("Decide", lane="decision")})
    as_agent = {t["id"] for t in json.loads(run_process(repo, "ready", "--json", env={"GTASK_AGENT": "bot"}).stdout)}
    assert as_agent == {"auto"}
    out = run_process(repo, "ready", env={"GTASK_AGENT": ""}).stdout
    assert "decide" in out and "decision" in out  # a person sees every lane, marked


# -- coordination that holds across clones -------------------------------------


def test_a_pushed_handoff_holds_in_every_clone_until_its_prerequisite_is_done(tmp_path: Path, remote: Path) -> None:
    a, b, c = (agent(tmp_path, remote, n) for n in "abc")
    assert gt(a, "claim", "one", "--push", "--agent", "alice")[0] == 0
    assert gt(a, "handoff", "one", "--needs-id", "two", "--push", "--agent", "alice")[0] == 0
    handoff = git(a, "rev-parse", "HEAD")
    assert git(a, "ls-remote", "origin", "refs/gtask/claims/one").split()[0] == handoff  # the lease stays
    assert gt(b, "sync")[0] == 0
    assert_views_agree(b, "one", "waiting")
    offered = js(b, "next")
    assert offered is None or offered["id"] != "one"  # type: ignore[index]
    assert gt(b, "claim", "one", "--push", "--agent", "bob")[0] == 3
    head = git(c, "rev-parse", "HEAD")
    code, _, err = gt(c, "claim", "one", "--push", "--agent", "carol")  # never synced: the push refuses it
    assert code == 3 and "two" in err and git(c, "rev-parse", "HEAD") == head
    # the prerequisite is done (a tombstone on the remote): the hold ends, and the lease moves on a claim
    assert gt(c, "claim", "two", "--push", "--agent", "carol")[0] == 0
    assert gt(c, "done", "two", "--push", "--agent", "carol")[0] == 0
    assert gt(b, "sync")[0] == 0
    git(b, "merge", "-q", "origin/agent/c")
    assert_views_agree(b, "one", "ready")
    assert gt(b, "claim", "one", "--push", "--agent", "bob")[0] == 0


def test_one_agent_name_in_two_clones_wins_a_claim_once(tmp_path: Path, remote: Path) -> None:
    a, b = agent(tmp_path, remote, "a"), agent(tmp_path, remote, "b")
    assert gt(a, "claim", "one", "--push", "--agent", "bot")[0] == 0
    head = git(b, "rev-parse", "HEAD")
    code = gt(b, "claim", "one", "--push", "--agent", "bot")[0]
    assert code == 3 and git(b, "rev-parse", "HEAD") == head
    assert gt(a, "claim", "one", "--push", "--agent", "bot")[0] == 0  # its own lease: a renewal


def test_a_stale_takeover_through_the_remote_says_from_whom(tmp_path: Path, remote: Path) -> None:
    ghost, b = agent(tmp_path, remote, "ghost"), agent(tmp_path, remote, "b")
    path = ghost / ".tasks" / "one.md"
    path.write_text(path.read_text().replace("status: todo\n", "status: in_progress\n" + STALE))
    git(ghost, "commit", "-q", "-am", "ghost claims one")
    sha = git(ghost, "rev-parse", "HEAD")
    git(ghost, "push", "-q", "origin", f"{sha}:refs/heads/agent/ghost", f"{sha}:refs/gtask/claims/one")
    assert gt(b, "sync")[0] == 0
    taken = js(b, "claim", "one", "--push", "--agent", "bob")
    assert taken["took_over_from"] == "ghost"  # type: ignore[index]
    assert "Took over from ghost" in git(b, "log", "-1", "--format=%B")


def test_mcp_claims_push_by_default_when_the_clone_has_a_remote(tmp_path: Path, remote: Path) -> None:
    from gtask.errors import Conflict
    from gtask.mcp.server import Tools

    a, b = agent(tmp_path, remote, "a"), agent(tmp_path, remote, "b")
    Tools(a, "bot-a").call("claim", {"id": "one"})
    assert git(a, "ls-remote", "origin", "refs/gtask/claims/one").split()[0] == git(a, "rev-parse", "HEAD")
    with pytest.raises(Conflict) as lost:
        Tools(b, "bot-b").call("claim", {"id": "one"})
    assert "--" not in lost.value.message
    (b / ".tasks" / "config.yaml").write_text("project: fleet\nlease: 1h\nclaim_push: false\n")
    git(b, "commit", "-q", "-am", "no pushing")
    Tools(b, "bot-b").call("claim", {"id": "two"})
    assert git(b, "ls-remote", "origin", "refs/gtask/claims/two") == ""


def test_closing_lines_count_only_as_lists_of_existing_tasks(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {"crash": task_text("Crash"), "parser": task_text("Parser"),
                                     "real": task_text("Real")})
    for name in ("crash", "parser", "real"):
        path = repo / ".tasks" / f"{name}.md"
        path.write_text(path.read_text().replace("status: todo", "status: done"))
    git(repo, "commit", "-q", "-am", "Work\n\nFixes: crash in the parser, see docs\nCloses: real, real")
    status = {t["id"]: t for t in js(repo, "status")["tasks"]}  # type: ignore[index]
    assert status["crash"]["state"] == status["parser"]["state"] == "unverified"
    assert status["real"]["state"] == "landed" and len(status["real"]["closed_by_commits"]) == 1
    events = js(repo, "events", "--since", "HEAD~1")
    assert [e["tasks"] for e in events] == [["real"]]  # type: ignore[union-attr]


def test_reconcile_says_which_closing_lines_it_ignored_and_why(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {"crash": task_text("Crash"), "real": task_text("Real")})
    git(repo, "commit", "-q", "--allow-empty", "-m", "Work\n\nFixes: crash in the parser, see docs\nCloses: #12\n"
        "Closes: real")
    report = js(repo, "reconcile")
    assert [c["id"] for c in report["closed"]] == ["real"]  # type: ignore[index]
    why = {i["line"]: i["why"] for i in report["ignored_lines"]}  # type: ignore[index]
    assert set(why) == {"crash in the parser, see docs", "#12"}
    assert "parser" in why["crash in the parser, see docs"] and "crash," not in why["crash in the parser, see docs"]
    assert "crash" in states(repo) and states(repo)["crash"] == "ready"


def test_evidence_older_than_a_reopening_does_not_close_the_task_again(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", {"a": task_text("A")})
    assert gt(repo, "claim", "a", "--agent", "bot")[0] == 0
    assert gt(repo, "done", "a", "--agent", "bot")[0] == 0  # its commit says Closes: a
    git(repo, "revert", "--no-edit", "HEAD")  # reopened
    assert js(repo, "reconcile")["closed"] == []  # type: ignore[index]
    assert states(repo)["a"] == "claimed"  # the revert brings back the claim commit's file
    path = repo / ".tasks" / "a.md"
    git(repo, "commit", "-q", "--allow-empty", "-m", "Really fixed\n\nCloses: a")  # new evidence counts
    assert [c["id"] for c in js(repo, "reconcile")["closed"]] == ["a"]  # type: ignore[index]
    assert "status: done" in path.read_text()
