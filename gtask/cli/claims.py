"""`gtask claim`, `release`, `done`, `handoff`: protocol commits (design §3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gtask.cli.options import agent_option, complete_ids, json_option, open_session, push_option
from gtask.output import render

if TYPE_CHECKING:
    from gtask.protocol.claims import Outcome


def _report(outcome: Outcome, verb: str, as_json: bool) -> None:
    if as_json:
        render.emit_json(outcome.to_json())
        return
    render.outcome(outcome, verb)


@click.command()
@click.argument("task_id", metavar="ID", shell_complete=complete_ids)
@agent_option
@click.option("--lease", metavar="DURATION", help="How long the claim lasts, like 2h or 90m (default: config lease).")
@click.option("--force", is_flag=True, help="Claim a task that is not ready.")
@push_option
@json_option
@click.pass_context
def claim(ctx: click.Context, task_id: str, agent: str | None, lease: str | None, force: bool, push: str | None,
          as_json: bool) -> None:
    """Claim a ready (or stale) task with a commit on the current branch."""
    from gtask.protocol.claims import claim as claim_task

    session = open_session(ctx, agent)
    outcome = claim_task(session, task_id, lease=lease, force=force, push=session.store.config.push_to(push))
    _report(outcome, "claimed", as_json)


@click.command()
@click.argument("task_id", metavar="ID", shell_complete=complete_ids)
@agent_option
@click.option("--lease", metavar="DURATION", help="The new lease from now, like 2h (default: config lease).")
@push_option
@json_option
@click.pass_context
def renew(ctx: click.Context, task_id: str, agent: str | None, lease: str | None, push: str | None,
          as_json: bool) -> None:
    """Extend your live lease on a task (a heartbeat for long work)."""
    from gtask.protocol.claims import renew as renew_task

    session = open_session(ctx, agent)
    _report(renew_task(session, task_id, lease=lease, push=session.store.config.push_to(push)), "renewed", as_json)


@click.command()
@click.argument("task_id", metavar="ID", shell_complete=complete_ids)
@agent_option
@click.option("--note", help="Why; goes into the commit message.")
@click.option("--force", is_flag=True, help="Release a task that someone else holds.")
@push_option
@json_option
@click.pass_context
def release(ctx: click.Context, task_id: str, agent: str | None, note: str | None, force: bool, push: str | None,
            as_json: bool) -> None:
    """Give a claimed task back (status todo), with a commit."""
    from gtask.protocol.claims import release as release_task

    session = open_session(ctx, agent)
    outcome = release_task(session, task_id, note=note, force=force, push=session.store.config.push_to(push))
    _report(outcome, "released", as_json)


@click.command()
@click.argument("task_id", metavar="ID", shell_complete=complete_ids)
@agent_option
@click.option("--note", help="What was done; goes into the commit message.")
@click.option("--force", is_flag=True, help="Complete a task that someone else holds.")
@push_option
@json_option
@click.pass_context
def done(ctx: click.Context, task_id: str, agent: str | None, note: str | None, force: bool, push: str | None,
         as_json: bool) -> None:
    """Complete a task with a commit that carries `Closes: <id>`; print what became ready."""
    from gtask.protocol.claims import done as done_task

    session = open_session(ctx, agent)
    outcome = done_task(session, task_id, note=note, force=force, push=session.store.config.push_to(push))
    _report(outcome, "done", as_json)


@click.command()
@click.argument("remote", required=False)
@agent_option
@json_option
@click.pass_context
def sync(ctx: click.Context, remote: str | None, agent: str | None, as_json: bool) -> None:
    """Fetch branches and lease refs (pruning deleted ones) so that status, ready and next see them."""
    from gtask.protocol.remote import Remote

    report = Remote.choose(open_session(ctx, agent), remote).sync()
    if as_json:
        render.emit_json(report.to_json())
        return
    render.sync_report(report)


@click.command()
@click.argument("task_id", metavar="ID", shell_complete=complete_ids)
@click.option("--needs", "needs_title", metavar="TITLE", help="File a new prerequisite task with this title.")
@click.option("--needs-id", metavar="ID", help="Link an existing task as the prerequisite.")
@agent_option
@click.option("--note", help="Why; goes into the commit message.")
@push_option
@json_option
@click.pass_context
def handoff(ctx: click.Context, task_id: str, needs_title: str | None, needs_id: str | None, agent: str | None,
            note: str | None, push: str | None, as_json: bool) -> None:
    """File or link a prerequisite, depend on it and release the claim, in one commit."""
    from gtask.protocol.claims import handoff as handoff_task

    session = open_session(ctx, agent)
    outcome = handoff_task(session, task_id, needs_title=needs_title, needs_id=needs_id, note=note,
                           push=session.store.config.push_to(push))
    _report(outcome, "handed off", as_json)
