"""`gtask report`: what happened since a revision or a time, for a person who was away."""

from __future__ import annotations

from pathlib import Path

import click

from gtask.cli.options import open_store
from gtask.errors import GtaskError, UsageError
from gtask.output import render


@click.command()
@click.argument("paths", nargs=-1, metavar="[REPO|DIR]...")
@click.option("--since", required=True, metavar="REV|DURATION",
              help="Report what happened after this commit, or in this last while (12h, 1d, 90m).")
@click.option("--workspace", "workspace_file", metavar="FILE",
              help="Report on every repository of a gtask-workspace.yaml.")
@click.option("--html", "html_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a self-contained HTML page (the board's style, no script) to FILE.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of Markdown.")
@click.pass_context
def report(ctx: click.Context, paths: tuple[str, ...], since: str, workspace_file: str | None,
           html_file: Path | None, as_json: bool) -> None:
    """The morning report in Markdown: landings, attempts, handoffs, proposals, gates, stale leases, what is next."""
    from gtask.output import report as report_output
    from gtask.plan import report as report_plan
    from gtask.plan.workspace import workspace_paths
    from gtask.protocol.session import repo_of
    from gtask.store.store import Store

    if html_file is not None and as_json:
        raise UsageError("--html writes a file; it cannot be combined with --json")
    params = ctx.find_root().params
    base = Path(params.get("directory") or ".")
    reports = []
    if paths or workspace_file:
        for path in workspace_paths(paths, workspace_file, False, base):
            store = Store.open(path, use_cache=not params.get("no_cache"))
            reports.append(report_plan.build(store, repo_of(store), since, path.name))
    else:
        store = open_store(ctx)
        git = repo_of(store)
        reports.append(report_plan.build(store, git, since, git.top.name))
    if html_file is not None:
        from gtask.fsutil import atomic_write

        try:
            atomic_write(html_file, report_output.html(reports))
        except OSError as exc:
            raise GtaskError(f"cannot write the report: {exc.strerror or exc}", path=str(html_file)) from None
        render.out(str(html_file))
        return
    if as_json:
        render.emit_json(report_output.to_json(reports))
        return
    render.out(report_output.markdown(reports).rstrip("\n"))
