"""Check front-matter data against design §1 and build a Task from it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from gtask.core.ids import Ref
from gtask.core.keys import KNOWN_KEYS, TEXT_KEYS, TEXT_LIST_KEYS, TIME_KEYS
from gtask.core.model import STATUSES, Task, parse_time
from gtask.core.taskfile import TaskFile
from gtask.errors import Problem


class _Checker:
    """Collects problems while reading one file's data."""

    def __init__(self, tf: TaskFile) -> None:
        self.tf = tf
        self.problems: list[Problem] = []

    def error(self, key: str | None, message: str) -> None:
        self.problems.append(Problem("error", message, self.tf.label, self.tf.line_of(key) if key else None))

    def warning(self, key: str | None, message: str) -> None:
        self.problems.append(Problem("warning", message, self.tf.label, self.tf.line_of(key) if key else None))

    def string(self, key: str, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str):
            return value
        self.error(key, f"{key!r} must be a string, not {_kind(value)}")
        return None

    def string_list(self, key: str, value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(key, f"{key!r} must be a list, not {_kind(value)}")
            return []
        items = []
        for item in value:
            text = self.string(key, item)
            if text is not None:
                items.append(text)
        return items


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "a mapping", str: "a string"}
    return names.get(type(value), type(value).__name__)


def build_task(tf: TaskFile, task_id: str, project: str, path: str) -> tuple[Task | None, list[Problem]]:
    """Return the task of a parsed file (None when it has errors) and every problem found."""
    check = _Checker(tf)
    data = tf.data
    for key in data:
        if not isinstance(key, str):
            check.error(None, f"key {key!r} must be a string")
    title = _title(check, data.get("title"))
    status = _status(check, data.get("status"))
    priority = _priority(check, data.get("priority"))
    depends_on = _depends_on(check, data.get("depends_on"), task_id)
    parent = _parent(check, data.get("parent"), task_id)
    fields: dict[str, Any] = {key: check.string(key, data.get(key)) for key in TEXT_KEYS}
    fields.update({key: check.string_list(key, data.get(key)) for key in TEXT_LIST_KEYS})
    for key in TIME_KEYS:
        fields[key] = _time(check, key, data.get(key))
    attempts = _attempts(check, data.get("attempts"))
    if "id" in data:
        check.warning("id", "the ID is the file name; the 'id' key is ignored")
    extra = {k: v for k, v in data.items() if isinstance(k, str) and k not in KNOWN_KEYS}
    for key in extra:  # a typo'd key is kept, and what it meant silently vanishes: say so
        meant = close_key(key)
        if meant is not None:
            check.warning(key, f"unknown key {key!r}: did you mean `{meant}`?")
    if status == "in_progress" and not fields["claimed_by"]:
        check.warning("status", "status is in_progress but nobody has claimed the task")
    if any(p.is_error for p in check.problems) or title is None or status is None:
        return None, check.problems
    task = Task(
        id=task_id, title=title, status=status, project=project, path=path,
        priority=priority, depends_on=depends_on, parent=parent, attempts=attempts, extra=extra,
        body=tf.body, lines={k: v[0] for k, v in tf.key_lines.items()}, **fields,
    )
    return task, check.problems


TYPO_HINT = "did you mean `"


def is_typo_warning(problem: Problem) -> bool:
    """A warning about a key that looks like a typo of a known one: listings show it too, not only `check`."""
    return not problem.is_error and problem.message.startswith("unknown key ") and TYPO_HINT in problem.message


@lru_cache(maxsize=1024)  # a batch of imported files repeats the same unknown keys
def close_key(key: str) -> str | None:
    """The known key a typo'd key most likely meant (`depends-on`, `prority`), or None when none is close."""
    import difflib

    normal = key.strip().lower().replace("-", "_").replace(" ", "_")
    if normal in KNOWN_KEYS:
        return normal
    found = difflib.get_close_matches(normal, KNOWN_KEYS, n=1, cutoff=0.8)
    if found and (normal.endswith(f"_{found[0]}") or normal.startswith(f"{found[0]}_")):
        return None  # a known key with a word added (`self_depends_on`) is a different key, not a typo
    return found[0] if found else None


def _title(check: _Checker, value: Any) -> str | None:
    if value is None:
        check.error(None, "'title' is required")
        return None
    title = check.string("title", value)
    if title is not None and ("\n" in title.strip() or not title.strip()):
        check.error("title", "'title' must be one non-empty line")
        return None
    return title.strip() if title is not None else None


def _status(check: _Checker, value: Any) -> str | None:
    if value is None:
        check.error(None, f"'status' is required: one of {', '.join(STATUSES)}")
        return None
    if value not in STATUSES:
        check.error("status", f"unknown status {value!r}: use one of {', '.join(STATUSES)}")
        return None
    return cast(str, value)


def _priority(check: _Checker, value: Any) -> int:
    if value is None:
        return 2
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
        check.error("priority", f"'priority' must be a whole number from 0 to 4, not {value!r}")
        return 2
    return value


def _depends_on(check: _Checker, value: Any, task_id: str) -> list[str]:
    refs: list[str] = []
    seen: set[str] = set()  # a set, not a scan of `refs`: 100,000 dependencies must not take minutes
    for text in check.string_list("depends_on", value):
        try:
            ref = Ref.parse(text)
        except ValueError as exc:
            check.error("depends_on", str(exc))
            continue
        if ref.project is None and ref.id.lower() == task_id.lower():
            check.error("depends_on", f"task {task_id!r} depends on itself")
            continue
        if str(ref).lower() in seen:
            check.warning("depends_on", f"dependency {text!r} is listed twice (IDs ignore case)")
            continue
        seen.add(str(ref).lower())
        refs.append(str(ref))
    return refs


def _parent(check: _Checker, value: Any, task_id: str) -> str | None:
    text = check.string("parent", value)
    if text is None:
        return None
    try:
        ref = Ref.parse(text)
    except ValueError as exc:
        check.error("parent", str(exc))
        return None
    if ref.project is None and ref.id.lower() == task_id.lower():
        check.error("parent", f"task {task_id!r} is its own parent")
        return None
    return str(ref)


def _time(check: _Checker, key: str, value: Any) -> str | None:
    text = check.string(key, value)
    if text is None:
        return None
    try:
        parse_time(text)
    except ValueError:
        check.error(key, f"{key!r} must be an ISO 8601 time with a UTC offset, "
                         f"like 2026-11-22T09:00:00+00:00, not {text!r}")
        return None
    return text


def _attempts(check: _Checker, value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        check.error("attempts", "'attempts' must be a list of mappings")
        return []
    from gtask.core.attempts import ATTEMPT_KEYS, OUTCOMES  # only files with attempts pay for the import

    for number, attempt in enumerate(value, 1):
        unknown = [str(k) for k in attempt if k not in ATTEMPT_KEYS]
        if unknown:
            check.warning("attempts", f"attempt {number} has unknown keys: {', '.join(unknown)}")
        if attempt.get("outcome") is not None and attempt["outcome"] not in OUTCOMES:
            check.warning("attempts", f"attempt {number} has an unknown outcome {attempt['outcome']!r}: "
                                      f"use one of {', '.join(OUTCOMES)}")
    return value
