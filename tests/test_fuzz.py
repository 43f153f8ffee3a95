"""Fuzzing the parser, the writer and terminal escaping with hypothesis, bounded for CI.

Derandomized and without an example database: every run tries the same inputs, so a failure
in CI is a failure on every machine. Budget: a few hundred examples per test, well under 30 s
for the file on two cores.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtask.core import schema, taskfile
from gtask.output import render
from gtask.errors import InvalidTask
from gtask.core.model import STATUSES
from gtask.core.writer import REMOVE, apply_changes

FUZZ = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                    "\ud800-\udfff]")


def read(raw: bytes | str) -> tuple[taskfile.TaskFile, Any] | None:
    """The whole read path of one file: decode, parse, validate, and JSON for `--json`; None when refused."""
    try:
        text = taskfile.decode(raw, "t.md") if isinstance(raw, bytes) else raw
        tf = taskfile.parse(text, "t.md")
    except InvalidTask as exc:
        assert exc.path == "t.md" and exc.message
        return None
    task, problems = schema.build_task(tf, "t", "demo", "t.md")
    assert task is not None or any(p.is_error for p in problems)
    if task is not None:
        json.loads(render._json_text(task.to_json()))  # whatever parses can be printed as JSON
    return tf, task


# -- (a) the parser ------------------------------------------------------------------------

YAML_BITS = ["&a ", "*a", "!!python/object/apply:os.system [x]", "!!binary aGk=", "!!set {a}", "!x ", "[", "]", "{",
             "}", "? ", "- ", ": ", "\t", "%YAML 1.1\n", "---\n", "...\n", "\0", "\x1b[2J", "\ufeff", "<<: ", "|\n",
             ">-\n", "'", '"', "#", "\r", "\r\n", "\x85", "\u2028", "\\", "\\x1b", "\\u0000", "0x1F", "~", "null",
             "2026-01-01", "1e400", ".nan", "= ", "*", "&", "[" * 80, "- " * 80]


@FUZZ
@given(st.binary(max_size=400))
def test_parser_on_arbitrary_bytes(raw: bytes) -> None:
    read(raw)
    read(b"---\n" + raw + b"\n---\nbody\n")


@FUZZ
@given(st.text(max_size=300))
def test_parser_on_arbitrary_front_matter(text: str) -> None:
    read(text)
    read(f"---\n{text}\n---\n")
    read(f"---\ntitle: T\nstatus: todo\n{text}\n---\n")


@st.composite
def near_valid(draw: st.DrawFn) -> str:
    """A valid task file, then a few YAML-significant bits inserted, lines deleted or repeated."""
    lines = draw(task_files()).text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(lines)))
        action = draw(st.sampled_from(["insert", "delete", "repeat", "splice"]))
        if action == "insert":
            lines.insert(where, draw(st.sampled_from(YAML_BITS)) + draw(st.sampled_from(["", "\n"])))
        elif lines and action == "delete":
            del lines[min(where, len(lines) - 1)]
        elif lines and action == "repeat":
            lines.insert(where, lines[min(where, len(lines) - 1)])
        elif lines:
            index = min(where, len(lines) - 1)
            cut = draw(st.integers(0, len(lines[index])))
            lines[index] = lines[index][:cut] + draw(st.sampled_from(YAML_BITS)) + lines[index][cut:]
    return "".join(lines)


# -- task files built by a strategy, valid by construction -----------------------------------

_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 -_./()", min_size=1, max_size=20)
_plain = _words.map(str.strip).filter(lambda w: w and w[0].isalnum() and taskfile.load_yaml(f"k: {w}") == {"k": w})
_any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
_ids = st.from_regex(r"d[a-z0-9-]{0,10}", fullmatch=True)  # never `t`, the task itself
_keys = st.from_regex(r"x[a-z0-9_]{0,8}", fullmatch=True)


def _double_quoted(value: str) -> str:
    """A YAML double-quoted scalar: every character that is not printable as an escape."""
    def escape(char: str) -> str:
        if char in '"\\':
            return "\\" + char
        if char.isprintable():
            return char
        return f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}"
    return '"' + "".join(map(escape, value)) + '"'


_single = _plain | st.text("ab '#:-[]{}!&*", min_size=1, max_size=12)
_one_line = _any_text.map(lambda t: "T" + t.replace("\n", " "))  # what a title may be


@st.composite
def _string_value(draw: st.DrawFn, text: st.SearchStrategy[str] = _any_text,
                  single: st.SearchStrategy[str] = _single) -> str:
    """A string in one of YAML's quoting styles; plain style only gets words that stay plain strings."""
    style = draw(st.sampled_from(["plain", "single", "double"]))
    if style == "plain":
        return draw(_plain)
    if style == "single":
        return "'" + draw(single).replace("'", "''") + "'"
    return _double_quoted(draw(text))


