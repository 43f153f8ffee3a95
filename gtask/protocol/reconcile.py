"""`reconcile`: on the integration branch, mark tasks with closing evidence done, list done ones without."""

from __future__ import annotations

from dataclasses import dataclass, field

from gtask.core.keys import CLAIM_KEYS
from gtask.core.writer import REMOVE
from gtask.errors import UsageError
from gtask.gitstate.branches import integration_branch
from gtask.gitstate.evidence import Evidence, scan
from gtask.protocol.session import Session
from gtask.store.locking import locked


@dataclass
class ReconcileReport:
    """What reconcile did (or would do): tasks closed by evidence, closed_by filled in, unverified ones."""

    closed: list[tuple[str, Evidence]] = field(default_factory=list)
    filled: list[tuple[str, Evidence]] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    commit: str | None = None

    def to_json(self) -> dict:
        return {
            "closed": [{"id": i, **e.to_json()} for i, e in self.closed],
            "closed_by_filled": [{"id": i, **e.to_json()} for i, e in self.filled],
            "unverified": self.unverified,
            "commit": self.commit,
        }


@locked
def reconcile(session: Session, dry_run: bool = False) -> ReconcileReport:
    """On the integration branch: mark tasks with closing evidence done, list done ones without."""
    store, git = session.store, session.git
    integration = integration_branch(store, git)
    current = git.current_branch()
    if current != integration:
        raise UsageError(f"reconcile runs on the integration branch {integration!r}; you are on "
                         f"{current or 'a detached HEAD'} (git switch {integration})")
    index = scan(git, git.head_commit(), store.project, store.use_cache)
    report = ReconcileReport()
    changes: dict[str, dict] = {}
    for task_id, task in sorted(store.load().tasks.items()):
        proofs = index.of(store.project, task_id)
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
