"""`gtask import`: a plan of many tasks in one batch (design §7)."""

from __future__ import annotations

from pathlib import Path

import click

from gtask.cli.options import agent_option, json_option, open_store
from gtask.output import render


@click.command("import")
@click.argument("source", metavar="FILE")
@agent_option
@click.option("--no-commit", is_flag=True, help="Only write the files; commit nothing (also for a folder outside git).")
@json_option
@click.pass_context
def import_plan(ctx: click.Context, source: str, agent: str | None, no_commit: bool, as_json: bool) -> None:
    """Create many proposed tasks from a plan file (or - for standard input) in one commit."""
    from gtask.core.planfile import InvalidPlan
    from gtask.protocol.plan_import import import_source

    base = Path(ctx.find_root().params.get("directory") or ".")
    try:
        result = import_source(open_store(ctx), source, base, commit=not no_commit, agent=agent)
    except InvalidPlan as exc:
        render.problems(exc.problems, as_json)
        raise
    render.problems(result.warnings, as_json)
    if as_json:
        render.emit_json(result.to_json())
        return
    for name, task_id in result.tasks.items():
        render.out(f"{render.safe(name)} -> {task_id}")
    render.out(f"committed {result.commit}" if result.commit else "not committed (--no-commit)")
