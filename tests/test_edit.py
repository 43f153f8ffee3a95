"""`gtask edit` with a real editor process: valid results are saved, invalid ones are never lost."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from conftest import Cli, task_text, write_task


def make_editor(tmp_path: Path, replacement: str) -> str:
    """An $EDITOR that replaces the file with `replacement`."""
    source = tmp_path / "replacement.md"
    source.write_text(replacement)
    script = tmp_path / "editor.sh"
    script.write_text(f'#!/bin/sh\ncp "{source}" "$1"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_valid_edit_is_saved(cli: Cli, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_task(repo, "a", task_text("A"))
    monkeypatch.setenv("EDITOR", make_editor(tmp_path, task_text("A renamed")))
    result = cli("edit", "a")
    assert result.exit_code == 0 and "saved" in result.stderr
    assert path.read_text() == task_text("A renamed")


def test_unchanged_edit_writes_nothing(cli: Cli, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_task(repo, "a", task_text("A"))
    monkeypatch.setenv("EDITOR", "true")
    mtime = path.stat().st_mtime_ns
    assert cli("edit", "a").exit_code == 0
    assert path.stat().st_mtime_ns == mtime


def test_invalid_edit_is_kept_aside_and_the_task_is_unchanged(cli: Cli, repo: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_task(repo, "a", task_text("A"))
    before = path.read_bytes()
    broken = "---\ntitle: A\nstatus: started\n---\nmy careful notes\n"
    monkeypatch.setenv("EDITOR", make_editor(tmp_path, broken))
    result = cli("edit", "a")
    assert result.exit_code == 1
    assert "unknown status 'started'" in result.stderr and ".tasks/a.md:3" in result.stderr
    assert path.read_bytes() == before
    aside = repo / ".tasks" / "a.md.rejected"
    assert aside.read_text() == broken
    assert "a.md.rejected" in result.stderr
    # a second failed edit does not overwrite the first one kept aside
    assert cli("edit", "a").exit_code == 1
    assert len(list((repo / ".tasks").glob("a.md*.rejected"))) == 2
    # kept-aside files are not tasks
    assert cli("check").exit_code == 0


def test_edit_that_closes_a_cycle_is_refused(cli: Cli, repo: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    write_task(repo, "a", task_text("A"))
    path = write_task(repo, "b", task_text("B", depends_on="[a]"))
    monkeypatch.setenv("EDITOR", make_editor(tmp_path, task_text("A", depends_on="[b]")))
    before = (repo / ".tasks" / "a.md").read_bytes()
    assert cli("edit", "a").exit_code == 1
    assert (repo / ".tasks" / "a.md").read_bytes() == before
    assert path.exists()


def test_edit_can_fix_a_broken_file(cli: Cli, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_task(repo, "a", "---\ntitle: A\n---\n")
    monkeypatch.setenv("EDITOR", make_editor(tmp_path, task_text("A")))
    assert cli("edit", "a").exit_code == 0
    assert path.read_text() == task_text("A")
