"""`reconcile`: on the integration branch, mark tasks with closing evidence done, list done ones without."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gtask.core.keys import CLAIM_KEYS
from gtask.core.writer import REMOVE
from gtask.errors import UsageError
from gtask.gitio.git import Git
from gtask.gitstate import reopened
from gtask.gitstate.branches import integration_branch
from gtask.gitstate.evidence import Evidence, Landing, landings, scan
from gtask.protocol.session import Session
from gtask.store.locking import locked


@dataclass
class ReconcileReport:
    """What reconcile did (or would do): tasks closed by evidence, closed_by filled in, unverified ones."""

    closed: list[tuple[str, Evidence]] = field(default_factory=list)
    filled: list[tuple[str, Evidence]] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    landed: list[tuple[str, Landing]] = field(default_factory=list)  # no closing line; `done` came with the work
    commit: str | None = None
    ignored: list[tuple[str, str, str]] = field(default_factory=list)  # commit, closing line, why it closes nothing

    def to_json(self) -> dict[str, Any]:
        return {
            "closed": [{"id": i, **e.to_json()} for i, e in self.closed],
            "closed_by_filled": [{"id": i, **e.to_json()} for i, e in self.filled],
            "unverified": self.unverified,
            "landed_by_work": [{"id": i, **landing.to_json()} for i, landing in self.landed],
            "commit": self.commit,
            "ignored_lines": [{"commit": c, "line": line, "why": why} for c, line, why in self.ignored],
        }


def _landed_by_work(git: Git, head: str | None, folder: str, report: ReconcileReport, use_cache: bool) -> None:
    """Take out of `unverified` the tasks whose `done` came in a squash or merge that brought the work (design §2)."""
    found = landings(git, head, folder, report.unverified, use_cache)
    report.landed = sorted(found.items())
    report.unverified = [task_id for task_id in report.unverified if task_id not in found]


@locked
def reconcile(session: Session, dry_run: bool = False) -> ReconcileReport:
    """On the integration branch: mark tasks with closing evidence done, list done ones without."""
    store, git = session.store, session.git
    integration = integration_branch(store, git)
    current = git.current_branch()
    if current != integration:
        raise UsageError(f"reconcile runs on the integration branch {integration!r}; you are on "
                         f"{current or 'a detached HEAD'} (git switch {integration})")
    # a closing line that names a task that does not exist closes nothing
    known, head = store.ids(), git.head_commit()
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    index = scan(git, head, store.project, store.use_cache, known=known)
    report = ReconcileReport(ignored=index.ignored(known, store.project))
    tasks = store.load().tasks
    proofs_of = {task_id: index.of(store.project, task_id) for task_id in tasks}
    open_proofs = {task_id: proofs for task_id, task in tasks.items() if task.status not in ("done", "canceled")
                   and (proofs := proofs_of[task_id])}
    older = reopened.superseded(git, head, folder, open_proofs, store.use_cache)
    changes: dict[str, dict[str, Any]] = {}
    for task_id, task in sorted(tasks.items()):
        proofs = proofs_of[task_id]
        if task_id in older:
            proofs = reopened.current(proofs, older[task_id])  # a reopening after them outlives them
        if proofs and task.status not in ("done", "canceled"):
            proof = proofs[0]
            report.closed.append((task_id, proof))
            changes[task_id] = {"status": "done", "closed_at": task.closed_at or proof.date,
                                "closed_by": proof.commit, **{k: REMOVE for k in CLAIM_KEYS}}
        elif proofs and task.status == "done" and not task.closed_by:
            report.filled.append((task_id, proofs[0]))
            changes[task_id] = {"closed_by": proofs[0].commit, "closed_at": task.closed_at or proofs[0].date}
        elif task.status == "done" and not proofs:
            report.unverified.append(task_id)
    _landed_by_work(git, head, folder, report, store.use_cache)
    for task_id, landing in report.landed:  # the squash or merge is its evidence: closed_by names it
        if not tasks[task_id].closed_by:
            report.filled.append((task_id, Evidence(landing.commit, landing.date, landing.subject)))
            changes[task_id] = {"closed_by": landing.commit, "closed_at": tasks[task_id].closed_at or landing.date}
    report.filled.sort(key=lambda item: item[0])
    if dry_run or not changes:
        return report
    for task_id in changes:
        session.ensure_clean(task_id)
    ids = sorted(changes)

    def change() -> list[str]:
        for task_id in ids:
            store.update(task_id, changes[task_id])
        return ids

    report.commit = session.change_and_commit("reconcile", ", ".join(ids), change, touched=ids).commit
    return report
