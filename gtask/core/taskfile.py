"""Read one task file: bytes to text, front matter to data, with file line numbers."""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gtask.errors import InvalidTask

if TYPE_CHECKING:
    import yaml

    from gtask.core.yamlsafe import MAX_DEPTH as MAX_DEPTH
    from gtask.core.yamlsafe import TaskLoader as TaskLoader

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


# `fix-login`, `area/api`, `v1.2`: a letter first leaves only YAML's words (true, null, ...) to be other than text
_PLAIN_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
_NOT_TEXT = {"yes", "no", "on", "off", "true", "false", "null"}  # YAML 1.1 words that are not strings


def plain_word(text: str) -> bool:
    """Whether YAML reads this text, written plain, as exactly this string (a word, not true/null/a number)."""
    return bool(_PLAIN_WORD.fullmatch(text)) and text.lower() not in _NOT_TEXT


def load_yaml(text: str) -> Any:
    """Load YAML safely: no object tags, no aliases, no timestamps, no deep nesting (see yamlsafe)."""
    if plain_word(text):
        return text  # a plain word is that string: the common list item, without the parser's cost
    from gtask.core import yamlsafe  # PyYAML is imported only when some text must be parsed

    return yamlsafe.load_yaml(text)


def check_events(text: str, aliases: bool = False) -> None:
    """Refuse lists or maps nested deeper than MAX_DEPTH, and aliases unless `aliases` (see yamlsafe)."""
    from gtask.core import yamlsafe

    yamlsafe.check_events(text, aliases)


def yaml_error(exc: yaml.MarkedYAMLError, first_line: int) -> tuple[str, int]:
    """Say what went wrong and on which file line (see yamlsafe)."""
    from gtask.core import yamlsafe

    return yamlsafe.yaml_error(exc, first_line)


def __getattr__(name: str) -> Any:
    """`taskfile.TaskLoader` and `taskfile.MAX_DEPTH` still name the loader's, imported on first use."""
    if name in ("TaskLoader", "MAX_DEPTH"):
        from gtask.core import yamlsafe

        return getattr(yamlsafe, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    from gtask.core import fastfront

    data = fastfront.load(fm_text)  # the common plain shapes, as the loader reads them; else None
    if data is None:
        from gtask.core import yamlsafe  # PyYAML is imported only when the full loader must read it

        data = yamlsafe.front_matter(fm_text, label)
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
