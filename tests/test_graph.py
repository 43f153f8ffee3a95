"""The dependency graph: random graphs against brute force and networkx, and the planning commands."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import Cli, task_text, write_task
from gtask.core.graph import TaskGraph
from gtask.core.model import STATUSES, Task

PLAIN_STATUSES = [s for s in STATUSES if s != "in_progress"]


@st.composite
def random_tasks(draw: st.DrawFn, allow_cycles: bool = False) -> list[Task]:
    count = draw(st.integers(1, 12))
    ids = [f"t{i}" for i in range(count)]
    tasks = []
    for i, task_id in enumerate(ids):
        pool = ids if allow_cycles else ids[:i]
        deps = draw(st.lists(st.sampled_from(pool), unique=True, max_size=3)) if pool else []
        if draw(st.booleans()) and draw(st.booleans()):
            deps.append("other:x")
        tasks.append(Task(id=task_id, title=task_id, status=draw(st.sampled_from(PLAIN_STATUSES)),
                          project="p", priority=draw(st.integers(0, 4)), depends_on=deps))
    return tasks


def brute_force_ready(tasks: list[Task]) -> set[str]:
    by_id = {t.id: t for t in tasks}
    return {
        t.id for t in tasks
        if t.status == "todo" and all(d in by_id and by_id[d].status in ("done", "canceled") for d in t.depends_on)
    }


@settings(max_examples=200)
@given(random_tasks())
def test_ready_equals_the_brute_force_definition(tasks: list[Task]) -> None:
    graph = TaskGraph(tasks)
    assert {n[1] for n in graph.ready()} == brute_force_ready(tasks)


@settings(max_examples=200)
@given(random_tasks())
def test_order_respects_every_edge(tasks: list[Task]) -> None:
    graph = TaskGraph(tasks)
    waves, critical = graph.order()
    wave_of = {node: i for i, wave in enumerate(waves) for node in wave}
    open_ids = {("p", t.id) for t in tasks if t.status not in ("done", "canceled")}
    assert set(wave_of) == open_ids
    for dep, task in graph.g.edges:
        if dep in wave_of and task in wave_of:
            assert wave_of[dep] < wave_of[task]
    for earlier, later in zip(critical, critical[1:]):
        assert graph.g.has_edge(earlier, later)


@settings(max_examples=200)
@given(random_tasks(allow_cycles=True))
def test_cycles_are_found_exactly_when_networkx_finds_one(tasks: list[Task]) -> None:
    graph = TaskGraph(tasks)
    reference = nx.DiGraph()
    reference.add_nodes_from(t.id for t in tasks)
    reference.add_edges_from((d, t.id) for t in tasks for d in t.depends_on if not d.startswith("other:"))
    has_cycle = not nx.is_directed_acyclic_graph(reference)
    assert bool(graph.cycles()) == has_cycle
    for cycle in graph.cycles():
        assert cycle[0] == cycle[-1]
        for task, dep in zip(cycle, cycle[1:]):  # each depends on the next
            assert graph.g.has_edge(dep, task)


def test_canceled_dependency_releases_and_external_blocks() -> None:
    tasks = [Task("a", "A", "canceled", project="p"), Task("b", "B", "todo", project="p", depends_on=["a"]),
             Task("c", "C", "todo", project="p", depends_on=["q:x"])]
    graph = TaskGraph(tasks)
    assert graph.state(("p", "b")) == "ready"
    assert graph.state(("p", "c")) == "waiting"
    assert graph.state(("q", "x")) == "external"


def test_next_ranks_priority_then_unblocking(cli: Cli, repo: Path) -> None:
    write_task(repo, "low", task_text("Low", priority="3"))
    write_task(repo, "hub", task_text("Hub", priority="2"))
    write_task(repo, "leaf", task_text("Leaf", priority="2"))
    for i in range(3):
        write_task(repo, f"after-hub-{i}", task_text("After", depends_on="[hub]"))
    write_task(repo, "idea", task_text("Idea", "proposed", priority="0"))
    result = json.loads(cli("next", "--json").stdout)
    assert result["id"] == "hub" and result["score"]["unblocks_total"] == 3
    assert [t["id"] for t in json.loads(cli("ready", "--json").stdout)] == ["hub", "leaf", "low"]
    explained = cli("next", "--explain").stdout
    assert "unblocks 3 task(s) directly, 3 in all" in explained


def test_next_filters_and_nothing_ready(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A", lane="autonomous", labels="[api]"))
    write_task(repo, "b", task_text("B", lane="decision"))
    assert json.loads(cli("next", "--json", "--lane", "decision").stdout)["id"] == "b"
    assert json.loads(cli("next", "--json", "--label", "api").stdout)["id"] == "a"
    result = cli("next", "--json", "--milestone", "none")
    assert result.exit_code == 0 and json.loads(result.stdout) is None


def test_blocked_lists_nearest_first(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A"))
    write_task(repo, "b", task_text("B", depends_on="[a]"))
    write_task(repo, "c", task_text("C", depends_on="[b, x:y]"))
    entries = {e["id"]: e["waits_on"] for e in json.loads(cli("blocked", "--json").stdout)}
    assert [(w["ref"], w["distance"]) for w in entries["c"]] == [("b", 1), ("x:y", 1), ("a", 2)]


def test_order_waves_and_critical_path(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A"))
    write_task(repo, "b", task_text("B", depends_on="[a]"))
    write_task(repo, "c", task_text("C", depends_on="[a]"))
    write_task(repo, "d", task_text("D", depends_on="[b, c]"))
    write_task(repo, "e", task_text("E", "done"))
    result = json.loads(cli("order", "--json").stdout)
    assert [[t["ref"] for t in wave] for wave in result["waves"]] == [["a"], ["b", "c"], ["d"]]
    assert result["critical_path"][0] == "a" and result["critical_path"][-1] == "d"


def test_order_with_a_cycle_is_a_conflict(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A", depends_on="[b]"))
    write_task(repo, "b", task_text("B", depends_on="[a]"))
    result = cli("order")
    assert result.exit_code == 3 and "a -> b -> a" in result.stderr


def test_new_refuses_a_dependency_cycle_through_itself(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A"))
    assert cli("new", "B", "--id", "b", "--depends-on", "a").exit_code == 0
    assert cli("set", "a", "depends_on+=b").exit_code == 3


def test_graph_formats(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A", "done"))
    write_task(repo, "b", task_text('B "quoted" <b>', depends_on="[a, ext:z]"))
    write_task(repo, "c", task_text("C"))
    mermaid = cli("graph").stdout
    assert mermaid.startswith("flowchart LR\n") and "-->" in mermaid and "#quot;" in mermaid
    assert ":::s_done" in mermaid and ":::s_external" in mermaid
    dot = cli("graph", "--format", "dot").stdout
    assert dot.startswith("digraph tasks {") and '"a" -> "b";' in dot and '"ext:z" -> "b";' in dot
    data = json.loads(cli("graph", "--format", "json").stdout)
    assert {"from": "a", "to": "b"} in data["edges"]
    part = json.loads(cli("graph", "--json", "--root", "a").stdout)
    assert {n["ref"] for n in part["nodes"]} == {"a", "b"}
    only = json.loads(cli("graph", "--json", "--ids", "c").stdout)
    assert [n["ref"] for n in only["nodes"]] == ["c"] and only["edges"] == []
    assert cli("graph", "--root", "nope").exit_code == 4


def test_show_dependents_and_states_on_the_example(capsys) -> None:
    from gtask.cli.main import run

    example = Path(__file__).resolve().parent.parent / ".tasks-example"
    assert run(["-C", str(example), "show", "api-auth-check", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["state"] == "ready"
    assert {d["id"] for d in shown["dependents"]} == {"admin-product-editor", "audit-log"}
