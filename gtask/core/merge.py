"""Three-way merge of task files, key by key: the library behind `gtask merge-driver` (docs/merging.md).

`merge_texts` is pure over texts, given a line merge for the parts that merge
as git merges them (the body, and whole files that are not task files);
`merge_files` is what git's merge driver runs; `install` registers the driver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gtask.core.keys import BY_NAME, STATUS_BOUND
from gtask.core.model import parse_time
from gtask.core.taskfile import TaskFile, parse, split_lines
from gtask.core.writer import REMOVE, _extent, all_scalars, edit, exact, exact_items
from gtask.errors import InvalidTask

# A line merge of (base, ours, theirs) texts: the result and whether it has conflict markers.
LineMerge = Callable[[str, str, str], tuple[str, bool]]

LABELS = ("ours", "base", "theirs")
DRIVER_NAME = "gtask task files"
# Higher wins when both sides changed the status; done and canceled tie, and a tie is a conflict.
STATUS_RANK = {"proposed": 0, "todo": 1, "blocked": 2, "in_progress": 3, "done": 4, "canceled": 4}


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # a key that a side does not have


class _KeyConflict(Exception):
    """Both sides changed a key in ways that cannot be reconciled."""


@dataclass
class MergeResult:
    """The merged text, the keys left with conflict markers ("body" for the body), and why a line merge was used."""

    text: str
    conflicts: list[str] = field(default_factory=list)
    fallback: str | None = None  # set when the whole file was merged line by line, as git would

    @property
    def clean(self) -> bool:
        return not self.conflicts


# -- front matter values ------------------------------------------------------


def merge_data(base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Merge front matter key by key; a conflicted key keeps ours' value in the result and is listed."""
    winner, both_changed = _status_winner(base, ours, theirs)
    merged: dict[str, Any] = {}
    conflicts: list[str] = []
    for key in dict.fromkeys([*ours, *theirs, *base]):
        b, o, t = base.get(key, MISSING), ours.get(key, MISSING), theirs.get(key, MISSING)
        try:
            if key == "status" and both_changed:
                if winner is None:
                    raise _KeyConflict
                value = winner["status"]
            elif key in STATUS_BOUND and winner is not None and (both_changed or (o != t and b not in (o, t))):
                value = winner.get(key, MISSING)  # the key goes with the status it was written with
            else:
                value = merge_value(key, b, o, t, same_claimer=_same_claimer(ours, theirs))
        except _KeyConflict:
            conflicts.append(key)
            value = o
        if value is not MISSING:
            merged[key] = value
    return merged, conflicts


