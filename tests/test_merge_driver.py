"""The merge driver: real `git merge` with `gtask init --merge-driver`, and the key merge on texts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import git, write_task
from gtask.cli.main import run
from gtask.gitio.git import Git
from gtask.core.merge import merge_data, merge_sets, merge_texts
from gtask.gitio.mergefiles import GitLineMerge

BASE = """\
---
title: Fix login
status: todo
priority: 2
labels:
  - api
  - web
depends_on:
  - schema
---
## What

First paragraph.

Second paragraph.
"""


@pytest.fixture
def driven(repo: Path, cli) -> Path:
    """The demo repository with the merge driver installed through the CLI and committed."""
    result = cli("init", "--merge-driver")
    assert result.exit_code == 0, result.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tasks and the merge driver")
    return repo


def merge(repo: Path, base: str, ours: str, theirs: str, task_id: str = "fix-login") -> tuple[int, str, str]:
    """Commit `base` on main, `theirs` on a branch and `ours` on main; merge the branch into main."""
    write_task(repo, task_id, base)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "theirs")
    write_task(repo, task_id, theirs)
    git(repo, "commit", "-q", "-a", "-m", "theirs")
    git(repo, "checkout", "-q", "main")
    write_task(repo, task_id, ours)
    git(repo, "commit", "-q", "-a", "-m", "ours")
    proc = subprocess.run(["git", "merge", "--no-edit", "theirs"], cwd=repo, capture_output=True, text=True)
    return proc.returncode, (repo / ".tasks" / f"{task_id}.md").read_text(), proc.stdout + proc.stderr


def edit(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


# -- installing -----------------------------------------------------------------


def test_init_merge_driver_sets_attributes_and_config_once(repo: Path, cli) -> None:
    (repo / ".gitattributes").write_text("*.png binary")  # no final newline: the line goes on a new one
    first = cli("init", "--merge-driver")
    second = cli("init", "--merge-driver")
    assert first.exit_code == second.exit_code == 0
    assert "Added .gitattributes: .tasks/*.md merge=gtask" in first.stdout
    assert "Already in .gitattributes" in second.stdout
    assert (repo / ".gitattributes").read_text() == "*.png binary\n.tasks/*.md merge=gtask\n"
    assert git(repo, "config", "--local", "merge.gtask.name") == "gtask task files"
    driver = git(repo, "config", "--local", "merge.gtask.driver")
    assert driver.endswith(" -m gtask merge-driver --marker-size %L %O %A %B %P")
    assert git(repo, "check-attr", "merge", ".tasks/x.md") == ".tasks/x.md: merge: gtask"


def test_init_merge_driver_keeps_agents_file_working(repo: Path, cli) -> None:
    result = cli("init", "--agents-file", "AGENTS.md", "--merge-driver")
    assert result.exit_code == 0, result.stderr
    assert (repo / "AGENTS.md").exists() and (repo / ".gitattributes").exists()


def test_init_merge_driver_outside_git_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert run(["-C", str(tmp_path), "init", "--merge-driver"]) == 2
    assert "--merge-driver needs a git repository" in capsys.readouterr().err


# -- real merges ------------------------------------------------------------------


def test_lists_merge_as_sets(driven: Path) -> None:
    ours = edit(BASE, ("  - web\n", "  - web\n  - urgent\n"), ("  - schema\n", "  - schema\n  - auth\n"))
    theirs = edit(BASE, ("  - web\n", "  - web\n  - backend\n"), ("  - schema\n", "  - schema\n  - api:tokens\n"))
    code, text, _ = merge(driven, BASE, ours, theirs)
    assert code == 0
    assert text == edit(BASE, ("  - web\n", "  - web\n  - urgent\n  - backend\n"),
                        ("  - schema\n", "  - schema\n  - auth\n  - api:tokens\n"))
    assert "theirs" in git(driven, "log", "-1", "--format=%s")


def test_without_the_driver_git_would_conflict_on_those_lists(repo: Path) -> None:
    ours = edit(BASE, ("  - web\n", "  - web\n  - urgent\n"))
    theirs = edit(BASE, ("  - web\n", "  - web\n  - backend\n"))
    code, text, _ = merge(repo, BASE, ours, theirs)
    assert code != 0 and "<<<<<<<" in text


def test_a_removal_on_one_side_holds_against_additions_on_the_other(driven: Path) -> None:
    ours = edit(BASE, ("  - api\n", ""))
    theirs = edit(BASE, ("  - web\n", "  - web\n  - backend\n"), ("priority: 2", "priority: 1"))
    code, text, _ = merge(driven, BASE, ours, theirs)
    assert code == 0
    assert "labels:\n  - web\n  - backend\n" in text and "priority: 1\n" in text


def test_attempts_from_both_sides_are_all_kept(driven: Path) -> None:
    base = edit(BASE, ("---\n## What", "attempts:\n  - agent: a\n    start: '2026-01-01T00:00:00+00:00'\n---\n## What"))
    ours = edit(base, ("---\n## What", "  - agent: b\n    start: '2026-01-02T00:00:00+00:00'\n"
                                       "  - agent: c\n    start: '2026-01-03T00:00:00+00:00'\n---\n## What"))
    theirs = edit(base, ("---\n## What", "  - agent: d\n    start: '2026-01-04T00:00:00+00:00'\n"
                                         "  - agent: e\n    start: '2026-01-05T00:00:00+00:00'\n---\n## What"))
    code, text, _ = merge(driven, base, ours, theirs)
    assert code == 0
    assert [line for line in text.splitlines() if "agent:" in line] == [
        "  - agent: a", "  - agent: b", "  - agent: c", "  - agent: d", "  - agent: e"]


CLAIMED = edit(BASE, ("status: todo", "status: in_progress"),
               ("---\n## What", "claimed_by: bot\nclaimed_at: 2026-01-01T00:00:00+00:00\n"
                                "lease_until: 2026-01-01T02:00:00+00:00\nclaim_branch: main\n---\n## What"))


def test_done_beats_a_renewed_lease_and_drops_the_claim(driven: Path) -> None:
    ours = edit(CLAIMED, ("status: in_progress", "status: done"),
                ("claimed_by: bot\nclaimed_at: 2026-01-01T00:00:00+00:00\nlease_until: 2026-01-01T02:00:00+00:00\n"
                 "claim_branch: main\n", "closed_at: 2026-01-01T01:00:00+00:00\n"))
    theirs = edit(CLAIMED, ("lease_until: 2026-01-01T02:00:00+00:00", "lease_until: 2026-01-01T04:00:00+00:00"))
    code, text, _ = merge(driven, CLAIMED, ours, theirs)
    assert code == 0
    assert text == ours


def test_a_claim_beats_an_unblock_to_todo(driven: Path) -> None:
    base = edit(BASE, ("status: todo", "status: blocked"))
    ours = edit(BASE, ("title: Fix login", "title: Fix the login"))
    theirs = CLAIMED
    code, text, _ = merge(driven, base, ours, theirs)
    assert code == 0
    assert text == edit(CLAIMED, ("title: Fix login", "title: Fix the login"))


def test_two_titles_conflict_on_the_title_line_only(driven: Path) -> None:
    ours = edit(BASE, ("title: Fix login", "title: Fix the login"), ("  - web\n", "  - web\n  - ours\n"))
    theirs = edit(BASE, ("title: Fix login", "title: Repair login"), ("priority: 2", "priority: 0"))
    code, text, _ = merge(driven, BASE, ours, theirs)
    assert code != 0
    assert text == edit(BASE, ("title: Fix login\n", "<<<<<<< ours\ntitle: Fix the login\n=======\n"
                                                     "title: Repair login\n>>>>>>> theirs\n"),
                        ("priority: 2", "priority: 0"), ("  - web\n", "  - web\n  - ours\n"))
    assert "UU .tasks/fix-login.md" in git(driven, "status", "--porcelain")


def test_two_claimers_are_a_conflict(driven: Path) -> None:
    theirs = CLAIMED.replace("claimed_by: bot", "claimed_by: other")
    code, text, _ = merge(driven, BASE, CLAIMED, theirs)
    assert code != 0
    assert "<<<<<<< ours\nclaimed_by: bot\n=======\nclaimed_by: other\n>>>>>>> theirs\n" in text


def test_body_edits_in_different_paragraphs_merge(driven: Path) -> None:
    ours = edit(BASE, ("First paragraph.", "First paragraph, ours."))
    theirs = edit(BASE, ("Second paragraph.", "Second paragraph, theirs."), ("status: todo", "status: blocked"))
    code, text, _ = merge(driven, BASE, ours, theirs)
    assert code == 0
    assert text == edit(BASE, ("First paragraph.", "First paragraph, ours."),
                        ("Second paragraph.", "Second paragraph, theirs."), ("status: todo", "status: blocked"))


def test_body_edits_of_one_line_conflict_in_the_body(driven: Path) -> None:
    ours = edit(BASE, ("First paragraph.", "First, ours."), ("  - web\n", "  - web\n  - ours\n"))
    theirs = edit(BASE, ("First paragraph.", "First, theirs."), ("  - web\n", "  - web\n  - theirs\n"))
    code, text, _ = merge(driven, BASE, ours, theirs)
    assert code != 0
    assert text == edit(BASE, ("First paragraph.", "<<<<<<< ours\nFirst, ours.\n=======\nFirst, theirs.\n"
                                                   ">>>>>>> theirs"),
                        ("  - web\n", "  - web\n  - ours\n  - theirs\n"))


def test_an_unparsable_side_merges_as_git_would(driven: Path) -> None:
    ours = edit(BASE, ("title: Fix login", "title: [Fix login"))
    theirs = edit(BASE, ("First paragraph.", "First, theirs."))
    code, text, output = merge(driven, BASE, ours, theirs)
    assert code == 0
    assert text == edit(ours, ("First paragraph.", "First, theirs."))
    assert "merged line by line, as git would (ours is not a task file" in output


def test_an_unparsable_side_conflicts_exactly_as_git_would(driven: Path) -> None:
    ours = edit(BASE, ("title: Fix login", "title: [Fix login"))
    conflicting = edit(BASE, ("title: Fix login", "title: Other"))
    code, with_driver, _ = merge(driven, BASE, ours, conflicting)
    git(driven, "merge", "--abort")
    git(driven, "config", "--remove-section", "merge.gtask")  # an undefined driver: git's own line merge
    proc = subprocess.run(["git", "merge", "--no-edit", "theirs"], cwd=driven, capture_output=True, text=True)
    plain = (driven / ".tasks" / "fix-login.md").read_text()
    assert code != 0 and proc.returncode != 0
    assert with_driver.replace("<<<<<<< ours", "<<<<<<< HEAD") == plain


def test_a_comment_in_the_front_matter_is_kept(driven: Path) -> None:
    base = edit(BASE, ("priority: 2", "priority: 2  # after the beta\n# labels are for routing"))
    ours = edit(base, ("  - web\n", "  - web\n  - ours\n"), ("title: Fix login", "title: Fix the login"))
    theirs = edit(base, ("  - web\n", "  - web\n  - theirs\n"), ("priority: 2", "priority: 1"))
    code, text, _ = merge(driven, base, ours, theirs)
    assert code == 0
    assert text == edit(base, ("  - web\n", "  - web\n  - ours\n  - theirs\n"),
                        ("title: Fix login", "title: Fix the login"), ("priority: 2", "priority: 1"))


def test_a_file_added_on_both_sides_merges_by_key(driven: Path) -> None:
    git(driven, "checkout", "-q", "-b", "theirs")
    write_task(driven, "both", edit(BASE, ("  - web\n", "  - web\n  - theirs\n")))
    git(driven, "add", "-A")
    git(driven, "commit", "-q", "-m", "theirs")
    git(driven, "checkout", "-q", "main")
    write_task(driven, "both", edit(BASE, ("  - web\n", "  - web\n  - ours\n")))
    git(driven, "add", "-A")
    git(driven, "commit", "-q", "-m", "ours")
    proc = subprocess.run(["git", "merge", "--no-edit", "theirs"], cwd=driven, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "labels:\n  - api\n  - web\n  - ours\n  - theirs\n" in (driven / ".tasks" / "both.md").read_text()


# -- the key merge on texts -------------------------------------------------------------


@pytest.fixture
def line_merge(repo: Path) -> GitLineMerge:
    found = Git.discover(repo)
    assert found is not None
    return GitLineMerge(found)


def test_merge_sets_honours_removals_and_keeps_order() -> None:
    assert merge_sets(["a", "b", "c"], ["c", "b", "x"], ["a", "b", "y", "x"]) == ["b", "x", "y"]


def test_status_precedence_and_the_keys_that_follow_it() -> None:
    base = {"title": "T", "status": "todo"}
    merged, conflicts = merge_data(base, {**base, "status": "in_progress", "claimed_by": "bot"},
                                   {**base, "status": "done", "closed_at": "2026-01-01T00:00:00+00:00"})
    assert merged == {"title": "T", "status": "done", "closed_at": "2026-01-01T00:00:00+00:00"} and not conflicts
    merged, conflicts = merge_data(base, {**base, "status": "done"}, {**base, "status": "canceled"})
    assert conflicts == ["status"] and merged["status"] == "done"
    merged, conflicts = merge_data(base, {**base, "status": "proposed"}, {**base, "status": "blocked"})
    assert merged["status"] == "blocked" and not conflicts


def test_the_same_claimer_renewing_on_both_sides_keeps_the_later_lease() -> None:
    base = {"status": "in_progress", "claimed_by": "bot", "lease_until": "2026-01-01T02:00:00+00:00"}
    merged, conflicts = merge_data(base, {**base, "lease_until": "2026-01-01T05:00:00+02:00"},
                                   {**base, "lease_until": "2026-01-01T04:00:00+00:00"})
    assert merged["lease_until"] == "2026-01-01T04:00:00+00:00" and not conflicts


def test_an_attempt_ended_on_one_side_keeps_its_end() -> None:
    started = {"agent": "a", "start": "2026-01-01T00:00:00+00:00"}
    ended = {**started, "end": "2026-01-01T01:00:00+00:00", "outcome": "success"}
    other = {"agent": "b", "start": "2026-01-01T00:30:00+00:00"}
    merged, conflicts = merge_data({"attempts": [started]}, {"attempts": [started, other]}, {"attempts": [ended]})
    assert merged["attempts"] == [ended, other] and not conflicts


def test_a_key_removed_on_one_side_and_changed_on_the_other_conflicts(line_merge: GitLineMerge) -> None:
    ours = edit(BASE, ("priority: 2\n", ""))
    theirs = edit(BASE, ("priority: 2", "priority: 0"))
    result = merge_texts(BASE, ours, theirs, line_merge)
    assert result.conflicts == ["priority"]
    assert "<<<<<<< ours\n=======\npriority: 0\n>>>>>>> theirs\n---\n" in result.text


def test_conflict_markers_follow_marker_size_and_diff3(line_merge: GitLineMerge) -> None:
    ours = edit(BASE, ("title: Fix login", "title: A"))
    theirs = edit(BASE, ("title: Fix login", "title: B"))
    result = merge_texts(BASE, ours, theirs, line_merge, marker_size=9, diff3=True)
    assert "<<<<<<<<< ours\ntitle: A\n||||||||| base\ntitle: Fix login\n=========\ntitle: B\n>>>>>>>>> theirs\n" \
        in result.text


def test_crlf_files_stay_crlf(line_merge: GitLineMerge) -> None:
    base = BASE.replace("\n", "\r\n")
    ours = edit(base, ("  - web\r\n", "  - web\r\n  - ours\r\n"), ("First paragraph.", "First, ours."))
    theirs = edit(base, ("  - web\r\n", "  - web\r\n  - theirs\r\n"), ("Second paragraph.", "Second, theirs."))
    result = merge_texts(base, ours, theirs, line_merge)
    assert result.clean and "\n" not in result.text.replace("\r\n", "")
    assert "  - ours\r\n  - theirs\r\n" in result.text and "First, ours.\r\n\r\nSecond, theirs." in result.text


def test_a_comment_added_on_theirs_is_kept_when_lines_merge(line_merge: GitLineMerge) -> None:
    ours = edit(BASE, ("title: Fix login", "title: Fix the login"))
    theirs = edit(BASE, ("depends_on:\n", "# waits for the schema\ndepends_on:\n"))
    result = merge_texts(BASE, ours, theirs, line_merge)
    assert result.clean and result.text == edit(ours, ("depends_on:\n", "# waits for the schema\ndepends_on:\n"))


def test_a_result_that_would_not_parse_falls_back_to_a_line_merge(line_merge: GitLineMerge) -> None:
    ours = edit(BASE, ("title: Fix login", "title: x\ntitle: y"))  # a duplicate key: not a task file
    theirs = edit(BASE, ("Second paragraph.", "Second, theirs."))
    result = merge_texts(BASE, ours, theirs, line_merge)
    assert result.fallback and "ours is not a task file" in result.fallback
    assert result.text == edit(ours, ("Second paragraph.", "Second, theirs.")) and result.clean


def test_closed_on_both_sides_keeps_the_earlier_close() -> None:
    base = {"title": "T", "status": "in_progress"}
    merged, conflicts = merge_data(base, {"title": "T", "status": "done", "closed_at": "2026-01-02T00:00:00+00:00"},
                                   {"title": "T", "status": "done", "closed_at": "2026-01-01T00:00:00+00:00"})
    assert merged["closed_at"] == "2026-01-01T00:00:00+00:00" and not conflicts
