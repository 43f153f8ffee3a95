"""`gtask init`."""

from __future__ import annotations

import click

from .. import render
from ..store import Store


@click.command()
@click.option("--project", help="Project name used in <project>:<id> references (default: the folder's name).")
@click.option("--agents-file", "agents_file", metavar="FILE",
              help="Append the agent guide (gtask agents) to this file, e.g. AGENTS.md, unless it is there.")
@click.pass_context
def init(ctx: click.Context, project: str | None, agents_file: str | None) -> None:
    """Create .tasks/ and .tasks/config.yaml; safe to run twice."""
    store, created = Store.init(ctx.find_root().params.get("directory") or ".", project)
    where = store.label(store.tasks_dir)
    render.out(f"{'Created' if created else 'Already set up:'} {where}/ (project {store.project})")
    if agents_file:
        from ..guide import append_guide

        path = store.root / agents_file
        added = append_guide(path)
        render.out(f"{'Added the agent guide to' if added else 'The agent guide is already in'} {store.label(path)}")