def _status_winner(base: dict[str, Any], ours: dict[str, Any],
                   theirs: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The side whose status the merge takes when the sides differ, and whether both sides changed it."""
    b, o, t = (side.get("status", MISSING) for side in (base, ours, theirs))
    if o == t:
        return None, False
    if o == b:
        return theirs, False
    if t == b:
        return ours, False
    rank_o, rank_t = (STATUS_RANK.get(side) if isinstance(side, str) else None for side in (o, t))
    if rank_o is None or rank_t is None or rank_o == rank_t:
        return None, True
    return (ours if rank_o > rank_t else theirs), True


def _same_claimer(ours: dict[str, Any], theirs: dict[str, Any]) -> bool:
    claimer = ours.get("claimed_by")
    return bool(claimer) and claimer == theirs.get("claimed_by")


def merge_value(key: str, base: Any, ours: Any, theirs: Any, same_claimer: bool = False) -> Any:
    """Merge one key's three values (MISSING when absent); raise _KeyConflict when they cannot be reconciled."""
    exact_ours, exact_theirs, exact_base = exact(ours), exact(theirs), exact(base)
    if exact_ours == exact_theirs:
        return ours
    if exact_ours == exact_base:
        return theirs
    if exact_theirs == exact_base:
        return ours
    if MISSING in (ours, theirs):
        raise _KeyConflict  # deleted on one side, changed on the other
    rule = BY_NAME[key].merge if key in BY_NAME else None
    if rule == "attempts":
        return merge_attempts([] if base is MISSING else base, ours, theirs)
    if _scalar_list(ours) and _scalar_list(theirs) and (base is MISSING or _scalar_list(base)):
        return merge_sets([] if base is MISSING else base, ours, theirs)
    if rule == "latest_same_claimer" and same_claimer:
        return max(ours, theirs, key=_time_or_conflict)
    if rule == "earliest":
        return min(ours, theirs, key=_time_or_conflict)  # closed on both sides: it was done at the first
    raise _KeyConflict


def merge_sets(base: list[Any], ours: list[Any], theirs: list[Any]) -> list[Any]:
    """Merge lists as sets: removals from either side hold, additions from both stay; ours' order first."""
    # keyed by the exact YAML scalar (2, 2.0 and true are three items) and by sets: linear, not quadratic
    keys_ours, keys_theirs = exact_items(ours), exact_items(theirs)
    in_base, in_ours, in_theirs = set(exact_items(base)), set(keys_ours), set(keys_theirs)
    removed = in_base - (in_ours & in_theirs)
    result = [item for item, key in zip(ours, keys_ours, strict=True) if key not in removed]
    kept = in_ours - removed
    for item, key in zip(theirs, keys_theirs, strict=True):
        if key not in in_base and key not in kept:
            result.append(item)
            kept.add(key)
    return result


def merge_attempts(base: Any, ours: Any, theirs: Any) -> list[Any]:
    """Keep every attempt of both sides; one attempt (same agent and start) changed on both keeps the ended one."""
    if not all(isinstance(side, list) and all(isinstance(a, dict) for a in side) for side in (base, ours, theirs)):
        raise _KeyConflict
    base_by_id = {_attempt_id(a): a for a in base}
    theirs_by_id = {_attempt_id(a): a for a in theirs}
    result = []
    for attempt in ours:
        other = theirs_by_id.get(_attempt_id(attempt), attempt)
        result.append(attempt if other == attempt else _pick_attempt(base_by_id.get(_attempt_id(attempt)),
                                                                     attempt, other))
    ours_ids = {_attempt_id(a) for a in ours}
    result += [a for a in theirs if _attempt_id(a) not in ours_ids]
    return result


def _attempt_id(attempt: dict[str, Any]) -> Any:
    if "agent" in attempt and "start" in attempt:
        return ("attempt", repr(attempt["agent"]), repr(attempt["start"]))
    return ("entry", repr(sorted(attempt.items(), key=repr)))


def _pick_attempt(base: dict[str, Any] | None, ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    if base == ours:
        return theirs
    if base == theirs:
        return ours
    ours_ended, theirs_ended = ours.get("end") is not None, theirs.get("end") is not None
    if ours_ended != theirs_ended:
        return ours if ours_ended else theirs
    raise _KeyConflict


def _scalar_list(value: Any) -> bool:
    return isinstance(value, list) and all_scalars(value)


def _time_or_conflict(value: Any) -> Any:
    try:
        return parse_time(value)
    except (TypeError, ValueError):
        raise _KeyConflict from None


# -- texts --------------------------------------------------------------------


def merge_texts(base: str, ours: str, theirs: str, line_merge: LineMerge, marker_size: int = 7,
                diff3: bool = False) -> MergeResult:
    """Merge three versions of a task file; an empty base means the file was added on both sides.

    Each version is parsed once, and the result once: the text that is returned is the text that was read
    back and found to say exactly what the key merge decided (markers aside).
    """
    if ours == theirs or theirs == base:
        return MergeResult(ours)
    if ours == base:
        return MergeResult(theirs)
    try:
        b = parse(base, "base") if base else None
        o, t = parse(ours, "ours"), parse(theirs, "theirs")
    except InvalidTask as exc:
        return _whole_file(base, ours, theirs, line_merge, f"{exc.path} is not a task file: {exc.message}")
    data, conflicts = merge_data(b.data if b else {}, o.data, t.data)
    body, body_conflicted = line_merge(b.body if b else "", o.body, t.body)
    merged = _clean_head(b, o, t, data, body, line_merge) if not conflicts else None
    if merged is None:
        try:
            merged = edit(_with_body(o, body), _changes(o.data, data))  # read back by the writer
        except InvalidTask as exc:
            return _whole_file(base, ours, theirs, line_merge, exc.message)
    if conflicts:
        head = _with_markers(_head(merged), conflicts, b, o, t, marker_size, diff3)
        return MergeResult(head + body, conflicts + (["body"] if body_conflicted else []))
    if exact(merged.data) != exact(data):
        why = "the merged file would not be valid: the merged front matter does not say what the merge decided"
        return _whole_file(base, ours, theirs, line_merge, why)
    return MergeResult(merged.text, ["body"] if body_conflicted else [])


def _whole_file(base: str, ours: str, theirs: str, line_merge: LineMerge, why: str) -> MergeResult:
    text, conflicted = line_merge(base, ours, theirs)
    return MergeResult(text, ["file"] if conflicted else [], fallback=why)


def _head(tf: TaskFile) -> str:
    """The lines up to and including the closing fence of the front matter."""
    return "".join(tf.lines[: tf.fm_end + 1])


def _with_body(tf: TaskFile, body: str) -> TaskFile:
    """The file with another body (the merged one), so that the writer reads back the whole result."""
    lines = tf.lines[: tf.fm_end + 1] + split_lines(body)
    return TaskFile(tf.label, lines, tf.fm_start, tf.fm_end, tf.data, tf.key_lines)


def _clean_head(base: TaskFile | None, ours: TaskFile, theirs: TaskFile, data: dict[str, Any], body: str,
                line_merge: LineMerge) -> TaskFile | None:
    """The file with its front matter merged line by line, when that is clean and says what the key merge says.

    The merged body is put after it, so that this one read also checks the file as written. This keeps both
    sides' comments and layout; otherwise the result is built from ours.
    """
    text, conflicted = line_merge(_head(base) if base else "", _head(ours), _head(theirs))
    if conflicted:
        return None
    try:
        merged = parse(text + body, "merged")
    except InvalidTask:
        return None
    return merged if merged.body == body and exact(merged.data) == exact(data) else None


def _changes(ours: dict[str, Any], merged: dict[str, Any]) -> dict[str, Any]:
    changes = {key: value for key, value in merged.items() if key not in ours or exact(ours[key]) != exact(value)}
    changes.update({key: REMOVE for key in ours if key not in merged})
    return changes


def _with_markers(head: str, conflicts: list[str], base: TaskFile | None, ours: TaskFile, theirs: TaskFile,
                  marker_size: int, diff3: bool) -> str:
    """Put each conflicted key's lines from ours and theirs between conflict markers, as git would."""
    lines = split_lines(head)
    fm_end = len(lines) - 1
    newline = ours.newline
    spans = []
    for key in conflicts:
        start, end = _extent(lines, key, 1, fm_end)
        spans.append((fm_end if start is None else start, fm_end if start is None else end, key))
    for start, end, key in sorted(spans, reverse=True):
        block = [f"{'<' * marker_size} ours{newline}", *lines[start:end]]
        if diff3:
            block += [f"{'|' * marker_size} base{newline}", *_key_lines(base, key)]
        block += [f"{'=' * marker_size}{newline}", *_key_lines(theirs, key), f"{'>' * marker_size} theirs{newline}"]
        lines[start:end] = block
    return "".join(lines)


def _key_lines(tf: TaskFile | None, key: str) -> list[str]:
    if tf is None:
        return []
    start, end = _extent(tf.lines, key, tf.fm_start, tf.fm_end)
    return [] if start is None else tf.lines[start:end]
