"""A fleet that sees itself does not collide: ties are matched to the agents holding claims; leases come first."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, git, run_process, task_text, write_task

from gtask.plan.planning import Plan, spread
from gtask.store.store import Store

AGENTS = [f"agent-{n}" for n in range(8)]


def _ties(repo: Path, count: int, urgent: bool = False) -> None:
    if urgent:
        write_task(repo, "urgent", task_text("Urgent", priority="0"))
    for n in range(count):
        write_task(repo, f"tie-{n}", task_text(f"Tie {n}", priority="1"))
    git(repo, "add", ".tasks")
    git(repo, "commit", "-q", "-m", "plan")


def test_agents_that_see_the_same_fleet_take_different_ties(repo: Path) -> None:
    _ties(repo, 8)
    ranked = Plan.of(Store.open(repo)).ranked_ready()
    picks = [spread(ranked, agent, AGENTS)[0][0].id for agent in AGENTS]
    assert len(set(picks)) == 8  # a matching: one task each, no two agents reach for the same one
    assert [spread(ranked, agent, AGENTS)[0][0].id for agent in AGENTS] == picks  # stable


def test_with_more_agents_than_ties_each_still_takes_a_tie(repo: Path) -> None:
    _ties(repo, 3)
    write_task(repo, "later", task_text("Later", priority="3"))
    git(repo, "add", ".tasks")
    git(repo, "commit", "-q", "-m", "later")
    ranked = Plan.of(Store.open(repo)).ranked_ready()
    for agent in AGENTS:
        assert spread(ranked, agent, AGENTS)[0][0].id.startswith("tie-")  # never the worse task first


def test_a_better_task_goes_first_whatever_the_fleet(repo: Path) -> None:
    _ties(repo, 8, urgent=True)
    ranked = Plan.of(Store.open(repo)).ranked_ready()
    assert all(spread(ranked, agent, AGENTS)[0][0].id == "urgent" for agent in AGENTS)
    assert spread(ranked, None, AGENTS)[0][0].id == "urgent"  # a person: the plain order


def test_next_matches_against_the_agents_holding_claims(cli: Cli, repo: Path) -> None:
    """`next` and `next --explain` see the fleet from the claims in git, as `next --claim` does."""
    _ties(repo, 10)
    for n, agent in enumerate(AGENTS[:3]):  # three agents hold claims on their own branches
        git(repo, "switch", "-q", "-c", f"agent/{n}", "main")
        assert cli("claim", f"tie-{7 + n}", "--agent", agent).exit_code == 0
    git(repo, "switch", "-q", "main")
    ranked = Plan.of(Store.open(repo)).ranked_ready()
    fleet = [*AGENTS[:3], "agent-9"]
    expected = {agent: spread(ranked, agent, fleet)[0][0].id for agent in fleet}
    for agent in fleet:
        assert json.loads(cli("next", "--agent", agent, "--json").stdout)["id"] == expected[agent]
    assert len(set(expected.values())) == 4


def test_next_claim_push_fetches_the_leases_before_it_chooses(tmp_path: Path) -> None:
    """A clone that never synced does not reach for tasks the fleet already took: no claim is taken back."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    clones = []
    for name in ("a", "b"):
        path = tmp_path / name
        git(tmp_path, "clone", "-q", str(remote), str(path))
        clones.append(path)
    seed, late = clones
    (seed / ".tasks").mkdir()
    (seed / ".tasks" / "config.yaml").write_text("project: demo\n")
    for n in range(3):
        write_task(seed, f"t{n}", task_text(f"Task {n}", priority="1"))
    git(seed, "add", ".tasks")
    git(seed, "commit", "-q", "-m", "plan")
    git(seed, "push", "-q", "origin", "main")
    git(late, "pull", "-q")
    for path in clones:
        git(path, "switch", "-q", "-c", f"agent/{path.name}")
    preferred = [task.id for task, _ in spread(Plan.of(Store.open(late)).ranked_ready(), "b")][:2]
    for task_id in preferred:  # a takes b's two favourites
        assert run_process(seed, "claim", task_id, "--push", "--agent", "a").returncode == 0
    proc = run_process(late, "next", "--claim", "--push", "--agent", "b", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["task"]["id"] == ({"t0", "t1", "t2"} - set(preferred)).pop()
    assert "lost the race" not in proc.stderr
    reflog = git(late, "reflog", "--format=%gs").splitlines()
    assert sum(line.startswith("gtask: claim ") for line in reflog) == 1  # no refused claim taken back
    done = run_process(late, "next", "--claim", "--push", "--agent", "b", "--json")
    assert done.returncode == 0 and json.loads(done.stdout) is None  # all taken: nothing is ready
