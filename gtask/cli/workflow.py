"""The agent workflow: `approve`, `reject`, `gate`, `events`, `agents` (`triage` is in triage.py)."""

from __future__ import annotations

from typing import Any, cast

import click

from gtask.cli.options import agent_option, complete_ids, json_option, open_session, open_store
from gtask.output import render


@click.command()
@click.argument("task_ids", metavar="[ID]...", nargs=-1, shell_complete=complete_ids)
@click.option("--lane", help="Put the approved tasks in this lane (one of the configured lanes).")
@click.option("--rule", "rule_name", metavar="NAME",
              help="Apply this approval rule of the integration branch's config to every proposal it matches.")
@agent_option
@json_option
@click.pass_context
def approve(ctx: click.Context, task_ids: tuple[str, ...], lane: str | None, rule_name: str | None,
            agent: str | None, as_json: bool) -> None:
    """A person approves proposed tasks: status todo, one commit."""
    from gtask.errors import UsageError
    from gtask.protocol.approval import approve as approve_tasks
    from gtask.protocol.approval import approve_by_rule

    if bool(task_ids) == bool(rule_name) or (rule_name and lane):
        raise UsageError("name the tasks to approve, or pass --rule NAME (without IDs or --lane)")
    session = open_session(ctx, agent)
    committed = approve_by_rule(session, rule_name) if rule_name else approve_tasks(session, list(task_ids), lane)
    if committed.commit is None:
        render.emit_json({"tasks": [], "commit": None}) if as_json else render.err("no proposal matches the rule")
        return
    tasks = [session.store.get(task_id) for task_id in committed.changed]
    if as_json:
        render.emit_json({"tasks": [t.to_json() for t in tasks], "commit": committed.commit})
        return
    for task in tasks:
        render.out(f"approved {render.safe(task.id)}" + (f" (lane {render.safe(task.lane)})" if task.lane else ""))
    render.out(f"in {committed.commit[:12]}")


@click.command()
@click.argument("task_id", metavar="ID", shell_complete=complete_ids)
@click.option("--reason", required=True, help="Why the task is not wanted (goes into the commit).")
@agent_option
@json_option
@click.pass_context
def reject(ctx: click.Context, task_id: str, reason: str, agent: str | None, as_json: bool) -> None:
    """A person rejects a proposed task: status canceled, with the reason in the commit."""
    from gtask.protocol.approval import reject as reject_task

    session = open_session(ctx, agent)
    committed = reject_task(session, task_id, reason)
    task = session.store.get(committed.changed[0])
    if as_json:
        render.emit_json({"task": task.to_json(), "commit": committed.commit})
        return
    render.out(f"rejected {render.safe(task.id)} in {cast(str, committed.commit)[:12]}")  # the status changed


@click.group()
def gate() -> None:
    """Milestone quality gates, as the integration branch's config defines them."""


@gate.command("run")
@click.argument("milestone")
@agent_option
@json_option
@click.pass_context
def gate_run(ctx: click.Context, milestone: str, agent: str | None, as_json: bool) -> int:
    """Run a milestone's gate on this commit and record passed or failed as a commit (exit 1 when it fails)."""
    from gtask.gitstate.branches import integration_commit
    from gtask.protocol.gates import run_gate

    session = open_session(ctx, agent)
    result = run_gate(session, milestone, integration_commit(session.store, session.git), capture=as_json)
    if as_json:
        render.emit_json(result.to_json())
    else:
        render.out(f"gate {render.safe(milestone)} {result.result} (exit {result.exit_code}) on "
                   f"{result.tested[:12]}; recorded in {result.commit[:12]}")
    return 0 if result.result == "passed" else 1


@gate.command("status")
@json_option
@click.pass_context
def gate_status(ctx: click.Context, as_json: bool) -> None:
    """Each milestone of the integration branch's config with its gate and newest result here."""
    from gtask.gitstate.branches import integration_commit
    from gtask.gitstate.holds import gate_results, integration_milestones, integration_signers
    from gtask.protocol.session import repo_of

    store = open_store(ctx)
    git = repo_of(store)
    tip = integration_commit(store, git)
    milestones = integration_milestones(store, git, tip)
    head = git.head_commit()
    results = gate_results(git, head, integration_signers(store, git, tip), tip) if head else {}
    rows: list[dict[str, Any]]
    rows = [{"milestone": name, "gate": m.gate if isinstance(m.gate, str) or m.gate is None else list(m.gate),
             "after": list(m.after), "result": results[name].to_json() if name in results else None}
            for name, m in sorted(milestones.items())]
    if as_json:
        render.emit_json(rows)
        return
    if not rows:
        render.err("no milestones in the integration branch's config")
    render.table(["MILESTONE", "AFTER", "RESULT", "GATE"],
                 [[r["milestone"], ",".join(r["after"]) or "-",
                   f"{r['result']['result']} ({r['result']['signature']})" if r["result"] else "not run",
                   r["gate"] if isinstance(r["gate"], str) else " ".join(r["gate"] or ["-"])] for r in rows])


@click.command()
@click.option("--since", required=True, metavar="REV", help="List what happened after this revision.")
@click.option("--until", default="HEAD", show_default=True, metavar="REV", help="Up to this revision.")
@json_option
@click.pass_context
def events(ctx: click.Context, since: str, until: str, as_json: bool) -> None:
    """The protocol events (claims, releases, completions, gates, approvals...) since a revision, oldest first."""
    from gtask.gitstate.events import events_since
    from gtask.protocol.session import repo_of

    store = open_store(ctx)
    found = events_since(repo_of(store), since, until, known=store.ids(), project=store.project)
    if as_json:
        render.emit_json([event.to_json() for event in found])
        return
    for event in found:
        details = " ".join(f"{key}={value}" for key, value in event.details.items())
        render.out(render.safe(f"{event.commit[:12]} {event.date} {event.action:<9} {','.join(event.tasks) or '-'} "
                               f"by {event.agent or '?'} {details}".rstrip()))


@click.command()
def agents() -> None:
    """Print the short guide for agents (the loop: sync, next --claim, work, done, handoff)."""
    from gtask.output.guide import GUIDE

    render.out(GUIDE.rstrip())
