"""`gtask graph`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gtask.cli.options import open_plan, workspace_options
from gtask.errors import NotFound
from gtask.output import render

if TYPE_CHECKING:
    from gtask.core.graph import Node


@click.command()
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "json"]), default="mermaid",
              show_default=True, help="Output format.")
@click.option("--ids", help="Draw only these tasks (comma-separated IDs).")
@click.option("--root", "root_id", metavar="ID", help="Draw this task with everything up- and downstream of it.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@workspace_options
@click.pass_context
def graph(ctx: click.Context, fmt: str, ids: str | None, root_id: str | None, as_json: bool,
          workspace_file: str | None, repos: tuple[str, ...], worktree: bool) -> None:
    """Print the dependency graph as Mermaid (renders on GitHub), DOT or JSON."""
    from gtask.output import graphfmt

    plan = open_plan(ctx, repos, workspace_file, worktree, as_json or fmt == "json")
    project = plan.project
    render.problems(plan.errors, as_json or fmt == "json")

    def node_of(text: str) -> Node:
        node = plan.graph.resolve(project or "", text.strip())
        if node not in plan.graph.tasks:
            raise NotFound(f"no task {text.strip()!r}")
        return node

    picked = None if ids is None else [node_of(t) for t in ids.split(",") if t.strip()]
    nodes = graphfmt.select(plan.graph, picked, node_of(root_id) if root_id else None)
    if as_json or fmt == "json":
        render.emit_json(graphfmt.as_json(plan.graph, nodes, project))
    elif fmt == "dot":
        render.out(graphfmt.dot(plan.graph, nodes, project).rstrip("\n"))
    else:
        render.out(graphfmt.mermaid(plan.graph, nodes, project, by_project=project is None).rstrip("\n"))
