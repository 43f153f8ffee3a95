"""`gtask edit`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gtask.cli.options import acts_as_agent, complete_ids, open_store
from gtask.errors import Problem
from gtask.output import render


@click.command()
@click.argument("task_id", metavar="ID", shell_complete=complete_ids)
@click.pass_context
def edit(ctx: click.Context, task_id: str) -> None:
    """Open a task in $EDITOR; an invalid result is reopened or kept aside, never lost.

    An agent (GTASK_AGENT) may not change status, lane or the keys gtask's protocol writes, as with `set`.
    """
    from gtask.store.editing import edit_task

    store = open_store(ctx)

    def run_editor(path: Path) -> None:
        click.edit(filename=str(path))

    def reopen(problems: list[Problem]) -> bool:
        render.problems(problems, as_json=False)
        return sys.stdin.isatty() and click.confirm("Reopen the editor to fix it?", default=True, err=True)

    outcome = edit_task(store, task_id, run_editor, reopen, as_agent=acts_as_agent())
    render.err("saved" if outcome.changed else "no changes")
