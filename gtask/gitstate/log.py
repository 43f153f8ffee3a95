"""`gtask log`: a task's history from git: its commits from a remembered index, read in two `git log --no-walk`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gtask.core import taskfile
from gtask.core.trailers import parse_trailers
from gtask.errors import GtaskError, UsageError
from gtask.gitio.git import Git
from gtask.gitio.history import instant, layers, read_commits
from gtask.gitstate import evidence
from gtask.gitstate.history_index import history_index
from gtask.store.store import Store

_FIELDS = "%H%x00%cI%x00%an%x00%s%x00%B%x00"
_FORMAT = f"--format={_FIELDS}"


@dataclass
class LogEntry:
    commit: str
    date: str
    author: str
    subject: str
    agent: str | None
    action: str
    changes: dict[str, list[Any]] = field(default_factory=dict)
    landed_by: evidence.Landing | None = None  # this commit brought the task's `done` in with the work

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "date": self.date, "author": self.author, "agent": self.agent,
                "action": self.action, "subject": self.subject, "changes": self.changes,
                "landed_by": self.landed_by.to_json() if self.landed_by else None}


def task_log(store: Store, git: Git, task_id: str) -> list[LogEntry]:
    """Every commit on any branch that touched the task's file or closes it, oldest first."""
    from gtask.core.ids import id_problem

    problem = id_problem(task_id)
    if problem:
        raise UsageError(problem)
    try:
        task_id = store.resolve_id(task_id)
    except GtaskError:
        pass  # a task deleted here can still have a history
    rel = store.path_of(task_id).resolve().relative_to(git.top.resolve()).as_posix()
    head = git.head_commit()
    if head is None:
        return []
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    index = history_index(git, folder, [head, *git.refs().values()], store.use_cache)
    touched = read_commits(git, index.files.get(rel, []), _FIELDS, "--raw", "--no-abbrev", "--no-renames", "--", rel)
    raw_of: dict[str, tuple[str, str, str]] = {}
    for commit, *_rest in touched:
        raw = _rest[-1]
        match = re.search(r"^:\d+ \d+ ([0-9a-f]+) ([0-9a-f]+) ([AMD])", raw, re.M)
        if match:
            raw_of[commit] = (match.group(1), match.group(2), match.group(3))
    objects = git.cat_file({sha for old, new, _ in raw_of.values() for sha in (old, new) if set(sha) != {"0"}})
    entries: dict[str, LogEntry] = {}
    for commit, date, author, subject, body, *_ in touched:
        old, new, kind = raw_of.get(commit, ("0", "0", "M"))
        changes = _diff(_data(objects.get(old), rel), _data(objects.get(new), rel))
        entries[commit] = _entry(commit, date, author, subject, body, task_id, store.project,
                                 {"A": "create", "D": "delete"}.get(kind, "edit"), changes)
    closers = [c for c in index.closing(store.project, task_id) if c not in entries]
    for commit, date, author, subject, body, *_ in read_commits(git, closers, _FIELDS):
        entries[commit] = _entry(commit, date, author, subject, body, task_id, store.project, "closes", {})
    _add_landing(store, git, task_id, rel, entries)
    return _chronological(git, entries)


def _add_landing(store: Store, git: Git, task_id: str, rel: str, entries: dict[str, LogEntry]) -> None:
    """Mark the commit that landed a task no closing line names (a squash or merge; design §2), if any."""
    from gtask.gitstate.branches import integration_commit

    tip = integration_commit(store, git)
    if tip is None or evidence.blob_status(git.cat_file([f"{tip}:{rel}"]).get(f"{tip}:{rel}")) != "done":
        return  # not done on the integration branch: nothing landed
    if evidence.scan(git, tip, store.project, store.use_cache, known=store.ids()).of(store.project, task_id):
        return  # a closing line says it
    landing = evidence.landings(git, tip, rel.rpartition("/")[0], [task_id], store.use_cache).get(task_id)
    if landing is None:
        return
    if landing.commit not in entries:  # a merge: `git log -- file` shows the branch's commit, not the merge
        for commit, date, author, subject, body, *_ in git.log_records("-1", _FORMAT, landing.commit):
            entries[commit] = _entry(commit, date, author, subject, body, task_id, store.project, "landed", {})
    entry = entries[landing.commit]
    entry.action, entry.landed_by = "landed", landing


