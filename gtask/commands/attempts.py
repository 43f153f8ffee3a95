"""`gtask attempt start|end` and `gtask stats`: work tries and what they cost."""

from __future__ import annotations

import click


@click.group()
def attempt() -> None:
    """Record the start and the end of a try at a task (one protocol commit each)."""


@click.command()
@click.pass_context
def stats(ctx: click.Context) -> None:
    """Attempts, success rate, failures by reason, tokens and cost."""
    raise click.UsageError("not built yet")
