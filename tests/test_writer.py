"""Minimal-diff writes: only the lines that must change, everything else byte-for-byte."""

from __future__ import annotations

import difflib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtask.core import taskfile
from gtask.core.writer import REMOVE, apply_changes

SAMPLE = """---
# planning note, keep me
title: "Fix: login"   # quoted on purpose
status: todo  # hand-set
priority: 1
depends_on:
  - a
  # waiting on the schema
  - b
labels: [x, y]
custom: {nested: [1, 2]}

---
## What
Body stays.
"""


def changed_lines(old: str, new: str) -> list[str]:
    return [l for l in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
            if l[:1] in "+-" and not l.startswith(("+++", "---"))]


def edit(text: str, **changes: object) -> str:
    return apply_changes(taskfile.parse(text, "t.md"), changes)


def test_status_change_touches_one_line_and_keeps_comment() -> None:
    new = edit(SAMPLE, status="done")
    assert changed_lines(SAMPLE, new) == ["-status: todo  # hand-set", "+status: done  # hand-set"]


def test_quoting_style_is_kept_on_a_changed_scalar() -> None:
    new = edit(SAMPLE, title="Fix: logout")
    assert 'title: "Fix: logout"   # quoted on purpose' in new


def test_list_addition_appends_one_line_and_keeps_comments() -> None:
    new = edit(SAMPLE, depends_on=["a", "b", "c"])
    assert changed_lines(SAMPLE, new) == ["+  - c"]


def test_list_removal_deletes_only_that_item() -> None:
    new = edit(SAMPLE, depends_on=["b"])
    assert changed_lines(SAMPLE, new) == ["-  - a"]


def test_flow_list_keeps_its_flow_style() -> None:
    new = edit(SAMPLE, labels=["x", "y", "z"])
    assert "labels: [x, y, z]\n" in new
    assert "custom: {nested: [1, 2]}" in new
    assert "labels: [x, \"a, b\"]\n" in edit(SAMPLE, labels=["x", "a, b"])  # flow indicators are quoted


def test_new_keys_go_at_the_end_of_the_front_matter() -> None:
    new = edit(SAMPLE, claimed_by="codex", steps=["one", "two"])
    fm = new.split("---\n")[1]
    assert fm.endswith("\nclaimed_by: codex\nsteps:\n  - one\n  - two\n")
    assert changed_lines(SAMPLE, new) == ["+claimed_by: codex", "+steps:", "+  - one", "+  - two"]


def test_removing_a_key_removes_its_lines_only() -> None:
    new = edit(SAMPLE, depends_on=REMOVE)  # a comment between its items goes with it
    assert changed_lines(SAMPLE, new) == ["-depends_on:", "-  - a", "-  # waiting on the schema", "-  - b"]


def test_crlf_is_kept() -> None:
    crlf = SAMPLE.replace("\n", "\r\n")
    new = edit(crlf, status="done", assignee="ana")
    assert "\n" not in new.replace("\r\n", "")
    assert "status: done  # hand-set\r\n" in new and "assignee: ana\r\n" in new


@pytest.mark.parametrize("value", ["yes", "null", "3", "a: b", "# x", "- x", "'quoted'", "x #y", "  pad",
                                   "tab\there", "line\nbreak", "\x1b[31mred", "ünïcödé", "", "@at", "[x]"])
def test_awkward_strings_round_trip(value: str) -> None:
    new = edit(SAMPLE, trigger=value)
    assert taskfile.parse(new, "t.md").data["trigger"] == value


# A property: arbitrary bodies, comments and unknown keys; changing status changes exactly one line.
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85\ufeff"), max_size=40)
_key = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True).filter(lambda k: k not in ("title", "status"))
_scalar = st.one_of(st.integers(), st.booleans(), _text, st.lists(_text, max_size=3))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.text(max_size=200).filter(lambda b: "\r" not in b),
    comments=st.lists(_text.map(lambda t: "# " + t.replace("\n", " ").replace("\r", " ")), max_size=3),
    unknown=st.dictionaries(_key, _scalar, max_size=4),
    old=st.sampled_from(["todo", "proposed", "blocked"]),
    new_status=st.sampled_from(["done", "in_progress", "canceled"]),
)
def test_set_status_changes_exactly_the_status_line(body: str, comments: list[str], unknown: dict,
                                                    old: str, new_status: str) -> None:
    import yaml

    extra = yaml.safe_dump(unknown, allow_unicode=True, sort_keys=False, width=10**9) if unknown else ""
    text = "---\n" + "\n".join(comments) + ("\n" if comments else "") + f"title: T\nstatus: {old}\n" + extra + "---\n" + body
    before = taskfile.parse(text, "t.md")
    new = apply_changes(before, {"status": new_status})
    assert changed_lines(text, new) == [f"-status: {old}", f"+status: {new_status}"]
    after = taskfile.parse(new, "t.md")
    assert after.data == {**before.data, "status": new_status}
    assert after.body == before.body
