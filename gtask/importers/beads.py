"""Read a beads `issues.jsonl` export: one issue per line; tombstones and broken lines are skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gtask.importers.records import Draft, Skipped, SourceBatch, finish, iso_time, join_body, put_extra, section

SOURCE = "beads"
# beads status -> (gtask status, keep the beads status as source_status)
_STATUSES = {
    "open": ("todo", False), "in_progress": ("in_progress", False), "closed": ("done", False),
    "blocked": ("todo", True), "deferred": ("proposed", True), "hooked": ("in_progress", True),
    "pinned": ("todo", True),
}
_GONE = ("tombstone", "deleted")
_BODY = (("design", "Design"), ("acceptance_criteria", "Acceptance criteria"), ("notes", "Notes"))
_BODY_KEYS = {key for key, _ in _BODY}
_MAPPED = {"id", "title", "description", "status", "priority", "assignee", "labels", "created_at",
           "updated_at", "closed_at", "dependencies", "parent", "comments", "design", "acceptance_criteria",
           "notes"}
_DERIVED = {"dependency_count", "dependent_count"}  # counts beads computes from the edges
# comment_count is kept only when it is not 0 and the export carries no `comments` (it says some were left out)


def _comments(comments: Any) -> str:
    """Render beads comments as a `## Comments` section, oldest first as exported."""
    if not isinstance(comments, list):
        return section("Comments", str(comments)) if comments else ""
    parts = []
    for item in comments:
        if not isinstance(item, dict):
            parts.append(str(item))
            continue
        who = item.get("author") or "unknown"
        when = iso_time(item.get("created_at")) or item.get("created_at") or ""
        parts.append(f"**{who}**{f' ({when})' if when else ''}:\n\n{str(item.get('text') or '').strip()}")
    return section("Comments", "\n\n".join(parts))


def _priority(value: Any) -> tuple[int, Any]:
    """Return (gtask priority, the source value when it does not fit 0-4)."""
    if isinstance(value, bool):
        return 2, value
    if isinstance(value, int) and 0 <= value <= 4:
        return value, None
    if isinstance(value, str) and value.strip().upper().lstrip("P").isdigit():
        number = int(value.strip().upper().lstrip("P"))
        if 0 <= number <= 4:
            return number, None
    return 2, value


def _edges(issue: dict[str, Any], draft: Draft) -> None:
    """Map `dependencies`: blocks -> depends_on, parent-child -> parent, other types -> a key per type."""
    parents: list[str] = []
    others: dict[str, list[str]] = {}
    metadata: dict[str, Any] = {}
    for edge in issue.get("dependencies") or []:
        if not isinstance(edge, dict) or not edge.get("depends_on_id"):
            put_extra(draft.extra, "dependencies", issue.get("dependencies"), "beads")
            return
        target, kind = str(edge["depends_on_id"]), str(edge.get("type") or "blocks")
        if kind == "blocks":
            draft.depends.append(target)
        elif kind == "parent-child":
            parents.append(target)
        else:
            others.setdefault(kind, []).append(target)
        if edge.get("metadata") not in (None, "", "{}", {}):
            metadata[f"{kind} {target}"] = edge["metadata"]
    main = issue.get("parent")
    if isinstance(main, str) and main:
        parents.insert(0, main)  # the parent beads itself shows; other parent-child edges are kept aside
    draft.parents = list(dict.fromkeys(parents))
    for kind, targets in others.items():
        put_extra(draft.extra, kind, targets, "beads")
    if metadata:
        put_extra(draft.extra, "dependency_metadata", metadata, "beads")


def _draft(issue: dict[str, Any]) -> Draft:
    """Turn one beads issue into a Draft."""
    raw_status = str(issue.get("status") or "open")
    status, keep = _STATUSES.get(raw_status, ("todo", True))
    priority, odd_priority = _priority(issue.get("priority", 2))
    labels = issue.get("labels") or []
    draft = Draft(
        source_id=str(issue["id"]), title=str(issue.get("title") or ""), status=status, priority=priority,
        labels=[str(label) for label in labels] if isinstance(labels, list) else [str(labels)],
        assignee=str(issue["assignee"]) if issue.get("assignee") else None,
        created=iso_time(issue.get("created_at")) or issue.get("created_at"),
        updated=iso_time(issue.get("updated_at")) or issue.get("updated_at"),
        closed_at=iso_time(issue.get("closed_at"), date_only_ok=False),
    )
    if keep:
        draft.known["source_status"] = raw_status
    if odd_priority is not None:
        draft.known["source_priority"] = odd_priority
    if issue.get("closed_at") and draft.closed_at is None:
        put_extra(draft.extra, "closed_at", issue["closed_at"], "beads")
    _edges(issue, draft)
    sections = [section(title, issue.get(key)) for key, title in _BODY if isinstance(issue.get(key), str)]
    draft.body = join_body(str(issue.get("description") or ""), *sections, _comments(issue.get("comments")))
    for key, value in issue.items():
        if key in _MAPPED and (key not in _BODY_KEYS or isinstance(value, str)):
            continue
        if key in _DERIVED or (key == "comment_count" and (issue.get("comments") or not value)):
            continue
        put_extra(draft.extra, key, value, "beads")
    return draft


def read(path: Path) -> SourceBatch:
    """Read a beads `issues.jsonl` file into neutral records (no writing)."""
    path = Path(path)
    label = str(path)
    drafts: list[Draft] = []
    skipped: list[Skipped] = []
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return SourceBatch(SOURCE, [], [Skipped(label, None, None, f"unreadable: {exc.strerror or exc}")])
    for number, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            issue = json.loads(line.decode("utf-8-sig" if number == 1 else "utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            skipped.append(Skipped(label, number, None, f"unreadable: {exc}"))
            continue
        if not isinstance(issue, dict) or not issue.get("id"):
            skipped.append(Skipped(label, number, None, "unreadable: not an issue object with an id"))
            continue
        status = str(issue.get("status") or "")
        if status in _GONE:
            skipped.append(Skipped(label, number, str(issue["id"]), status))
            continue
        draft = _draft(issue)
        draft.discriminator = f"line {number}"
        drafts.append(draft)
    return finish(SOURCE, drafts, skipped)
