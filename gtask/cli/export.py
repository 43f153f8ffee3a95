"""`gtask export`: every task as one JSON object a line, for backups and other tools."""

from __future__ import annotations

import click

from gtask.cli.options import open_store
from gtask.output import render


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True,
              help="jsonl: one object per task, the keys of `list --json` plus `body`.")
@click.pass_context
def export(ctx: click.Context, fmt: str) -> None:
    """Print every task of this repository as JSON Lines; `gtask import --from gtask-jsonl FILE` reads it back."""
    store = open_store(ctx)
    loaded = store.load()
    states = store.states(loaded.tasks)
    render.problems([p for p in loaded.problems if p.is_error], False)
    for task_id in sorted(loaded.tasks):
        task = store.get(task_id)  # load() leaves bodies out
        render.json_line({**task.to_json(states[task_id]), "body": task.body or ""})
