"""`reconcile`: on the integration branch, mark tasks with closing evidence done, list done ones without."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gtask.core.keys import CLAIM_KEYS
from gtask.core.writer import REMOVE
from gtask.errors import UsageError
from gtask.gitio.git import Git
from gtask.gitstate.branches import integration_branch
from gtask.gitstate.evidence import GREP, Evidence, Landing, ignored_lines, landings, scan
from gtask.protocol.session import Session
from gtask.store.locking import locked
from gtask.store.store import Store


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


def _since_reopened(git: Git, last: str | None, proofs: list[Evidence]) -> list[Evidence]:
    """The evidence newer than the task file's last change: a reopening (status set back, a revert) outlives older."""
    return [p for p in proofs if not last or p.commit == last or not git.is_ancestor(p.commit, last)]


def _last_changes(store: Store, git: Git) -> dict[str, str]:
    """The newest commit that changed each task file, by file name: one pass over the history."""
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    last: dict[str, str] = {}
    commit = ""
    for line in git.out("log", "--format=%x01%H", "--name-only", "HEAD", "--", folder, check=False).splitlines():
        if line.startswith("\x01"):
            commit = line[1:]
        elif line:
            last.setdefault(line.rsplit("/", 1)[-1], commit)
    return last


def _ignored(git: Git, ids: list[str], project: str) -> list[tuple[str, str, str]]:
    """The closing lines in HEAD's history that close nothing (prose, or tasks that do not exist), newest first."""
    known = {i.lower() for i in ids}
    found = []
    for commit, body, *_ in git.log_records("HEAD", "-E", "-i", f"--grep={GREP}", "--format=%H%x00%B%x00"):
        found += [(commit.strip(), line, why) for line, why in ignored_lines(body, known, project)]
    return found


def _landed_by_work(store: Store, git: Git, report: ReconcileReport) -> None:
    """Take out of `unverified` the tasks whose `done` came in a squash or merge that brought the work (design §2)."""
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    found = landings(git, git.head_commit(), folder, report.unverified)
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
    known = store.ids()
    index = scan(git, git.head_commit(), store.project, store.use_cache, known=known)
    report = ReconcileReport()
    report.ignored = _ignored(git, known, store.project)
    changes: dict[str, dict[str, Any]] = {}
    last_changes: dict[str, str] | None = None
    for task_id, task in sorted(store.load().tasks.items()):
        proofs = index.of(store.project, task_id)
        if proofs and task.status not in ("done", "canceled"):
            last_changes = _last_changes(store, git) if last_changes is None else last_changes
            proofs = _since_reopened(git, last_changes.get(f"{task_id}.md"), proofs)
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
    _landed_by_work(store, git, report)
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
