"""`gtask attempt start|end` and `gtask stats`: work tries and what they cost."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gtask.cli.options import (
    agent_option,
    complete_ids,
    json_option,
    load_workspace,
    open_session,
    open_store,
    workspace_options,
)
from gtask.core.attempts import OUTCOMES, REASONS
from gtask.output import render

if TYPE_CHECKING:
    from gtask.protocol.attempts import AttemptResult


@click.group()
def attempt() -> None:
    """Record the start and the end of a try at a task (one protocol commit each)."""



def _report(result: AttemptResult, verb: str, as_json: bool) -> None:
    if as_json:
        render.emit_json(result.to_json())
    else:
        render.attempt_result(result, verb)


@attempt.command("start")
@click.argument("task_id", metavar="ID", shell_complete=complete_ids)
@agent_option
@json_option
@click.pass_context
def start(ctx: click.Context, task_id: str, agent: str | None, as_json: bool) -> None:
    """Open an attempt at a task, with a commit."""
    from gtask.protocol.attempts import start as start_attempt

    _report(start_attempt(open_session(ctx, agent), task_id), "started an attempt at", as_json)


@attempt.command("end")
@click.argument("task_id", metavar="ID", shell_complete=complete_ids)
@click.option("--outcome", required=True, type=click.Choice(OUTCOMES), help="How the attempt ended.")
@click.option("--reason", type=click.Choice(REASONS), help="Why it failed or was abandoned.")
@click.option("--tokens", type=click.IntRange(min=0), help="Tokens the attempt used.")
@click.option("--cost", type=click.FloatRange(min=0), metavar="USD", help="What the attempt cost, in US dollars.")
@click.option("--note", help="A note kept in the attempt and in the commit message.")
@agent_option
@json_option
@click.pass_context
def end(ctx: click.Context, task_id: str, outcome: str, reason: str | None, tokens: int | None,
        cost: float | None, note: str | None, agent: str | None, as_json: bool) -> None:
    """End your open attempt at a task with its outcome, with a commit."""
    from gtask.core.attempts import check_end
    from gtask.protocol.attempts import end as end_attempt

    check_end(outcome, reason, tokens, cost)  # a bad command line is refused before any git work
    result = end_attempt(open_session(ctx, agent), task_id, outcome, reason, tokens, cost, note)
    _report(result, "ended the attempt at", as_json)


@click.command()
@click.option("--label", help="Only tasks with this label.")
@click.option("--agent", help="Only attempts by this agent.")
@workspace_options
@json_option
@click.pass_context
def stats(ctx: click.Context, label: str | None, agent: str | None, workspace_file: str | None,
          repos: tuple[str, ...], worktree: bool, as_json: bool) -> None:
    """Attempts, success rate, failures by reason, tokens and cost."""
    from gtask.plan import stats as aggregate

    if repos or workspace_file:
        workspace = load_workspace(ctx, repos, workspace_file, worktree, as_json)
        tasks, problems = workspace.tasks, workspace.repo_errors() + workspace.problems
    else:
        loaded = open_store(ctx).load()
        tasks, problems = list(loaded.tasks.values()), loaded.problems
    render.problems([p for p in problems if p.is_error], as_json)
    report = aggregate.build(tasks, label=label, agent=agent)
    if as_json:
        render.emit_json(report.to_json())
        return
    render.stats_report(report)
