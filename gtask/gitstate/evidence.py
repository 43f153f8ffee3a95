"""Closing evidence: what is done is decided by the integration branch's history.

Any commit whose message has a line `Closes: <id>` (or `Fixes:` / `Resolves:`,
any case, `<project>:<id>` for another repository, several IDs separated by
commas or spaces) closes that task once it is reachable from the integration
branch. The line may stand anywhere in the message, so squash merges count;
prose such as "this closes #12" does not, because the line must start with the key.

A line counts only when everything after the colon is a list of task
references, and (where the caller knows the store's IDs) every local one
exists: "Fixes: crash in the parser, see docs" closes nothing. `ignored_lines`
says which lines were passed over and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from gtask.core import taskfile
from gtask.core.ids import Ref
from gtask.errors import GtaskError
from gtask.gitio.git import ZERO, Git
from gtask.gitio.gitfiles import history_shape
from gtask.gitio.history import Change, changes_outside, first_parent_changes, instant, layers
from gtask.store.cache import cache_path, read_cache, write_cache

_CLOSING_LINE = re.compile(r"^[ \t]*(?:closes|fixes|resolves)[ \t]*:[ \t]*(.+?)[ \t]*$", re.I | re.M)
GREP = "^[[:space:]]*(closes|fixes|resolves)[[:space:]]*:"
CACHE_FORMAT = 4  # 4: lines carry their commit's date; the history's shape is part of the key
LANDINGS_FORMAT = 2


def _line_refs(value: str) -> list[Ref] | None:
    """The references of one closing line, or None when anything on it is not a task reference."""
    refs = []
    for token in re.split(r"[,\s]+", value.strip()):
        try:
            refs.append(Ref.parse(token))
        except ValueError:
            return None  # "#12", "crash." or other prose: the line is not a list of references
    return refs


def closing_lines(message: str) -> list[tuple[str, list[Ref] | None]]:
    """Each closing line's text after the colon, with its references (None: not a list of references)."""
    return [(value, _line_refs(value)) for value in _CLOSING_LINE.findall(message)]


def closed_refs(message: str, known: set[str] | None = None, project: str | None = None) -> list[Ref]:
    """Return the task references that a commit message closes, each once.

    With `known` (lower-case IDs of `project`), a line counts only when every local reference on it exists.
    """
    refs: dict[str, Ref] = {}
    for _, found in closing_lines(message):
        if found is None:
            continue
        if known is not None and any(r.is_local(project or "") and r.id.lower() not in known for r in found):
            continue  # "Fixes: crash in the parser": words that happen to look like IDs
        for ref in found:
            refs.setdefault(str(ref).lower(), ref)
    return list(refs.values())


def ignored_lines(message: str, known: set[str], project: str) -> list[tuple[str, str]]:
    """The closing lines that close nothing, each with why (for `reconcile`)."""
    return [(value, why) for value, found in closing_lines(message)
            if (why := _why_ignored(found, known, project)) is not None]


def _why_ignored(found: list[Ref] | None, known: set[str], project: str) -> str | None:
    if found is None:
        return "not a list of task references"
    missing = [str(r) for r in found if r.is_local(project) and r.id.lower() not in known]
    return f"no task {', '.join(missing)}" if missing else None


@dataclass(frozen=True)
class Evidence:
    """A commit that closes a task."""

    commit: str
    date: str
    subject: str
    line: tuple[str, ...] = ()  # every `project:id` (lower case) its closing line names: all must exist

    def to_json(self) -> dict[str, str]:
        return {"commit": self.commit, "date": self.date, "subject": self.subject}


def newest_first(date: str, commit: str, depth: dict[str, int]) -> tuple[float, int, str]:
    """The one order of closing commits, whichever way they were read: newest committer date (the instant), in one
    second a descendant before its ancestors (`depth`, from `layers`), then commit ID. A full `git log` and a cache
    read on from an older tip both end in it, so `reconcile` takes the same first one."""
    return -instant(date), depth.get(commit, 0), commit


