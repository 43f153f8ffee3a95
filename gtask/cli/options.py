"""Options and helpers shared by commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gtask.core.identity import acts_as_agent as acts_as_agent  # the one rule, for commands
from gtask.output import render
from gtask.store.store import Store

if TYPE_CHECKING:
    from gtask.plan.planning import Plan
    from gtask.plan.workspace import Workspace
    from gtask.protocol.session import Session


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add `--json` to a read command."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(func)


def open_store(ctx: click.Context) -> Store:
    """Open the store of `-C PATH` (default: the current folder)."""
    params = ctx.find_root().params
    store = Store.open(params.get("directory") or ".", use_cache=not params.get("no_cache"))
    store.notify = lambda notice: render.err(f"gtask: {notice}")
    return store


def open_session(ctx: click.Context, agent: str | None = None) -> Session:
    """The store of `-C PATH` with its repository and the agent acting (--agent, $GTASK_AGENT, git user.name)."""
    from gtask.protocol.session import Session

    return Session.open(open_store(ctx), agent)


def complete_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion of task IDs: the file names of this store's task folder (nothing is parsed)."""
    try:
        ids = open_store(ctx).ids()
    except Exception:  # completion must never print a traceback into the user's shell
        return []
    return [task_id for task_id in ids if task_id.lower().startswith(incomplete.lower())]


def workspace_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --workspace FILE, --repo PATH (repeatable) and --worktree: work on many repositories."""
    for option in (
        click.option("--worktree", is_flag=True,
                     help="With a workspace: read work-tree files, not the integration branch."),
        click.option("--repo", "repos", multiple=True, metavar="PATH",
                     help="A repository (or a folder of them) of the workspace (repeatable)."),
        click.option("--workspace", "workspace_file", metavar="FILE",
                     help="Work on every repository of a gtask-workspace.yaml (also $GTASK_WORKSPACE)."),
    ):
        func = option(func)
    return func


def load_workspace(ctx: click.Context, repos: tuple[str, ...], workspace_file: str | None, worktree: bool,
                   quiet: bool = False, default_here: bool = False) -> Workspace:
    """Read the workspace named by the options, with a progress line on a terminal."""
    from gtask.output.progress import Progress
    from gtask.plan.workspace import load, workspace_paths

    params = ctx.find_root().params
    paths = workspace_paths(repos, workspace_file, default_here, Path(params.get("directory") or "."))
    return load(paths, worktree=worktree, use_cache=not params.get("no_cache"), progress=Progress(not quiet))


def open_plan(ctx: click.Context, repos: tuple[str, ...] = (), workspace_file: str | None = None,
              worktree: bool = False, quiet: bool = False) -> Plan:
    """The plan of this repository, or of a workspace when one is named."""
    from gtask.plan.planning import Plan

    if repos or workspace_file:
        return Plan.of_workspace(load_workspace(ctx, repos, workspace_file, worktree, quiet))
    return Plan.of(open_store(ctx))


def agent_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --agent (default: $GTASK_AGENT, else git's user name)."""
    return click.option("--agent", help="Who acts (default: $GTASK_AGENT, else git user.name).")(func)


def push_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --push [REMOTE] (default remote: the branch's upstream, else origin)."""
    return click.option("--push", "push", is_flag=False, flag_value="", default=None, metavar="[REMOTE]",
                        help="Also push the branch and the lease ref refs/gtask/claims/<id> atomically "
                             "(config claim_push: true makes this the default).")(func)
