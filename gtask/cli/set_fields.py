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
    from gtask.core.assignments import parse_assignments
    from gtask.errors import UsageError
    from gtask.protocol.session import set_task

    store = open_store(ctx)
    lane = parse_assignments([a for a in assignments if a.split("=", 1)[0].strip() == "lane"], {}).get("lane")
    if isinstance(lane, str) and lane not in store.config.lanes:
        raise UsageError(f"lane {lane!r} is not one of the configured lanes: {', '.join(store.config.lanes)}")
    task = set_task(store, task_id, list(assignments), commit=commit)
    render.out(task.id)