@dataclass
class EvidenceIndex:
    """Closing commits reachable from one tip, newest first (`newest_first`), keyed by `project:id` (lower case)."""

    tip: str | None
    by_ref: dict[str, list[Evidence]] = field(default_factory=dict)
    known: set[str] | None = None  # lower-case `project:id` of the tasks that exist; None: not checked
    lines: list[tuple[str, str, str]] = field(default_factory=list)  # (commit, date, text after the colon)
    depth: dict[str, int] = field(default_factory=dict)  # `layers` among the closing commits of one second (else 0)

    def of(self, project: str, task_id: str) -> list[Evidence]:
        found = self.by_ref.get(f"{project}:{task_id}".lower(), [])
        if self.known is None:
            return found
        prefix = f"{project}:".lower()
        return [e for e in found if all(k in self.known for k in e.line if k.startswith(prefix))]

    def ignored(self, known: list[str] | set[str], project: str) -> list[tuple[str, str, str]]:
        """The closing lines that close nothing (prose, or tasks that do not exist): commit, line, why; newest first."""
        ids = {task_id.lower() for task_id in known}
        return [(commit, value, why) for commit, _, value in self.lines
                if (why := _why_ignored(_line_refs(value), ids, project)) is not None]

    def add(self, project: str, message: str, evidence: Evidence) -> None:
        for value, found in closing_lines(message):
            self.lines.append((evidence.commit, evidence.date, value))
            if found is None:
                continue
            keys = tuple(f"{ref.project or project}:{ref.id}".lower() for ref in found)
            for key in keys:
                entries = self.by_ref.setdefault(key, [])
                proof = Evidence(evidence.commit, evidence.date, evidence.subject, keys)
                if all(e.commit != proof.commit for e in entries):
                    entries.append(proof)

    def merge(self, git: Git, older: EvidenceIndex) -> None:
        """Add the evidence of an older tip's index (other commits than these), then put all in the one order.

        The commits of a second that gained one are layered again (`layers`: two git processes), so the order
        is that of a full read; a second without new commits keeps its layers."""
        fresh = {commit for commit, _, _ in self.lines}
        for key, entries in older.by_ref.items():
            self.by_ref.setdefault(key, []).extend(e for e in entries if e not in self.by_ref[key])
        self.lines += older.lines
        self.depth = dict(older.depth)
        second = {commit: int(instant(date)) for commit, date, _ in self.lines}
        touched = {second[commit] for commit in fresh}
        groups: dict[int, list[str]] = {}
        for commit, when in second.items():
            if when in touched:
                groups.setdefault(when, []).append(commit)
        self.depth.update(layers(git, list(groups.values())))
        self.depth = {commit: depth for commit, depth in self.depth.items() if depth}
        for entries in self.by_ref.values():
            entries.sort(key=lambda e: newest_first(e.date, e.commit, self.depth))
        self.lines.sort(key=lambda line: newest_first(line[1], line[0], self.depth))  # stable: message order kept


def scan(git: Git, tip: str | None, project: str, use_cache: bool = True,
         known: list[str] | set[str] | None = None) -> EvidenceIndex:
    """Index the closing evidence reachable from `tip`, reusing a cache in the git directory.

    With `known` (the store's IDs), a line naming a local task that does not exist closes nothing.
    """
    index = _scan(git, tip, project, use_cache)
    if known is not None:
        index.known = {f"{project}:{task_id}".lower() for task_id in known}
    return index


def _scan(git: Git, tip: str | None, project: str, use_cache: bool) -> EvidenceIndex:
    if tip is None:
        return EvidenceIndex(None)
    path = cache_path(git.git_dir, f"evidence-{project}", use_cache)
    stamp = {"format": CACHE_FORMAT, "shape": history_shape(git.git_dir) if path else ""}
    index, since = _read_cache(path, stamp, git, tip)
    if index.tip == tip:
        return index
    revs = [tip] + ([f"^{since}"] if since else [])
    records = git.log_records(*revs, "-E", "-i", f"--grep={GREP}", "--format=%H%x00%cI%x00%s%x00%B%x00")
    fresh = EvidenceIndex(tip)
    for commit, date, subject, body, *_ in records:
        fresh.add(project, body, Evidence(commit, date, subject))
    fresh.merge(git, index)  # a cold read merges an empty index: the same order either way
    write_cache(path, stamp, {
        "tip": fresh.tip, "lines": [list(line) for line in fresh.lines], "depth": fresh.depth,
        "by_ref": {k: [[e.commit, e.date, e.subject, list(e.line)] for e in v] for k, v in fresh.by_ref.items()},
    })
    return fresh


def _read_cache(path: Path | None, stamp: dict[str, object], git: Git, tip: str) -> tuple[EvidenceIndex, str | None]:
    """The cached index and the tip to read on from; nothing when it was made of another shape of history
    (a shallow boundary moved, a graft or replace ref: the same tips reach other commits)."""
    data = read_cache(path, stamp)
    if data is None or not isinstance(data.get("tip"), str):
        return EvidenceIndex(None), None
    try:
        index = EvidenceIndex(data["tip"], {str(k): [Evidence(e[0], e[1], e[2], tuple(e[3])) for e in v]
                                            for k, v in data["by_ref"].items()},
                              lines=[(str(commit), str(date), str(value)) for commit, date, value in data["lines"]],
                              depth={str(commit): int(depth) for commit, depth in data["depth"].items()})
    except (ValueError, KeyError, TypeError, AttributeError):
        return EvidenceIndex(None), None  # a cache of another shape is simply not used
    if index.tip == tip:
        return index, tip
    if index.tip and git.rev_parse(index.tip) and git.is_ancestor(index.tip, tip):
        return index, index.tip
    return EvidenceIndex(None), None


