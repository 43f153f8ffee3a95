"""`gtask ready`, `next`, `blocked`, `order`: planning on the dependency graph."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from gtask.cli.options import json_option, open_plan, open_session, workspace_options
from gtask.core.identity import acts_as_agent
from gtask.output import render, views

if TYPE_CHECKING:
    from gtask.plan.planning import Filters


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --lane, --label and --milestone."""
    for option in (
        click.option("--milestone", help="Only tasks of this milestone."),
        click.option("--label", help="Only tasks with this label."),
        click.option("--lane", help="Only tasks in this lane."),
    ):
        func = option(func)
    return func


@click.command()
@filter_options
@workspace_options
@json_option
@click.pass_context
def ready(ctx: click.Context, lane: str | None, label: str | None, milestone: str | None, workspace_file: str | None,
          repos: tuple[str, ...], worktree: bool, as_json: bool) -> None:
    """List the tasks that can start now, best first."""
    from gtask.plan.planning import Filters

    plan = open_plan(ctx, repos, workspace_file, worktree, as_json)
    render.problems(render.listing_problems(plan.problems), as_json)
    agent = acts_as_agent()
    # an agent's ready is what it may take (as next and claim); a person sees everything, lanes marked
    ranked = plan.ranked_ready(Filters(lane, label, milestone, plan.agent_lanes if agent else None))
    if as_json:
        render.emit_json([{**task.to_json("ready"), "score": score.to_json()} for task, score in ranked])
        return
    render.task_rows([task for task, _ in ranked], {task.id: "ready" for task, _ in ranked},
                     with_project=plan.project is None, with_lane=not agent)


@click.command("next")
@filter_options
@click.option("--explain", is_flag=True, help="Show the parts of the score that ranked the task first.")
@click.option("--claim", "do_claim", is_flag=True, help="Claim it; on a lost race, try the next candidate.")
@click.option("--agent", help="Act as this agent: only lanes agents may take (config agent_lanes); "
                             "also who claims (default: $GTASK_AGENT, else git user.name).")
@click.option("--push", "push", is_flag=False, flag_value="", default=None, metavar="[REMOTE]",
              help="With --claim: push the claim and its lease ref atomically (exactly once across clones).")
@click.option("--tries", type=click.IntRange(1, 100), default=5, show_default=True,
              help="With --claim: how many candidates to try before giving up (exit 3).")
@workspace_options
@json_option
@click.pass_context
def next_task(ctx: click.Context, lane: str | None, label: str | None, milestone: str | None,
              explain: bool, do_claim: bool, agent: str | None, push: str | None, tries: int,
              workspace_file: str | None, repos: tuple[str, ...], worktree: bool, as_json: bool) -> int:
    """Print the best ready task: priority, then how much it unblocks, then age."""
    from gtask.plan.planning import Filters, fleet_of, spread

    if do_claim:
        if repos or workspace_file:
            raise click.UsageError("--claim works in one repository: run it there (-C PATH)")
        return _claim_next(ctx, Filters(lane, label, milestone), agent, push, tries, as_json)
    plan = open_plan(ctx, repos, workspace_file, worktree, as_json)
    render.problems(render.listing_problems(plan.problems), as_json)
    for_agent = plan.agent_lanes if acts_as_agent(agent) else None  # an agent sees only its lanes
    ranked = plan.ranked_ready(Filters(lane, label, milestone, for_agent))
    first = ranked[0][0] if ranked else None
    who = (agent or os.environ.get("GTASK_AGENT")) if for_agent is not None else None
    ranked = spread(ranked, who, fleet_of(plan) if who else ())  # as next --claim would choose
    if not ranked:
        if as_json:
            render.emit_json(None)
        else:
            render.err("nothing is ready")
        return 0
    task, score = ranked[0]
    if as_json:
        render.emit_json(views.next_json(ranked))
        return 0
    shown = task.id if plan.project else f"{task.project}:{task.id}"
    render.out(f"{render.safe(shown)}  P{task.priority}  {render.safe(task.title)}")
    if explain:
        render.explain_score(task, score, [(plan.label((t.project, t.id)), s) for t, s in ranked[1:4]])
        if task is not first:
            render.out("  chosen by spreading: as good as the top candidate; this agent prefers it "
                       "(rendezvous hash of agent and task, matched against the agents holding claims), "
                       "so racing agents take different tasks")
    return 0


def _claim_next(ctx: click.Context, filters: Filters, agent: str | None, push: str | None, tries: int,
                as_json: bool) -> int:
    from gtask.protocol.claims import claim_next

    session = open_session(ctx, agent)
    outcome = claim_next(session, filters, push=session.store.config.push_to(push), tries=tries)
    if outcome is None:
        if as_json:
            render.emit_json(None)
        else:
            render.err("nothing is ready")
        return 0
    if as_json:  # the body is the specification the agent executes: no `show` needed after a claim
        data = outcome.to_json()
        data["task"]["body"] = outcome.task.body
        render.emit_json(data)
    else:
        render.outcome(outcome, "claimed")
    return 0


@click.command()
@workspace_options
@json_option
@click.pass_context
def blocked(ctx: click.Context, workspace_file: str | None, repos: tuple[str, ...], worktree: bool,
            as_json: bool) -> None:
    """List waiting tasks and the unfinished tasks each waits on, nearest first."""
    plan = open_plan(ctx, repos, workspace_file, worktree, as_json)
    render.problems(render.listing_problems(plan.problems), as_json)
    entries: list[dict[str, Any]] = []
    for node, waits in plan.graph.blocked(plan.project):
        gates = [{"ref": gate, "state": "gate not passed", "distance": 1, "title": None}
                 for gate in plan.graph.held.get(node, [])]
        entries.append({
            "task": plan.graph.tasks[node], "ref": plan.label(node),
            "waits_on": gates + [{"ref": plan.label(dep), "state": plan.graph.state(dep), "distance": distance,
                                  "title": plan.graph.tasks[dep].title if dep in plan.graph.tasks else None}
                                 for dep, distance in waits],
        })
    if as_json:
        render.emit_json([{**e["task"].to_json("waiting"), "waits_on": e["waits_on"]} for e in entries])
        return
    render.blocked_list(entries)


@click.command()
@workspace_options
@json_option
@click.pass_context
def order(ctx: click.Context, workspace_file: str | None, repos: tuple[str, ...], worktree: bool,
          as_json: bool) -> int:
    """Print execution waves (each wave can run in parallel) and the critical path."""
    import networkx as nx

    from gtask.errors import Conflict

    plan = open_plan(ctx, repos, workspace_file, worktree, as_json)
    render.problems(render.listing_problems(plan.problems), as_json)
    try:
        waves, critical = plan.graph.order()
    except nx.NetworkXUnfeasible:
        cycle = " -> ".join(plan.label(n) for n in plan.graph.cycles()[0])
        raise Conflict(f"the open work has a dependency cycle: {cycle}") from None
    as_rows = [[{"ref": plan.label(n), "state": plan.graph.state(n),
                 "title": plan.graph.tasks[n].title if n in plan.graph.tasks else None} for n in wave]
               for wave in waves]
    critical_refs = [plan.label(n) for n in critical]
    if as_json:
        render.emit_json({"waves": as_rows, "critical_path": critical_refs})
        return 0
    render.waves(as_rows, critical_refs)
    return 0
