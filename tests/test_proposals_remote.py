"""An agent's proposal is seen where the person is (issue 14): on its pushed branch, before any merge.

A bare remote, an agent's clone and a person's clone: the agent files a proposal on its branch and pushes;
the person syncs, sees it in `triage` marked with its branch, and approving it brings the file in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, git
from git import Repo
from test_fleet import clone, make_remote
from test_triage_interactive import Terminal

from gtask.core.trailers import parse_trailers


@pytest.fixture
def clones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Cli, Path, Cli]:
    """The agent's clone on branch agent-x, and the person's clone on main."""
    remote = make_remote(tmp_path, {"one": []})
    agent, person = clone(tmp_path, remote, "agent"), clone(tmp_path, remote, "person")
    git(agent, "switch", "-q", "-c", "agent-x")
    return agent, Cli(agent, capsys), person, Cli(person, capsys)


def _triage(cli: Cli) -> list[dict[str, Any]]:
    result = cli("triage", "--json")
    assert result.exit_code == 0, result.stderr
    return list(json.loads(result.stdout))


def _propose(agent: Path, cli: Cli, task_id: str, title: str, *more: str) -> str:
    """The agent files a proposal on its branch and pushes the branch; return the file's text."""
    result = cli("new", title, "--id", task_id, "--label", "docs", *more, "--commit", "--agent", "codex")
    assert result.exit_code == 0, result.stderr
    git(agent, "push", "-q", "origin", "agent-x")
    return (agent / ".tasks" / f"{task_id}.md").read_text()


def test_a_proposal_on_a_pushed_branch_shows_in_triage_and_approve_brings_it_in(
        clones: tuple[Path, Cli, Path, Cli]) -> None:
    agent, agent_cli, person, person_cli = clones
    text = _propose(agent, agent_cli, "fix-docs", "Fix the docs")
    assert "status: proposed" in text
    assert all(t["id"] != "fix-docs" for t in _triage(person_cli))  # not fetched yet
    assert person_cli("sync").exit_code == 0
    waiting = {t["id"]: t for t in _triage(person_cli)}
    assert waiting["fix-docs"]["branch"] == "origin/agent-x" and waiting["fix-docs"]["waits_for"] == "approval"
    assert waiting["fix-docs"]["title"] == "Fix the docs"
    line = next(row for row in person_cli("triage").stdout.splitlines() if "fix-docs" in row)
    assert "origin/agent-x" in line
    assert not (person / ".tasks" / "fix-docs.md").exists()  # seen, not yet brought in

    before = git(person, "rev-parse", "HEAD")
    result = person_cli("approve", "fix-docs")
    assert result.exit_code == 0, result.stderr
    commit = Repo(person).head.commit
    assert commit.parents[0].hexsha == before
    assert list(commit.stats.files) == [".tasks/fix-docs.md"]
    trailers = parse_trailers(str(commit.message))
    assert trailers["Task"] == ["fix-docs"] and trailers["Task-Action"] == ["approve"]
    assert trailers["Agent"] == ["Test Person"]  # git's author (the environment sets it in tests)
    approved = (person / ".tasks" / "fix-docs.md").read_text()
    assert approved == text.replace("status: proposed", "status: todo")  # the agent's file, then approved
    assert git(person, "status", "--porcelain") == ""
    assert all(t["id"] != "fix-docs" for t in _triage(person_cli))  # decided: waits no more


def test_reject_brings_a_branch_proposal_in_as_canceled(clones: tuple[Path, Cli, Path, Cli]) -> None:
    agent, agent_cli, person, person_cli = clones
    _propose(agent, agent_cli, "rewrite", "Rewrite everything")
    assert person_cli("sync").exit_code == 0
    assert person_cli("reject", "rewrite", "--reason", "too big").exit_code == 0
    commit = Repo(person).head.commit
    assert list(commit.stats.files) == [".tasks/rewrite.md"]
    assert "status: canceled" in (person / ".tasks" / "rewrite.md").read_text()


