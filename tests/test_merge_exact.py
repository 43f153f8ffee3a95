"""The merge driver keeps every item of both sides, compared as YAML wrote them: real `git merge` runs.

Speed is measured by benchmarks/bench_merge.py, never here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_merge_driver import driven, merge  # noqa: F401  (the fixture and the git merge helper)

from gtask.core import taskfile, writer


def task(labels: list[str]) -> str:
    return "---\ntitle: Big\nstatus: todo\nlabels:\n" + "".join(f"  - {x}\n" for x in labels) + "---\nBody.\n"


def exactly(values: list[Any]) -> list[tuple[str, str]]:
    return [(type(v).__name__, repr(v)) for v in values]


def test_label_2_0_on_ours_and_2_on_theirs_are_both_kept(driven: Path) -> None:  # noqa: F811
    code, text, output = merge(driven, task(["a"]), task(["a", "2.0", "true"]), task(["a", "2", "1"]))
    assert code == 0, output
    labels = taskfile.parse(text, "merged").data["labels"]
    assert exactly(labels) == exactly(["a", 2.0, True, 2, 1])


def test_a_3000_item_list_changed_on_both_sides_keeps_every_item(driven: Path) -> None:  # noqa: F811
    base = [f"b{i}" for i in range(3000)]
    ours = [x for n, x in enumerate(base) if n % 7] + [f"o{i}" for i in range(3000)] + [f"{i}.0" for i in range(20)]
    theirs = [x for n, x in enumerate(base) if n % 5] + [f"area/t{i}" for i in range(3000)] + \
        [str(i) for i in range(20)]
    code, text, output = merge(driven, task(base), task(ours), task(theirs))
    assert code == 0, output
    assert "merged line by line" not in output  # the key merge did it, not git's line merge
    labels = taskfile.parse(text, "merged").data["labels"]
    kept_base = [x for n, x in enumerate(base) if n % 7 and n % 5]
    expected = kept_base + [f"o{i}" for i in range(3000)] + [float(i) for i in range(20)] + \
        [f"area/t{i}" for i in range(3000)] + list(range(20))
    assert exactly(labels) == exactly(expected)  # ours' order, then what only theirs added


def test_a_quoted_label_over_two_lines_is_not_taken_for_two_items() -> None:
    text = '---\ntitle: T\nstatus: todo\nlabels:\n  - "a\n  - b"\n  - c\n  - 2\n---\nBody\n'
    tf = taskfile.parse(text, "t.md")
    assert tf.data["labels"] == ["a - b", "c", 2]
    new = writer.apply_changes(tf, {"labels": ["a - b", 2, 2.0]})
    assert exactly(taskfile.parse(new, "t.md").data["labels"]) == exactly(["a - b", 2, 2.0])


def test_a_long_list_keeps_its_comments_and_blank_lines_when_edited() -> None:
    items = [f"x{i}" for i in range(500)]
    text = "---\ntitle: T\nstatus: todo\nlabels:\n  # first\n" + "".join(f"  - {x}\n" for x in items) + \
        "\n  # last\n---\n"
    tf = taskfile.parse(text, "t.md")
    new = writer.apply_changes(tf, {"labels": [*items[1:], "2", 2]})
    assert "  # first\n" in new and "\n\n  # last\n" in new and "  - x0\n" not in new
    assert exactly(taskfile.parse(new, "t.md").data["labels"]) == exactly([*items[1:], "2", 2])
