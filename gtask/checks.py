"""`gtask check`: every file, then the graph: dangling references, cycles, lanes, leases."""

from __future__ import annotations

from .errors import Problem
from .graph import TaskGraph
from .ids import Ref
from .model import now_utc
from .store import Store


def check_store(store: Store) -> list[Problem]:
    """Return every problem of the store: file errors and warnings, then graph rules."""
    loaded = store.load()
    found = list(loaded.problems)
    graph = TaskGraph(loaded.tasks.values())
    project = store.project
    file_ids = {i.lower() for i in store.ids()}
    lanes = set(store.config.lanes)
    now = now_utc()
    for task in sorted(loaded.tasks.values(), key=lambda t: t.id):
        line = task.line_of("depends_on")
        for text in task.depends_on:
            node = graph.resolve(project, text)
            ref = Ref.parse(text)
            if graph.g.nodes[node].get("missing"):
                why = "whose file has errors" if ref.id.lower() in file_ids else "which does not exist"
                found.append(Problem("error", f"depends on {text!r}, {why}", task.path, line))
            elif graph.state(node) == "canceled":
                found.append(Problem("warning", f"depends on {text!r}, which is canceled", task.path, line))
        if task.lane and lanes and task.lane not in lanes:
            found.append(Problem("error", f"lane {task.lane!r} is not one of the configured lanes: {', '.join(sorted(lanes))}",
                                 task.path, task.line_of("lane")))
        if task.status == "in_progress" and task.claimed_by and task.lease_expired(now):
            found.append(Problem("warning", f"the lease of {task.claimed_by} passed at {task.lease_until}; the task may be taken over",
                                 task.path, task.line_of("lease_until")))
    for cycle in graph.cycles():
        first = graph.tasks.get(cycle[0])
        path = " -> ".join(graph.label(n, project) for n in cycle)
        found.append(Problem("error", f"dependency cycle: {path}", first.path if first else None,
                             first.line_of("depends_on") if first else None))
    return found
