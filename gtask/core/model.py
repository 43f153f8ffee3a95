"""The task record, its statuses and the states gtask derives from them (design §1, §2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

STATUSES = ("proposed", "todo", "in_progress", "blocked", "done", "canceled")
FINISHED = frozenset({"done", "canceled"})

DEFAULT_PRIORITY = 2


def now_utc() -> datetime:
    """Return the current time, aware, in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 time with a UTC offset; raise ValueError otherwise."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return value


def format_time(value: datetime) -> str:
    """Format a time as gtask writes it: ISO 8601, seconds, UTC offset."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


@dataclass
class Task:
    """One task, built once from a parsed file."""

    id: str
    title: str
    status: str
    project: str = ""
    path: str = ""
    priority: int = DEFAULT_PRIORITY
    depends_on: list[str] = field(default_factory=list)
    parent: str | None = None
    trigger: str | None = None
    steps: list[str] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    lane: str | None = None
    milestone: str | None = None
    assignee: str | None = None
    claimed_by: str | None = None
    claimed_at: str | None = None
    lease_until: str | None = None
    claim_branch: str | None = None
    closed_at: str | None = None
    closed_by: str | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    body: str | None = ""  # None when loaded for a listing (see Store.load)
    lines: dict[str, int] = field(default_factory=dict, repr=False, compare=False)  # key -> file line

    def line_of(self, key: str) -> int | None:
        return self.lines.get(key)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    def lease_expired(self, now: datetime) -> bool:
        """Tell whether the claim's lease has passed (a claim with no lease never expires)."""
        if not self.lease_until:
            return False
        try:
            return parse_time(self.lease_until) <= now
        except ValueError:
            return True

    def has_live_claim(self, now: datetime) -> bool:
        """Tell whether someone holds this task with a lease that has not passed."""
        return bool(self.claimed_by) and not self.lease_expired(now)

    def to_json(self, state: str | None = None) -> dict[str, Any]:
        """Return the JSON object of design §4 (without the body)."""
        return {
            "id": self.id,
            "project": self.project,
            "title": self.title,
            "status": self.status,
            "state": state or self.status,
            "priority": self.priority,
            "depends_on": list(self.depends_on),
            "parent": self.parent,
            "labels": list(self.labels),
            "lane": self.lane,
            "milestone": self.milestone,
            "assignee": self.assignee,
            "trigger": self.trigger,
            "steps": list(self.steps),
            "risks": list(self.risks),
            "claimed_by": self.claimed_by,
            "claimed_at": self.claimed_at,
            "lease_until": self.lease_until,
            "claim_branch": self.claim_branch,
            "closed_at": self.closed_at,
            "closed_by": self.closed_by,
            "attempts": list(self.attempts),
            "path": self.path,
            "extra": dict(self.extra),
        }


def own_state(task: Task, deps_finished: bool, now: datetime) -> str:
    """Derive the state of design §2 that one repository can know.

    `deps_finished` says whether every dependency is done or canceled.
    """
    if task.status == "in_progress":
        if not task.claimed_by:
            return "in_progress"
        return "stale" if task.lease_expired(now) else "claimed"
    if task.status == "todo":
        if task.has_live_claim(now):
            return "claimed"
        return "ready" if deps_finished else "waiting"
    return task.status


def local_states(tasks: dict[str, Task], project: str, now: datetime) -> dict[str, str]:
    """Derive every task's state from this repository alone, without building a graph."""
    from gtask.core.ids import Ref

    by_lower = {task_id.lower(): task for task_id, task in tasks.items()}

    def finished(text: str) -> bool:
        ref = Ref.parse(text)
        dep = by_lower.get(ref.id.lower()) if ref.is_local(project) else None
        return dep is not None and dep.is_finished

    return {
        task_id: own_state(task, all(finished(d) for d in task.depends_on), now)
        for task_id, task in tasks.items()
    }
