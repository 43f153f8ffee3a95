"""Change a task file by editing only the lines that must change (design §1, "Writing files")."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, NamedTuple

import yaml

from gtask.core.taskfile import TaskFile, load_yaml, parse, plain_word, top_level_key_lines
from gtask.errors import InvalidTask

REMOVE = object()  # a change value that deletes the key
_COMMENT = re.compile(r"(?<![ \t])[ \t]+#.*$")  # starts only at a run's first blank: linear on long runs
_ITEM = re.compile(r"(?P<indent>[ \t]*)-(?P<rest>.*)")
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


class Item(NamedTuple):
    """A block-list item line: `<indent>- <value>`; value None for a bare `-`."""

    indent: str
    value: str | None


def _item(line: str) -> Item | None:
    """Read a line as a block-list item, in linear time (a hostile line may hold a megabyte of blanks)."""
    match = _ITEM.fullmatch(line.rstrip("\r\n"))
    if match is None:
        return None
    rest = match.group("rest")
    if rest and rest[0] not in " \t":
        return None  # `-x` is a scalar, not an item
    return Item(match.group("indent"), rest.strip(" \t") if rest else None)


def apply_changes(tf: TaskFile, changes: dict[str, Any]) -> str:
    """Return the file's new text with `changes` applied; raise if it cannot be done exactly."""
    lines = list(tf.lines)
    fm_end = tf.fm_end
    newline = tf.newline
    for key, value in changes.items():
        start, end = _extent(lines, key, tf.fm_start, fm_end)
        if value is REMOVE:
            if start is not None:
                del lines[start:end]
                fm_end -= end - start
            continue
        if start is None:
            new = render_key(key, value, newline, indent=_list_indent(lines, tf.fm_start, fm_end))
            lines[fm_end:fm_end] = new
            fm_end += len(new)
            continue
        new = _replace(lines[start:end], key, value, newline, tf.data.get(key))
        lines[start:end] = new
        fm_end += len(new) - (end - start)
    text = "".join(lines)
    _verify(tf, text, changes)
    return text


def _extent(lines: list[str], key: str, start: int, end: int) -> tuple[int | None, int]:
    """Find the lines [first, last) that hold a top-level key and its value."""
    found = top_level_key_lines(lines, start, end).get(key)
    if not found:
        return None, end
    first = found[0] - 1
    last = first + 1
    scan = last
    while scan < end:
        line = lines[scan]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            scan += 1
            continue
        if line[0] in " \t" or line.startswith("-"):
            scan += 1
            last = scan
            continue
        break
    return first, last


def _list_indent(lines: list[str], start: int, end: int) -> str:
    """Use the indentation the file already uses for list items; two spaces otherwise."""
    for line in lines[start:end]:
        item = _item(line)
        if item:
            return item.indent
    return "  "


def _replace(old: list[str], key: str, value: Any, newline: str, old_value: Any = None) -> list[str]:
    """Replace a key's lines, keeping what can be kept of the old ones."""
    head = old[0].rstrip("\r\n")
    if isinstance(value, list) and isinstance(old_value, list) and not all(_is_scalar(v) for v in value):
        kept = _edit_block_items(old, key, old_value, value, newline)
        if kept is not None:
            return kept
    if isinstance(value, list) and all(_is_scalar(v) for v in value) and len(old) == 1 and value:
        flow = _flow_list(head, key, value)  # `labels: [a, b]` stays on one line
        if flow is not None:
            return [flow + newline]
    if isinstance(value, list) and all(_is_scalar(v) for v in value):
        kept = _edit_block_list(old, value, newline)
        if kept is not None:
            return kept
        indent = next((item.indent for item in map(_item, old[1:]) if item), "  ")
        return render_key(key, value, newline, indent)
    if _is_scalar(value) and len(old) == 1:
        prefix = head[: head.index(":") + 1]
        comment = _trailing_comment(head, prefix)
        quote = _quote_style(head[len(prefix):])
        return [f"{prefix} {scalar(value, quote)}{comment}{newline}"]
    return render_key(key, value, newline, indent="  ")


def _flow_list(head: str, key: str, items: list[Any]) -> str | None:
    """`key: [a, b]` when the old line was a flow list and YAML reads the new one back exactly; else None."""
    prefix = head[: head.index(":") + 1]
    if not head[len(prefix):].strip().startswith("["):
        return None
    cells = []
    for item in items:
        text = scalar(item)
        if isinstance(item, str) and (any(ch in text for ch in ",[]{}#") or text != text.strip()):
            text = _double_quoted(item)  # a plain scalar may not hold flow indicators
        cells.append(text)
    line = f"{prefix} [{', '.join(cells)}]"
    try:
        return line if load_yaml(line) == {key: items} else None
    except yaml.YAMLError:
        return None


def _trailing_comment(line: str, prefix: str) -> str:
    """Return the line's `# comment` when removing it leaves the same YAML value."""
    match = _COMMENT.search(line)
    if not match:
        return ""
    try:
        with_comment = load_yaml(line)
        without = load_yaml(line[: match.start()])
    except yaml.YAMLError:
        return ""
    return match.group(0) if with_comment == without else ""


def _quote_style(raw_value: str) -> str:
    text = raw_value.strip()
    return text[0] if text[:1] in ("'", '"') else ""


