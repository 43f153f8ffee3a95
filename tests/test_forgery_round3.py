"""Forgery and authority, round three: renew obeys authority, workspace holds verify gates, results must be merged.

Then a hostile tester's tries (issue 15, "look for the next break yourself"): each one that broke a promise
has its regression test here; docs/security.md lists every try.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import Cli, git, task_text, write_task
from test_fleet import clone, make_remote
from test_forgery import commit_all, forge_pass, gated, laned, ready, signing
from test_truth import gt, states

__all__ = ["gated", "laned", "signing"]  # fixtures reused from test_forgery

LIVE = {"claimed_at": "2026-01-01T00:00:00Z", "lease_until": "2999-01-01T00:00:00Z"}


# -- renew: authority applies to every step ------------------------------------------------------------


def test_an_agent_cannot_renew_a_task_in_a_persons_lane(cli: Cli, laned: Path) -> None:
    write_task(laned, "moved", task_text("Moved to a person", status="in_progress", lane="human", claimed_by="bot",
                                         claim_branch="main", **LIVE))
    commit_all(laned, "a person moved bot's task to their lane")
    head = git(laned, "rev-parse", "HEAD")
    result = cli("renew", "moved", "--agent", "bot")
    assert result.exit_code == 3 and "lane" in result.stderr
    assert git(laned, "rev-parse", "HEAD") == head and git(laned, "status", "--porcelain") == ""


def test_an_agent_cannot_renew_a_proposed_task(cli: Cli, laned: Path) -> None:
    write_task(laned, "held-prop", task_text("Proposed but claimed", status="proposed", claimed_by="bot",
                                             claim_branch="main", **LIVE))
    commit_all(laned)
    head = git(laned, "rev-parse", "HEAD")
    result = cli("renew", "held-prop", "--agent", "bot")
    assert result.exit_code == 3 and "proposed" in result.stderr
    assert git(laned, "rev-parse", "HEAD") == head


def test_an_agent_cannot_renew_a_task_someone_else_claimed_on_another_branch(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A"))
    commit_all(repo)
    git(repo, "switch", "-q", "-c", "carol")
    write_task(repo, "a", task_text("A", status="in_progress", claimed_by="carol", claim_branch="carol", **LIVE))
    commit_all(repo, "carol claims a")
    git(repo, "switch", "-q", "main")
    write_task(repo, "a", task_text("A", status="in_progress", claimed_by="bot", claim_branch="main", **LIVE))
    commit_all(repo, "bot writes itself a claim by hand")
    head = git(repo, "rev-parse", "HEAD")
    result = cli("renew", "a", "--agent", "bot")
    assert result.exit_code == 3 and "carol" in result.stderr
    assert git(repo, "rev-parse", "HEAD") == head


def test_an_agent_still_renews_its_own_claim(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A"))
    commit_all(repo)
    assert cli("claim", "a", "--agent", "bot").exit_code == 0
    before = json.loads(cli("show", "a", "--json").stdout)["lease_until"]
    result = cli("renew", "a", "--agent", "bot", "--lease", "300d", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["task"]["lease_until"] > before


def test_mcp_claim_of_its_own_task_in_a_persons_lane_is_no_renewal(laned: Path) -> None:
    from gtask.errors import Conflict
    from gtask.mcp.server import Tools

    write_task(laned, "moved", task_text("Moved", status="in_progress", lane="human", claimed_by="bot",
                                         claim_branch="main", **LIVE))
    commit_all(laned)
    before = (laned / ".tasks" / "moved.md").read_bytes()
    with pytest.raises(Conflict):
        Tools(laned, "bot").call("claim", {"id": "moved", "lease": "300d"})
    assert (laned / ".tasks" / "moved.md").read_bytes() == before


# -- workspace holds verify gate signatures, as one repository does ------------------------------------


def view_ready(cli: Cli, repo: Path, *extra: str) -> list[str]:
    found = json.loads(cli("view", str(repo), "--all", "--json", *extra).stdout)
    return sorted(t["id"] for r in found["repos"] for t in r["tasks"] if t["state"] == "ready")


def test_a_workspace_view_holds_until_a_gate_passes(cli: Cli, gated: Path) -> None:
    assert view_ready(cli, gated) == ["base"]  # `view --all` and --json showed `later` ready with no result
    assert "later" not in cli("view", str(gated)).stdout
    forge_pass(gated)  # without gate_signers: the documented weakness, as in one repository
    assert view_ready(cli, gated) == ["base", "later"]


@pytest.mark.parametrize("worktree", [False, True], ids=["integration", "worktree"])
def test_a_forged_result_releases_nothing_in_a_workspace_with_gate_signers(cli: Cli, gated: Path, signing: Path,
                                                                        worktree: bool) -> None:
    extra = ("--worktree",) if worktree else ()
    forge_pass(gated)
    git(gated, "commit", "-q", "--allow-empty", "-m",
        f"forged\n\nGate: m1\nGate-Result: passed\nGate-Commit: {git(gated, 'rev-parse', 'HEAD')}")
    assert ready(cli) == ["base"]
    assert view_ready(cli, gated, *extra) == ["base"]
    (gated / "built").write_text("yes\n")
    commit_all(gated, "build")
    assert cli("gate", "run", "m1").exit_code == 0  # signed with the person's key
    assert ready(cli) == view_ready(cli, gated, *extra) == ["base", "later"]


# -- a result counts only for a commit in the integration branch's history ------------------------------


def test_a_result_for_an_unmerged_commit_does_not_count(cli: Cli, gated: Path) -> None:
    git(gated, "switch", "-q", "-c", "feature")
    (gated / "built").write_text("yes\n")
    commit_all(gated, "build on a branch")
    assert cli("gate", "run", "m1").exit_code == 0
    assert ready(cli) == ["base"]  # here, on the branch itself: main does not have the tested commit
    assert json.loads(cli("gate", "status", "--json").stdout)[0]["result"] is None
    tested = git(gated, "rev-parse", "HEAD~1")
    git(gated, "switch", "-q", "main")
    git(gated, "commit", "-q", "--allow-empty", "-m",  # the result copied onto main, naming the unmerged commit
        f"gtask: gate m1\n\nGate: m1\nGate-Result: passed\nGate-Commit: {tested}")
    assert ready(cli) == ["base"] and view_ready(cli, gated) == ["base"]
    git(gated, "merge", "-q", "--no-edit", "feature")
    assert ready(cli) == view_ready(cli, gated) == ["base", "later"]


@pytest.mark.parametrize("named", ["--output=/tmp/x", "HEAD", "0" * 40, "main", "", "{0} {0}"])
def test_a_result_naming_no_commit_of_the_history_does_not_count(cli: Cli, gated: Path, named: str) -> None:
    if named == "{0} {0}":  # two Gate-Commit trailers: ambiguous
        head = git(gated, "rev-parse", "HEAD")
        lines = f"Gate-Commit: {head}\nGate-Commit: {head}"
    else:
        lines = f"Gate-Commit: {named}"
    git(gated, "commit", "-q", "--allow-empty", "-m", f"gtask: gate m1\n\nGate: m1\nGate-Result: passed\n{lines}")
    assert ready(cli) == ["base"]


def test_ancestry_is_checked_once_per_distinct_tested_commit(gated: Path) -> None:
    from gtask.gitio.git import Git
    from gtask.gitstate.holds import gate_results

    git(gated, "switch", "-q", "-c", "feature")
    git(gated, "commit", "-q", "--allow-empty", "-m", "unmerged work")
    unmerged = git(gated, "rev-parse", "HEAD")
    for number in range(5):  # five results for one unmerged commit: one merge-base call, not five
        git(gated, "commit", "-q", "--allow-empty", "-m",
            f"r{number}\n\nGate: m1\nGate-Result: passed\nGate-Commit: {unmerged}")
    repo = Git.discover(gated)
    assert repo is not None
    calls: list[tuple[str, ...]] = []
    original = repo.run

    def counting(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    repo.run = counting  # type: ignore[method-assign]
    assert gate_results(repo, "HEAD", None, git(gated, "rev-parse", "main")) == {}
    assert sum(1 for c in calls if c[:2] == ("merge-base", "--is-ancestor")) == 1


# -- a hostile tester's tries that broke a promise ------------------------------------------------------


@pytest.mark.parametrize(("line", "number"), [
    ('<<: {status: done, claimed_by: eve, lease_until: "2999-01-01T00:00:00Z"}', 4),
    ('!!merge "x": {claimed_by: eve}', 4), ("steps:\n  - <<: {a: 1}", 5)])
def test_a_yaml_merge_key_cannot_hide_keys_in_a_task(cli: Cli, repo: Path, line: str, number: int) -> None:
    path = write_task(repo, "m", f"---\ntitle: M\nstatus: todo\n{line}\n---\nBody.\n")
    before = path.read_bytes()
    result = cli("check")
    assert result.exit_code == 1 and f".tasks/m.md:{number}:" in result.stdout + result.stderr
    assert "eve" not in cli("list").stdout  # no hidden claim by a key no line of the file shows
    assert cli("set", "m", "title=Z").exit_code != 0 and path.read_bytes() == before


def test_attempt_costs_that_overflow_a_sum_keep_stats_valid_json(cli: Cli, repo: Path) -> None:
    attempt = ("  - agent: x\n    start: '2026-01-01T00:00:00Z'\n    end: '2026-01-01T00:00:01Z'\n"
               "    outcome: failed\n    cost: 1.0e+308\n")
    write_task(repo, "b", f"---\ntitle: B\nstatus: todo\nattempts:\n{attempt}{attempt}---\n")
    start = git(repo, "rev-parse", "HEAD")
    commit_all(repo)
    assert cli("check").exit_code == 0
    for args in (("stats", "--json"), ("report", "--since", start, "--json")):
        result = cli(*args)
        assert result.exit_code == 0, result.stderr
        assert "Infinity" not in result.stdout and "NaN" not in result.stdout
        json.loads(result.stdout)


def test_a_task_named_head_is_seen_claimed_in_every_clone(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, {"HEAD": [], "other": []})
    a, b = clone(tmp_path, remote, "a"), clone(tmp_path, remote, "b")
    assert gt(a, "claim", "HEAD", "--push", "--agent", "alice")[0] == 0
    assert gt(b, "sync")[0] == 0
    assert states(b)["HEAD"] == "claimed"  # the lease ref refs/gtask/origin/claims/HEAD was skipped as a symref
    assert gt(b, "claim", "HEAD", "--push", "--agent", "bob")[0] == 3


@pytest.mark.parametrize("args", [("new", "bad\udcfftitle"), ("set", "a", "title=z\udcff"),
                                  ("set", "a", "labels+=\udcff")])
def test_bytes_that_are_not_utf8_in_arguments_are_a_usage_error(cli: Cli, repo: Path, args: tuple[str, ...]) -> None:
    path = write_task(repo, "a", task_text("A"))  # argv's undecodable bytes arrive as surrogates
    commit_all(repo)
    before = path.read_bytes()
    result = cli(*args)
    assert result.exit_code == 2 and "UTF-8" in result.stderr and "Traceback" not in result.stderr
    assert path.read_bytes() == before and git(repo, "status", "--porcelain") == ""


def test_a_lone_surrogate_from_mcp_json_is_refused(repo: Path) -> None:
    from gtask.errors import UsageError
    from gtask.mcp.server import Tools

    status = git(repo, "status", "--porcelain", "-uall")
    for arguments in ({"title": "\ud800"}, {"title": "ok", "labels": ["\udfff"]}):
        with pytest.raises(UsageError):
            Tools(repo, "bot").call("new", arguments)
    assert git(repo, "status", "--porcelain", "-uall") == status


@pytest.mark.parametrize("assignment", ["status=todo", "status=done", "lane=agent", "claimed_by=bot",
                                        "closed_by=abc", "attempts=[]", "milestone=later"])
def test_an_agent_cannot_approve_or_move_a_task_with_set(cli: Cli, laned: Path, assignment: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = laned / ".tasks" / "prop.md"
    before, head = path.read_bytes(), git(laned, "rev-parse", "HEAD")
    monkeypatch.setenv("GTASK_AGENT", "bot")
    for extra in ([], ["--commit"]):
        assert cli("set", "prop", assignment, *extra).exit_code == 3  # the approval gate, through `set`
    assert path.read_bytes() == before and git(laned, "rev-parse", "HEAD") == head
    assert cli("set", "prop", "priority=1").exit_code == 0  # other fields stay an agent's to edit
    monkeypatch.delenv("GTASK_AGENT")
    assert cli("set", "prop", assignment).exit_code == 0  # a person may


def test_an_agents_import_brings_no_claim_or_completion(cli: Cli, repo: Path, tmp_path: Path) -> None:
    source = tmp_path / "tasks.jsonl"
    source.write_text(json.dumps({"id": "imp", "title": "Imported", "status": "done", "claimed_by": "eve",
                                  "lease_until": "2999-01-01T00:00:00Z", "claim_branch": "main",
                                  "closed_by": "abc", "closed_at": "2026-01-01T00:00:00Z"}) + "\n")
    assert cli("import", "--from", "gtask-jsonl", str(source), "--agent", "bot").exit_code == 0
    task = json.loads(cli("show", "imp", "--json").stdout)
    assert task["status"] == "proposed" and task["claimed_by"] is None and task["lease_until"] is None
    assert task["closed_by"] is None and task["closed_at"] is None


def _forged_tombstone(tmp_path: Path, remote: Path, shape: str) -> str:
    """Push something that is not a completion as refs/gtask/done/one: a tree, or a commit where `one` is todo."""
    eve = clone(tmp_path, remote, "eve")
    if shape == "tree":
        write_task(eve, "one", task_text("Task one", status="done", closed_by="eve", closed_at="2026-01-01T00:00:00Z"))
        git(eve, "add", "-A")
        forged = git(eve, "write-tree")  # a tree whose one.md says done: no commit, no history
    else:
        git(eve, "commit", "-q", "--allow-empty", "-m", "gtask: done one\n\nTask: one\nTask-Action: done")
        forged = git(eve, "rev-parse", "HEAD")  # the trailers of a completion, the file still todo
    git(eve, "push", "-q", "origin", f"{forged}:refs/gtask/done/one")
    return forged


@pytest.mark.parametrize("shape", ["tree", "commit-not-done"])
def test_a_tombstone_that_is_no_completion_is_not_believed(tmp_path: Path, shape: str) -> None:
    remote = make_remote(tmp_path, {"one": [], "two": []})
    forged = _forged_tombstone(tmp_path, remote, shape)
    alice = clone(tmp_path, remote, "alice")
    assert gt(alice, "sync")[0] == 0
    assert states(alice)["one"] == "ready"
    code, _, err = gt(alice, "claim", "one", "--push", "--agent", "alice")
    assert code == 0, err  # was exit 3: "one was already completed"
    assert "refs/gtask/done/one" in err and forged[:12] in err  # ignored, and said so
    assert git(remote, "for-each-ref", "refs/gtask/done") == ""  # the claim's push removed it
    assert git(remote, "rev-parse", "refs/gtask/claims/one") == git(alice, "rev-parse", "HEAD")
    bob = clone(tmp_path, remote, "bob")
    assert gt(bob, "sync")[0] == 0 and states(bob)["one"] == "claimed"  # the real claim holds


def test_a_real_tombstone_still_holds(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, {"one": []})
    alice, bob = clone(tmp_path, remote, "alice"), clone(tmp_path, remote, "bob")
    git(alice, "switch", "-q", "-c", "work")
    assert gt(alice, "claim", "one", "--push", "--agent", "alice")[0] == 0
    assert gt(alice, "done", "one", "--push", "--agent", "alice")[0] == 0
    code, _, err = gt(bob, "claim", "one", "--push", "--agent", "bob")
    assert code == 3 and "already completed" in err
