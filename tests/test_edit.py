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


@pytest.mark.parametrize(("change", "key"), [
    ({"status": "done"}, "status"), ({"status": "proposed"}, "status"), ({"lane": "decision"}, "lane"),
    ({"claimed_by": "bot", "lease_until": "2999-01-01T00:00:00Z"}, "claimed_by"),
    ({"closed_by": "abc"}, "closed_by"), ({"milestone": "later"}, "milestone"),
])
def test_an_agents_edit_may_not_change_what_only_the_protocol_or_a_person_changes(
        cli: Cli, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: dict[str, str],
        key: str) -> None:
    path = write_task(repo, "a", task_text("A", lane="autonomous"))
    before = path.read_bytes()
    fields = {"lane": "autonomous", **change}
    status = fields.pop("status", "todo")
    monkeypatch.setenv("EDITOR", make_editor(tmp_path, task_text("A", status=status, **fields) + "my notes\n"))
    monkeypatch.setenv("GTASK_AGENT", "bot")
    result = cli("edit", "a")
    assert result.exit_code == 3, result.stderr  # as `gtask set` refuses it to an agent
    assert key in result.stderr and ".tasks/a.md" in result.stderr
    assert path.read_bytes() == before  # nothing written, not even the agent's other changes
    assert (repo / ".tasks" / "a.md.rejected").read_text().endswith("my notes\n")  # its text is not lost
    monkeypatch.delenv("GTASK_AGENT")
    assert cli("edit", "a").exit_code == 0  # a person may
    assert path.read_text() == task_text("A", status=status, **fields) + "my notes\n"


def test_an_agents_edit_may_change_its_own_fields(cli: Cli, repo: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_task(repo, "a", task_text("A", lane="autonomous", claimed_by="bot"))
    edited = task_text("A, clearer", lane="autonomous", claimed_by="bot", priority="1").replace("Body.", "Steps.")
    monkeypatch.setenv("EDITOR", make_editor(tmp_path, edited))
    monkeypatch.setenv("GTASK_AGENT", "bot")
    assert cli("edit", "a").exit_code == 0
    assert path.read_text() == edited
