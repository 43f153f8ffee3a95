"""Neutral records that importers return, and the shared steps: IDs, times, references, field order."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gtask.core.ids import is_valid_id, slugify
from gtask.core.keys import KNOWN_KEYS

# gtask's own front-matter keys plus the keys importers write: a source field never takes one of these names.
GTASK_KEYS = frozenset({
    "id", *KNOWN_KEYS, "created", "updated", "source", "source_id", "source_status",
    "source_priority", "unresolved_depends_on", "unresolved_parents", "other_parents", "self_depends_on",
    "self_parent",
    "assignees",
})
_LEADING = ("title", "status", "priority", "labels", "assignee", "milestone", "depends_on", "parent",
            "created", "updated", "closed_at", "source", "source_id")


@dataclass
class ImportedTask:
    """One task from another tool, ready for gtask to write as `.tasks/<id>.md`."""

    source_id: str
    id: str
    fields: dict[str, object]
    body: str


@dataclass
class Skipped:
    """A source item that was not imported, and why (deleted, tombstone, archived, unreadable...)."""

    path: str
    line: int | None
    source_id: str | None
    reason: str


@dataclass
class Note:
    """Something the caller should report: an unresolved reference, a parent cycle, a renamed ID."""

    source_id: str
    kind: str
    message: str


@dataclass
class SourceBatch:
    """Everything read from one source: the tasks, what was skipped, and notes worth reporting."""

    source: str
    tasks: list[ImportedTask]
    skipped: list[Skipped]
    notes: list[Note] = field(default_factory=list)


@dataclass
class Draft:
    """A task as an importer read it, before IDs are chosen and references resolved."""

    source_id: str
    title: str
    status: str
    priority: int = 2
    labels: list[str] = field(default_factory=list)
    assignee: str | None = None
    milestone: str | None = None
    depends: list[str] = field(default_factory=list)  # source references
    parents: list[str] = field(default_factory=list)  # source references; the first is the parent
    created: str | None = None
    updated: str | None = None
    closed_at: str | None = None
    known: dict[str, Any] = field(default_factory=dict)  # importer keys such as source_status
    extra: dict[str, Any] = field(default_factory=dict)  # unmapped source fields
    body: str = ""
    keep_id: bool = True  # keep the source ID when it is a valid gtask ID
    discriminator: str = ""  # tells apart two items with one source ID (a path)


def stable_suffix(text: str, length: int = 4) -> str:
    """Return `length` hex characters of the SHA-1 of `text`: the same on every import."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def snake_key(name: str) -> str:
    """Turn a source field name into a snake_case YAML key."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name).strip())
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    return text or "field"


def put_extra(extra: dict[str, Any], name: str, value: Any, prefix: str) -> None:
    """Keep an unmapped source field under a snake_case key that clashes with no gtask or earlier key."""
    key = snake_key(name)
    if key in GTASK_KEYS or key in extra:
        key = f"{prefix}_{key}"
    while key in GTASK_KEYS or key in extra:
        key += "_"
    extra[key] = value


def is_empty(value: Any) -> bool:
    """Tell whether a value carries nothing (None, '', [] or {})."""
    return value is None or (isinstance(value, (str, list, dict)) and not value)


_TIME = re.compile(
    r"(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?"
)


def iso_time(value: Any, date_only_ok: bool = True) -> str | None:
    """Turn a source time (`2026-01-01 12:00`, `20260101T120000Z`, RFC 3339) into ISO 8601 with an offset.

    A time without an offset is taken as UTC; a bare date stays a date unless `date_only_ok` is False.
    Returns None when the text is not a time.
    """
    if not isinstance(value, str):
        return None
    match = _TIME.fullmatch(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    if hour is None and date_only_ok:
        return f"{year}-{month}-{day}"
    offset = "+00:00" if zone in (None, "Z") else zone
    if len(offset) == 3:
        offset += ":00"
    elif ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    return f"{year}-{month}-{day}T{hour or '00'}:{minute or '00'}:{second or '00'}{offset}"


def section(heading: str, text: str | None) -> str:
    """Return a `## heading` Markdown section, or '' when there is no text."""
    text = (text or "").strip()
    return f"## {heading}\n\n{text}" if text else ""


def join_body(*parts: str) -> str:
    """Join body parts with blank lines, leaving out empty ones; end with a newline when not empty."""
    text = "\n\n".join(part.strip("\n") for part in parts if part and part.strip())
    return text + "\n" if text else ""


def _assign_ids(drafts: list[Draft], notes: list[Note]) -> list[str]:
    taken: set[str] = set()
    ids = []
    for draft in drafts:
        lowered = draft.source_id.lower()
        if draft.keep_id and is_valid_id(draft.source_id):
            candidate = lowered
        else:
            candidate = f"{slugify(draft.title)}-{stable_suffix(draft.source_id)}"
        if candidate in taken:
            salt, length = f"{draft.source_id}\0{draft.discriminator}", 4
            base = candidate[:58]
            while f"{base}-{stable_suffix(salt, length)}" in taken:
                length += 1
            fresh = f"{base}-{stable_suffix(salt, length)}"
            notes.append(Note(draft.source_id, "duplicate_id",
                              f"{draft.source_id!r} is used twice; this one ({draft.discriminator}) becomes {fresh!r}"))
            candidate = fresh
        taken.add(candidate)
        ids.append(candidate)
    return ids


def finish(source: str, drafts: list[Draft], skipped: list[Skipped],
           resolver: Callable[[str], str | None] | None = None, notes: list[Note] | None = None) -> SourceBatch:
    """Choose gtask IDs, map dependencies and parents through them, and build the records.

    `resolver` maps a reference that is not a source ID to the source ID the source tool reads it as.
    """
    notes = notes if notes is not None else []
    ids = _assign_ids(drafts, notes)
    index: dict[str, str] = {}
    for draft, new_id in zip(drafts, ids, strict=True):
        index.setdefault(draft.source_id.lower(), new_id)

    def resolve(ref: str) -> str | None:
        found = index.get(str(ref).strip().lower())
        if found is None and resolver is not None:
            other = resolver(str(ref).strip())  # the source ID the source tool would take `ref` to mean
            found = index.get(other.lower()) if other else None
        return found

    tasks = [_build(source, draft, new_id, resolve, notes) for draft, new_id in zip(drafts, ids, strict=True)]
    _report_cycles(tasks, "parent", notes)
    _report_cycles(tasks, "depends_on", notes)
    return SourceBatch(source, tasks, skipped, notes)


def _build(source: str, draft: Draft, new_id: str, resolve: Callable[[str], str | None],
           notes: list[Note]) -> ImportedTask:
    fields: dict[str, Any] = {}
    title, _, rest = (draft.title or "").strip().partition("\n")
    title = title.strip() or draft.source_id
    body = join_body(rest, draft.body) if rest.strip() else draft.body
    depends, unresolved, self_refs = [], [], []
    for ref in draft.depends:
        target = resolve(ref)
        if target is None:
            unresolved.append(ref)
            notes.append(Note(draft.source_id, "unresolved_dependency", f"depends on {ref!r}, not in this import"))
        elif target == new_id:
            self_refs.append(ref)
            notes.append(Note(draft.source_id, "self_dependency", f"depends on itself ({ref!r}); kept aside"))
        elif target in depends:
            notes.append(Note(draft.source_id, "duplicate_dependency", f"{ref!r} is listed twice"))
        else:
            depends.append(target)
    resolved, unresolved_parents = [], []
    for ref in draft.parents:
        target = resolve(ref)
        if target is None:
            unresolved_parents.append(ref)
            notes.append(Note(draft.source_id, "unresolved_parent", f"parent {ref!r} is not in this import"))
        elif target not in resolved:
            resolved.append(target)
    self_parent = [new_id] if new_id in resolved else []
    if self_parent:  # kept aside like a self-dependency: gtask refuses a task that is its own parent
        resolved.remove(new_id)
        notes.append(Note(draft.source_id, "self_parent", "is its own parent; kept aside"))
    parent, others = (resolved[0], resolved[1:]) if resolved else (None, [])
    if len(resolved) + len(unresolved_parents) > 1:
        notes.append(Note(draft.source_id, "multiple_parents", f"has {len(draft.parents)} parents; "
                          "the first found in this import is `parent`, the others are kept aside"))
    values = {
        "title": title, "status": draft.status, "priority": draft.priority, "labels": draft.labels,
        "assignee": draft.assignee, "milestone": draft.milestone, "depends_on": depends, "parent": parent,
        "created": draft.created, "updated": draft.updated, "closed_at": draft.closed_at, "source": source,
        "source_id": draft.source_id,
    }
    for key in _LEADING:
        if not is_empty(values[key]) or key == "priority":
            fields[key] = values[key]
    for key, value in (("unresolved_depends_on", unresolved), ("self_depends_on", self_refs),
                       ("unresolved_parents", unresolved_parents), ("other_parents", others),
                       ("self_parent", self_parent)):
        if not is_empty(value):
            fields[key] = value
    fields.update({k: v for k, v in draft.known.items() if not is_empty(v)})
    fields.update({k: v for k, v in draft.extra.items() if not is_empty(v)})
    return ImportedTask(draft.source_id, new_id, fields, body)


def _report_cycles(tasks: list[ImportedTask], key: str, notes: list[Note]) -> None:
    """Note every cycle along `key` (parent or depends_on): kept as they are, for `check` to refuse."""
    edges: dict[str, list[str]] = {}
    for task in tasks:
        value = task.fields.get(key)
        edges[task.id] = [value] if isinstance(value, str) else list(value) if isinstance(value, list) else []
    source_of = {task.id: task.source_id for task in tasks}
    state: dict[str, int] = {}  # 1 on the stack, 2 finished
    for start in edges:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        state[start] = 1
        while stack:
            node, at = stack[-1]
            targets = [t for t in edges.get(node, []) if t in edges and t != node]
            if at < len(targets):
                stack[-1] = (node, at + 1)
                nxt = targets[at]
                if state.get(nxt) == 1:
                    loop = [*path[path.index(nxt):], nxt]
                    notes.append(Note(source_of[nxt], f"{key}_cycle", " -> ".join(loop)))
                elif not state.get(nxt):
                    state[nxt] = 1
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                state[node] = 2
                stack.pop()
                path.pop()