@st.composite
def _list_value(draw: st.DrawFn, items: st.SearchStrategy[str], newline: str) -> str:
    values = draw(st.lists(items, max_size=4))
    if not values or draw(st.booleans()):
        return " [" + ", ".join(values) + "]"
    indent = draw(st.sampled_from(["", "  ", "    "]))
    out = ""
    for value in values:
        if draw(st.integers(0, 4)) == 0:
            out += f"{newline}{indent}# between items"
        comment = draw(st.sampled_from(["", "  # why", " # c"]))
        out += f"{newline}{indent}- {value}{comment}"
    return out


@st.composite
def task_files(draw: st.DrawFn) -> taskfile.TaskFile:
    """A valid task file with comments, quoting styles, block and flow lists, unknown keys, LF or CRLF."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    entries = [
        f"title: {draw(_string_value(_one_line, _plain))}",
        f"status: {draw(st.sampled_from(STATUSES))}{draw(st.sampled_from(['', '  # hand-set']))}",
    ]
    if draw(st.booleans()):
        entries.append(f"priority: {draw(st.integers(0, 4))}")
    for key in draw(st.lists(st.sampled_from(["labels", "steps", "risks", "depends_on"]), unique=True, max_size=3)):
        items = _ids if key == "depends_on" else _string_value()
        entries.append(f"{key}:{draw(_list_value(items, newline))}")
    for key in draw(st.lists(_keys, unique=True, max_size=2)):
        value = draw(_string_value() | st.integers().map(str) | st.just("{a: 1, b: [x, y]}") | st.just("null"))
        entries.append(f"{key}: {value}")
    entries = draw(st.permutations(entries))
    lines = ["---"]
    for entry in entries:
        if draw(st.integers(0, 5)) == 0:
            lines.append("# a comment line")
        if draw(st.integers(0, 8)) == 0:
            lines.append("")
        lines.append(entry)
    lines.append("---")
    body = draw(st.text(max_size=60)).replace("\r", "")
    text = newline.join(lines) + newline + (body.replace("\n", newline) if newline == "\r\n" else body)
    tf = taskfile.parse(text, "t.md")
    task, problems = schema.build_task(tf, "t", "demo", "t.md")
    assert task is not None, (text, problems)
    return tf


@FUZZ
@given(near_valid())
def test_parser_on_near_valid_task_files(text: str) -> None:
    read(text)
    read(text.encode())


# -- (b) the writer -------------------------------------------------------------------------------

_awkward = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20) | st.sampled_from(
    ["yes", "no", "null", "~", "3", "0x10", "1e3", "a: b", "# x", "x #y", "- x", "'q'", '"q"', "[x]", "{a}", "*a", "&a",
     "!tag", "@at", "`tick`", "%pct", "|", ">", "  pad", "tab\there", "line\nbreak", "\x1b[2J", "\u202e", "---", "...",
     "ünïcödé", "日本語", "\r\n", "", " "])
_value = st.one_of(_awkward, st.integers(-10**6, 10**6), st.booleans(), st.none(),
                   st.floats(allow_nan=False), st.lists(_awkward, max_size=4))


@st.composite
def changes_for(draw: st.DrawFn, tf: taskfile.TaskFile) -> dict[str, Any]:
    """A change set like the commands make: set scalars, add to and remove from lists, remove keys."""
    present = [key for key in tf.data if isinstance(key, str)]
    keys = draw(st.lists(st.sampled_from(present) | st.sampled_from(["claimed_by", "lease_until", "lane"]) | _keys,
                         unique=True, min_size=1, max_size=4))
    changes: dict[str, Any] = {}
    for key in keys:
        old = tf.data.get(key)
        kind = draw(st.sampled_from(["set", "remove", "list"]))
        if kind == "remove":
            changes[key] = REMOVE
        elif kind == "list" and isinstance(old, list):
            kept = [item for item in old if draw(st.booleans())]
            changes[key] = kept + draw(st.lists(_awkward, max_size=3))
        else:
            changes[key] = draw(_value)
    return changes


def _owner_of_lines(tf: taskfile.TaskFile) -> list[str | None]:
    """For each line of the file, the top-level key whose block it is in (None: outside any key)."""
    starts = sorted((line - 1, key) for key, found in tf.key_lines.items() for line in found)
    owners: list[str | None] = [None] * len(tf.lines)
    for number, (start, key) in enumerate(starts):
        end = starts[number + 1][0] if number + 1 < len(starts) else tf.fm_end
        for index in range(start, end):
            owners[index] = key
    return owners


def _is_subsequence(needles: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(any(line == candidate for candidate in it) for line in needles)


@FUZZ
@given(st.data())
def test_writer_is_exact_or_refuses(data: st.DataObject) -> None:
    tf = data.draw(task_files())
    changes = data.draw(changes_for(tf))
    try:
        text = apply_changes(tf, changes)
    except InvalidTask as exc:
        assert "left unchanged" in exc.message
        return
    after = taskfile.parse(text, "t.md")
    expected = {k: v for k, v in tf.data.items() if changes.get(k, None) is not REMOVE}
    expected.update({k: v for k, v in changes.items() if v is not REMOVE})
    assert after.data == expected
    assert after.body == tf.body
    assert text.endswith(tf.body)
    owners = _owner_of_lines(tf)
    kept = [line for line, owner in zip(tf.lines[: tf.fm_end + 1], owners) if owner not in changes]
    assert _is_subsequence(kept, after.lines), (tf.text, changes, text)
    newline = tf.newline
    for line in after.lines[: after.fm_end + 1]:
        assert line.endswith(newline) and "\n" not in line[: -len(newline)], (line, text)


# -- (c) terminal escaping ----------------------------------------------------------------------

_hostile_text = st.text(st.characters(), max_size=80) | st.lists(
    st.sampled_from(["\x1b]52;c;aGk=\x07", "\x1b[2J", "\x9b", "\x07", "\x1b\\", "\u202e", "\u2066", "\r", "\x00",
                     "\x7f", "\x85", "\u2028", "\ud800", "\udcff", "a", "é", "\t", "\n"]), max_size=20).map("".join)


@FUZZ
@given(_hostile_text)
def test_safe_never_emits_a_control(text: str) -> None:
    shown = render.safe(text)
    assert UNSAFE.search(shown) is None, repr(shown)  # tab and newline stay: they start no sequence
    if text.isprintable():
        assert shown == text
    shown.encode("utf-8")  # lone surrogates are escaped, so the text can be written out


_json_text = _hostile_text.filter(lambda t: not re.search("[\ud800-\udfff]", t))  # JSON pairs up surrogates


@FUZZ
@given(st.recursive(st.none() | st.booleans() | st.integers() | _json_text,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_json_text, inner, max_size=3),
                    max_leaves=10))
def test_json_output_is_escaped_and_exact(value: Any) -> None:
    text = render._json_text(value)
    assert UNSAFE.search(text) is None, text
    assert json.loads(text) == value
    assert render._last_guard(text) == text
