"""`gtask status`, `log`, `reconcile`: what git says."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gtask.cli.options import agent_option, complete_ids, json_option, open_session, open_store
from gtask.output import render

if TYPE_CHECKING:
    from gtask.gitio.git import Git
    from gtask.store.store import Store


def _git(store: Store) -> Git:
    from gtask.protocol.session import repo_of

    return repo_of(store)


@click.command()
@json_option
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show this repository's tasks with what every other branch says about them."""
    from gtask.gitstate.status import entry_json, repository_status

    store = open_store(ctx)
    report = repository_status(store, _git(store))
    render.problems([p for p in report.problems if p.is_error], as_json)
    if report.shallow:
        render.err("gtask: warning: shallow clone: closing evidence older than the cut cannot be seen")
    if as_json:
        render.emit_json({"integration_branch": report.integration, "current_branch": report.current,
                          "shallow": report.shallow, "tasks": [entry_json(e) for e in report.entries]})
        return
    render.status_table(report)


@click.command()
@click.argument("task_id", metavar="ID", shell_complete=complete_ids)
@json_option
@click.pass_context
def log(ctx: click.Context, task_id: str, as_json: bool) -> None:
    """Show a task's history from git: who, when, what changed, which commit."""
    from gtask.gitstate.log import task_log

    store = open_store(ctx)
    entries = task_log(store, _git(store), task_id)
    if as_json:
        render.emit_json([e.to_json() for e in entries])
        return
    render.log_entries(entries)


@click.command()
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@agent_option
@json_option
@click.pass_context
def reconcile(ctx: click.Context, dry_run: bool, agent: str | None, as_json: bool) -> None:
    """On the integration branch: mark tasks with closing evidence done; list done ones without."""
    from gtask.protocol.reconcile import reconcile as reconcile_tasks

    report = reconcile_tasks(open_session(ctx, agent), dry_run=dry_run)
    if as_json:
        render.emit_json({**report.to_json(), "dry_run": dry_run})
        return
    render.reconcile_report(report, dry_run)
