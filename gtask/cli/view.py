"""`gtask view`: the aggregate view of many repositories (design §5)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from gtask.cli.options import load_workspace
from gtask.errors import GtaskError, UsageError
from gtask.output import render

if TYPE_CHECKING:
    from gtask.plan.overview import Overview, Summary


@click.command()
@click.argument("paths", nargs=-1, metavar="[REPO|DIR]...")
@click.option("--workspace", "workspace_file", metavar="FILE",
              help="Read the repositories of a gtask-workspace.yaml (also $GTASK_WORKSPACE).")
@click.option("--worktree", is_flag=True, help="Read work-tree files instead of each integration branch.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--format", "fmt", type=click.Choice(["text", "mermaid"]), default="text", show_default=True,
              help="Text, or a Mermaid graph with one subgraph per repository.")
@click.option("--html", "html_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a self-contained HTML board (lanes by repository, columns by state, the graph) to FILE.")
@click.option("--all", "show_all", is_flag=True, help="List every open task of every repository (not the summary).")
@click.option("--state", "states", multiple=True, metavar="STATE", help="Only tasks in this state (repeatable).")
@click.option("--lane", help="Only tasks in this lane.")
@click.option("--label", help="Only tasks with this label.")
@click.option("--repo", "repo_glob", metavar="GLOB", help="Only repositories whose project or folder matches GLOB.")
@click.pass_context
def view(ctx: click.Context, paths: tuple[str, ...], workspace_file: str | None, worktree: bool, as_json: bool,
         fmt: str, html_file: Path | None, show_all: bool, states: tuple[str, ...], lane: str | None,
         label: str | None, repo_glob: str | None) -> None:
    """Summarise every repository: counts, what needs a person, what is next, claims (--all: every task)."""
    from gtask.output import graphfmt
    from gtask.plan import overview

    if html_file is not None and (as_json or ctx.get_parameter_source("fmt") != ParameterSource.DEFAULT):
        raise UsageError("--html writes a file; it cannot be combined with --json or --format")
    workspace = load_workspace(ctx, paths, workspace_file, worktree, as_json, default_here=True)
    summarized = html_file is not None or (not show_all and not as_json and fmt == "text")
    built = overview.build(workspace, overview.ages(workspace) if summarized else None)  # ages rank `ready`
    result = overview.narrow(built, states, lane, label, repo_glob)
    if summarized:
        summary = overview.summarize(result, overview.ranked(built))
        if html_file is None:
            from gtask.output import summary as summary_output

            summary_output.text(summary)
            return
        _write_html(html_file, result, summary)
        return
    if as_json:
        render.emit_json(overview.to_json(result))
        return
    if fmt == "mermaid":
        nodes = sorted(result.graph.nodes())
        render.out(graphfmt.mermaid(result.graph, nodes, None, by_project=True).rstrip("\n"))
        return
    render.overview(result)


def _write_html(path: Path, result: Overview, summary: Summary) -> None:
    from gtask.fsutil import atomic_write
    from gtask.output import board
    from gtask.output import summary as summary_output

    page = board.render(result, summary_output.html(summary))
    try:
        atomic_write(path, page)
    except OSError as exc:
        raise GtaskError(f"cannot write the board: {exc.strerror or exc}", path=str(path)) from None
    render.out(str(path))
