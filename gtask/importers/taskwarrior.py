"""Read `task export` output: a JSON array, or the older one object per line (with or without commas)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gtask.importers.records import Draft, Skipped, SourceBatch, finish, iso_time, join_body, put_extra, section

SOURCE = "taskwarrior"
_PRIORITIES = {"H": 1, "M": 2, "L": 3}
_MAPPED = {"uuid", "description", "status", "project", "tags", "priority", "depends", "entry", "modified",
           "end", "annotations", "urgency"}
_STAMP = re.compile(r"\d{8}T\d{6}Z")


def _time(value: Any) -> Any:
    """Turn a Taskwarrior time (`20260101T120000Z`) into ISO 8601; leave anything else as it is."""
    return iso_time(value, date_only_ok=False) if isinstance(value, str) and _STAMP.fullmatch(value) else value


def _list(value: Any) -> list[str]:
    """Read a list that old versions wrote as a comma-separated string."""
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return []


def _annotations(value: Any) -> str:
    """Render annotations as a `## Annotations` section: one item per note, with its time."""
    if not isinstance(value, list):
        return section("Annotations", str(value)) if value else ""
    lines = []
    for note in value:
        if isinstance(note, dict):
            when = _time(note.get("entry"))
            text = str(note.get("description") or "").strip().replace("\n", "\n  ")
            lines.append(f"- {when}: {text}" if when else f"- {text}")
        else:
            lines.append(f"- {note}")
    return section("Annotations", "\n".join(lines))


def _draft(task: dict[str, Any]) -> Draft:
    """Turn one exported Taskwarrior task into a Draft."""
    raw_status = str(task.get("status") or "pending")
    status, keep = {"pending": ("todo", False), "completed": ("done", False), "waiting": ("todo", True),
                    "recurring": ("proposed", True)}.get(raw_status, ("todo", True))
    if raw_status in ("pending", "waiting") and task.get("start"):
        status = "in_progress"  # started (`task start`): someone is on it
    priority = _PRIORITIES.get(str(task.get("priority") or "M").upper())
    draft = Draft(
        source_id=str(task["uuid"]), title=str(task.get("description") or ""), status=status,
        priority=2 if priority is None else priority, labels=_list(task.get("tags")),
        milestone=str(task["project"]) if task.get("project") else None, depends=_list(task.get("depends")),
        created=_time(task.get("entry")), updated=_time(task.get("modified")), keep_id=False,
    )
    if raw_status == "completed" and task.get("end"):
        draft.closed_at = _time(task["end"])
    elif task.get("end"):
        put_extra(draft.extra, "end", _time(task["end"]), "taskwarrior")
    if keep:
        draft.known["source_status"] = raw_status
    if priority is None and task.get("priority"):
        draft.known["source_priority"] = task["priority"]
    draft.body = join_body(_annotations(task.get("annotations")))
    for key, value in task.items():
        if key in _MAPPED or (key == "id" and not value):
            continue  # urgency is derived; id 0 means "not in the working set"
        put_extra(draft.extra, key, _time(value), "taskwarrior")
    return draft


def _objects(text: str, label: str, skipped: list[Skipped]) -> list[tuple[int | None, Any]]:
    """Return (line, object) for each exported task; record lines that do not parse.

    `task export` writes one object per line (inside `[`/`]` with commas, or bare in old versions), so
    lines are read one by one and keep their numbers; pretty-printed JSON is read as a whole.
    """
    found: list[tuple[int | None, Any]] = []
    broken: list[Skipped] = []
    for number, line in enumerate(text.split("\n"), 1):
        item = line.strip().rstrip(",").strip()
        if item in ("", "[", "]"):
            continue
        try:
            found.append((number, json.loads(item)))
        except json.JSONDecodeError as exc:
            broken.append(Skipped(label, number, None, f"unreadable: {exc}"))
    if broken:
        try:
            whole = json.loads(text)
            return [(None, item) for item in (whole if isinstance(whole, list) else [whole])]
        except json.JSONDecodeError:
            skipped.extend(broken)
    return found


def read(path: Path) -> SourceBatch:
    """Read the output of `task export` into neutral records (no writing)."""
    path = Path(path)
    label = str(path)
    skipped: list[Skipped] = []
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return SourceBatch(SOURCE, [], [Skipped(label, None, None, f"unreadable: {exc}")])
    drafts: list[Draft] = []
    for number, task in _objects(text, label, skipped):
        if not isinstance(task, dict) or not task.get("uuid"):
            skipped.append(Skipped(label, number, None, "unreadable: not a task object with a uuid"))
        elif task.get("status") == "deleted":
            skipped.append(Skipped(label, number, str(task["uuid"]), "deleted"))
        else:
            draft = _draft(task)
            draft.discriminator = f"line {number}" if number else str(len(drafts))
            drafts.append(draft)
    return finish(SOURCE, drafts, skipped)
