"""Commit messages that gtask writes: the subject, the note, and gtask's own trailers."""

from __future__ import annotations

import re


def message(action: str, subject_id: str, agent: str, note: str | None = None,
            trailers: list[tuple[str, str]] | None = None, task_ids: list[str] | None = None) -> str:
    """Build a protocol commit message: subject, optional note, trailers."""
    parts = [f"gtask: {action} {subject_id}", ""]
    if note and note.strip():
        parts += [note.strip(), ""]
    parts += [f"Task: {task_id}" for task_id in ([subject_id] if task_ids is None else task_ids)]
    parts += [f"Task-Action: {action}", f"Agent: {agent}"]
    parts += [f"{key}: {value}" for key, value in trailers or []]
    return "\n".join(parts) + "\n"


_TRAILER = re.compile(r"^([A-Za-z][\w-]*):[ \t]*(\S.*?)[ \t]*$", re.M)


def parse_trailers(text: str) -> dict[str, list[str]]:
    """The `Key: value` lines of a commit message, by key, in order (a key may repeat): what `message` writes."""
    found: dict[str, list[str]] = {}
    for key, value in _TRAILER.findall(text):
        found.setdefault(key, []).append(value)
    return found
