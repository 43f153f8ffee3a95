"""Closing evidence and `reconcile`: what is done is decided by the integration branch's history.

Any commit whose message has a line `Closes: <id>` (or `Fixes:` / `Resolves:`,
any case, `<project>:<id>` for another repository, several IDs separated by
commas or spaces) closes that task once it is reachable from the integration
branch. The line may stand anywhere in the message, so squash merges count;
prose such as "this closes #12" does not, because the line must start with the key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from .errors import UsageError
from .gitops import Git
from .ids import Ref
from .locking import locked

if TYPE_CHECKING:
    from .protocol import Session

_CLOSING_LINE = re.compile(r"^[ \t]*(?:closes|fixes|resolves)[ \t]*:[ \t]*(.+?)[ \t]*$", re.I | re.M)
GREP = "^[[:space:]]*(closes|fixes|resolves)[[:space:]]*:"
CACHE_FORMAT = 1


def closed_refs(message: str) -> list[Ref]:
    """Return the task references that a commit message closes."""
    refs = []
    for value in _CLOSING_LINE.findall(message):
        for token in re.split(r"[,\s]+", value):
            try:
                refs.append(Ref.parse(token))
            except ValueError:
                continue  # "#12", prose after the key: not a task reference
    return refs


@dataclass(frozen=True)
class Evidence:
    """A commit that closes a task."""

    commit: str
    date: str
    subject: str

    def to_json(self) -> dict:
        return {"commit": self.commit, "date": self.date, "subject": self.subject}


@dataclass
class EvidenceIndex:
    """Closing commits reachable from one tip, newest first, keyed by `project:id` (lower case)."""

    tip: str | None
    by_ref: dict[str, list[Evidence]] = field(default_factory=dict)

    def of(self, project: str, task_id: str) -> list[Evidence]:
        return self.by_ref.get(f"{project}:{task_id}".lower(), [])

    def add(self, project: str, message: str, evidence: Evidence) -> None:
        for ref in closed_refs(message):
            key = f"{ref.project or project}:{ref.id}".lower()
            entries = self.by_ref.setdefault(key, [])
            if evidence not in entries:
                entries.append(evidence)


def scan(git: Git, tip: str | None, project: str) -> EvidenceIndex:
    """Index the closing evidence reachable from `tip`, reusing a cache in the git directory."""
    if tip is None:
        return EvidenceIndex(None)
    cache_path = git.git_dir / "gtask" / f"evidence-{project}.json"
    index, since = _read_cache(cache_path, git, tip)
    if index.tip == tip:
        return index
    revs = [tip] + ([f"^{since}"] if since else [])
    records = git.log_records(*revs, "-E", "-i", f"--grep={GREP}", "--format=%H%x00%cI%x00%s%x00%B%x00")
    fresh = EvidenceIndex(tip)
    for commit, date, subject, body, *_ in records:
        fresh.add(project, body, Evidence(commit, date, subject))
    for key, entries in index.by_ref.items():  # older evidence goes after the new
        fresh.by_ref.setdefault(key, []).extend(e for e in entries if e not in fresh.by_ref[key])
    _write_cache(cache_path, fresh)
    return fresh


def _read_cache(path, git: Git, tip: str) -> tuple[EvidenceIndex, str | None]:
    try:
        data = json.loads(path.read_text())
        if data["format"] != CACHE_FORMAT or not isinstance(data["tip"], str):
            return EvidenceIndex(None), None
        index = EvidenceIndex(data["tip"], {str(k): [Evidence(*e) for e in v] for k, v in data["by_ref"].items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return EvidenceIndex(None), None  # a cache of another shape is simply not used
    if index.tip == tip:
        return index, tip
    if index.tip and git.rev_parse(index.tip) and git.is_ancestor(index.tip, tip):
        return index, index.tip
    return EvidenceIndex(None), None


def _write_cache(path, index: EvidenceIndex) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps({
            "format": CACHE_FORMAT, "tip": index.tip,
            "by_ref": {k: [[e.commit, e.date, e.subject] for e in v] for k, v in index.by_ref.items()},
        }))
        temp.replace(path)
    except OSError:
        pass  # the cache is only an accelerator


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
def reconcile(session: "Session", dry_run: bool = False) -> ReconcileReport:
    """On the integration branch: mark tasks with closing evidence done, list done ones without."""
    from .branches import integration_branch
    from .model import CLAIM_KEYS
    from .writer import REMOVE

    store, git = session.store, session.git
    integration = integration_branch(store, git)
    current = git.current_branch()
    if current != integration:
        raise UsageError(f"reconcile runs on the integration branch {integration!r}; you are on "
                         f"{current or 'a detached HEAD'} (git switch {integration})")
    index = scan(git, git.head_commit(), store.project)
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
