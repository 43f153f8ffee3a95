"""`gtask import`: a plan of many tasks in one batch (SPEC §7)."""

from __future__ import annotations

import click


@click.command("import")
@click.argument("source", metavar="FILE")
@click.pass_context
def import_plan(ctx: click.Context, source: str) -> None:
    """Create many proposed tasks from a plan file (or - for standard input) in one commit."""
    raise click.UsageError("not built yet")
