"""A batch journals once: an import killed mid-step is undone whole, and a journal torn mid-append still reads."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from conftest import Cli, git, run_process

from gtask.store.locking import append_journal, read_journal, write_journal
from gtask.store.store import journal_path


def beads_source(tmp_path: Path, count: int = 12) -> Path:
    path = tmp_path / "issues.jsonl"
    path.write_text("".join(json.dumps({"id": f"bd-{n}", "title": f"Item {n}", "status": "open"}) + "\n"
                            for n in range(count)))
    return path


@pytest.mark.parametrize("point", ["step-journaled", "temp-written", "step-written"])
def test_an_import_killed_before_its_commit_leaves_no_file_behind(cli: Cli, repo: Path, tmp_path: Path,
                                                                   point: str) -> None:
    """The batch's hashes are journaled up front: recovery knows every file as the step's own, written or not."""
    source = beads_source(tmp_path)
    start = git(repo, "rev-parse", "HEAD")
    killed = run_process(repo, "import", "--from", "beads", str(source), env={"GTASK_FAULT": point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    if point == "step-written":  # all twelve files were there when it died
        assert len(list((repo / ".tasks").glob("bd-*.md"))) == 12

    assert cli("new", "Next", "--commit").exit_code == 0  # the next writer settles the killed step first
    assert git(repo, "rev-parse", "HEAD^") == start
    assert not list((repo / ".tasks").glob("bd-*.md"))  # nothing of the killed import stays, nothing is "by hand"
    assert not journal_path(repo / ".git").exists()

    again = cli("import", "--from", "beads", str(source))
    assert again.exit_code == 0, again.stderr
    assert len(list((repo / ".tasks").glob("bd-*.md"))) == 12


def test_a_hand_written_file_in_a_killed_import_is_kept(cli: Cli, repo: Path, tmp_path: Path) -> None:
    """Only bytes the step wrote are undone: a file changed by hand after the crash stays, and is named."""
    source = beads_source(tmp_path)
    killed = run_process(repo, "import", "--from", "beads", str(source), env={"GTASK_FAULT": "step-written"})
    assert killed.returncode == -signal.SIGKILL
    mine = repo / ".tasks" / "bd-3.md"
    mine.write_text(mine.read_text() + "My own note.\n")
    result = cli("new", "Next", "--commit")
    assert result.exit_code == 0
    assert "bd-3.md" in result.stderr and mine.read_text().endswith("My own note.\n")
    assert sorted(p.name for p in (repo / ".tasks").glob("bd-*.md")) == ["bd-3.md"]


def test_appended_hashes_are_read_and_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    write_journal(journal, "abc", {".tasks/a.md": None, ".tasks/b.md": b"old"}, {".tasks/a.md": ["h0"]})
    append_journal(journal, ".tasks/a.md", ["h1"])
    append_journal(journal, ".tasks/b.md", ["h2"])
    parent, files, wrote = read_journal(journal) or (None, {}, None)
    assert parent == "abc" and files == {".tasks/a.md": None, ".tasks/b.md": b"old"}
    assert wrote == {".tasks/a.md": ["h0", "h1"], ".tasks/b.md": ["h2"]}
    with journal.open("a") as handle:
        handle.write('[".tasks/b.md", ["h')  # killed mid-append: that write never began
    assert read_journal(journal) == (parent, files, wrote)


def test_a_journal_damaged_before_its_last_line_is_refused(tmp_path: Path) -> None:
    from gtask.errors import GtaskError

    journal = tmp_path / "journal"
    write_journal(journal, None, {".tasks/a.md": None})
    with journal.open("a") as handle:
        handle.write('garbage\n[".tasks/a.md", ["h1"]]\n')
    with pytest.raises(GtaskError, match="unreadable"):
        read_journal(journal)