def test_only_proposals_show_and_a_proposal_here_shows_once(clones: tuple[Path, Cli, Path, Cli]) -> None:
    agent, agent_cli, person, person_cli = clones
    assert agent_cli("new", "Plain work", "--id", "plain", "--commit").exit_code == 0  # a person's todo task
    _propose(agent, agent_cli, "dup", "Both here and there")
    assert person_cli("sync").exit_code == 0
    git(person, "checkout", "origin/agent-x", "--", ".tasks/dup.md")  # the same proposal, committed here too
    git(person, "commit", "-q", "-m", "take dup")
    waiting = _triage(person_cli)
    assert [t["id"] for t in waiting if t["id"] == "dup"] == ["dup"]
    assert next(t for t in waiting if t["id"] == "dup")["branch"] is None  # here wins
    assert all(t["id"] != "plain" for t in waiting)
    missing = person_cli("approve", "nowhere")
    assert missing.exit_code == 4 and "nowhere" in missing.stderr
    assert person_cli("approve", "plain").exit_code == 4  # on a branch, but not a proposal


def test_a_merged_proposal_shows_once_without_a_branch(clones: tuple[Path, Cli, Path, Cli]) -> None:
    agent, agent_cli, person, person_cli = clones
    _propose(agent, agent_cli, "merged", "Merged already")
    assert person_cli("sync").exit_code == 0
    git(person, "merge", "-q", "--no-ff", "-m", "merge the agent's branch", "origin/agent-x")
    assert [(t["id"], t["branch"]) for t in _triage(person_cli) if t["id"] == "merged"] == [("merged", None)]


def test_interactive_triage_approves_a_branch_proposal_in_its_one_commit(
        clones: tuple[Path, Cli, Path, Cli]) -> None:
    agent, agent_cli, person, person_cli = clones
    text = _propose(agent, agent_cli, "from-branch", "Filed on a branch", "--lane", "autonomous")
    assert person_cli("sync").exit_code == 0
    before = git(person, "rev-parse", "HEAD")
    term = Terminal(person, "triage", "--interactive")
    term.read_until("proposal 1 of 1: from-branch")
    term.read_until("on origin/agent-x")
    term.type("e")  # nothing here to edit yet: it says so and asks again
    term.read_until("approve it to bring it here")
    term.type("a")
    assert term.finish() == 0, term.screen
    assert git(person, "rev-list", "--count", f"{before}..HEAD") == "1"
    assert git(person, "diff", "--name-only", before, "HEAD") == ".tasks/from-branch.md"
    assert (person / ".tasks" / "from-branch.md").read_text() == text.replace("status: proposed", "status: todo")


def test_an_unreadable_proposal_on_a_branch_is_named_and_approving_it_changes_nothing(
        clones: tuple[Path, Cli, Path, Cli]) -> None:
    agent, agent_cli, person, person_cli = clones
    text = _propose(agent, agent_cli, "broken", "Broken on its branch")
    lines = text.splitlines(keepends=True)
    bad = next(n for n, line in enumerate(lines) if line.startswith("title:"))
    lines[bad] = "title: [never closed\n"  # the agent's file no longer parses as YAML
    (agent / ".tasks" / "broken.md").write_text("".join(lines))
    git(agent, "commit", "-q", "-am", "break it")
    git(agent, "push", "-q", "origin", "agent-x")
    assert person_cli("sync").exit_code == 0

    listed = person_cli("triage")
    assert listed.exit_code == 0, listed.stderr
    problem = next(row for row in listed.stderr.splitlines() if "broken" in row)
    assert ".tasks/broken.md:" in problem and "origin/agent-x" in problem
    as_json = person_cli("triage", "--json")
    assert as_json.exit_code == 0 and all(t["id"] != "broken" for t in json.loads(as_json.stdout))
    problems = [json.loads(row)["problem"] for row in as_json.stderr.splitlines() if row.strip()]
    found = next(p for p in problems if p["path"] == ".tasks/broken.md")
    assert found["severity"] == "error" and found["line"] and found["line"] >= bad + 1
    assert "origin/agent-x" in found["message"]

    head, status = git(person, "rev-parse", "HEAD"), git(person, "status", "--porcelain")
    refused = person_cli("approve", "broken")
    assert refused.exit_code == 1, refused.stderr  # an invalid task file (design §4), not "no such task"
    assert f".tasks/broken.md:{found['line']}" in refused.stderr and "origin/agent-x" in refused.stderr
    assert git(person, "rev-parse", "HEAD") == head and git(person, "status", "--porcelain") == status
    assert not (person / ".tasks" / "broken.md").exists()
    assert person_cli("reject", "broken", "--reason", "unreadable").exit_code == 1
    assert git(person, "rev-parse", "HEAD") == head
