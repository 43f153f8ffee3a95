"""`gtask list`."""

from __future__ import annotations

import click

from gtask.cli.options import json_option, open_store
from gtask.core.model import STATUSES
from gtask.output import render


@click.command("list")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Only this status (repeatable).")
@click.option("--label", help="Only tasks with this label.")
@click.option("--lane", help="Only tasks in this lane.")
@click.option("--milestone", help="Only tasks of this milestone.")
@click.option("--assignee", help="Only tasks assigned to this person or agent.")
@click.option("--ready", "only_ready", is_flag=True, help="Only tasks that are ready to start.")
@json_option
@click.pass_context
def list_tasks(ctx: click.Context, statuses: tuple[str, ...], label: str | None, lane: str | None,
               milestone: str | None, assignee: str | None, only_ready: bool, as_json: bool) -> None:
    """List this repository's tasks; broken files are reported on stderr and skipped."""
    store = open_store(ctx)
    loaded = store.load()
    states = store.states(loaded.tasks)
    tasks = [
        task for task in loaded.tasks.values()
        if (not statuses or task.status in statuses)
        and (label is None or label in task.labels)
        and (lane is None or task.lane == lane)
        and (milestone is None or task.milestone == milestone)
        and (assignee is None or task.assignee == assignee)
        and (not only_ready or states[task.id] == "ready")
    ]
    render.problems([p for p in loaded.problems if p.is_error], as_json)
    if as_json:
        render.emit_json([task.to_json(states[task.id]) for task in tasks])
        return
    render.task_rows(tasks, states)
