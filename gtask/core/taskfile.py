"""Read one task file: bytes to text, front matter to data, with file line numbers."""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gtask.errors import InvalidTask

MAX_BYTES = 1 << 20
_LINE = re.compile(r"[^\n]*\n|[^\n]+")
# The plain key takes everything up to the colon and is stripped afterwards: a lazy `[^:#]*?`
# followed by `[ \t]*:` backtracks quadratically on a long run of spaces (a hostile line of
# 1 MiB took minutes).
_TOP_KEY = re.compile(
    r"""(?:"(?P<dq>[^"\\]*)"[ \t]*|'(?P<sq>[^']*)'[ \t]*"""
    r"""|(?P<plain>[^\s#'"\-?:,\[\]{}&*!|>%@`][^:#]*)):(?:[ \t]|\r?\n|$)"""
)

_NOT_KEY_START = frozenset(" \t-")  # no _TOP_KEY match starts with these


MAX_DEPTH = 64  # levels of nested lists and maps; real task files use three
_SHALLOW_INDENT = 16
_DEEP_INDENT = re.compile(r"\n[ \t]{" + str(_SHALLOW_INDENT + 1) + "}")
_CROWDED: dict[int, re.Pattern[str]] = {}


_STR = "tag:yaml.org,2002:str"


class TaskLoader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """Safe YAML that keeps times as the strings they were written as and builds only JSON types.

    Two shortcuts keep a 60,000-item list cheap (libyaml calls back into Python once per scalar): `resolve`
    does what PyYAML's does for a loader without path or wildcard resolvers, and a list item that resolved to
    a string is its text, as `construct_yaml_str` would return, without a call per item.
    """

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return _STR
        return super().resolve(kind, value, implicit)

    def construct_sequence(self, node: Any, deep: bool = False) -> list[Any]:
        if not isinstance(node, yaml.SequenceNode):
            return super().construct_sequence(node, deep)  # type: ignore[no-any-return]
        construct = self.construct_object
        return [child.value if child.tag == _STR and type(child) is yaml.ScalarNode else construct(child, deep)
                for child in node.value]

    def flatten_mapping(self, node: Any) -> None:
        """Refuse YAML merge keys (`<<: {...}`): they add keys that no line of the file shows."""
        for key, _ in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                raise yaml.constructor.ConstructorError(None, None, "a YAML merge key (<<) is not allowed: write "
                                                        "each key on its own line", key.start_mark)
        super().flatten_mapping(node)


TaskLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# What TaskLoader.resolve and construct_sequence take for granted of PyYAML's safe loader:
if None in TaskLoader.yaml_implicit_resolvers or TaskLoader.yaml_path_resolvers or \
        TaskLoader.yaml_constructors[_STR] is not yaml.SafeLoader.construct_yaml_str:  # pragma: no cover
    raise ImportError("this PyYAML's safe loader resolves or builds text unlike PyYAML 6, which gtask relies on")


def _refuse_tag(loader: yaml.BaseLoader, node: yaml.Node) -> None:
    raise yaml.constructor.ConstructorError(
        None, None, f"the tag {node.tag!r} is not allowed: only text, numbers, booleans, null, lists and maps",
        node.start_mark)


# The safe loader still builds bytes, sets, datetimes and pairs from explicit tags (`!!binary`, `!!set`, ...):
# values that JSON output, comparisons and the writer cannot handle. Only JSON's types are allowed.
for _tag in ("binary", "set", "timestamp", "omap", "pairs"):
    TaskLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)


# `fix-login`, `area/api`, `v1.2`: a letter first leaves only YAML's words (true, null, ...) to be other than text
_PLAIN_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
_NOT_TEXT = {"yes", "no", "on", "off", "true", "false", "null"}  # YAML 1.1 words that are not strings


def plain_word(text: str) -> bool:
    """Whether YAML reads this text, written plain, as exactly this string (a word, not true/null/a number)."""
    return bool(_PLAIN_WORD.fullmatch(text)) and text.lower() not in _NOT_TEXT


