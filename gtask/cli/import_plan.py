"""`gtask import`: a plan of many tasks in one batch (design §7)."""

from __future__ import annotations

from pathlib import Path

import click

from gtask.cli.options import agent_option, json_option, open_store
from gtask.output import render

SOURCES = ("backlog-md", "beads", "taskwarrior", "gtask-jsonl")  # gtask.protocol.import_sources.SOURCES


@click.command("import")
@click.argument("source", metavar="FILE")
@click.option("--from", "from_", type=click.Choice(SOURCES), metavar="SOURCE",
              help="Import another tracker: backlog-md DIR, beads FILE, taskwarrior FILE, gtask-jsonl FILE.")
@click.option("--dry-run", is_flag=True, help="With --from: report what would be imported; write nothing.")
@click.option("--strict", is_flag=True, help="With --from: write nothing when any item was skipped.")
@agent_option
@click.option("--no-commit", is_flag=True, help="Only write the files; commit nothing (also for a folder outside git).")
@json_option
@click.pass_context
def import_plan(ctx: click.Context, source: str, from_: str | None, dry_run: bool, strict: bool, agent: str | None,
                no_commit: bool, as_json: bool) -> None:
    """Create many proposed tasks from a plan file (or - for standard input) in one commit;
    with --from, import another tracker's tasks (a person's import keeps their status; an agent's lands proposed)."""
    from gtask.core.planfile import InvalidPlan

    if from_ is not None:
        _import_from(ctx, from_, source, dry_run, strict, agent, no_commit, as_json)
        return
    if dry_run or strict:
        raise click.UsageError("--dry-run and --strict go with --from SOURCE")
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


def _import_from(ctx: click.Context, source: str, path: str, dry_run: bool, strict: bool, agent: str | None,
                 no_commit: bool, as_json: bool) -> None:
    from gtask.errors import GtaskError
    from gtask.protocol.import_sources import import_from, skipped_problems

    base = Path(ctx.find_root().params.get("directory") or ".")
    target = Path(path).expanduser()
    result = import_from(open_store(ctx), source, target if target.is_absolute() else base / target,
                         dry_run=dry_run, strict=strict, agent=agent, commit=not no_commit)
    render.problems(skipped_problems(result.skipped), as_json)
    if as_json:
        render.emit_json(result.to_json())
    else:
        verb = "would import" if dry_run else "imported"
        render.out(f"{verb} {result.imported} of {len(result.mapping)} tasks from {source} "
                   f"({len(result.mapping) - result.imported} already there, {len(result.skipped)} skipped)")
        if result.commit:
            render.out(f"committed {result.commit}")
    if strict and result.skipped:
        raise GtaskError(f"--strict: {len(result.skipped)} items were skipped; nothing was written")
