"""Reading a plan file (design §7) as untrusted YAML: its entries, with the line of every key."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml

from gtask.core import taskfile
from gtask.errors import InvalidTask, NotFound, Problem

MAX_PLAN_BYTES = 8 << 20
STDIN = "-"


class InvalidPlan(InvalidTask):
    """A plan that cannot be imported; `problems` says every reason."""

    code = "invalid_plan"

    def __init__(self, problems: list[Problem], label: str) -> None:
        count = len(problems)
        super().__init__(f"the plan has {count} problem{'s' if count != 1 else ''}; nothing was written", path=label)
        self.problems = problems


@dataclass
class Entry:
    """One task of the plan as written, with the plan lines of its keys."""

    number: int  # 1-based position in the plan
    line: int
    data: dict[Any, Any]
    key_lines: dict[str, int]
    name: str | None = None

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    @property
    def who(self) -> str:
        """How messages name this task: its local name, else its position."""
        return f"task {self.name!r}" if self.name else f"task #{self.number}"


def read_source(source: str, base: Path) -> tuple[str, str]:
    """Read a plan file (relative to `base`, as with `git -C`) or standard input; return its text and label."""
    if source == STDIN:
        label, raw = "<stdin>", sys.stdin.buffer.read(MAX_PLAN_BYTES + 1)
    else:
        label, path = source, Path(source) if os.path.isabs(source) else base / source
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_PLAN_BYTES + 1)
        except FileNotFoundError:
            raise NotFound("no such file", path=label) from None
        except IsADirectoryError:
            raise NotFound(f"{source} is a folder, not a plan file", path=label) from None
        except OSError as exc:
            raise NotFound(f"cannot read the plan: {exc.strerror}", path=label) from None
    if len(raw) > MAX_PLAN_BYTES:
        raise _fatal(f"the plan is larger than {MAX_PLAN_BYTES >> 20} MiB", label, 1)
    try:
        return taskfile.decode(raw, label).removeprefix("\ufeff"), label
    except InvalidTask as exc:
        raise _fatal(exc.message, label, exc.line) from None


def _fatal(message: str, label: str, line: int | None) -> InvalidPlan:
    return InvalidPlan([Problem("error", message, label, line)], label)


def parse_plan(text: str, label: str) -> list[Entry]:
    """Parse plan text into its entries; raise InvalidPlan naming every structural problem."""
    node, data = _load(text, label)
    problems: list[Problem] = []
    if not isinstance(data, dict) or node is None:
        raise _fatal("a plan is a mapping with a 'tasks' list", label, 1)
    top = _keys(node, label, problems)
    for key in data:
        if key != "tasks":
            problems.append(Problem("error", f"unknown key {key!r}: a plan has only 'tasks'", label,
                                    top.get(str(key), (1, None))[0]))
    line, tasks_node = top.get("tasks", (1, None))
    tasks = data.get("tasks")
    if tasks is not None and not isinstance(tasks, list):
        problems.append(Problem("error", "'tasks' must be a list of tasks", label, line))
        tasks = []
    elif not tasks:
        problems.append(Problem("error", "the plan has no tasks", label, line))
    entries = []
    for number, (item, item_node) in enumerate(zip(tasks or [], getattr(tasks_node, "value", []), strict=False), 1):
        item_line = item_node.start_mark.line + 1
        if not isinstance(item, dict):
            problems.append(Problem("error", f"task #{number} must be a mapping of keys to values", label, item_line))
            continue
        key_lines = {key: found for key, (found, _) in _keys(item_node, label, problems).items()}
        entries.append(Entry(number, item_line, item, key_lines))
    if problems:
        raise InvalidPlan(problems, label)
    return entries


def _load(text: str, label: str) -> tuple[yaml.Node | None, Any]:
    """Load untrusted YAML: no aliases, no tags; keep the node tree for line numbers."""
    loader = taskfile.TaskLoader(text)
    try:
        taskfile.check_events(text, aliases=True)  # depth first (libyaml is slow and recursive on it); aliases next
        refused = _refused(text, label)
        if refused:
            raise InvalidPlan(refused, label)
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.MarkedYAMLError as exc:
        message, line = taskfile.yaml_error(exc, first_line=1)
        raise _fatal(message, label, line) from None
    except yaml.YAMLError as exc:
        raise _fatal(f"YAML error: {exc}", label, 1) from None
    except RecursionError:
        raise _fatal("the plan is nested too deeply", label, 1) from None
    finally:
        loader.dispose()


def _refused(text: str, label: str) -> list[Problem]:
    """Aliases and explicit tags: a plan is plain data from an untrusted writer."""
    found = []
    for event in yaml.parse(text, Loader=taskfile.TaskLoader):
        assert event.start_mark is not None  # a parsed event always has its place
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            found.append(Problem("error", "YAML aliases are not allowed in a plan", label, line))
        elif getattr(event, "tag", None) is not None:
            found.append(Problem("error", f"YAML tags ({cast(Any, event).tag}) are not allowed in a plan",
                                 label, line))
    return found


def _keys(node: yaml.Node, label: str, problems: list[Problem]) -> dict[str, tuple[int, yaml.Node]]:
    """Map each key of a mapping node to its line and value node; a repeated key is a problem."""
    found: dict[str, tuple[int, yaml.Node]] = {}
    for key_node, value_node in node.value:
        key, line = str(key_node.value), key_node.start_mark.line + 1
        if key in found:
            problems.append(Problem("error", f"key {key!r} appears more than once (lines {found[key][0]}, {line})",
                                    label, line))
            continue
        found[key] = (line, value_node)
    return found
