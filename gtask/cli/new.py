"""`gtask new`."""

from __future__ import annotations

import click

from gtask.cli.options import open_store
from gtask.core.model import STATUSES
from gtask.output import render


@click.command()
@click.argument("title")
@click.option("--id", "task_id", help="Use this ID instead of one made from the title.")
@click.option("--priority", type=click.IntRange(0, 4), help="0 is most urgent; default 2.")
@click.option("--depends-on", "depends_on", multiple=True, metavar="REF", help="A task this one needs (repeatable).")
@click.option("--label", "labels", multiple=True, help="A label (repeatable).")
@click.option("--lane", help="Who may take the task (one of the configured lanes).")
@click.option("--milestone", help="The milestone the task belongs to.")
@click.option("--assignee", help="Who should do it (a wish, not a claim).")
@click.option("--trigger", help="Why or when this becomes urgent.")
@click.option("--step", "steps", multiple=True, help="A pre-decided step (repeatable).")
@click.option("--risk", "risks", multiple=True, help="A known risk (repeatable).")
@click.option("--status", type=click.Choice(STATUSES), help="Initial status (default todo; proposed for an agent).")
@click.option("--commit", is_flag=True, help="Commit the new file (only that file) on the current branch.")
@click.option("--agent", help="File it as this agent: the task starts as proposed (also when $GTASK_AGENT is set).")
@click.pass_context
def new(ctx: click.Context, /, title: str, task_id: str | None, commit: bool, agent: str | None,
        **fields: object) -> None:
    """Create a task file and print its ID (an agent's task starts as proposed)."""
    from gtask.errors import UsageError
    from gtask.protocol.session import create_task

    if not title.strip() or len(title.splitlines()) != 1:
        raise UsageError("the title must be one non-empty line")
    store = open_store(ctx)
    if fields.get("lane") is not None and fields["lane"] not in store.config.lanes:
        raise UsageError(f"--lane {fields['lane']!r} is not a configured lane: {', '.join(store.config.lanes)}")
    fields = {k: (list(v) if isinstance(v, tuple) else v) for k, v in fields.items()}
    task = create_task(store, title, fields, task_id=task_id, commit=commit, agent=agent)
    render.out(task.id)
