"""`gtask list`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from gtask.cli.options import json_option, open_store
from gtask.core.model import STATUSES, Task
from gtask.output import render


@click.command("list")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Only this status (repeatable).")
@click.option("--label", help="Only tasks with this label.")
@click.option("--lane", help="Only tasks in this lane.")
@click.option("--milestone", help="Only tasks of this milestone.")
@click.option("--assignee", help="Only tasks assigned to this person or agent.")
@click.option("--ready", "only_ready", is_flag=True, help="Only tasks that are ready to start.")
@click.option("--tree", is_flag=True, help="Nest children under their parent (the `parent` key).")
@json_option
@click.pass_context
def list_tasks(ctx: click.Context, statuses: tuple[str, ...], label: str | None, lane: str | None,
               milestone: str | None, assignee: str | None, only_ready: bool, as_json: bool,
               tree: bool = False) -> None:
    """List this repository's tasks; broken files are reported on stderr and skipped."""
    from gtask.plan import ranking_cache

    store = open_store(ctx)
    loaded = store.load()
    # the resolver's truth, as ready/next: branches, leases, gates; tasks by ID (`x` before `x-awmv`)
    states, listed = ranking_cache.listing(store, loaded)
    tasks = [
        task for task in listed
        if (not statuses or task.status in statuses)
        and (label is None or label in task.labels)
        and (lane is None or task.lane == lane)
        and (milestone is None or task.milestone == milestone)
        and (assignee is None or task.assignee == assignee)
        and (not only_ready or states[task.id] == "ready")
    ]
    render.problems(render.listing_problems(loaded.problems), as_json)
    if tree:
        _print_tree(tasks, states, as_json)
        return
    if as_json:
        render.emit_json([task.to_json(states[task.id]) for task in tasks])
        return
    render.task_rows(tasks, states)


def _print_tree(tasks: list[Task], states: dict[str, str], as_json: bool) -> None:
    """Children under their parent, depth first; a task whose parent is not listed is a root."""
    from dataclasses import replace

    listed = {task.id.lower(): task for task in tasks}
    kids: dict[str, list[Task]] = {}
    roots = []
    for task in tasks:
        parent = task.parent.lower() if task.parent and ":" not in task.parent else None
        if parent in listed and parent != task.id.lower():
            kids.setdefault(parent, []).append(task)
        else:
            roots.append(task)
    seen: set[str] = set()

    def walk(task: Task, depth: int) -> Iterator[tuple[Task, int]]:
        if task.id.lower() in seen:  # a parent cycle: `check` reports it; show each task once
            return
        seen.add(task.id.lower())
        yield task, depth
        for child in kids.get(task.id.lower(), []):
            yield from walk(child, depth + 1)

    rows = [row for root in roots for row in walk(root, 0)]
    rows += [(task, 0) for task in tasks if task.id.lower() not in seen]  # only on a parent cycle

    def nested(task: Task) -> dict[str, Any]:
        return {**task.to_json(states[task.id]),
                "children": [nested(child) for child in kids.get(task.id.lower(), []) if child.id in states]}

    if as_json:
        render.emit_json([nested(task) for task in roots])
        return
    render.task_rows([replace(task, title="  " * depth + ("└ " if depth else "") + task.title)
                      for task, depth in rows], states)
