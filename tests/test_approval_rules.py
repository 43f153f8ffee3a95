"""Approval rules: read only from the integration branch's committed config; applied in the agent's own commit."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, git

RULES = """project: demo
approval_rules:
  - name: docs-by-codex
    agents: [codex]
    labels: [docs, tests]
    lane: autonomous
"""


def _commit_config(repo: Path, text: str, message: str = "rules") -> None:
    (repo / ".tasks" / "config.yaml").write_text(text)
    git(repo, "add", ".tasks/config.yaml")
    git(repo, "commit", "-q", "-m", message)


def _front(repo: Path, task_id: str) -> str:
    return (repo / ".tasks" / f"{task_id}.md").read_text()


def test_rule_on_main_approves_new_import_and_handoff(repo: Path, cli: Cli) -> None:
    _commit_config(repo, RULES)
    made = cli("new", "Document the API", "--id", "doc-1", "--label", "docs", "--commit", "--agent", "codex")
    assert made.exit_code == 0, made.stderr
    assert "status: todo" in _front(repo, "doc-1") and "lane: autonomous" in _front(repo, "doc-1")
    body = git(repo, "log", "-1", "--format=%B")
    assert "Approval-Rule: docs-by-codex" in body and "Task-Action: new" in body
    assert git(repo, "status", "--porcelain", "--", ".tasks") == ""  # the approval is in the same commit

    # another agent, or a label outside the rule: stays proposed, no trailer
    assert cli("new", "Refactor", "--id", "ref-1", "--label", "docs", "--label", "core", "--commit",
               "--agent", "codex").exit_code == 0
    assert cli("new", "More docs", "--id", "doc-2", "--label", "docs", "--commit", "--agent", "claude").exit_code == 0
    for task_id in ("ref-1", "doc-2"):
        assert "status: proposed" in _front(repo, task_id)
    assert "Approval-Rule" not in git(repo, "log", "-1", "--format=%B")

    plan = repo / "plan.yaml"
    plan.write_text("tasks:\n  - name: t1\n    title: Write tests\n    labels: [tests]\n"
                    "  - name: t2\n    title: Untagged\n")
    assert cli("import", str(plan), "--agent", "codex").exit_code == 0
    assert "Approval-Rule: docs-by-codex" in git(repo, "log", "-1", "--format=%B")
    states = {p.stem: p.read_text() for p in (repo / ".tasks").glob("*.md")}
    assert sum("status: todo" in text and "Write tests" in text for text in states.values()) == 1
    assert sum("status: proposed" in text and "Untagged" in text for text in states.values()) == 1


def test_rule_only_on_an_agent_branch_approves_nothing(repo: Path, cli: Cli) -> None:
    git(repo, "checkout", "-q", "-b", "agent/codex")
    _commit_config(repo, RULES, "widen the rules on a branch")
    assert cli("new", "Document it", "--id", "doc-1", "--label", "docs", "--commit", "--agent", "codex").exit_code == 0
    assert "status: proposed" in _front(repo, "doc-1")
    assert "Approval-Rule" not in git(repo, "log", "-1", "--format=%B")
    # an uncommitted rule in the work tree of main approves nothing either
    git(repo, "checkout", "-q", "main")
    (repo / ".tasks").mkdir(exist_ok=True)
    (repo / ".tasks" / "config.yaml").write_text(RULES)
    assert cli("new", "Docs too", "--id", "doc-2", "--label", "docs", "--commit", "--agent", "codex").exit_code == 0
    assert "status: proposed" in _front(repo, "doc-2")


def test_triage_names_the_rule_and_approve_rule_applies_it(repo: Path, cli: Cli) -> None:
    # proposals filed before the rule existed wait; the rule then shows in triage and `approve --rule` applies it
    for task_id in ("doc-1", "doc-2"):
        assert cli("new", "Docs", "--id", task_id, "--label", "docs", "--commit", "--agent", "codex").exit_code == 0
    assert cli("new", "Core", "--id", "core-1", "--label", "core", "--commit", "--agent", "codex").exit_code == 0
    _commit_config(repo, RULES)
    listed = cli("triage")
    assert listed.exit_code == 0
    lines = {line.split()[0]: line for line in listed.stdout.splitlines() if line.startswith("  ")}
    assert "docs-by-codex" in lines["doc-1"] and "docs-by-codex" not in lines["core-1"]
    assert cli("approve", "--rule", "nope").exit_code == 4
    before = git(repo, "rev-parse", "HEAD")
    done = cli("approve", "--rule", "docs-by-codex")
    assert done.exit_code == 0, done.stderr
    assert git(repo, "rev-list", "--count", f"{before}..HEAD") == "1"
    assert "Approval-Rule: docs-by-codex" in git(repo, "log", "-1", "--format=%B")
    assert "status: todo" in _front(repo, "doc-1") and "status: todo" in _front(repo, "doc-2")
    assert "status: proposed" in _front(repo, "core-1")


def test_a_rule_lane_must_be_configured(repo: Path, cli: Cli) -> None:
    config = repo / ".tasks" / "config.yaml"
    config.write_text("project: demo\napproval_rules:\n  - name: x\n    lane: nowhere\n")
    result = cli("check")
    assert result.exit_code == 1
    assert "config.yaml:2" in result.stderr


def test_a_rule_approves_the_prerequisite_a_handoff_files(repo: Path, cli: Cli) -> None:
    _commit_config(repo, "project: demo\napproval_rules:\n  - name: codex-any\n    agents: [codex]\n"
                         "    lane: investigation\n")
    assert cli("new", "Work", "--id", "work", "--commit").exit_code == 0
    result = cli("handoff", "work", "--needs", "Write the fixtures", "--agent", "codex", "--json")
    assert result.exit_code == 0, result.stderr
    body = git(repo, "log", "-1", "--format=%B")
    assert "Task-Action: handoff" in body and "Approval-Rule: codex-any" in body
    prereq = [p for p in (repo / ".tasks").glob("*.md") if "Write the fixtures" in p.read_text()]
    assert len(prereq) == 1 and "status: todo" in prereq[0].read_text()
    assert "lane: investigation" in prereq[0].read_text()
    assert git(repo, "status", "--porcelain", "--", ".tasks/*.md") == ""
    # a person's handoff files a todo anyway, without a rule's trailer
    assert cli("new", "More", "--id", "more", "--commit").exit_code == 0
    assert cli("handoff", "more", "--needs", "Something first").exit_code == 0
    assert "Approval-Rule" not in git(repo, "log", "-1", "--format=%B")
