"""`view` and the board tell the resolver's truth (issue 14): a task taken elsewhere is `claimed`, as `list` says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import git, make_repo, run_process, task_text
from test_fleet import clone, make_remote

from gtask.output import board
from gtask.plan import overview, workspace


def gt(cwd: Path, *args: str) -> str:
    done = run_process(cwd, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def listed(clone_path: Path) -> dict[str, str]:
    return {t["id"]: t["state"] for t in json.loads(gt(clone_path, "list", "--json"))}


def viewed(cwd: Path, *args: str) -> dict[str, str]:
    data = json.loads(gt(cwd, "view", *args, "--json"))
    return {f"{t['project']}:{t['id']}": t["state"] for repo in data["repos"] for t in repo["tasks"]}


def board_states(paths: list[Path], worktree: bool = False) -> dict[str, str]:
    """The board's data: the state each task is filed under, and the cell its card is drawn in."""
    result = overview.build(workspace.load(paths, worktree))
    states = {f"{p}:{t}": state for view in result.repos for state, nodes in view.by_state.items() for p, t in nodes}
    page = board.render(result)
    for ref, state in states.items():
        task_id = ref.split(":")[1]
        cell = re.search(rf'data-state="([^"]+)">(?:(?!data-state=).)*<code class="id">{task_id}</code>', page, re.S)
        assert cell is not None and cell.group(1) == state, ref
    return states


@pytest.fixture
def synced(tmp_path: Path) -> tuple[Path, Path]:
    """A person's clone that has synced: `one` held by a lease ref only, `two` by a claim on a pushed branch."""
    remote = make_remote(tmp_path, {"one": [], "two": [], "three": ["one"], "four": []})
    a, b = clone(tmp_path, remote, "a"), clone(tmp_path, remote, "b")
    for path, name in ((a, "a"), (b, "b")):
        git(path, "switch", "-q", "-c", f"agent/{name}")
    gt(a, "claim", "one", "--push", "--agent", "alice")
    git(a, "push", "-q", "origin", "--delete", "agent/a")  # the lease ref alone holds it
    gt(b, "claim", "two", "--agent", "bob")
    git(b, "push", "-q", "origin", "agent/b")  # a claim on a pushed branch, no lease ref
    person = clone(tmp_path, remote, "person")
    gt(person, "sync")
    other = make_repo(tmp_path, "other", {"x": task_text("Needs one", depends_on="[fleet:one]")})
    return person, other


def test_view_json_and_text_say_claimed_as_list_does(synced: tuple[Path, Path]) -> None:
    person, other = synced
    truth = listed(person)
    assert truth == {"one": "claimed", "two": "claimed", "three": "waiting", "four": "ready"}
    for mode in ((), ("--worktree",)):
        states = viewed(person, str(person), str(other), *mode)
        assert {k[len("fleet:"):]: v for k, v in states.items() if k.startswith("fleet:")} == truth
        assert states["other:x"] == "waiting"
    text = gt(person, "view", str(person), str(other), "--all")
    assert re.search(r"claimed\s+one\b", text) and re.search(r"claimed\s+two\b", text)
    assert re.search(r"ready\s+four\b", text) and not re.search(r"ready\s+(one|two)\b", text)
    summary = gt(person, "view", str(person), str(other))
    ready_next = summary.split("READY NEXT", 1)[1].split("CLAIMS IN FLIGHT", 1)
    assert "fleet:four" in ready_next[0] and "fleet:one" not in ready_next[0] and "fleet:two" not in ready_next[0]
    assert "fleet:one" in ready_next[1] and "fleet:two" in ready_next[1]
    assert "[taken on lease@origin]" in ready_next[1] and "[taken on origin/agent/b]" in ready_next[1]
    across = json.loads(gt(person, "ready", "--repo", str(person), "--repo", str(other), "--json"))
    assert {(t["project"], t["id"]) for t in across} == {("fleet", "four")}  # the workspace plan agrees


def test_the_board_files_taken_tasks_under_claimed(synced: tuple[Path, Path]) -> None:
    person, other = synced
    for worktree in (False, True):
        states = board_states([person, other], worktree)
        assert {k: v for k, v in states.items() if k.startswith("fleet:")} == \
            {f"fleet:{k}": v for k, v in listed(person).items()}
    page = board.render(overview.build(workspace.load([person, other])))
    assert "taken on <b>lease@origin</b>" in page and "taken on <b>origin/agent/b</b>" in page


def test_a_warm_view_follows_the_refs_when_a_claim_is_released(synced: tuple[Path, Path], tmp_path: Path) -> None:
    person, other = synced
    assert viewed(person, str(person), str(other))["fleet:two"] == "claimed"  # remembered now
    b = tmp_path / "b"
    gt(b, "release", "two", "--agent", "bob")
    git(b, "push", "-q", "origin", "agent/b")
    gt(person, "sync")
    assert listed(person)["two"] == "ready"
    assert viewed(person, str(person), str(other))["fleet:two"] == "ready"
    assert viewed(person, str(person), str(other), "--worktree")["fleet:two"] == "ready"


@pytest.mark.parametrize("line", ["integration_branch: trunk", '"integration\\x5fbranch": trunk'])
def test_view_reads_the_configured_integration_branch(tmp_path: Path, line: str) -> None:
    path = make_repo(tmp_path, "svc", {"a": task_text("A")})
    git(path, "switch", "-q", "-c", "trunk")
    (path / ".tasks" / "a.md").write_text(task_text("A", "done"))
    git(path, "commit", "-q", "-am", "a is done on trunk")
    git(path, "switch", "-q", "main")
    (path / ".tasks" / "config.yaml").write_text(f"project: svc\n{line}\n")
    assert viewed(path, str(path)) == {"svc:a": "done"}  # trunk's, not main's `ready`


def test_view_sees_a_claim_on_the_checked_out_branch_as_list_does(tmp_path: Path) -> None:
    path = make_repo(tmp_path, "svc", {"a": task_text("A"), "b": task_text("B")})
    git(path, "switch", "-q", "-c", "agent/x")
    gt(path, "claim", "a", "--agent", "alice")  # committed on the checked-out branch, main still says todo
    truth = listed(path)
    assert truth == {"a": "claimed", "b": "ready"}
    for cache in ((), ("--no-cache",)):
        data = json.loads(gt(path, *cache, "view", str(path), "--json"))
        assert {t["id"]: t["state"] for t in data["repos"][0]["tasks"]} == truth
    summary = gt(path, "view", str(path))
    flight = summary.split("CLAIMS IN FLIGHT", 1)[1]
    assert "svc:a" in flight and "[taken on agent/x]" in flight
    git(path, "switch", "-q", "main")  # from the integration branch the claim is on another branch: the same
    assert viewed(path, str(path)) == {"svc:a": "claimed", "svc:b": "ready"}
