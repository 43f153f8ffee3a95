"""Attempt steps: `attempt start` and `attempt end`, one protocol commit each (records: core.attempts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from gtask.core.attempts import ATTEMPT_KEYS, check_end, open_attempt
from gtask.core.model import Task, format_time, now_utc, parse_time
from gtask.errors import Conflict, InvalidTask
from gtask.protocol.approval import require_authority
from gtask.protocol.session import Session
from gtask.store.locking import locked


@dataclass
class AttemptResult:
    """What `attempt start` or `attempt end` did."""

    task: Task
    attempt: dict[str, Any]
    commit: str

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task.to_json(), "attempt": dict(self.attempt), "commit": self.commit}


@locked
def start(session: Session, task_id: str) -> AttemptResult:
    """Append an open attempt of the session's agent, in one commit."""
    store = session.store
    task_id = store.resolve_id(task_id)
    session.ensure_clean(task_id)
    task = store.get(task_id)
    require_authority(session, task, "attempt")
    if task.is_finished:
        raise Conflict(f"{task_id} is {task.status}: there is nothing left to attempt", path=task.path)
    if open_attempt(task.attempts, session.agent) is not None:
        raise Conflict(f"{session.agent} already has an open attempt on {task_id}; end it first with "
                       f"'gtask attempt end {task_id} --outcome success|failed|abandoned'", path=task.path)
    entry = {"agent": session.agent, "start": format_time(now_utc())}
    attempts = [*task.attempts, entry]
    committed = session.change_and_commit("attempt", task_id,
                                          lambda: [store.update(task_id, {"attempts": attempts}).id],
                                          trailers=[("Attempt", "start")])
    return AttemptResult(store.get(task_id), entry, cast(str, committed.commit))  # the new attempt was committed


@locked
def end(session: Session, task_id: str, outcome: str, reason: str | None = None, tokens: int | None = None,
        cost: float | None = None, note: str | None = None) -> AttemptResult:
    """Fill in the agent's latest open attempt: end time, duration, outcome and costs, in one commit."""
    check_end(outcome, reason, tokens, cost)
    store = session.store
    task_id = store.resolve_id(task_id)
    session.ensure_clean(task_id)
    task = store.get(task_id)
    require_authority(session, task, "end an attempt on")
    index = open_attempt(task.attempts, session.agent)
    if index is None:
        raise Conflict(f"{session.agent} has no open attempt on {task_id}; "
                       f"run 'gtask attempt start {task_id}' first", path=task.path)
    opened = task.attempts[index]
    ended = now_utc()
    try:
        duration = max(0, int((ended - parse_time(str(opened.get("start")))).total_seconds()))
    except ValueError:
        raise InvalidTask(f"the open attempt's start {opened.get('start')!r} is not an ISO 8601 time "
                          "with a UTC offset; fix it by hand", path=task.path, line=task.line_of("attempts")) from None
    entry: dict[str, Any] = {"agent": session.agent, "start": opened.get("start"), "end": format_time(ended),
                             "duration": duration, "outcome": outcome}
    if reason is not None:
        entry["reason"] = reason
    if tokens is not None:
        entry["tokens"] = tokens
    if cost is not None:
        entry["cost"] = float(cost)
    entry["commit"] = session.git.head_commit()
    if note and note.strip():
        entry["note"] = note.strip()
    entry.update({k: v for k, v in opened.items() if k not in ATTEMPT_KEYS})  # hand-added keys stay
    attempts = [*task.attempts[:index], entry, *task.attempts[index + 1:]]
    trailers = [("Attempt", "end"), ("Outcome", outcome)] + ([("Reason", reason)] if reason else [])
    committed = session.change_and_commit("attempt", task_id,
                                          lambda: [store.update(task_id, {"attempts": attempts}).id],
                                          note=note, trailers=trailers)
    return AttemptResult(store.get(task_id), entry, cast(str, committed.commit))  # the ended attempt was committed
