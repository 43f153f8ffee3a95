"""`gtask status`: this repository's tasks with what every other branch says about them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gtask.core.model import Task, now_utc
from gtask.errors import Problem
from gtask.gitio.git import Git
from gtask.gitstate import branches, evidence
from gtask.gitstate.branches import BranchView, RefVersion
from gtask.store.store import Store


@dataclass
class StatusEntry:
    task_id: str
    here: Task | None
    state: str
    elsewhere: list[RefVersion] = field(default_factory=list)
    closed_by: list[evidence.Evidence] = field(default_factory=list)


@dataclass
class StatusReport:
    integration: str | None
    current: str | None
    shallow: bool
    entries: list[StatusEntry]
    problems: list[Problem]


def git_state(task: Task, state: str, view: BranchView, integration_task: Task | None,
              proofs: list[evidence.Evidence]) -> str:
    """Refine a task's state with git: landed / unverified / done-unmerged, claims on other branches."""
    now = now_utc()
    if task.status == "done":
        if integration_task is not None and integration_task.status == "done":
            return "landed" if proofs else "unverified"
        return "done-unmerged"
    if state in ("ready", "waiting") and view.live_claims(task.id, now):
        return "claimed"
    return state


def repository_status(store: Store, git: Git) -> StatusReport:
    """Build the status of every task: here (work tree), on the integration branch, elsewhere."""
    loaded = store.load()
    states = store.states(loaded.tasks)
    view = branches.scan(store, git)
    closings = evidence.scan(git, view.integration_commit, store.project, store.use_cache)
    done = [t for t in loaded.tasks.values() if t.status == "done"]
    on_integration = branches.integration_versions(store, git, view, done)
    entries = []
    for task_id, task in sorted(loaded.tasks.items()):
        proofs = closings.of(store.project, task_id)
        state = git_state(task, states[task_id], view, on_integration.get(task_id), proofs)
        entries.append(StatusEntry(task_id, task, state, view.of(task_id), proofs))
    known = {t.lower() for t in loaded.tasks} | {i.lower() for i in store.ids()}
    for key, versions in sorted(view.versions.items()):
        if key not in known and any(v.task for v in versions):
            entries.append(StatusEntry(versions[0].task_id, None, "elsewhere", versions))
    return StatusReport(view.integration, view.current, view.shallow, entries, loaded.problems)


def entry_json(entry: StatusEntry) -> dict[str, Any]:
    now = now_utc()
    base = entry.here.to_json(entry.state) if entry.here else {"id": entry.task_id, "state": entry.state}
    return {**base, "elsewhere": [v.to_json(now) for v in entry.elsewhere],
            "closed_by_commits": [e.to_json() for e in entry.closed_by]}
