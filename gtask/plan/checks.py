"""`gtask check`: every file, then the graph: dangling references, cycles, lanes, leases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from gtask.core.graph import Node, TaskGraph
from gtask.core.ids import Ref
from gtask.core.model import Task, now_utc
from gtask.errors import GtaskError, Problem
from gtask.store.store import Store

if TYPE_CHECKING:
    from gtask.plan.workspace import Workspace


def check_store(store: Store) -> list[Problem]:
    """Return every problem of the store: file errors and warnings, then graph rules."""
    loaded = store.load()
    graph = TaskGraph(loaded.tasks.values())
    files = {store.project: {i.lower() for i in store.ids()}}
    return list(loaded.problems) + graph_problems(graph, files, {store.project: set(store.config.lanes)}, store.project)


def check_files(paths: list[Path], use_cache: bool = True) -> tuple[list[Problem], int]:
    """Only these files (for pre-commit): each parses and validates, its local dependencies exist, its lane is
    configured. Cycles need the whole graph: `check` without --files finds them. Returns problems and files checked.
    With `use_cache` False (--no-cache), no cache is read or written."""
    found: list[Problem] = []
    stores: dict[Path, Store] = {}
    checked = 0
    for path in paths:
        if not path.exists():
            continue  # deleted in this change: nothing to validate
        try:
            folder = path.resolve().parent
            store = stores.get(folder) or stores.setdefault(folder, Store.open(folder, use_cache=use_cache))
            if path.name == "config.yaml":
                _ = store.config  # reading it validates it
            elif path.suffix != ".md" or path.name.startswith("."):
                found.append(Problem("error", "not a task file (expected .tasks/<id>.md or config.yaml)", str(path)))
                continue
            else:
                found += _file_problems(store, path.stem)
        except GtaskError as exc:
            found.append(Problem("error", exc.message, exc.path or str(path), exc.line))
        checked += 1
    return found, checked


def _file_problems(store: Store, task_id: str) -> list[Problem]:
    task, problems = store.check_file(task_id)
    if task is None:
        return problems
    for text in task.depends_on:
        ref = Ref.parse(text)
        if ref.is_local(store.project) and not store.same_id(ref.id):
            problems.append(Problem("error", f"depends on {text!r}, which does not exist", task.path,
                                    task.line_of("depends_on")))
    if task.lane and task.lane not in store.config.lanes:
        problems.append(Problem("error", f"lane {task.lane!r} is not one of the configured lanes: "
                                f"{', '.join(store.config.lanes)}", task.path, task.line_of("lane")))
    return problems


def check_workspace(workspace: Workspace) -> list[Problem]:
    """Every repository's problems, then the rules of the one graph across them."""
    graph = TaskGraph(workspace.tasks)
    repos = [r for r in workspace.repos if r.error is None]  # each has its project
    files = {cast(str, r.project): {t.id.lower() for t in r.tasks} | {(p.path or "").rsplit("/", 1)[-1][:-3].lower()
                                                                    for p in r.problems} for r in repos}
    prefix = {r.project: f"{r.path}/" for r in repos}
    return workspace.problems + workspace.repo_errors() + graph_problems(
        graph, files, {}, None, where=lambda node, task: prefix.get(node[0], "") + task.path)


def graph_problems(graph: TaskGraph, files: dict[str, set[str]], lanes: dict[str, set[str]],
                   home: str | None, where: Callable[[Node, Task], str] | None = None) -> list[Problem]:
    """Dangling references, canceled dependencies, unknown lanes, passed leases, cycles."""
    found = []
    now = now_utc()
    for node in sorted(graph.tasks):
        task = graph.tasks[node]
        path = where(node, task) if where else task.path
        line = task.line_of("depends_on")
        for text in task.depends_on:
            dep = graph.resolve(node[0], text)
            if graph.placeholders.get(dep) == "missing":
                why = "whose file has errors" if Ref.parse(text).id.lower() in files.get(dep[0], set()) \
                    else "which does not exist"
                found.append(Problem("error", f"depends on {text!r}, {why}", path, line))
            elif graph.state(dep) == "canceled":
                found.append(Problem("warning", f"depends on {text!r}, which is canceled", path, line))
        allowed = lanes.get(node[0])
        if task.lane and allowed and task.lane not in allowed:
            found.append(Problem("error", f"lane {task.lane!r} is not one of the configured lanes: "
                                 f"{', '.join(sorted(allowed))}", path, task.line_of("lane")))
        if task.status == "in_progress" and task.claimed_by and task.lease_expired(now):
            found.append(Problem("warning", f"the lease of {task.claimed_by} passed at {task.lease_until}; "
                                 "the task may be taken over", path, task.line_of("lease_until")))
    found += parent_problems(graph, home, where)
    for cycle in graph.cycles():
        first = graph.tasks.get(cycle[0])
        chain = " -> ".join(graph.label(n, home) for n in cycle)
        location = (where(cycle[0], first) if where else first.path) if first else None
        found.append(Problem("error", f"dependency cycle: {chain}", location,
                             first.line_of("depends_on") if first else None))
    return found


def parent_nodes(graph: TaskGraph) -> dict[Node, Node | None]:
    """Each task's parent node (None without one; a parent that is not a task of the graph stays as written)."""
    by_lower = {(node[0], node[1].lower()): node for node in graph.tasks}
    parents: dict[Node, Node | None] = {}
    for node, task in graph.tasks.items():
        if task.parent is None:
            parents[node] = None
            continue
        ref = Ref.parse(task.parent)
        target = (ref.project or node[0], ref.id)
        parents[node] = by_lower.get((target[0], target[1].lower()), target)
    return parents


def parent_problems(graph: TaskGraph, home: str | None,
                    where: Callable[[Node, Task], str] | None = None) -> list[Problem]:
    """A local parent that does not exist and parent cycles are errors; a parent whose children are all finished
    while it is not, a warning."""
    found = []
    parents = parent_nodes(graph)
    children: dict[Node, list[Node]] = {}
    for node, parent in parents.items():
        task = graph.tasks[node]
        if parent is None:
            continue
        if parent in graph.tasks:
            children.setdefault(parent, []).append(node)
        elif parent[0] in graph.projects:
            path = where(node, task) if where else task.path
            found.append(Problem("error", f"parent {task.parent!r} does not exist", path, task.line_of("parent")))
    reported: set[Node] = set()
    for start in sorted(parents):
        seen: list[Node] = []
        step: Node | None = start
        while step is not None and step in graph.tasks and step not in seen and step not in reported:
            seen.append(step)
            step = parents.get(step)
        if step is not None and step in seen:  # walked back onto this walk: a cycle
            loop = seen[seen.index(step):]
            reported.update(loop)
            first = min(loop)
            task = graph.tasks[first]
            at = loop.index(first)
            chain = " -> ".join(graph.label(n, home) for n in [*loop[at:], *loop[:at], first])
            found.append(Problem("error", f"parent cycle: {chain}", where(first, task) if where else task.path,
                                 task.line_of("parent")))
        reported.update(seen)
    for parent, kids in sorted(children.items()):
        task = graph.tasks[parent]
        if not task.is_finished and all(graph.tasks[k].is_finished for k in kids):
            found.append(Problem("warning", f"all {len(kids)} children are finished; the parent is still "
                                 f"{task.status}", where(parent, task) if where else task.path,
                                 task.line_of("status")))
    return found
