"""Read one task file: bytes to text, front matter to data, with file line numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import InvalidTask

MAX_BYTES = 1 << 20
_LINE = re.compile(r"[^\n]*\n|[^\n]+")
_TOP_KEY = re.compile(
    r"""(?:"(?P<dq>[^"\\]*)"|'(?P<sq>[^']*)'|(?P<plain>[^\s#'"\-?:,\[\]{}&*!|>%@`][^:#]*?))[ \t]*:(?:[ \t]|\r?\n|$)"""
)


class TaskLoader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """Safe YAML that keeps times as the strings they were written as."""


TaskLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """Load YAML safely: no object tags, no aliases, no timestamps."""
    if "*" in text:
        _refuse_aliases(text)
    return yaml.load(text, Loader=TaskLoader)  # noqa: S506 - TaskLoader is a safe loader


def _refuse_aliases(text: str) -> None:
    for event in yaml.parse(text, Loader=TaskLoader):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            raise yaml.MarkedYAMLError(
                problem="YAML aliases are not allowed in task files", problem_mark=mark
            )


def yaml_error(exc: yaml.MarkedYAMLError, first_line: int) -> tuple[str, int]:
    """Say what went wrong and on which file line: where the broken construct starts, when known."""
    problem, context = exc.problem_mark, exc.context_mark
    if context is not None and problem is not None and context.line != problem.line:
        message = (f"YAML error: {exc.context} (line {context.line + first_line}): "
                   f"{exc.problem} (line {problem.line + first_line})")
        return message, context.line + first_line
    mark = problem or context
    return f"YAML error: {exc.problem or exc.context}", (mark.line + first_line if mark else first_line)


def split_lines(text: str) -> list[str]:
    """Split text into lines that keep their own line ending ('\\n' or '\\r\\n')."""
    return _LINE.findall(text)


def is_fence(line: str) -> bool:
    return line.rstrip("\r\n").rstrip(" \t").lstrip("\ufeff") == "---"


@dataclass
class TaskFile:
    """A parsed task file: its lines, where the front matter is, and its data."""

    label: str  # the path as shown to the user
    lines: list[str]
    fm_start: int  # index of the first front-matter line (after the opening fence)
    fm_end: int  # index of the closing fence
    data: dict[str, Any]
    key_lines: dict[str, list[int]] = field(default_factory=dict)  # key -> 1-based lines

    @property
    def text(self) -> str:
        return "".join(self.lines)

    @property
    def body(self) -> str:
        return "".join(self.lines[self.fm_end + 1 :])

    @property
    def newline(self) -> str:
        return "\r\n" if self.lines and self.lines[0].endswith("\r\n") else "\n"

    def line_of(self, key: str) -> int | None:
        """Return the 1-based line of a top-level key, if it has one."""
        lines = self.key_lines.get(key)
        return lines[0] if lines else None


def read_text(path: Path, label: str) -> str:
    """Read a task file as UTF-8 text with its line endings; refuse what is not text."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InvalidTask(f"file is {size} bytes; task files are limited to {MAX_BYTES} bytes (1 MiB)", path=label)
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidTask(f"cannot read file: {exc.strerror}", path=label) from exc
    return decode(raw, label)


def decode(raw: bytes, label: str) -> str:
    """Decode bytes of a task file; refuse NUL bytes and invalid UTF-8 with a line."""
    if b"\0" in raw:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        raise InvalidTask("file contains a NUL byte; task files are text", path=label, line=line)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidTask(f"file is not valid UTF-8 (byte {exc.start})", path=label, line=line) from exc


def parse(text: str, label: str) -> TaskFile:
    """Parse task file text; raise InvalidTask naming the file line of any problem."""
    lines = split_lines(text)
    if not lines:
        raise InvalidTask("file is empty; a task needs front matter with title and status", path=label, line=1)
    if not is_fence(lines[0]):
        raise InvalidTask("no front matter: the file must start with a '---' line", path=label, line=1)
    fm_end = next((i for i in range(1, len(lines)) if is_fence(lines[i])), None)
    if fm_end is None:
        raise InvalidTask("front matter is not closed: no second '---' line", path=label, line=1)
    fm_text = "".join(lines[1:fm_end])
    try:
        data = load_yaml(fm_text)
    except yaml.MarkedYAMLError as exc:
        message, line = yaml_error(exc, first_line=2)
        raise InvalidTask(message, path=label, line=line) from None
    except yaml.YAMLError as exc:
        raise InvalidTask(f"YAML error: {exc}", path=label, line=2) from None
    except RecursionError:
        raise InvalidTask("front matter is nested too deeply", path=label, line=2) from None
    if data is None:
        raise InvalidTask("front matter is empty; title and status are required", path=label, line=2)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        raise InvalidTask(f"front matter is {kind}; it must be a mapping of keys to values", path=label, line=2)
    key_lines = top_level_key_lines(lines, 1, fm_end)
    for key, found in key_lines.items():
        if len(found) > 1:
            where = ", ".join(str(n) for n in found)
            raise InvalidTask(f"key {key!r} appears more than once (lines {where})", path=label, line=found[1])
    return TaskFile(label=label, lines=lines, fm_start=1, fm_end=fm_end, data=data, key_lines=key_lines)


def top_level_key_lines(lines: list[str], start: int, end: int) -> dict[str, list[int]]:
    """Map each top-level key of the front matter to the 1-based lines it appears on."""
    found: dict[str, list[int]] = {}
    for index in range(start, end):
        match = _TOP_KEY.match(lines[index])
        if match:
            key = match.group("dq") or match.group("sq") or match.group("plain")
            found.setdefault(key, []).append(index + 1)
    return found


def read(path: Path, label: str) -> TaskFile:
    """Read and parse one task file."""
    return parse(read_text(path, label), label)