def _edit_block_list(old: list[str], items: list[Any], newline: str) -> list[str] | None:
    """Keep the lines of items that stay, drop removed ones, append new ones; None if not a simple list."""
    head, body = old[0], old[1:]
    if head.rstrip("\r\n").split(":", 1)[1].split("#", 1)[0].strip():
        return None  # a flow list or scalar on the key line
    entries: list[tuple[Any, str]] = []
    indent = None
    for line in body:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            entries.append((_SKIP, line))
            continue
        item = _item(line)
        if not item or item.value is None:
            return None
        try:
            value = load_yaml(item.value)
        except yaml.YAMLError:
            return None
        if not _is_scalar(value) or (indent is not None and item.indent != indent):
            return None
        indent = item.indent
        entries.append((value, line))
    if indent is None or not items:
        return None
    # counted by exact YAML scalar (2 and 2.0 are two items): linear for long lists
    wanted = Counter((type(v).__name__, repr(v)) for v in items)
    result = [head]
    for value, line in entries:
        key = (type(value).__name__, repr(value))
        if value is _SKIP:
            result.append(line)
        elif wanted[key] > 0:
            wanted[key] -= 1
            result.append(line)
    for v in items:  # the items no old line holds, in the order given
        key = (type(v).__name__, repr(v))
        if wanted[key] > 0:
            wanted[key] -= 1
            result.append(f"{indent}- {scalar(v)}{newline}")
    return result


_SKIP = object()


def _edit_block_items(old: list[str], key: str, old_items: list[Any], items: list[Any],
                      newline: str) -> list[str] | None:
    """Keep the lines of the items that stay the same at the start and end; render only those between.

    An append (`attempt start`) keeps every old line and adds the new item's lines at the end;
    a change to one item (`attempt end`) re-renders that item alone. None when the block cannot
    be split into items exactly, so that the caller re-renders the whole key.
    """
    same = 0
    while same < min(len(old_items), len(items)) and old_items[same] == items[same]:
        same += 1
    tail = 0
    while tail < min(len(old_items), len(items)) - same and old_items[-1 - tail] == items[-1 - tail]:
        tail += 1
    if same + tail == 0 or old[0].rstrip("\r\n").split(":", 1)[1].split("#", 1)[0].strip():
        return None  # nothing to keep, or a flow list on the key line
    items_at = ((i, _item(line)) for i, line in enumerate(old) if i)
    dashes = [(i, item.indent) for i, item in items_at if item]
    if not dashes:
        return None
    indent = dashes[0][1]  # the items' own dashes; deeper ones belong to nested lists
    starts = [i for i, dash_indent in dashes if dash_indent == indent] + [len(old)]
    if len(starts) != len(old_items) + 1:
        return None
    first, last = starts[same], starts[len(old_items) - tail]
    result = old[:first] + _block_lines(items[same:len(items) - tail], indent, newline) + old[last:]
    try:
        if load_yaml("".join(result)) != {key: items}:
            return None
    except yaml.YAMLError:
        return None
    return result


def _block_lines(items: list[Any], indent: str, newline: str) -> list[str]:
    """Render list items in block style, each line starting with `indent`."""
    if not items:
        return []
    return [f"{indent}{line}{newline}" for line in _dumped_lines(items)]


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def render_key(key: str, value: Any, newline: str, indent: str) -> list[str]:
    """Render a key that is written anew; lists are block style."""
    if _is_scalar(value):
        return [f"{key}: {scalar(value)}{newline}"]
    if isinstance(value, list) and not value:
        return [f"{key}: []{newline}"]
    if isinstance(value, list) and all(_is_scalar(v) for v in value):
        return [f"{key}:{newline}"] + [f"{indent}- {scalar(v)}{newline}" for v in value]
    if isinstance(value, list):
        return [f"{key}:{newline}", *_block_lines(value, indent, newline)]
    return [f"{key}:{newline}"] + [f"  {line}{newline}" for line in _dumped_lines(value)]


def _dumped_lines(value: Any) -> list[str]:
    """Block-style YAML of a list or map, one string per line; readable Unicode unless a character would
    break a line or a terminal (NEL, U+2028, C1 controls), then every such character escaped."""
    dumped = yaml.safe_dump(value, default_flow_style=False, sort_keys=False, allow_unicode=True, width=10**9)
    if _UNSAFE_CHARS.search(dumped):
        dumped = yaml.safe_dump(value, default_flow_style=False, sort_keys=False, allow_unicode=False, width=10**9)
    return dumped.split("\n")[:-1]


def scalar(value: Any, quote: str = "") -> str:
    """Render a scalar so that YAML reads back exactly `value`, plain when that is safe."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        return yaml.safe_dump(value).removesuffix("...\n").strip()  # YAML's own forms: 1.0e+20, .inf, .nan
    text = str(value)
    if quote == "'" and "'" not in text and not _UNSAFE_CHARS.search(text) and "\n" not in text:
        return f"'{text}'"
    if quote != '"' and plain_word(text):
        return text  # no parser needed for a plain word (long lists are written item by item)
    if quote != '"' and text and not _UNSAFE_CHARS.search(text) and "\n" not in text:
        try:
            if load_yaml(f"k: {text}") == {"k": text}:
                return text
        except yaml.YAMLError:
            pass
    return _double_quoted(text)


def _double_quoted(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    return _UNSAFE_CHARS.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


def _verify(tf: TaskFile, text: str, changes: dict[str, Any]) -> None:
    """Re-parse the new text and insist that it says exactly what was asked."""
    expected = dict(tf.data)
    for key, value in changes.items():
        if value is REMOVE:
            expected.pop(key, None)
        else:
            expected[key] = value
    try:
        result = parse(text, tf.label)
    except InvalidTask as exc:
        raise InvalidTask(f"cannot edit this file safely ({exc.message}); it was left unchanged",
                          path=tf.label) from exc
    if result.data != expected or result.body != tf.body:
        raise InvalidTask("cannot edit this file's front matter layout safely; it was left unchanged", path=tf.label)