# -- landed without a closing line: the commit that brought the work in (design §2, `landed`) ----------


@dataclass(frozen=True)
class Landing:
    """The integration-branch commit in which a task's file became `done` and that brought work in."""

    commit: str
    kind: str  # "merge" (a merge commit) or "squash" (it also changed files outside the task folder)
    date: str
    subject: str

    def to_json(self) -> dict[str, str]:
        return {"commit": self.commit, "kind": self.kind, "date": self.date, "subject": self.subject}

    def describe(self) -> str:
        what = "merge that" if self.kind == "merge" else "commit that"
        return f"landed by {self.commit[:7]} ({self.kind}: the file became done in the {what} brought the work)"


def landings(git: Git, tip: str | None, folder: str, task_ids: list[str], use_cache: bool = True) -> dict[str, Landing]:
    """For tasks `done` at `tip` (the caller knows) that no closing line names: those whose `done` came with work.

    Remembered by `tip` and `history_shape`: a task asked about again before the tip moves costs no git
    (see `_landings`).
    """
    if tip is None or not task_ids:
        return {}
    path = cache_path(git.git_dir, "landings", use_cache)
    shape = history_shape(git.git_dir) if path else ""
    stamp = {"format": LANDINGS_FORMAT, "tip": tip, "folder": folder, "shape": shape}
    data = read_cache(path, stamp)
    known: dict[str, list[str] | None] = {}
    if data is not None and isinstance(data.get("tasks"), dict):
        known = {str(t): [str(v) for v in found] if isinstance(found, list) and len(found) == 4 else None
                 for t, found in data["tasks"].items()}
    missing = [task_id for task_id in dict.fromkeys(task_ids) if task_id not in known]
    if missing:
        found = _landings(git, tip, folder, missing)
        for task_id in missing:
            landing = found.get(task_id)
            known[task_id] = [landing.commit, landing.kind, landing.date, landing.subject] if landing else None
        write_cache(path, stamp, {"tasks": known})
    return {task_id: Landing(*fields) for task_id in sorted(set(task_ids)) if (fields := known.get(task_id))}


def _landings(git: Git, tip: str, folder: str, task_ids: list[str]) -> dict[str, Landing]:
    """The answer of `landings`, read from git.

    The commit is the newest one on `tip`'s first-parent line in which the file became `done` (added as
    done, or changed from another status). It counts when it is a merge, or also changes files outside
    the task folder (a squash); a commit that only sets the status is a bare claim and counts for nothing.
    One `git log`, one object read per step back through done-to-done edits (usually one), one `diff-tree`.
    """
    prefix = "" if folder in ("", ".") else f"{folder}/"
    path_of = {f"{prefix}{task_id}.md": task_id for task_id in task_ids}
    paths = list(path_of) if len(path_of) <= _PATHS_ON_COMMAND_LINE else [folder or "."]
    history = first_parent_changes(git, tip, paths)
    steps: dict[str, list[tuple[Change, str]]] = {}  # task -> (commit, old blob), newest first
    for change in history:
        for path, (old, _) in change.files.items():
            if path in path_of:
                steps.setdefault(path_of[path], []).append((change, old))
    became: dict[str, Change] = {}
    pending = {task_id: 0 for task_id in steps}
    while pending:
        objects = git.cat_file(steps[t][i][1] for t, i in pending.items() if steps[t][i][1] != ZERO)
        following = {}
        for task_id, index in pending.items():
            change, old = steps[task_id][index]
            if old == ZERO or blob_status(objects.get(old)) != "done":
                became[task_id] = change
            elif index + 1 < len(steps[task_id]):
                following[task_id] = index + 1  # done before this commit too: look further back
        pending = following
    outside = changes_outside(git, [c.commit for c in became.values() if not c.is_merge], folder)
    return {task_id: Landing(c.commit, "merge" if c.is_merge else "squash", c.date, c.subject)
            for task_id, c in sorted(became.items()) if c.is_merge or c.commit in outside}


_PATHS_ON_COMMAND_LINE = 200  # more tasks than this: read the whole folder's history instead


def blob_status(obj: tuple[str, bytes] | None) -> str | None:
    """The `status` a task file's blob says (None when absent or unreadable)."""
    if obj is None:
        return None
    try:
        value = taskfile.parse(taskfile.decode(obj[1], "blob"), "blob").data.get("status")
    except GtaskError:
        return None
    return value if isinstance(value, str) else None
