"""YAML for task files, config and plans: a safe loader that builds only JSON types, with file lines.

Imported only when some text must really be parsed as YAML: a warm run that takes every task from the
cache never imports PyYAML (see taskfile.py, which calls in here lazily).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from gtask.errors import InvalidTask

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


_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null"))
_SCALARS = TaskLoader("")  # types plain scalars for fastfront; never given a document


def plain_scalar(text: str) -> Any:
    """The value the loader builds for `text` written as a plain scalar (LookupError for another kind of tag)."""
    tag = _SCALARS.resolve(yaml.ScalarNode, text, (True, False))
    if tag == _STR:
        return text
    if tag not in _PLAIN_TAGS:
        raise LookupError(tag)
    return _SCALARS.yaml_constructors[tag](_SCALARS, yaml.ScalarNode(tag, text))


def _refuse_tag(loader: yaml.BaseLoader, node: yaml.Node) -> None:
    raise yaml.constructor.ConstructorError(
        None, None, f"the tag {node.tag!r} is not allowed: only text, numbers, booleans, null, lists and maps",
        node.start_mark)


# The safe loader still builds bytes, sets, datetimes and pairs from explicit tags (`!!binary`, `!!set`, ...):
# values that JSON output, comparisons and the writer cannot handle. Only JSON's types are allowed.
for _tag in ("binary", "set", "timestamp", "omap", "pairs"):
    TaskLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)


def load_yaml(text: str) -> Any:
    """Load YAML safely: no object tags, no aliases, no timestamps, no deep nesting."""
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


_ODD_KEY = re.compile(r"^[\"'?!&{]", re.M)  # a key spelled so that taskfile's line scan cannot name it


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


def front_matter(fm_text: str, label: str) -> Any:
    """Load a task file's front matter (which starts on file line 2); YAML errors name their file line."""
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
    if twice is not None and isinstance(data, dict):
        raise InvalidTask(f"key {twice[0]!r} appears more than once (spelled differently)", path=label,
                          line=twice[1] + 2)
    return data