def load_yaml(text: str) -> Any:
    """Load YAML safely: no object tags, no aliases, no timestamps, no deep nesting."""
    if plain_word(text):
        return text  # a plain word is that string: the common list item, without the parser's cost
    if "*" in text or (sum(map(text.count, "[{-:?")) > MAX_DEPTH and not _shallow(text)
                       and _depth_bound(text) > MAX_DEPTH):
        check_events(text)
    return yaml.load(text, Loader=TaskLoader)


def _depth_bound(text: str) -> int:
    """An upper bound on how deep lists and maps nest, without parsing (a long flat list is cheap to read).

    A block collection that holds a line starts at a column no greater than the line's indent, and at most two
    (a map and its list value) share a column; on the line itself each new level needs `- `, `? ` or `: `;
    flow collections need a bracket each.
    """
    deepest = 0
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip(" \t"))
        deepest = max(deepest, 2 * (indent + 1) + line.count("-") + line.count("?") + line.count(":") + 1)
    return deepest + text.count("[") + text.count("{")


def _shallow(text: str) -> bool:
    """Whether `_depth_bound` is surely within MAX_DEPTH, in a few passes at C speed (a 60,000-line list).

    No line indented more than _SHALLOW_INDENT and none with more than `room` indicators bounds every line's sum.
    """
    room = MAX_DEPTH - 2 * (_SHALLOW_INDENT + 1) - 1 - text.count("[") - text.count("{")
    if room < 0 or _DEEP_INDENT.search(text) or _DEEP_INDENT.match("\n" + text[:_SHALLOW_INDENT + 1]):
        return False
    if room not in _CROWDED:  # a line with more than `room` of `- ? :`; possessive, so linear
        _CROWDED[room] = re.compile(r"[-?:](?:[^-?:\n]*+[-?:]){" + str(room) + "}")
    return _CROWDED[room].search(text) is None


def check_events(text: str, aliases: bool = False) -> None:
    """Refuse lists or maps nested deeper than MAX_DEPTH, and aliases (billion laughs) unless `aliases`."""
    # libyaml composes nodes recursively in C: 50,000 opening brackets crash the process with a
    # segmentation fault, not a RecursionError. The event stream is flat, so it is checked first;
    # load_yaml asks for it only when the text has an alias or enough indicators (`[ { - : ?`, at
    # least one per level) to nest that deep.
    # The arg-type ignores below: types-PyYAML's MarkedYAMLError omits libyaml's _yaml.Mark, which works.
    depth = 0
    for event in yaml.parse(text, Loader=TaskLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(problem=f"lists and maps are nested more than {MAX_DEPTH} levels deep",
                                           problem_mark=event.start_mark)  # type: ignore[arg-type]
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent) and not aliases:
            raise yaml.MarkedYAMLError(problem="YAML aliases are not allowed in task files",
                                       problem_mark=event.start_mark)  # type: ignore[arg-type]


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
    if not line.startswith(("-", "\ufeff")):
        return False  # most lines, at the cost of one call
    return line.rstrip("\r\n").rstrip(" \t").lstrip("\ufeff") == "---"


_LINE_OF_DASHES = re.compile("\n\ufeff*---")


def _closing_fence(text: str, lines: list[str]) -> int | None:
    """The index of the first fence line after the first line; only lines that start with `---` are looked at."""
    line, counted = 0, 0
    for match in _LINE_OF_DASHES.finditer(text):
        line += text.count("\n", counted, match.start() + 1)
        counted = match.start() + 1
        if is_fence(lines[line]):
            return line
    return None


@dataclass
class TaskFile:
    """A parsed task file: its lines, where the front matter is, and its data."""

    label: str  # the path as shown to the user
    lines: list[str]
    fm_start: int  # index of the first front-matter line (after the opening fence)
    fm_end: int  # index of the closing fence
    data: dict[Any, Any]  # YAML keys need not be strings
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


LINKED_FOLDER = "the task folder is a symbolic link; gtask does not follow links out of the repository"


