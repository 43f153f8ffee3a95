"""`gtask init`."""

from __future__ import annotations

import click

from .. import render
from ..store import Store


@click.command()
@click.option("--project", help="Project name used in <project>:<id> references (default: the folder's name).")
@click.pass_context
def init(ctx: click.Context, project: str | None) -> None:
    """Create .tasks/ and .tasks/config.yaml; safe to run twice."""
    store, created = Store.init(ctx.find_root().params.get("directory") or ".", project)
    where = store.label(store.tasks_dir)
    render.out(f"{'Created' if created else 'Already set up:'} {where}/ (project {store.project})")
