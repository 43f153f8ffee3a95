"""Closing evidence: what is done is decided by the integration branch's history.

Any commit whose message has a line `Closes: <id>` (or `Fixes:` / `Resolves:`,
any case, `<project>:<id>` for another repository, several IDs separated by
commas or spaces) closes that task once it is reachable from the integration
branch. The line may stand anywhere in the message, so squash merges count;
prose such as "this closes #12" does not, because the line must start with the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from gtask.core.ids import Ref
from gtask.gitio.git import Git
from gtask.store.cache import cache_path, read_cache, write_cache

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

    def to_json(self) -> dict[str, str]:
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


def scan(git: Git, tip: str | None, project: str, use_cache: bool = True) -> EvidenceIndex:
    """Index the closing evidence reachable from `tip`, reusing a cache in the git directory."""
    if tip is None:
        return EvidenceIndex(None)
    path = cache_path(git.git_dir, f"evidence-{project}", use_cache)
    index, since = _read_cache(path, git, tip)
    if index.tip == tip:
        return index
    revs = [tip] + ([f"^{since}"] if since else [])
    records = git.log_records(*revs, "-E", "-i", f"--grep={GREP}", "--format=%H%x00%cI%x00%s%x00%B%x00")
    fresh = EvidenceIndex(tip)
    for commit, date, subject, body, *_ in records:
        fresh.add(project, body, Evidence(commit, date, subject))
    for key, entries in index.by_ref.items():  # older evidence goes after the new
        fresh.by_ref.setdefault(key, []).extend(e for e in entries if e not in fresh.by_ref[key])
    write_cache(path, {"format": CACHE_FORMAT}, {
        "tip": fresh.tip, "by_ref": {k: [[e.commit, e.date, e.subject] for e in v] for k, v in fresh.by_ref.items()},
    })
    return fresh


def _read_cache(path: Path | None, git: Git, tip: str) -> tuple[EvidenceIndex, str | None]:
    data = read_cache(path, {"format": CACHE_FORMAT})
    if data is None or not isinstance(data.get("tip"), str):
        return EvidenceIndex(None), None
    try:
        index = EvidenceIndex(data["tip"], {str(k): [Evidence(*e) for e in v] for k, v in data["by_ref"].items()})
    except (ValueError, KeyError, TypeError, AttributeError):
        return EvidenceIndex(None), None  # a cache of another shape is simply not used
    if index.tip == tip:
        return index, tip
    if index.tip and git.rev_parse(index.tip) and git.is_ancestor(index.tip, tip):
        return index, index.tip
    return EvidenceIndex(None), None
