"""The task graph of many repositories as a networkx DiGraph, for scripts and notebooks (the DAG as a library)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from gtask.core.graph import TaskGraph
from gtask.core.ids import Ref
from gtask.plan.workspace import load

if TYPE_CHECKING:
    import networkx as nx


def load_graph(paths: Iterable[str | Path], worktree: bool = False, use_cache: bool = True) -> nx.DiGraph:
    """Every task of these repositories as a node `project:id`, with an edge from each dependency to its dependent.

    Node attributes: title, status, state, priority, lane, labels, parent (`project:id`, or None). Repositories
    are read at their integration branch (`worktree=True`: the working files). A dependency that is not a task
    of these repositories is a node too, with `missing` (its project was read) or `external` set.
    """
    import networkx as nx

    workspace = load([Path(p) for p in paths], worktree=worktree, use_cache=use_cache)
    graph = TaskGraph(workspace.tasks)
    dag = nx.DiGraph()
    for node, task in graph.tasks.items():
        parent = None
        if task.parent:
            ref = Ref.parse(task.parent)
            parent = f"{ref.project or node[0]}:{ref.id}"
        dag.add_node(f"{node[0]}:{node[1]}", title=task.title, status=task.status, state=graph.state(node),
                     priority=task.priority, lane=task.lane, labels=list(task.labels), parent=parent)
    for node, deps in list(graph.pred.items()):
        for dep in deps:
            for end in (dep, node):
                key = f"{end[0]}:{end[1]}"
                if key not in dag:
                    kind = graph.placeholders.get(end)
                    dag.add_node(key, missing=kind == "missing", external=kind == "external")
            dag.add_edge(f"{dep[0]}:{dep[1]}", f"{node[0]}:{node[1]}")
    return dag
