"""Scripted edits: `KEY=VALUE`, `KEY+=ITEM`, `KEY-=ITEM`, `KEY=` (remove) for `gtask set`."""

from __future__ import annotations

import re
from typing import Any

import yaml

from gtask.core.keys import LIST_KEYS
from gtask.core.taskfile import load_yaml
from gtask.core.writer import REMOVE
from gtask.errors import UsageError

_ASSIGNMENT = re.compile(r"(?P<key>[A-Za-z_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)\s*(?P<op>\+=|-=|=)(?P<value>.*)", re.S)
_SPLIT_KEYS = frozenset({"depends_on", "labels"})
_INT_KEYS = frozenset({"priority"})


def parse_assignments(assignments: list[str], data: dict[str, Any]) -> dict[str, Any]:
    """Turn `set` arguments into changes for the writer, given the file's current data."""
    changes: dict[str, Any] = {}
    for text in assignments:
        match = _ASSIGNMENT.fullmatch(text)
        if not match:
            raise UsageError(f"cannot read {text!r}: write KEY=VALUE, KEY+=ITEM, KEY-=ITEM or KEY=")
        key, op, value = match.group("key"), match.group("op"), match.group("value")
        if key == "id":
            raise UsageError("the ID is the file name: rename the file to change it")
        current = changes.get(key, data.get(key))
        if op == "=":
            changes[key] = _assigned(key, value, current)
        else:
            changes[key] = _list_edit(key, op, value, current)
    return changes


def _assigned(key: str, value: str, current: Any) -> Any:
    if value == "":
        return REMOVE
    if key in LIST_KEYS or isinstance(current, list):
        if value.startswith("["):
            parsed = _yaml_value(value)
            if not isinstance(parsed, list):
                raise UsageError(f"{key}: {value!r} is not a list")
            return parsed
        if key in _SPLIT_KEYS:
            return [item.strip() for item in value.split(",") if item.strip()]
        return [value]
    if key in _INT_KEYS:
        try:
            return int(value)
        except ValueError:
            raise UsageError(f"'{key}' must be a whole number from 0 to 4, not {value!r}") from None
    if key in ("title", "status", "trigger", "lane", "milestone", "assignee") or key.endswith(("_at", "_until", "_by")):
        return value
    return _yaml_value(value)


def _list_edit(key: str, op: str, value: str, current: Any) -> list[Any]:
    if current is None:
        current = []
    if not isinstance(current, list):
        raise UsageError(f"'{key}' is not a list, so {op} cannot change it")
    items = list(current)
    as_text = [str(item) for item in items]  # `labels: [2026]` holds the label "2026"
    if op == "+=":
        if value not in as_text:
            items.append(value)
        return items
    if value not in as_text:
        raise UsageError(f"{value!r} is not in '{key}'")
    del items[as_text.index(value)]
    return items


def _yaml_value(value: str) -> Any:
    try:
        return load_yaml(value)
    except yaml.YAMLError:
        return value
