"""`gtask show`."""

from __future__ import annotations

import click

from .. import render
from ..errors import InvalidTask, NotFound
from ..ids import Ref
from .common import complete_ids, json_option, open_store


@click.command()
@click.argument("task_id", metavar="ID", shell_complete=complete_ids)
@json_option
@click.pass_context
def show(ctx: click.Context, task_id: str, as_json: bool) -> None:
    """Show one task with its derived state, dependencies and dependents."""
    store = open_store(ctx)
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
    state = store.state_of(task)
    if as_json:
        render.emit_json({**task.to_json(state), "body": task.body, "dependencies": deps, "dependents": dependents})
        return
    render.task_detail(task, state, deps, dependents)
