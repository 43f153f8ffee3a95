"""`gtask view`: every repository's tasks in one view, grouped by state, with what blocks what."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gtask.core.graph import Node, TaskGraph
from gtask.plan.workspace import Repo, Workspace

STATE_ORDER = ("claimed", "stale", "in_progress", "ready", "waiting", "blocked", "proposed", "done", "canceled")


@dataclass
class RepoView:
    repo: Repo
    by_state: dict[str, list[Node]] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {state: len(nodes) for state, nodes in self.by_state.items()}


@dataclass
class Overview:
    graph: TaskGraph
    repos: list[RepoView]
    across: list[tuple[Node, Node]]  # (waiting task, unfinished dependency in another repository)


def build(workspace: Workspace) -> Overview:
    """Group every task by repository and state; list dependencies that cross repositories."""
    graph = TaskGraph(workspace.tasks)
    views = []
    for repo in workspace.repos:
        view = RepoView(repo)
        for task in sorted(repo.tasks, key=lambda t: (t.priority, t.id)) if repo.error is None else []:
            node = (task.project, task.id)
            view.by_state.setdefault(graph.state(node), []).append(node)
        view.by_state = {s: view.by_state[s] for s in sorted(view.by_state, key=_state_rank)}
        views.append(view)
    across = sorted(
        (node, dep) for node in graph.tasks for dep in graph.dependencies(node)
        if dep[0] != node[0] and not graph.is_finished(dep) and not graph.is_finished(node)
    )
    return Overview(graph, views, across)


def _state_rank(state: str) -> int:
    return STATE_ORDER.index(state) if state in STATE_ORDER else len(STATE_ORDER)


def to_json(overview: Overview) -> dict[str, Any]:
    graph = overview.graph
    repos = []
    for view in overview.repos:
        tasks = [graph.tasks[n].to_json(state) for state, nodes in view.by_state.items() for n in nodes]
        repos.append({**view.repo.to_json(), "counts": view.counts, "tasks": tasks})
    return {
        "repos": repos,
        "across": [{"task": f"{n[0]}:{n[1]}", "waits_on": f"{d[0]}:{d[1]}", "state": graph.state(d)}
                   for n, d in overview.across],
    }
