"""The JSON objects that more than one client prints: built once, for the CLI's --json and the MCP server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gtask.core.ids import Ref
from gtask.core.model import Task
from gtask.errors import InvalidTask, NotFound
from gtask.store.store import Store

if TYPE_CHECKING:
    from gtask.core.graph import Score


@dataclass
class Detail:
    """One task with its derived state, its dependencies and its dependents (what `show` prints)."""

    task: Task
    state: str
    dependencies: list[dict[str, Any]]
    dependents: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {**self.task.to_json(self.state), "body": self.task.body, "dependencies": self.dependencies,
                "dependents": self.dependents}


def detail(store: Store, task_id: str) -> Detail:
    """Read one task, its local dependencies and its dependents (only the files needed)."""
    task = store.get(task_id)
    deps = []
    for text in task.depends_on:
        ref = Ref.parse(text)
        entry = {"ref": text, "title": None, "status": None, "state": "external"}
        if ref.is_local(store.project):
            try:
                dep = store.get(ref.id)
                entry.update(id=dep.id, title=dep.title, status=dep.status, state=store.state_of(dep))
            except NotFound:
                entry["state"] = "missing"
            except InvalidTask:
                entry["state"] = "invalid"
        deps.append(entry)
    dependents = [
        {"ref": d.id, "id": d.id, "title": d.title, "status": d.status, "state": store.state_of(d)}
        for d in store.dependents_of(task.id)
    ]
    return Detail(task, store.state_of(task), deps, dependents)


def next_json(ranked: list[tuple[Task, Score]]) -> dict[str, Any] | None:
    """What `next --json` prints: the best ready task with its score and the runners-up; None when none."""
    if not ranked:
        return None
    task, score = ranked[0]
    return {**task.to_json("ready"), "score": score.to_json(), "runners_up": [t.id for t, _ in ranked[1:4]]}
