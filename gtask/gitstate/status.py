"""`gtask status`: this repository's tasks with what every other branch says about them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from gtask.core.model import Task, now_utc
from gtask.errors import Problem
from gtask.gitio.git import Git
from gtask.gitstate import branches, evidence, reopened, resolver
from gtask.gitstate.branches import BranchView, RefVersion
from gtask.store.store import Store


@dataclass
class StatusEntry:
    task_id: str
    here: Task | None
    state: str
    elsewhere: list[RefVersion] = field(default_factory=list)
    closed_by: list[evidence.Evidence] = field(default_factory=list)
    landed_by: evidence.Landing | None = None  # no closing line, but its `done` came with the work
    note: str = ""  # one concise clause: where it is taken, landed by what, how to fix unverified


@dataclass
class StatusReport:
    integration: str | None
    current: str | None
    shallow: bool
    entries: list[StatusEntry]
    problems: list[Problem]


def git_state(task: Task, state: str, view: BranchView, integration_task: Task | None,
              proofs: list[evidence.Evidence], landing: evidence.Landing | None = None) -> str:
    """Refine a done task's state with the integration branch: landed / unverified / done-unmerged."""
    if task.status == "done":
        if integration_task is not None and integration_task.status == "done":
            return "landed" if proofs or landing else "unverified"
        return "done-unmerged"
    return state


def _note(entry: StatusEntry, facts: resolver.Evidence, integration: str | None) -> str:
    """The one clause `status` prints for a task (the refs themselves are in --json)."""
    now = now_utc()
    if entry.state == "landed" and entry.closed_by:
        return f"landed: {entry.closed_by[0].commit[:12]} closes it"
    if entry.state == "landed" and entry.landed_by:
        return entry.landed_by.describe()
    if entry.state == "unverified":
        return (f"done on {integration or 'the integration branch'} but no commit there closes it: "
                f"add one whose message has a line `Closes: {entry.task_id}` "
                "(a custom squash message can drop such lines: docs/forges.md)")
    if entry.state == "done-unmerged":
        return f"done here, not yet on {integration or 'the integration branch'}"
    taken = facts.taken.get(entry.task_id.lower())
    if taken is not None and taken.task is not None:
        if taken.live_claim(now):
            return f"claimed on {taken.ref} by {taken.task.claimed_by} until {taken.task.lease_until}"
        return f"done on {taken.ref}"
    if entry.task_id.lower() in facts.handoffs:
        return f"handed off: waits on {', '.join(facts.handoffs[entry.task_id.lower()])}"
    stale = [v for v in entry.elsewhere if v.task is not None and v.task.status == "in_progress"
             and v.task.claimed_by and not v.live_claim(now)]
    if stale and stale[0].task is not None:
        return f"stale claim by {stale[0].task.claimed_by} on {stale[0].ref}"
    others = len(entry.elsewhere)
    return f"changed on {others} other ref{'s' if others > 1 else ''}" if others else ""


def repository_status(store: Store, git: Git) -> StatusReport:
    """Build the status of every task: here (work tree), on the integration branch, elsewhere."""
    loaded = store.load()
    facts = resolver.gather(store, git, loaded.tasks)
    states = resolver.resolve(store, loaded.tasks, facts)
    view = cast(BranchView, facts.view)  # a repository with commits has one
    closings = evidence.scan(git, view.integration_commit, store.project, store.use_cache, known=store.ids())
    done = [t for t in loaded.tasks.values() if t.status == "done"]
    on_integration = branches.integration_versions(store, git, view, done)
    proofs_of = {task_id: closings.of(store.project, task_id) for task_id in loaded.tasks}
    open_proofs = {task_id: proofs for task_id, task in loaded.tasks.items() if task.status not in ("done", "canceled")
                   and (proofs := proofs_of[task_id])}
    older = reopened.superseded(git, view.integration_commit, view.folder, open_proofs, store.use_cache)
    lacking = [t.id for t in done if t.id in on_integration and on_integration[t.id].status == "done"
               and not proofs_of.get(t.id, closings.of(store.project, t.id))]
    landed = evidence.landings(git, view.integration_commit, view.folder, lacking, store.use_cache)
    entries = []
    for task_id, task in sorted(loaded.tasks.items(), key=lambda item: (item[0].lower(), item[0])):
        proofs = reopened.current(proofs_of[task_id], older.get(task_id, set()))
        landing = landed.get(task_id)
        state = git_state(task, states[task_id], view, on_integration.get(task_id), proofs, landing)
        entries.append(StatusEntry(task_id, task, state, view.of(task_id), proofs, landing))
    known = {t.lower() for t in loaded.tasks} | {i.lower() for i in store.ids()}
    for key, versions in sorted(view.versions.items()):
        if key not in known and any(v.task for v in versions):
            entries.append(StatusEntry(versions[0].task_id, None, "elsewhere", versions))
    for entry in entries:
        entry.note = _note(entry, facts, view.integration)
    return StatusReport(view.integration, view.current, view.shallow, entries, loaded.problems)


def entry_json(entry: StatusEntry) -> dict[str, Any]:
    now = now_utc()
    base = entry.here.to_json(entry.state) if entry.here else {"id": entry.task_id, "state": entry.state}
    return {**base, "note": entry.note, "elsewhere": [v.to_json(now) for v in entry.elsewhere],
            "closed_by_commits": [e.to_json() for e in entry.closed_by],
            "landed_by": entry.landed_by.to_json() if entry.landed_by else None}
