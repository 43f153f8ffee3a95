"""The agent workflow in one clone: approval gate, lanes, milestone gates, events, the agent guide (real git)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Cli, git, run_process, task_text, write_task


def commit_all(repo: Path, message: str = "tasks") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def status_of(repo: Path, task_id: str) -> str:
    text = (repo / ".tasks" / f"{task_id}.md").read_text()
    return next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("status: "))


def ready_ids(cli: Cli, *args: str) -> list[str]:
    result = cli("ready", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return [task["id"] for task in json.loads(result.stdout)]


# -- the approval gate --------------------------------------------------------


def test_an_agent_files_proposed_tasks_that_only_a_person_approves(cli: Cli, repo: Path) -> None:
    assert cli("new", "Person task", "--commit").exit_code == 0
    assert cli("new", "Agent idea", "--agent", "bot", "--commit").exit_code == 0
    assert status_of(repo, "person-task") == "todo"
    assert status_of(repo, "agent-idea") == "proposed"
    assert "Agent: bot" in git(repo, "log", "-1", "--format=%B")
    assert ready_ids(cli) == ["person-task"]
    assert json.loads(cli("next", "--json").stdout)["id"] == "person-task"

    refused = cli("new", "Sneaky", "--agent", "bot", "--status", "todo")
    assert refused.exit_code == 2 and "proposed" in refused.stderr
    assert not (repo / ".tasks" / "sneaky.md").exists()

    head = git(repo, "rev-parse", "HEAD")
    by_agent = cli("approve", "agent-idea", "--agent", "bot")
    assert by_agent.exit_code == 3 and "person" in by_agent.stderr
    assert git(repo, "rev-parse", "HEAD") == head and status_of(repo, "agent-idea") == "proposed"

    assert cli("approve", "agent-idea", "--lane", "autonomous").exit_code == 0
    assert status_of(repo, "agent-idea") == "todo"
    assert "lane: autonomous" in (repo / ".tasks" / "agent-idea.md").read_text()
    message = git(repo, "log", "-1", "--format=%B")
    assert "Task-Action: approve" in message and "Task: agent-idea" in message
    assert sorted(ready_ids(cli)) == ["agent-idea", "person-task"]


def test_approve_many_in_one_commit_or_none_at_all(cli: Cli, repo: Path) -> None:
    for task_id in ("a", "b"):
        write_task(repo, task_id, task_text(task_id.upper(), status="proposed"))
    write_task(repo, "c", task_text("C"))
    head = commit_all(repo)
    refused = cli("approve", "a", "c")
    assert refused.exit_code == 3 and "c is not proposed" in refused.stderr
    assert git(repo, "rev-parse", "HEAD") == head and status_of(repo, "a") == "proposed"
    assert cli("approve", "a", "b", "--lane", "nowhere").exit_code == 2
    assert cli("approve", "a", "b").exit_code == 0
    assert git(repo, "rev-list", "--count", f"{head}..HEAD") == "1"
    assert git(repo, "diff", "--name-only", "HEAD~1", "HEAD").split() == [".tasks/a.md", ".tasks/b.md"]


def test_reject_cancels_with_the_reason_in_the_commit(cli: Cli, repo: Path) -> None:
    write_task(repo, "idea", task_text("Idea", status="proposed"))
    commit_all(repo)
    assert cli("reject", "idea", "--reason", "   ").exit_code == 2
    assert cli("reject", "idea", "--reason", "Out of scope for the beta").exit_code == 0
    assert status_of(repo, "idea") == "canceled"
    message = git(repo, "log", "-1", "--format=%B")
    assert "Out of scope for the beta" in message and "Task-Action: reject" in message
    assert cli("reject", "idea", "--reason", "again").exit_code == 3


def test_triage_lists_what_waits_for_a_person_by_lane(cli: Cli, repo: Path) -> None:
    write_task(repo, "idea", task_text("Idea", status="proposed", lane="investigation"))
    write_task(repo, "pick-db", task_text("Pick a database", lane="decision"))
    write_task(repo, "chore", task_text("Chore", lane="autonomous"))
    commit_all(repo)
    waiting = json.loads(cli("triage", "--json").stdout)
    assert {(t["id"], t["waits_for"]) for t in waiting} == {("idea", "approval"), ("pick-db", "a person")}
    text = cli("triage").stdout
    assert text.index("decision:") < text.index("investigation:")


def test_a_handoff_by_an_agent_files_a_proposed_prerequisite(cli: Cli, repo: Path) -> None:
    write_task(repo, "api", task_text("API"))
    commit_all(repo)
    assert cli("claim", "api", "--agent", "bot").exit_code == 0
    assert cli("handoff", "api", "--needs", "Session tokens", "--agent", "bot").exit_code == 0
    assert status_of(repo, "session-tokens") == "proposed"
    assert ready_ids(cli) == []  # api waits on a prerequisite a person has not approved yet


# -- lanes ------------------------------------------------------------------------


@pytest.fixture
def laned(repo: Path) -> Path:
    write_task(repo, "auto", task_text("Autonomous work", lane="autonomous", priority="3"))
    write_task(repo, "decide", task_text("Needs a decision", lane="decision", priority="0"))
    write_task(repo, "free", task_text("No lane", priority="4"))
    commit_all(repo)
    return repo


def test_next_for_an_agent_offers_only_agent_lanes(cli: Cli, laned: Path, monkeypatch) -> None:
    assert json.loads(cli("next", "--json").stdout)["id"] == "decide"  # a person sees everything
    assert json.loads(cli("next", "--json", "--agent", "bot").stdout)["id"] == "auto"
    monkeypatch.setenv("GTASK_AGENT", "bot")
    assert json.loads(cli("next", "--json").stdout)["id"] == "auto"
    assert ready_ids(cli, "--lane", "decision") == []  # an agent's ready is what it may take (issue 14)
    monkeypatch.delenv("GTASK_AGENT")
    assert ready_ids(cli, "--lane", "decision") == ["decide"]  # a person sees every lane
    assert json.loads(cli("list", "--json", "--lane", "autonomous").stdout)[0]["id"] == "auto"


def test_an_agent_cannot_claim_a_person_lane_even_with_force(cli: Cli, laned: Path) -> None:
    head = git(laned, "rev-parse", "HEAD")
    for args in ((), ("--force",)):
        refused = cli("claim", "decide", "--agent", "bot", *args)
        assert refused.exit_code == 3 and "needs a person" in refused.stderr
    assert git(laned, "rev-parse", "HEAD") == head
    assert cli("claim", "free", "--agent", "bot").exit_code == 0
    claimed = json.loads(cli("next", "--claim", "--agent", "bot", "--json").stdout)
    assert claimed["task"]["id"] == "auto"
    assert cli("claim", "decide").exit_code == 0  # a person may


def test_agent_lanes_come_from_config(cli: Cli, laned: Path) -> None:
    config = laned / ".tasks" / "config.yaml"
    config.write_text(config.read_text() + "agent_lanes: [autonomous, decision]\n")
    assert json.loads(cli("next", "--json", "--agent", "bot").stdout)["id"] == "decide"
    config.write_text(config.read_text() + "agent_lanes: [nowhere]\n")
    assert cli("next", "--agent", "bot").exit_code == 1  # a config error names the file


# -- milestones and gates -----------------------------------------------------------


GATED_CONFIG = """milestones:
  m1:
    gate: [sh, -c, "echo checking; test -f built"]
  m2:
    after: m1
