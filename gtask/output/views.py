"""The JSON objects that more than one client prints: built once, for the CLI's --json and the MCP server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gtask.core.ids import Ref
from gtask.core.model import Task
from gtask.errors import InvalidTask, NotFound
from gtask.store.store import Store

if TYPE_CHECKING:
    from gtask.core.graph import Score


class Detail:
    """One task with its derived state, its dependencies and its dependents (what `show` prints)."""

    def __init__(self, task: Task, state: str, dependencies: list[dict[str, Any]], dependents: list[dict[str, Any]],
                 children: list[dict[str, Any]] | None = None) -> None:
        self.task, self.state, self.dependencies, self.dependents = task, state, dependencies, dependents
        self.children = children if children is not None else []  # tasks whose `parent` is this one

    def to_json(self) -> dict[str, Any]:
        return {**self.task.to_json(self.state), "body": self.task.body, "dependencies": self.dependencies,
                "dependents": self.dependents, "children": self.children}


def detail(store: Store, task_id: str) -> Detail:
    """Read one task, its local dependencies and its dependents (only the files needed), states by the resolver."""
    from gtask.gitstate import resolver

    store.generation()  # lists the folder once, as the snapshot knows it, for every lookup below
    task = store.get(task_id)
    found: list[tuple[str, Task | str]] = []  # each dependency: its task, or "missing" / "invalid" / "external"
    for text in task.depends_on:
        ref = Ref.parse(text)
        if not ref.is_local(store.project):
            found.append((text, "external"))
            continue
        try:
            found.append((text, store.get(ref.id)))
        except NotFound:
            found.append((text, "missing"))
        except InvalidTask:
            found.append((text, "invalid"))
    dependents = store.dependents_of(task.id)
    read = [task, *dependents, *(t for _, t in found if isinstance(t, Task))]
    git = resolver.repository(store) if resolver.can_add_evidence(store) else None
    evidence = resolver.gather(store, git, {t.id: t for t in read})

    def state_of(one: Task) -> str:
        return resolver.state_of(store, one, evidence)

    deps: list[dict[str, Any]] = []
    for text, dep in found:
        if isinstance(dep, Task):
            deps.append({"ref": text, "title": dep.title, "status": dep.status, "state": state_of(dep), "id": dep.id})
        else:
            deps.append({"ref": text, "title": None, "status": None, "state": dep})
    rows = [{"ref": d.id, "id": d.id, "title": d.title, "status": d.status, "state": state_of(d)} for d in dependents]
    return Detail(task, state_of(task), deps, rows, children_of(store, task))


def children_of(store: Store, task: Task) -> list[dict[str, Any]]:
    """The tasks whose `parent` names `task` in this repository, by ID."""
    return [{"id": child.id, "title": child.title, "status": child.status}
            for child in sorted(store.children_of(task.id), key=lambda child: child.id)]


def next_json(ranked: list[tuple[Task, Score]]) -> dict[str, Any] | None:
    """What `next --json` prints: the best ready task with its score and the runners-up; None when none."""
    if not ranked:
        return None
    task, score = ranked[0]
    return {**task.to_json("ready"), "score": score.to_json(), "runners_up": [t.id for t, _ in ranked[1:4]]}
