"""The whole agent loop end to end: two agents and one person, three clones of one bare remote (real git, real CLI)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import git, run_process

CONFIG = """project: shop
lanes: [triage, decision, investigation, autonomous]
milestones:
  m1:
    gate: [sh, -c, "echo running the gate; test -f gate-ok"]
  m2:
    after: m1
"""

PLAN = """tasks:
  - name: model
    title: Define the order model
    priority: 1
    milestone: m1
  - name: store
    title: Store orders
    depends_on: [model]
    milestone: m1
  - name: report
    title: Report on orders
    depends_on: [store]
    milestone: m2
"""


class Actor:
    """One clone, used by one person or one agent (an agent has GTASK_AGENT set)."""

    def __init__(self, root: Path, remote: Path, name: str, agent: bool) -> None:
        self.path = root / name
        git(root, "clone", "-q", str(remote), str(self.path))
        git(self.path, "config", "user.name", name)
        git(self.path, "config", "user.email", f"{name}@example.com")
        self.env = {"GTASK_AGENT": name} if agent else {}

    def __call__(self, *args: str, code: int = 0, input: str | None = None) -> subprocess.CompletedProcess[str]:
        proc = run_process(self.path, *args, env=self.env, input=input)
        assert proc.returncode == code, f"gtask {' '.join(args)}: exit {proc.returncode}\n{proc.stderr}"
        return proc

    def json(self, *args: str, code: int = 0):
        return json.loads(self(*args, "--json", code=code).stdout)

    def pull(self) -> None:
        git(self.path, "pull", "-q", "--rebase", "origin", "main")

    def push(self) -> None:
        git(self.path, "push", "-q", "origin", "HEAD:main")

    def commit_work(self, name: str, closes: str) -> None:
        (self.path / name).write_text(f"{name}\n")
        git(self.path, "add", name)
        git(self.path, "commit", "-q", "-m", f"Work on {closes}\n\nCloses: {closes}")


@pytest.fixture
def team(tmp_path: Path) -> tuple[Actor, Actor, Actor]:
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(remote), str(seed))
    (seed / ".tasks").mkdir()
    (seed / ".tasks" / "config.yaml").write_text(CONFIG)
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=Seed", "-c", "user.email=s@x", "commit", "-q", "-m", "Set up tasks")
    git(seed, "push", "-q", "origin", "main")
    return Actor(tmp_path, remote, "pat", agent=False), Actor(tmp_path, remote, "codex", agent=True), \
        Actor(tmp_path, remote, "claude", agent=True)


def test_plan_approve_claim_attempts_handoff_gate_and_stats(team: tuple[Actor, Actor, Actor]) -> None:
    person, codex, claude = team
    start = git(person.path, "rev-parse", "HEAD")

    # an agent's plan lands as proposed, in one commit
    (codex.path / "plan.yaml").write_text(PLAN)
    names = codex.json("import", "plan.yaml")["tasks"]
    model, store, report = names["model"], names["store"], names["report"]
    assert git(codex.path, "rev-list", "--count", "origin/main..HEAD") == "1"
    codex.push()
    assert codex.json("ready") == [] and codex.json("next") is None

    # the person approves it for agents
    person.pull()
    assert {t["id"] for t in person.json("triage")} == {model, store, report}
    person("approve", model, store, report, "--lane", "autonomous")
    person.push()

    # codex claims the model; the first attempt fails on tests, the retry succeeds
    codex.pull()
    assert codex.json("next", "--claim", "--push")["task"]["id"] == model
    codex("attempt", "start", model)
    codex("attempt", "end", model, "--outcome", "failed", "--reason", "test_fail", "--tokens", "1200", "--cost", "0.5")
    codex("attempt", "start", model)
    codex.commit_work("model.py", model)
    codex("attempt", "end", model, "--outcome", "success", "--tokens", "800", "--cost", "0.25")
    assert [t["id"] for t in codex.json("done", model, "--push")["now_ready"]] == [store]

    # claude takes the store, finds a missing decision and hands off
    claude.pull()
    assert claude.json("next", "--claim", "--push")["task"]["id"] == store
    claude("attempt", "start", store)
    claude("attempt", "end", store, "--outcome", "abandoned", "--reason", "other", "--tokens", "300")
    handed = claude.json("handoff", store, "--needs", "Choose the file layout", "--push")
    layout = handed["prerequisite"]["id"]
    assert handed["prerequisite"]["status"] == "proposed"
    assert claude.json("next") is None  # the prerequisite waits for a person

    person.pull()
    person("approve", layout)
    person.push()

    claude.pull()
    assert claude.json("next", "--claim", "--push")["task"]["id"] == layout
    claude("attempt", "start", layout)
    claude.commit_work("layout.md", layout)
    claude("attempt", "end", layout, "--outcome", "success", "--tokens", "400", "--cost", "0.1")
    assert [t["id"] for t in claude.json("done", layout, "--push")["now_ready"]] == [store]
    assert claude.json("next", "--claim", "--push")["task"]["id"] == store
    claude("attempt", "start", store)
    claude.commit_work("store.py", store)
    claude("attempt", "end", store, "--outcome", "success", "--tokens", "600", "--cost", "0.2")
    claude("done", store, "--push")

    # the report (milestone m2) waits for m1's gate: it fails, then passes
    person.pull()
    assert person.json("ready") == []
    failed = person("gate", "run", "m1", code=1)
    assert "running the gate" in failed.stdout
    person.push()
    codex.pull()
    assert codex.json("next") is None
    (person.path / "gate-ok").write_text("ok\n")
    git(person.path, "add", "gate-ok")
    git(person.path, "commit", "-q", "-m", "Make the gate pass")
    person("gate", "run", "m1")
    person.push()

    codex.pull()
    assert codex.json("next", "--claim", "--push")["task"]["id"] == report
    codex("attempt", "start", report)
    codex.commit_work("report.py", report)
    codex("attempt", "end", report, "--outcome", "success", "--tokens", "500", "--cost", "0.05")
    codex("done", report, "--push")

    # stats report exactly these attempts
    person.pull()
    stats = person.json("stats")
    totals = stats["totals"]
    assert (totals["attempts"], totals["successes"], totals["failed"], totals["abandoned"]) == (6, 4, 1, 1)
    assert totals["tokens"] == 1200 + 800 + 300 + 400 + 600 + 500
    assert totals["cost"] == pytest.approx(0.5 + 0.25 + 0.1 + 0.2 + 0.05)
    assert stats["failures_by_reason"] == {"test_fail": 1, "other": 1}
    agents = {row["agent"]: row for row in stats["agents"]}
    assert (agents["codex"]["attempts"], agents["codex"]["successes"]) == (3, 2)
    assert (agents["claude"]["attempts"], agents["claude"]["successes"]) == (3, 2)
    retried = {row["task"]: row["attempts"] for row in stats["retried_most"]}
    assert retried == {model: 2, store: 2}

    # the history explains it all
    actions = [event["action"] for event in person.json("events", "--since", start)]
    for action in ("import", "approve", "claim", "attempt", "closes", "done", "handoff", "gate"):
        assert action in actions
    gates = [e["result"] for e in person.json("events", "--since", start) if e["action"] == "gate"]
    assert gates == ["failed", "passed"]
    assert all(task["status"] == "done" for task in person.json("list"))
    assert git(person.path, "ls-remote", "origin", "refs/gtask/claims/*") == ""
