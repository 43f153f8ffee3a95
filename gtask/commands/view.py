"""`gtask view`: the aggregate view of many repositories (SPEC §5)."""

from __future__ import annotations

import click

from .. import render
from .common import load_workspace


@click.command()
@click.argument("paths", nargs=-1, metavar="[REPO|DIR]...")
@click.option("--workspace", "workspace_file", metavar="FILE",
              help="Read the repositories of a gtask-workspace.yaml (also $GTASK_WORKSPACE).")
@click.option("--worktree", is_flag=True, help="Read work-tree files instead of each integration branch.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--format", "fmt", type=click.Choice(["text", "mermaid"]), default="text", show_default=True,
              help="Text, or a Mermaid graph with one subgraph per repository.")
@click.pass_context
def view(ctx: click.Context, paths: tuple[str, ...], workspace_file: str | None, worktree: bool, as_json: bool,
         fmt: str) -> None:
    """Show every repository's tasks in one view: by state, with claims and cross-repository blocks."""
    from .. import graphfmt, overview

    workspace = load_workspace(ctx, paths, workspace_file, worktree, as_json, default_here=True)
    result = overview.build(workspace)
    if as_json:
        render.emit_json(overview.to_json(result))
        return
    if fmt == "mermaid":
        nodes = sorted(result.graph.nodes())
        render.out(graphfmt.mermaid(result.graph, nodes, None, by_project=True).rstrip("\n"))
        return
    render.overview(result)
