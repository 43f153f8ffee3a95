"""The approval gate: tasks an agent files wait as `proposed` until a person decides."""

from __future__ import annotations

from gtask.core.model import Task, format_time, now_utc
from gtask.errors import Conflict, UsageError
from gtask.protocol.session import Committed, Session
from gtask.store.locking import locked
from gtask.store.store import Store


def _proposed(session: Session, task_ids: list[str]) -> list[str]:
    """Resolve the IDs; every one must be a clean, proposed task, else nothing happens."""
    found = []
    for task_id in task_ids:
        task_id = session.store.resolve_id(task_id)
        session.ensure_clean(task_id)
        status = session.store.get(task_id).status
        if status != "proposed":
            raise Conflict(f"{task_id} is not proposed (status {status}); nothing was changed")
        found.append(task_id)
    if len({t.lower() for t in found}) != len(found):
        raise UsageError("an ID is named twice")
    return found


@locked
def approve(session: Session, task_ids: list[str], lane: str | None = None) -> Committed:
    """A person moves proposed tasks to `todo` (optionally into a lane), in one commit."""
    session.require_person("approval")
    store = session.store
    if lane is not None and lane not in store.config.lanes:
        raise UsageError(f"--lane {lane!r} is not one of the configured lanes: {', '.join(store.config.lanes)}")
    ids = _proposed(session, task_ids)
    changes = {"status": "todo", **({"lane": lane} if lane else {})}

    def change() -> list[str]:
        return [store.update(task_id, changes).id for task_id in ids]

    return session.change_and_commit("approve", ids[0], change, touched=ids)


@locked
def reject(session: Session, task_id: str, reason: str) -> Committed:
    """A person cancels a proposed task; the reason goes into the commit."""
    session.require_person("rejection")
    if not reason.strip():
        raise UsageError("--reason must say why")
    store = session.store
    (task_id,) = _proposed(session, [task_id])
    changes = {"status": "canceled", "closed_at": format_time(now_utc())}
    return session.change_and_commit("reject", task_id, lambda: [store.update(task_id, changes).id],
                                     note=reason, trailers=[("Reason", " ".join(reason.split())[:200])])


def awaiting_decision(store: Store) -> list[tuple[Task, str]]:
    """What waits for a person: proposed tasks, and ready tasks in lanes agents may not take."""
    from gtask.plan.planning import Plan

    plan = Plan.of(store)
    waiting = []
    for node, task in sorted(plan.graph.tasks.items()):
        if task.status == "proposed":
            waiting.append((task, "approval"))
        elif task.lane and task.lane not in store.config.agent_lanes and plan.graph.state(node) == "ready":
            waiting.append((task, "a person"))
    return waiting
