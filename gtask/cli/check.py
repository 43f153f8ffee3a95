"""`gtask check`."""

from __future__ import annotations

from pathlib import Path

import click

from gtask.cli.options import json_option, load_workspace, open_store, workspace_options
from gtask.output import render


@click.command()
@click.option("--files", "only_files", is_flag=True,
              help="Check only the task files named (for pre-commit): fast, without the whole graph.")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False), metavar="[FILE]...")
@workspace_options
@json_option
@click.pass_context
def check(ctx: click.Context, only_files: bool, files: tuple[str, ...], workspace_file: str | None,
          repos: tuple[str, ...], worktree: bool, as_json: bool) -> int:
    """Validate every task file and the dependency graph; exit 1 on any error."""
    from gtask.plan.checks import check_files, check_store, check_workspace

    if files and not only_files:
        raise click.UsageError("name files only with --files")
    if only_files:
        base = Path(ctx.find_root().params.get("directory") or ".")
        use_cache = not ctx.find_root().params.get("no_cache")
        found, count = check_files([base / name for name in files], use_cache=use_cache)
    elif repos or workspace_file:
        workspace = load_workspace(ctx, repos, workspace_file, worktree, as_json)
        found = check_workspace(workspace)
        count = sum(len(r.tasks) for r in workspace.repos)
    else:
        store = open_store(ctx)
        found = check_store(store)
        count = len(store.ids())
    errors = [p for p in found if p.is_error]
    if as_json:
        render.emit_json({"ok": not errors, "errors": len(errors), "warnings": len(found) - len(errors),
                          "problems": [p.to_json() for p in found]})
    else:
        render.problems(found, as_json=False, stream_err=False)
        render.out(f"{count} task files: {len(errors)} errors, {len(found) - len(errors)} warnings")
    return 1 if errors else 0
