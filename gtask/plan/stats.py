"""Aggregate the attempts of a list of tasks: totals, failures by reason, per task, agent and label.

Pure functions over `Task` values. Hand-edited attempts are read leniently:
a number that is not a number counts as 0, an attempt without an outcome as
open (unless it has an end), a missing agent as `(unknown)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gtask.core.model import Task, parse_time

N = TypeVar("N", int, float)

UNKNOWN_AGENT = "(unknown)"
UNSPECIFIED = "unspecified"
RETRIED_TOP = 10


@dataclass
class Counts:
    """Counters of a group of attempts."""

    attempts: int = 0
    finished: int = 0
    successes: int = 0
    failed: int = 0
    abandoned: int = 0
    open: int = 0
    tokens: int = 0
    cost: float = 0.0
    duration: int = 0

    @property
    def success_rate(self) -> float | None:
        """Successes among finished attempts; None before any attempt finished."""
        return self.successes / self.finished if self.finished else None

    def add(self, attempt: dict[str, Any]) -> None:
        self.attempts += 1
        outcome = attempt.get("outcome")
        if outcome is None and attempt.get("end") is None:
            self.open += 1
        else:
            self.finished += 1
        self.successes += int(outcome == "success")
        self.failed += int(outcome == "failed")
        self.abandoned += int(outcome == "abandoned")
        self.tokens += _number(attempt.get("tokens"), int)
        self.cost += _number(attempt.get("cost"), float)
        self.duration += _duration(attempt)

    def to_json(self) -> dict[str, Any]:
        rate = self.success_rate
        return {
            "attempts": self.attempts, "finished": self.finished, "successes": self.successes,
            "failed": self.failed, "abandoned": self.abandoned, "open": self.open,
            "success_rate": None if rate is None else round(rate, 6),
            "tokens": self.tokens, "cost": round(self.cost, 6), "duration": self.duration,
        }


MAX_AMOUNT = 1e15  # US dollars in one attempt: more is a typo or an attack, and a million of them still sum finitely


def _number(value: Any, kind: type[N]) -> N:
    """A count or an amount as written, else 0 (text, negative, not finite, absurdly large)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return kind(0)
    try:
        number = kind(value)
    except (OverflowError, ValueError):  # int(inf), float(10**400)
        return kind(0)
    if isinstance(number, float) and not 0 <= number <= MAX_AMOUNT:
        return kind(0)  # not finite, or so large that a sum of them would overflow to inf (not JSON)
    return number


def _duration(attempt: dict[str, Any]) -> int:
    """The recorded duration, else end minus start when both are times, else 0."""
    if attempt.get("duration") is not None:
        return _number(attempt["duration"], int)
    try:
        seconds = (parse_time(str(attempt["end"])) - parse_time(str(attempt["start"]))).total_seconds()
    except (KeyError, ValueError, TypeError):
        return 0
    return max(0, int(seconds))


@dataclass
class Report:
    """Attempts aggregated: overall, by failure reason, by task, agent and label, and the most retried tasks."""

    totals: Counts = field(default_factory=Counts)
    failures_by_reason: dict[str, int] = field(default_factory=dict)
    tasks: list[tuple[Task, Counts]] = field(default_factory=list)
    agents: dict[str, Counts] = field(default_factory=dict)
    labels: dict[str, Counts] = field(default_factory=dict)
    projects: int = 0  # how many projects the tasks come from (task refs show the project when > 1)

    @property
    def retried_most(self) -> list[tuple[Task, Counts]]:
        """Tasks with more than one attempt, most attempts first, at most RETRIED_TOP."""
        retried = [(task, counts) for task, counts in self.tasks if counts.attempts > 1]
        retried.sort(key=lambda row: (-row[1].attempts, -row[1].failed - row[1].abandoned, _ref(row[0])))
        return retried[:RETRIED_TOP]

    def to_json(self) -> dict[str, Any]:
        def task_row(task: Task, counts: Counts) -> dict[str, Any]:
            return {"project": task.project, "task": task.id, "title": task.title, **counts.to_json()}

        return {
            "totals": self.totals.to_json(),
            "failures_by_reason": dict(self.failures_by_reason),
            "tasks": [task_row(t, c) for t, c in self.tasks],
            "agents": [{"agent": name, **c.to_json()} for name, c in self.agents.items()],
            "labels": [{"label": name, **c.to_json()} for name, c in self.labels.items()],
            "retried_most": [task_row(t, c) for t, c in self.retried_most],
        }


def _ref(task: Task) -> str:
    return f"{task.project}:{task.id}"


def build(tasks: Iterable[Task], label: str | None = None, agent: str | None = None) -> Report:
    """Aggregate the attempts of `tasks`; only tasks with `label`, only attempts by `agent`, when given."""
    report = Report()
    reasons: dict[str, int] = {}
    projects = set()
    for task in tasks:
        if label is not None and label not in task.labels:
            continue
        attempts = [a for a in task.attempts if isinstance(a, dict)]
        if agent is not None:
            attempts = [a for a in attempts if a.get("agent") == agent]
        if not attempts:
            continue
        projects.add(task.project)
        counts = Counts()
        for attempt in attempts:
            counts.add(attempt)
            report.totals.add(attempt)
            who = attempt.get("agent")
            report.agents.setdefault(str(who) if who is not None else UNKNOWN_AGENT, Counts()).add(attempt)
            for name in dict.fromkeys(task.labels):
                report.labels.setdefault(name, Counts()).add(attempt)
            if attempt.get("outcome") in ("failed", "abandoned"):
                reason = attempt.get("reason")
                key = str(reason) if reason is not None else UNSPECIFIED
                reasons[key] = reasons.get(key, 0) + 1
        report.tasks.append((task, counts))
    report.projects = len(projects)
    report.tasks.sort(key=lambda row: (-row[1].attempts, _ref(row[0])))
    report.agents = _sorted(report.agents)
    report.labels = _sorted(report.labels)
    report.failures_by_reason = dict(sorted(reasons.items(), key=lambda item: (-item[1], item[0])))
    return report


def _sorted(groups: dict[str, Counts]) -> dict[str, Counts]:
    return dict(sorted(groups.items(), key=lambda item: (-item[1].attempts, item[0])))
