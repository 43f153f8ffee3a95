"""A fleet spreads over equally good tasks: each agent prefers a different tie; a better task still goes first."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, git, task_text, write_task


def _tasks(repo: Path, ties: int) -> None:
    write_task(repo, "urgent", task_text("Urgent", priority="0"))
    for n in range(ties):
        write_task(repo, f"tie-{n}", task_text(f"Tie {n}", priority="1"))
    git(repo, "add", ".tasks")
    git(repo, "commit", "-q", "-m", "plan")


def test_agents_pick_different_ties_and_a_person_the_plain_order(cli: Cli, repo: Path) -> None:
    _tasks(repo, 8)
    git(repo, "rm", "-q", ".tasks/urgent.md")
    git(repo, "commit", "-q", "-m", "no urgent task")
    picks = {json.loads(cli("next", "--agent", f"agent-{n}", "--json").stdout)["id"] for n in range(8)}
    assert len(picks) >= 4  # 8 agents over 8 ties: rendezvous hashing spreads them
    again = {json.loads(cli("next", "--agent", f"agent-{n}", "--json").stdout)["id"] for n in range(8)}
    assert again == picks  # stable per agent
    assert json.loads(cli("next", "--json").stdout)["id"] == "tie-0"  # a person: priority, unblocks, age, ID


def test_a_better_task_goes_first_for_every_agent(cli: Cli, repo: Path) -> None:
    _tasks(repo, 8)
    for n in range(8):
        assert json.loads(cli("next", "--agent", f"agent-{n}", "--json").stdout)["id"] == "urgent"
        assert "chosen by spreading" not in cli("next", "--agent", f"agent-{n}", "--explain").stdout


def test_explain_says_when_it_chose_by_spreading(cli: Cli, repo: Path) -> None:
    _tasks(repo, 8)
    git(repo, "rm", "-q", ".tasks/urgent.md")
    git(repo, "commit", "-q", "-m", "no urgent task")
    outputs = [cli("next", "--agent", f"agent-{n}", "--explain").stdout for n in range(8)]
    spread = [out for out in outputs if "chosen by spreading" in out]
    assert spread and all(not out.startswith("tie-0 ") for out in spread)
    assert all(out.startswith("tie-0 ") for out in outputs if out not in spread)


def test_claim_next_follows_the_agents_preference(cli: Cli, repo: Path) -> None:
    _tasks(repo, 8)
    git(repo, "rm", "-q", ".tasks/urgent.md")
    git(repo, "commit", "-q", "-m", "no urgent task")
    preferred = json.loads(cli("next", "--agent", "agent-3", "--json").stdout)["id"]
    claimed = cli("next", "--claim", "--agent", "agent-3", "--json")
    assert claimed.exit_code == 0, claimed.stderr
    assert json.loads(claimed.stdout)["task"]["id"] == preferred


def test_a_lost_race_refreshes_the_view_instead_of_trying_stale_tasks(tmp_path: Path) -> None:
    from conftest import run_process

    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    clones = []
    for name in ("a", "b"):
        path = tmp_path / name
        git(tmp_path, "clone", "-q", str(remote), str(path))
        clones.append(path)
    seed = clones[0]
    (seed / ".tasks").mkdir()
    (seed / ".tasks" / "config.yaml").write_text("project: demo\n")
    for n in range(3):
        write_task(seed, f"t{n}", task_text(f"Task {n}", priority="1"))
    git(seed, "add", ".tasks")
    git(seed, "commit", "-q", "-m", "plan")
    git(seed, "push", "-q", "origin", "main")
    git(clones[1], "pull", "-q")
    for path in clones:
        git(path, "switch", "-q", "-c", f"agent/{path.name}")
    # clone a takes every task but one, as "b" would choose them; b has not synced and still sees all three
    from gtask.plan.planning import Plan, spread
    from gtask.store.store import Store

    preferred = [task.id for task, _ in spread(Plan.of(Store.open(clones[1])).ranked_ready(), "b")][:2]
    assert preferred[0] == json.loads(run_process(clones[1], "next", "--agent", "b", "--json").stdout)["id"]
    for task_id in preferred:
        assert run_process(clones[0], "claim", task_id, "--push", "--agent", "a").returncode == 0
    proc = run_process(clones[1], "next", "--claim", "--push", "--tries", "2", "--agent", "b", "--json")
    assert proc.returncode == 0, proc.stderr  # b's two favourites are stale: one loss, a refresh, the one left
    left = ({"t0", "t1", "t2"} - set(preferred)).pop()
    assert json.loads(proc.stdout)["task"]["id"] == left
