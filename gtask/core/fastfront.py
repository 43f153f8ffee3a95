"""Plain front matter without the YAML parser: the common shapes only, else None (the full loader decides).

Most task files are lines of `key: plain text`, `key:` followed by `  - item` lines, and `key: [a, b]`.
These are split here by line; each scalar is then typed by the full loader's own resolver and constructors
(so `yes`, `~`, `0x1F`, `1:30`, `.inf` come out exactly as the loader builds them). Anything else —
quotes, anchors, tags, comment lines, blank lines, indented continuations, tabs, CRs, duplicate keys,
control or line-separator characters, a value that could start or hold another construct — returns None.
tests/test_fast_front_matter.py checks with generated front matter that whatever this returns is what the
full loader returns.
"""

from __future__ import annotations

import re
from typing import Any

_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]{0,63}):(?: +(.*))?")
_ITEM_LINE = re.compile(r"( *)- +(.*)")
# characters a plain one-line scalar may hold here: printable, no tab/CR/line separators/BOM/surrogates
_UNSAFE = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_INDICATOR_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_ITEM = re.compile(r" *([A-Za-z0-9_][A-Za-z0-9_./+-]*) *")
_FALLBACK = object()  # a scalar this module does not read: the whole text goes to the full loader
_EMPTY = object()  # nothing after `key:` or `- `
# The first characters for which the loader has an implicit resolver (any other plain scalar is text), those
# whose only resolvers are bool and null, and the words these match; tests/test_fast_front_matter.py checks
# all three against the loader, so that the common scalars are typed here without importing PyYAML.
TYPED_STARTS = frozenset("yYnNtTfFoO-+0123456789.<~=!&*")
WORD_STARTS = frozenset("yYnNtTfFoO")
WORDS = frozenset(form for word in ("yes", "no", "true", "false", "on", "off", "null")
                  for form in (word, word.capitalize(), word.upper()))
_DECIMAL = re.compile(r"[1-9][0-9]{0,17}|0")  # read as int(text) by the loader's int constructor


def load(text: str) -> Any:
    """The front matter's data, exactly as the full YAML loader builds it; None when that loader must read it."""
    if not text or _UNSAFE.search(text):
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    data: dict[Any, Any] = {}
    index, count = 0, len(lines)
    while index < count:
        match = _KEY_LINE.fullmatch(lines[index])
        if match is None:
            return None
        key = _typed(match.group(1))
        if key is _FALLBACK or key in data:
            return None
        rest = match.group(2)
        value = _scalar(rest) if rest else _EMPTY
        index += 1
        if value is _EMPTY:
            value = None
            if index < count and lines[index][:1] in (" ", "-"):
                value, index = _block_list(lines, index)
        if value is _FALLBACK:
            return None
        data[key] = value
    return data if data else None


def _block_list(lines: list[str], index: int) -> tuple[Any, int]:
    """The items of a block list that starts at lines[index], and the index after it (or _FALLBACK)."""
    items: list[Any] = []
    indent: str | None = None
    while index < len(lines):
        line = lines[index]
        if line[:1] not in (" ", "-"):
            break
        match = _ITEM_LINE.fullmatch(line)
        if match is None or (indent is not None and match.group(1) != indent):
            return _FALLBACK, index
        indent = match.group(1)
        item = _scalar(match.group(2))
        if item is _EMPTY or item is _FALLBACK:
            return _FALLBACK, index
        items.append(item)
        index += 1
    return items, index


def _scalar(raw: str) -> Any:
    """A value written after `key: ` or `- `: typed as the loader would; _EMPTY when empty; else _FALLBACK."""
    cut = raw.find(" #")
    text = (raw if cut < 0 else raw[:cut]).rstrip(" ")
    if not text:
        return _EMPTY if cut < 0 else _FALLBACK
    if text[0] in _INDICATOR_START:
        if text[0] == "[":
            return _flow_list(text)
        if not (text[0] == "-" and text[1:2] in tuple("0123456789.")):
            return _FALLBACK
    if ": " in text or text.endswith(":"):
        return _FALLBACK
    return _typed(text)


def _flow_list(text: str) -> Any:
    """`[a, b]` of plain words or numbers; _FALLBACK for any other flow collection."""
    if not text.endswith("]"):
        return _FALLBACK
    inner = text[1:-1]
    if not inner.strip(" "):
        return []
    items = []
    for part in inner.split(","):
        match = _FLOW_ITEM.fullmatch(part)
        if match is None:
            return _FALLBACK
        items.append(_typed(match.group(1)))
    return _FALLBACK if _FALLBACK in items else items


def _typed(text: str) -> Any:
    """A plain scalar's value: resolved and constructed by the full loader's own resolver and constructors."""
    if text[:1] not in TYPED_STARTS or (text[0] in WORD_STARTS and text not in WORDS):
        return text  # what the loader's resolve does: no implicit resolver matches
    if _DECIMAL.fullmatch(text):
        return int(text)
    from yaml import YAMLError  # only for the rarer scalars

    from gtask.core import yamlsafe

    try:
        return yamlsafe.plain_scalar(text)
    except (LookupError, ValueError, YAMLError):
        return _FALLBACK
