"""Change a task file by editing only the lines that must change (design §1, "Writing files")."""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from typing import Any, NamedTuple

import yaml

from gtask.core.taskfile import TaskFile, load_yaml, parse, plain_word, top_level_key_lines
from gtask.errors import InvalidTask, UsageError

REMOVE = object()  # a change value that deletes the key
_COMMENT = re.compile(r"(?<![ \t])[ \t]+#.*$")  # starts only at a run's first blank: linear on long runs
_ITEM = re.compile(r"(?P<indent>[ \t]*)-(?P<rest>.*)")
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_SURROGATES = re.compile("[\ud800-\udfff]")


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
    return edit(tf, changes).text


def edit(tf: TaskFile, changes: dict[str, Any]) -> TaskFile:
    """Apply `changes` and return the new text as read back (the check that it says what was asked)."""
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
    return _verify(tf, "".join(lines), changes)


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
    scalars = isinstance(value, list) and all_scalars(value)
    if isinstance(value, list) and isinstance(old_value, list) and not scalars:
        kept = _edit_block_items(old, key, old_value, value, newline)
        if kept is not None:
            return kept
    if scalars and len(old) == 1 and value:
        flow = _flow_list(head, key, value)  # `labels: [a, b]` stays on one line
        if flow is not None:
            return [flow + newline]
    if scalars:
        kept = _edit_block_list(old, value, newline, old_value)
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


def _edit_block_list(old: list[str], items: list[Any], newline: str, old_items: Any = None) -> list[str] | None:
    """Keep the lines of items that stay, drop removed ones, append new ones; None if not a simple list."""
    head, body = old[0], old[1:]
    if head.rstrip("\r\n").split(":", 1)[1].split("#", 1)[0].strip():
        return None  # a flow list or scalar on the key line
    found = _block_items(body, old_items) if items else None
    if found is None:
        return None
    indent, values = found
    # counted by exact YAML scalar (2 and 2.0 are two items): linear for long lists
    keys = exact_items(items)
    wanted = Counter(keys)
    result = [head]
    for line, value in zip(body, values, strict=True):
        if value is _SKIP:
            result.append(line)
            continue
        key = value if type(value) is str else exact(value)
        if wanted[key] > 0:
            wanted[key] -= 1
            result.append(line)
    for v, key in zip(items, keys, strict=True):  # the items no old line holds, in order
        if wanted[key] > 0:
            wanted[key] -= 1
            result.append(f"{indent}- {scalar(v)}{newline}")
    return result


_SKIP = object()
_FLOATS = yaml.representer.SafeRepresenter()


def _block_items(body: list[str], old_items: Any) -> tuple[str, list[Any]] | None:
    """The items' indent and, line by line, the scalar the line holds (_SKIP for a blank or comment line).

    None unless every other line is `<indent>- <scalar>` at one indent. `old_items` is the key's value as the
    file was read: when there is one item line per old item, line n holds item n (a line that continued the
    one before, a quoted text over two lines say, would leave fewer items than lines), so a long list is
    checked by one pattern instead of being read line by line.
    """
    first = next((_item(line) for line in body if not _is_blank_or_comment(line)), None)
    if first is None or first.value is None:
        return None
    if isinstance(old_items, list) and all_scalars(old_items) and _simple_block(first.indent).fullmatch(
            "".join(body) + "\n"):  # one more newline: the last line may lack its own
        prefix = first.indent + "-"
        starts = [line.startswith(prefix) for line in body]
        if sum(starts) == len(old_items):
            each = iter(old_items)
            return first.indent, [next(each) if start else _SKIP for start in starts]
    values: list[Any] = []
    for line in body:
        if _is_blank_or_comment(line):
            values.append(_SKIP)
            continue
        item = _item(line)
        if not item or item.value is None or item.indent != first.indent:
            return None
        try:
            value = load_yaml(item.value)
        except yaml.YAMLError:
            return None
        if not _is_scalar(value):
            return None
        values.append(value)
    return first.indent, values


def _is_blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


@functools.lru_cache(maxsize=16)
def _simple_block(indent: str) -> re.Pattern[str]:
    """Lines that are blank, a comment, or `<indent>- <text>` (what `_item` reads as an item with a value)."""
    return re.compile(r"(?:[^\S\n]*+(?:#[^\n]*+)?\n|" + re.escape(indent) + r"-[ \t][^\n]*+\n)*+")


def exact(value: Any) -> Any:
    """A value as YAML wrote it, for comparing: 2, 2.0 and true differ (Python says 2 == 2.0 == True)."""
    if type(value) is str:
        return value
    if isinstance(value, dict):
        return ("map", tuple((exact(k), exact(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", tuple(exact_items(value)))
    return (type(value).__name__, repr(value))


def exact_items(values: list[Any]) -> list[Any]:
    """`exact` of each item; a list of texts (the common long list) is its own, without a call per item."""
    return values if set(map(type, values)) <= {str} else [v if type(v) is str else exact(v) for v in values]


_SCALAR_TYPES = {type(None), str, int, float, bool}


def all_scalars(values: list[Any]) -> bool:
    """Whether every value is a scalar (text, number, boolean or null); a list of plain types without a call each."""
    return set(map(type, values)) <= _SCALAR_TYPES or all(map(_is_scalar, values))


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
        return str(_FLOATS.represent_float(value).value)  # YAML's own forms: 1.0e+20, .inf, .nan (as safe_dump writes)
    text = str(value)
    if _SURROGATES.search(text):  # undecodable bytes from argv (surrogateescape) or a lone surrogate from JSON
        raise UsageError(f"{text!r} is not UTF-8 text: task files hold UTF-8 only")
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


def _verify(tf: TaskFile, text: str, changes: dict[str, Any]) -> TaskFile:
    """Re-parse the new text and insist that it says exactly what was asked; return it as read."""
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
    return result