def _chronological(git: Git, entries: dict[str, LogEntry]) -> list[LogEntry]:
    """Oldest first by the instant of the commit date (whatever its time zone); commits in the same second in
    ancestry order (`layers`: an ancestor before its descendants), then by ID: one order however they were read."""
    second = {commit: int(instant(entry.date)) for commit, entry in entries.items()}
    groups: dict[int, list[str]] = {}
    for commit, when in second.items():
        groups.setdefault(when, []).append(commit)
    depth = layers(git, [group for group in groups.values() if len(group) > 1])
    return sorted(entries.values(), key=lambda e: (second[e.commit], -depth.get(e.commit, 0), e.commit))


def _entry(commit: str, date: str, author: str, subject: str, body: str, task_id: str, project: str,
           fallback: str, changes: dict[str, list[Any]]) -> LogEntry:
    trailers = parse_trailers(body)
    mine = task_id.lower() in (t.lower() for t in trailers.get("Task", []))
    action = trailers["Task-Action"][0] if mine and "Task-Action" in trailers else fallback
    if fallback != "closes" and any(r.is_local(project) and r.id.lower() == task_id.lower()
                                    for r in evidence.closed_refs(body)) and action == "edit":
        action = "closes"
    agent = trailers["Agent"][0] if "Agent" in trailers else None
    return LogEntry(commit, date, author, subject, agent, action, changes)


def _data(obj: tuple[str, bytes] | None, label: str) -> dict[str, Any]:
    if obj is None:
        return {}
    try:
        return taskfile.parse(taskfile.decode(obj[1], label), label).data
    except GtaskError:
        return {"(unparseable)": True}


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    keys = list(before) + [k for k in after if k not in before]
    return {str(k): [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


# -- one readable line per event (what `gtask log` prints) ---------------------

_QUIET = ("claimed_at", "claim_branch", "closed_at", "closed_by")  # said by the action or the claim itself


def summary(entry: LogEntry) -> str:
    """The changes of one event on one line: attempts summarised, claims in words, other keys as old -> new."""
    parts: list[str] = []
    changes = entry.changes
    if "attempts" in changes:
        parts += _attempt_changes(*changes["attempts"])
    if "claimed_by" in changes:
        holder = changes["claimed_by"][1]
        lease = changes.get("lease_until", [None, None])[1]
        parts.append(f"claimed by {holder}" + (f" until {lease}" if lease else "") if holder else "claim released")
    elif "lease_until" in changes and changes["lease_until"][1]:
        parts.append(f"lease until {changes['lease_until'][1]}")
    for key, (old, new) in changes.items():
        if key in ("attempts", "claimed_by", "lease_until") or key in _QUIET:
            continue
        parts.append(f"{key}: {_brief(new)}" if old is None else f"{key}: {_brief(old)} -> {_brief(new)}")
    if entry.landed_by is not None:
        parts.append(entry.landed_by.describe())
    return "; ".join(parts)


def _attempt_changes(old: Any, new: Any) -> list[str]:
    old_list = [a for a in old if isinstance(a, dict)] if isinstance(old, list) else []
    new_list = [a for a in new if isinstance(a, dict)] if isinstance(new, list) else []
    found = []
    for index, attempt in enumerate(new_list):
        before = old_list[index] if index < len(old_list) else None
        if attempt == before:
            continue
        outcome = attempt.get("outcome")
        if outcome is None:
            found.append("attempt started")
            continue
        details = [str(attempt["reason"])] if attempt.get("reason") else []
        if attempt.get("tokens") is not None:
            details.append(f"{attempt['tokens']} tokens")
        if attempt.get("cost") is not None:
            details.append(f"${attempt['cost']}")
        found.append(f"attempt {outcome}" + (f": {', '.join(details)}" if details else ""))
    return found


def _brief(value: Any) -> str:
    if value is None:
        return "-"
    text = "[" + ", ".join(_brief(v) for v in value) + "]" if isinstance(value, list) else " ".join(str(value).split())
    return text if len(text) <= 60 else text[:57] + "..."
