"""Read what `gtask export --format jsonl` writes: one task object a line, the `--json` keys plus `body`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gtask.core.ids import is_valid_id
from gtask.importers.records import ImportedTask, Skipped, SourceBatch, is_empty

SOURCE = "gtask-jsonl"
_DERIVED = {"id", "project", "state", "path", "extra", "body", "children"}  # written by export, not front matter


def _task(obj: dict[str, Any]) -> ImportedTask:
    fields: dict[str, Any] = {k: v for k, v in obj.items() if k not in _DERIVED and not is_empty(v)}
    extra = obj.get("extra")
    if isinstance(extra, dict):
        fields.update({k: v for k, v in extra.items() if k not in fields})
    body = obj.get("body")
    return ImportedTask(str(obj["id"]), str(obj["id"]), fields, body if isinstance(body, str) else "")


def read(path: Path) -> SourceBatch:
    """Read a gtask JSONL export into records that keep every ID and key as exported."""
    label = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return SourceBatch(SOURCE, [], [Skipped(label, None, None, f"unreadable: {exc.strerror or exc}")])
    tasks: list[ImportedTask] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for number, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            skipped.append(Skipped(label, number, None, f"unreadable: {exc}"))
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not is_valid_id(obj["id"]) \
                or not isinstance(obj.get("title"), str):
            skipped.append(Skipped(label, number, None, "unreadable: not a task object with an id and a title"))
            continue
        if obj["id"].lower() in seen:
            skipped.append(Skipped(label, number, obj["id"], "unreadable: the ID is listed twice"))
            continue
        seen.add(obj["id"].lower())
        tasks.append(_task(obj))
    return SourceBatch(SOURCE, tasks, skipped)