def read_text(path: Path, label: str) -> str:
    """Read a task file as UTF-8 text with its line endings; refuse what is not a regular text file."""
    if os.path.islink(path.parent):  # a branch can commit `.tasks` as a link to any folder on the machine
        raise InvalidTask(LINKED_FOLDER, path=label)
    # O_NOFOLLOW: a link put in place after the caller's check is refused, not followed out of `.tasks/`.
    # O_NONBLOCK: opening a FIFO named `x.md` returns at once instead of waiting for a writer.
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InvalidTask("is a symbolic link; gtask does not follow links in the task folder",
                              path=label) from None
        raise InvalidTask(f"cannot read file: {exc.strerror}", path=label) from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidTask("is not a regular file", path=label)
        if st.st_size > MAX_BYTES:
            raise InvalidTask(f"file is {st.st_size} bytes; task files are limited to {MAX_BYTES} bytes (1 MiB)",
                              path=label)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(MAX_BYTES + 1)  # a file that grows while we read stays bounded
    except OSError as exc:
        raise InvalidTask(f"cannot read file: {exc.strerror}", path=label) from exc
    finally:
        os.close(fd)
    return decode(raw, label)


def decode(raw: bytes, label: str) -> str:
    """Decode bytes of a task file (from disk or a git object); refuse what is too big, NUL bytes and invalid UTF-8."""
    if len(raw) > MAX_BYTES:
        raise InvalidTask(f"file is over 1 MiB; task files are limited to {MAX_BYTES} bytes (1 MiB)", path=label)
    if b"\0" in raw:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        raise InvalidTask("file contains a NUL byte; task files are text", path=label, line=line)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidTask(f"file is not valid UTF-8 (byte {exc.start})", path=label, line=line) from exc


_ODD_KEY = re.compile(r"^[\"'?!&{]", re.M)  # a key spelled so that the line scan below cannot name it


def _spelled_twice(fm_text: str) -> tuple[str, int] | None:
    """A top-level key given twice in spellings the line scan misses (`"st\\x61tus"`, `? status`): key, 0-based line."""
    root = yaml.compose(fm_text, Loader=TaskLoader)
    if not isinstance(root, yaml.MappingNode):
        return None
    seen: set[tuple[str, str]] = set()
    for key, _ in root.value:
        if isinstance(key, yaml.ScalarNode):
            if (key.tag, key.value) in seen:
                return key.value, key.start_mark.line
            seen.add((key.tag, key.value))
    return None


def parse(text: str, label: str) -> TaskFile:
    """Parse task file text; raise InvalidTask naming the file line of any problem."""
    if len(text) > MAX_BYTES // 4 and len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise InvalidTask(f"the task would be over 1 MiB; task files are limited to {MAX_BYTES} bytes", path=label)
    lines = split_lines(text)
    if not lines:
        raise InvalidTask("file is empty; a task needs front matter with title and status", path=label, line=1)
    if not is_fence(lines[0]):
        raise InvalidTask("no front matter: the file must start with a '---' line", path=label, line=1)
    fm_end = _closing_fence(text, lines)
    if fm_end is None:
        raise InvalidTask("front matter is not closed: no second '---' line", path=label, line=1)
    fm_text = "".join(lines[1:fm_end])
    try:
        data = load_yaml(fm_text)
        twice = _spelled_twice(fm_text) if _ODD_KEY.search(fm_text) else None
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
    if twice is not None:
        raise InvalidTask(f"key {twice[0]!r} appears more than once (spelled differently)", path=label,
                          line=twice[1] + 2)
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
        line = lines[index]
        if line[:1] in _NOT_KEY_START:
            continue  # an indented line or a list item, without the pattern's cost
        match = _TOP_KEY.match(line)
        if match:
            key = match.group("dq") or match.group("sq") or match.group("plain").rstrip(" \t")
            found.setdefault(key, []).append(index + 1)
    return found


def read(path: Path, label: str) -> TaskFile:
    """Read and parse one task file."""
    return parse(read_text(path, label), label)