"""


@pytest.fixture
def gated(repo: Path) -> Path:
    config = repo / ".tasks" / "config.yaml"
    config.write_text(config.read_text() + GATED_CONFIG)
    write_task(repo, "base", task_text("Base", milestone="m1"))
    write_task(repo, "later", task_text("Later", milestone="m2"))
    commit_all(repo, "milestones")
    return repo


def test_a_gate_holds_the_next_milestone_until_it_passes(cli: Cli, gated: Path) -> None:
    assert ready_ids(cli) == ["base"]
    waits = json.loads(cli("blocked", "--json").stdout)
    assert waits[0]["id"] == "later" and waits[0]["waits_on"][0]["ref"] == "gate:m1"

    failed = cli("gate", "run", "m1", "--json")
    assert failed.exit_code == 1
    body = json.loads(failed.stdout)
    assert body["result"] == "failed" and "checking" in body["output"]
    message = git(gated, "log", "-1", "--format=%B")
    assert "Gate: m1" in message and "Gate-Result: failed" in message
    assert git(gated, "show", "--name-only", "--format=", "HEAD") == ""  # a gate commit changes no file
    assert ready_ids(cli) == ["base"]

    (gated / "built").write_text("yes\n")
    commit_all(gated, "build")
    assert cli("gate", "run", "m1").exit_code == 0
    assert "Gate-Result: passed" in git(gated, "log", "-1", "--format=%B")
    assert sorted(ready_ids(cli)) == ["base", "later"]
    status = json.loads(cli("gate", "status", "--json").stdout)
    assert [(m["milestone"], m["result"] and m["result"]["result"]) for m in status] == [("m1", "passed"), ("m2", None)]


def test_a_pass_counts_only_where_it_is_an_ancestor(cli: Cli, gated: Path) -> None:
    git(gated, "switch", "-q", "-c", "elsewhere")
    (gated / "built").write_text("yes\n")
    commit_all(gated, "build")
    assert cli("gate", "run", "m1").exit_code == 0
    git(gated, "switch", "-q", "main")
    assert ready_ids(cli) == ["base"]  # the pass is on another branch, not behind main's HEAD
    git(gated, "merge", "-q", "--no-edit", "elsewhere")
    assert sorted(ready_ids(cli)) == ["base", "later"]


def test_a_gate_never_runs_from_a_task_file_or_another_branch(cli: Cli, gated: Path) -> None:
    write_task(gated, "evil", task_text("Evil", milestone="m1") + "")
    path = gated / ".tasks" / "evil.md"
    path.write_text(path.read_text().replace("milestone: m1", "milestone: m1\ngate: touch pwned-by-task"))
    config = gated / ".tasks" / "config.yaml"
    config.write_text(config.read_text().replace('"echo checking; test -f built"', '"touch pwned-by-branch"')
                      + "  m3:\n    gate: touch pwned-new-milestone\n")
    git(gated, "switch", "-q", "-c", "feature")
    commit_all(gated, "a branch rewrites the gate")
    assert cli("gate", "run", "m1").exit_code == 1  # the integration branch's gate ran: `built` is missing
    assert cli("gate", "run", "m3").exit_code == 4  # only the branch has m3
    assert not list(gated.glob("pwned*"))
    assert cli("gate", "run", "m2").exit_code == 4  # m2 has no gate


def test_a_gate_refuses_a_dirty_work_tree_and_shell_needs_the_config(cli: Cli, gated: Path) -> None:
    (gated / "README.md").write_text("changed\n")
    head = git(gated, "rev-parse", "HEAD")
    assert cli("gate", "run", "m1").exit_code == 1
    assert git(gated, "rev-parse", "HEAD") == head
    git(gated, "checkout", "--", "README.md")
    config = gated / ".tasks" / "config.yaml"
    config.write_text(config.read_text() + "  m9:\n    gate: echo one > shell-ran\n")
    commit_all(gated, "argv gate")
    assert cli("gate", "run", "m9").exit_code == 0
    assert not (gated / "shell-ran").exists()  # `>` was an argument to echo, not a redirection
    config.write_text(config.read_text() + "    shell: true\n")
    commit_all(gated, "shell gate")
    assert cli("gate", "run", "m9").exit_code == 0
    assert (gated / "shell-ran").read_text() == "one\n"


# -- events and the agent guide ----------------------------------------------------------


def test_events_list_protocol_commits_since_a_revision(cli: Cli, repo: Path) -> None:
    write_task(repo, "api", task_text("API"))
    start = commit_all(repo)
    assert cli("claim", "api", "--agent", "bot").exit_code == 0
    (repo / "api.py").write_text("x\n")
    git(repo, "add", "api.py")
    git(repo, "commit", "-q", "-m", "Build the API\n\nCloses: api")
    assert cli("done", "api", "--agent", "bot").exit_code == 0
    found = json.loads(cli("events", "--since", start, "--json").stdout)
    assert [(e["action"], e["tasks"]) for e in found] == [("claim", ["api"]), ("closes", ["api"]), ("done", ["api"])]
    assert found[0]["agent"] == "bot"
    assert cli("events", "--since", "no-such-rev").exit_code == 4
    assert json.loads(cli("events", "--since", "HEAD", "--json").stdout) == []


def test_the_agent_guide_is_short_and_appended_once(repo: Path) -> None:
    guide = run_process(repo, "agents")
    assert guide.returncode == 0 and "next --claim" in guide.stdout and "Closes: ID" in guide.stdout
    assert len(guide.stdout.split()) < 250  # agents pay for every token
    (repo / "AGENTS.md").write_text("# Our rules\n")
    for _ in range(2):
        assert run_process(repo, "init", "--agents-file", "AGENTS.md").returncode == 0
    text = (repo / "AGENTS.md").read_text()
    assert text.startswith("# Our rules\n\n") and text.count("## Tasks (gtask)") == 1


def test_a_wrong_config_value_names_its_line(cli: Cli, repo: Path) -> None:
    config = repo / ".tasks" / "config.yaml"
    config.write_text("project: demo\nlease: 2h\nmilestones:\n  m1: {gate: 3}\n")
    result = cli("list", "--json")
    error = json.loads(result.stderr)["error"]
    assert result.exit_code == 1 and (error["path"], error["line"]) == (".tasks/config.yaml", 3)
    assert "milestones.m1.gate" in error["message"]
