"""`gtask show`."""

from __future__ import annotations

import click

from gtask.cli.options import complete_ids, json_option, open_store
from gtask.output import render, views


@click.command()
@click.argument("task_id", metavar="ID", shell_complete=complete_ids)
@json_option
@click.pass_context
def show(ctx: click.Context, task_id: str, as_json: bool) -> None:
    """Show one task with its derived state, dependencies and dependents."""
    detail = views.detail(open_store(ctx), task_id)
    if as_json:
        render.emit_json(detail.to_json())
        return
    render.task_detail(detail.task, detail.state, detail.dependencies, detail.dependents, detail.children)
