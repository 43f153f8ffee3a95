"""The morning report: what happened in a repository since a revision or a time, for a person who was away.

Built from the protocol commits on every local and remote-tracking branch (gitstate.events), the task
files (attempts, states) and the integration branch's config (approval rules).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from gtask.core.config import parse_duration
from gtask.core.model import Task, format_time, now_utc, parse_time
from gtask.errors import NotFound, UsageError
from gtask.gitio.git import Git
from gtask.gitstate import events as event_log
from gtask.gitstate.branches import integration_commit
from gtask.gitstate.rules import integration_rules, proposers, rule_for
from gtask.plan import stats
from gtask.plan.planning import Plan
from gtask.store.store import Store

READY_TOP = 10
_DURATION = re.compile(r"^\d+[dhms](\d+[hms])*$")


@dataclass
class RepoReport:
    """What happened in one repository since `since`."""

    repo: str
    since: str  # as given
    since_time: str | None
    landed: list[dict[str, Any]] = field(default_factory=list)  # task, title, agents, commits
    unmerged: list[dict[str, Any]] = field(default_factory=list)  # completed on a branch, not on integration
    attempts: stats.Report = field(default_factory=stats.Report)
    handoffs: list[dict[str, Any]] = field(default_factory=list)
    proposals: list[dict[str, Any]] = field(default_factory=list)
    gates: list[dict[str, Any]] = field(default_factory=list)
    stale: list[dict[str, Any]] = field(default_factory=list)
    ready: list[dict[str, Any]] = field(default_factory=list)
    ready_by_lane: dict[str, int] = field(default_factory=dict)

    def task_ids(self) -> set[str]:
        """Every task the report names (for checks and tests)."""
        rows = self.landed + self.unmerged + self.proposals + self.stale + self.ready
        found = {row["task"] for row in rows}
        found |= {row["task"] for row in self.handoffs} | {row["needs"] for row in self.handoffs if row["needs"]}
        return found | {task.id for task, _ in self.attempts.tasks}

    def to_json(self) -> dict[str, Any]:
        return {"repo": self.repo, "since": self.since, "since_time": self.since_time, "landed": self.landed,
                "completed_not_merged": self.unmerged, "attempts": self.attempts.to_json(),
                "handoffs": self.handoffs, "proposals": self.proposals, "gates": self.gates,
                "stale_leases": self.stale, "ready": self.ready, "ready_by_lane": self.ready_by_lane}


def since_range(git: Git, since: str, now: datetime | None = None) -> tuple[str | None, datetime | None]:
    """`since` as the revision to exclude (None: the whole history) and the time it stands for."""
    if _DURATION.match(since):
        try:
            seconds = parse_duration(since)
        except ValueError as exc:
            raise UsageError(f"--since: {exc}") from None
        start = (now or now_utc()) - timedelta(seconds=seconds)
        rev = git.out("rev-list", "-1", f"--before={start.isoformat()}", "--branches", "--remotes", check=False)
        return (rev or None), start
    commit = git.rev_parse(f"{since}^{{commit}}")
    if commit is None:
        raise NotFound(f"--since {since!r} is neither a duration (12h, 1d) nor a commit of this repository")
    return commit, git.commit_time(commit)


def build(store: Store, git: Git, since: str, repo_name: str, now: datetime | None = None) -> RepoReport:
    """Gather the report of one repository."""
    now = now or now_utc()
    start_rev, start_time = since_range(git, since, now)
    report = RepoReport(repo_name, since, format_time(start_time) if start_time else None)
    integ = integration_commit(store, git)
    exclude = [f"^{start_rev}"] if start_rev else []
    records = git.log_records("--format=%H%x00%cI%x00%an%x00%B", "--branches", "--remotes", *exclude)
    if start_time is not None and start_rev is None:  # nothing older than the start: the whole history
        records = [r for r in records if _after(r[1], start_time)]
    merged = set(git.out("rev-list", integ, *exclude, check=False).split()) if integ else set()
    plan = Plan.of(store, git)
    known = {task.id.lower() for task in plan.graph.tasks.values() if task.project == store.project}
    found = [e for e in (event_log._event(r[0].strip(), r[1], r[2], r[3], known=known, project=store.project)
                         for r in records) if e is not None]
    found.reverse()  # oldest first
    tasks = {task.id.lower(): task for task in plan.graph.tasks.values() if task.project == store.project}
    _completions(report, found, merged, tasks)
    for event in found:
        if event.action == "handoff":
            needs = event.details.get("needs")
            report.handoffs.append({"task": event.tasks[0] if event.tasks else "?", "agent": event.agent,
                                    "needs": needs, "commit": event.commit, "date": event.date,
                                    "filed": bool(needs) and needs in event.tasks,
                                    "needs_status": tasks[needs.lower()].status if needs and needs.lower() in tasks
                                    else None})
        elif event.action == "gate":
            report.gates.append({"gate": event.details.get("gate"), "result": event.details.get("result"),
                                 "agent": event.agent, "commit": event.commit, "date": event.date})
    report.attempts = stats.build(_recent_attempts(list(tasks.values()), start_time))
    _proposals(report, store, git, list(tasks.values()), start_time)
    for node, task in sorted(plan.graph.tasks.items()):
        if task.project == store.project and plan.graph.state(node) == "stale":
            report.stale.append({"task": task.id, "title": task.title, "claimed_by": task.claimed_by,
                                 "lease_until": task.lease_until})
    ranked = plan.ranked_ready()
    for task, _ in ranked[:READY_TOP]:
        report.ready.append({"task": task.id, "title": task.title, "priority": task.priority, "lane": task.lane,
                             "agents_may_take": not task.lane or task.lane in store.config.agent_lanes})
    for task, _ in ranked:
        lane = task.lane or "(no lane)"
        report.ready_by_lane[lane] = report.ready_by_lane.get(lane, 0) + 1
    return report


def _after(date: str, start: datetime) -> bool:
    try:
        return datetime.fromisoformat(date) >= start
    except ValueError:
        return True


def _completions(report: RepoReport, found: list[event_log.Event], merged: set[str], tasks: dict[str, Task]) -> None:
    """Closing events by task: landed when a closing commit is on the integration branch, else not merged."""
    by_task: dict[str, dict[str, Any]] = {}
    for event in found:
        if event.action not in ("done", "closes"):
            continue
        for task_id in event.tasks:
            row = by_task.setdefault(task_id, {"task": task_id, "agents": [], "commits": [], "merged": False})
            row["title"] = tasks[task_id.lower()].title if task_id.lower() in tasks else None
            if event.agent and event.agent not in row["agents"]:
                row["agents"].append(event.agent)
            row["commits"].append(event.commit)
            row["merged"] = row["merged"] or event.commit in merged
    for _, row in sorted(by_task.items()):
        merged_row = row.pop("merged")
        (report.landed if merged_row else report.unmerged).append(row)


def _recent_attempts(tasks: list[Task], start: datetime | None) -> list[Task]:
    """The tasks with only their attempts that started after `start` (all of them without a start)."""
    if start is None:
        return tasks
    recent = []
    for task in tasks:
        kept = [a for a in task.attempts if isinstance(a, dict) and _started_after(a, start)]
        if kept:
            recent.append(replace(task, attempts=kept))
    return recent


def _started_after(attempt: dict[str, Any], start: datetime) -> bool:
    stamp = attempt.get("start") or attempt.get("end")
    try:
        when = parse_time(str(stamp)) if stamp is not None else None
    except ValueError:
        when = None
    return when is None or when >= start


def _proposals(report: RepoReport, store: Store, git: Git, tasks: list[Task], start: datetime | None) -> None:
    rules = integration_rules(store, git)
    who = proposers(git)
    for task in sorted(tasks, key=lambda t: t.id):
        if task.status != "proposed":
            continue
        filer = who.get(task.id.lower())
        rule = rule_for(rules, filer.agent if filer else None, task)
        new = filer is None or start is None or _after(filer.date, start)
        report.proposals.append({"task": task.id, "title": task.title, "agent": filer.agent if filer else None,
                                 "labels": list(task.labels), "new": new, "rule": rule.name if rule else None})
