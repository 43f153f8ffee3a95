"""`gtask claim`, `release`, `done`, `handoff`: protocol commits (SPEC §3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from .. import render
from .common import json_option, open_store


def agent_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --agent (default: $GTASK_AGENT, else git's user name)."""
    return click.option("--agent", help="Who acts (default: $GTASK_AGENT, else git user.name).")(func)


def _session(ctx: click.Context, agent: str | None):
    from ..protocol import Session

    return Session.open(open_store(ctx), agent)


def _report(outcome, verb: str, as_json: bool) -> None:
    if as_json:
        render.emit_json(outcome.to_json())
        return
    render.outcome(outcome, verb)


@click.command()
@click.argument("task_id", metavar="ID")
@agent_option
@click.option("--lease", metavar="DURATION", help="How long the claim lasts, like 2h or 90m (default: config lease).")
@click.option("--force", is_flag=True, help="Claim a task that is not ready.")
@json_option
@click.pass_context
def claim(ctx: click.Context, task_id: str, agent: str | None, lease: str | None, force: bool, as_json: bool) -> None:
    """Claim a ready (or stale) task with a commit on the current branch."""
    from ..claims import claim as claim_task

    _report(claim_task(_session(ctx, agent), task_id, lease=lease, force=force), "claimed", as_json)


@click.command()
@click.argument("task_id", metavar="ID")
@agent_option
@click.option("--note", help="Why; goes into the commit message.")
@click.option("--force", is_flag=True, help="Release a task that someone else holds.")
@json_option
@click.pass_context
def release(ctx: click.Context, task_id: str, agent: str | None, note: str | None, force: bool, as_json: bool) -> None:
    """Give a claimed task back (status todo), with a commit."""
    from ..claims import release as release_task

    _report(release_task(_session(ctx, agent), task_id, note=note, force=force), "released", as_json)


@click.command()
@click.argument("task_id", metavar="ID")
@agent_option
@click.option("--note", help="What was done; goes into the commit message.")
@click.option("--force", is_flag=True, help="Complete a task that someone else holds.")
@json_option
@click.pass_context
def done(ctx: click.Context, task_id: str, agent: str | None, note: str | None, force: bool, as_json: bool) -> None:
    """Complete a task with a commit that carries `Closes: <id>`; print what became ready."""
    from ..claims import done as done_task

    _report(done_task(_session(ctx, agent), task_id, note=note, force=force), "done", as_json)


@click.command()
@click.argument("task_id", metavar="ID")
@click.option("--needs", "needs_title", metavar="TITLE", help="File a new prerequisite task with this title.")
@click.option("--needs-id", metavar="ID", help="Link an existing task as the prerequisite.")
@agent_option
@click.option("--note", help="Why; goes into the commit message.")
@json_option
@click.pass_context
def handoff(ctx: click.Context, task_id: str, needs_title: str | None, needs_id: str | None, agent: str | None,
            note: str | None, as_json: bool) -> None:
    """File or link a prerequisite, depend on it and release the claim, in one commit."""
    from ..claims import handoff as handoff_task

    outcome = handoff_task(_session(ctx, agent), task_id, needs_title=needs_title, needs_id=needs_id, note=note)
    _report(outcome, "handed off", as_json)
