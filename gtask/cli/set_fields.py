"""`gtask set`."""

from __future__ import annotations

import click

from gtask.cli.options import complete_ids, open_store
from gtask.output import render


@click.command("set")
@click.argument("task_id", metavar="ID", shell_complete=complete_ids)
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@click.option("--commit", is_flag=True, help="Commit the changed file (only that file) on the current branch.")
@click.pass_context
def set_fields(ctx: click.Context, task_id: str, assignments: tuple[str, ...], commit: bool) -> None:
    """Edit fields: KEY=VALUE, KEY= (remove), LIST+=ITEM, LIST-=ITEM.

    Lists take comma-separated values (depends_on=a,b) or YAML ([a, b]).
    Only the lines that change are rewritten.
    """
    from gtask.protocol.session import set_task

    task = set_task(open_store(ctx), task_id, list(assignments), commit=commit)
    render.out(task.id)
