"""Bad task files through the real CLI: reported with file and line, never rewritten, never fatal to the rest."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import Cli, CliResult, task_text, write_task

VALID = {"alpha": task_text("Alpha task"), "beta": task_text("Beta task", priority="1")}
ERROR_KEYS = {"code", "message", "path", "line"}


@dataclass(frozen=True)
class Bad:
    """One broken task file: its ID, its bytes, the file line to report (None: no line) and a word of the message."""

    task_id: str
    content: bytes
    line: int | None
    words: str

    @property
    def label(self) -> str:
        return f".tasks/{self.task_id}.md"


def _bomb() -> bytes:
    names = "abcdefghi"
    lines = ["---", "title: Laughs", "status: todo", "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in zip(names, names[1:]):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    return ("\n".join(lines + ["---", ""])).encode()


BAD_FILES = [
    pytest.param(Bad("latin1", b"---\ntitle: caf\xe9\nstatus: todo\n---\n", 2, "UTF-8"), id="not-utf8"),
    pytest.param(Bad("empty", b"", None, "empty"), id="empty"),
    pytest.param(Bad("plain", b"# Just Markdown\n\nNo front matter here.\n", 1, "front matter"), id="no-front-matter"),
    pytest.param(Bad("open", b"---\ntitle: Never closed\nstatus: todo\n\nBody text.\n", 1, "not closed"),
                 id="unterminated"),
    pytest.param(Bad("flow", b"---\ntitle: Flow\nstatus: todo\ndepends_on: [a, b\npriority: 1\n---\nBody.\n", 4,
                     "YAML"), id="yaml-unclosed-flow-list"),
    pytest.param(Bad("colon", b"---\ntitle: Colon\nstatus: todo\nbad: : value\npriority: 1\n---\nBody.\n", 4,
                     "YAML"), id="yaml-mapping-error"),
    pytest.param(Bad("listfm", b"---\n- title\n- status\n---\nBody.\n", 2, "list"), id="front-matter-list"),
    pytest.param(Bad("scalarfm", b"---\njust some words\n---\nBody.\n", 2, "single value"), id="front-matter-scalar"),
    pytest.param(Bad("notitle", b"---\nstatus: todo\npriority: 1\n---\nBody.\n", None, "title"), id="missing-title"),
    pytest.param(Bad("nostatus", b"---\ntitle: No status\npriority: 1\n---\nBody.\n", None, "status"),
                 id="missing-status"),
    pytest.param(Bad("started", b"---\ntitle: Started\n# a comment line\nstatus: started\n---\n", 4, "started"),
                 id="unknown-status"),
    pytest.param(Bad("prio", b"---\ntitle: Prio\nstatus: todo\nlabels: [x]\npriority: high\n---\n", 5, "priority"),
                 id="priority-not-int"),
    pytest.param(Bad("depint", b"---\ntitle: Dep\nstatus: todo\ndepends_on: 3\n---\n", 4, "depends_on"),
                 id="depends-on-not-list"),
    pytest.param(Bad("bad id!", task_text("Bad name").encode(), None, "valid task ID"), id="invalid-id-file-name"),
    pytest.param(Bad("self-dep", b"---\ntitle: Self\nstatus: todo\ndepends_on:\n  - self-dep\n---\n", 4, "itself"),
                 id="depends-on-itself"),
    pytest.param(Bad("bomb", _bomb(), 5, "alias"), id="alias-bomb"),
    pytest.param(Bad("huge", task_text("Huge").encode() + b"x" * (1 << 20), None, "1 MiB"), id="over-1-MiB"),
]


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry of a folder: file bytes, or a symlink's target."""
    return {
        entry.name: (f"-> {os.readlink(entry)}" if entry.is_symlink() else entry.read_bytes())
        for entry in sorted(folder.iterdir())
    }


def listed_ids(stdout: str) -> list[str]:
    """The IDs in the first column of `gtask list`'s table."""
    rows = stdout.splitlines()
    assert rows and rows[0].split()[0] == "ID", stdout
    return [row.split()[0] for row in rows[1:]]


def where(label: str, line: int | None) -> str:
    """The location a message starts with: `path:line:` or just `path`."""
    return f"{label}:{line}:" if line else label


def write_valid(repo: Path) -> None:
    for task_id, text in VALID.items():
        write_task(repo, task_id, text)


def assert_list_skips(cli: Cli, bad_labels: list[str], bad_ids: list[str], line: int | None = None) -> None:
    """`list` and `list --json` show the valid tasks, exit 0, and report the broken files on stderr."""
    result = cli("list")
    assert result.exit_code == 0, result.stderr
    assert listed_ids(result.stdout) == sorted(VALID)
    for label in bad_labels:
        assert where(label, line) in result.stderr
    for task_id in bad_ids:
        assert task_id not in result.stdout
    result = cli("list", "--json")
    assert result.exit_code == 0, result.stderr
    tasks = json.loads(result.stdout)
    assert isinstance(tasks, list)
    assert sorted(task["id"] for task in tasks) == sorted(VALID)
    for label in bad_labels:
        assert label in result.stderr


def assert_error(result: CliResult, code: int, label: str, line: int | None) -> None:
    """A plain-text error: the exit code, nothing on stdout, the file (and line) on stderr."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert where(label, line) in result.stderr, result.stderr


def assert_json_error(result: CliResult, code: int, label: str, line: int | None) -> dict:
    """A `--json` error: one JSON object `{"error": {...}}` on stderr, the same exit code."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    document = json.loads(result.stderr)
    assert set(document) == {"error"}
    error = document["error"]
    assert set(error) >= ERROR_KEYS
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert error["path"] == label
    if line is not None:
        assert error["line"] == line
    return error


@pytest.mark.parametrize("bad", BAD_FILES)
def test_bad_file_is_reported_and_never_rewritten(cli: Cli, repo: Path, bad: Bad) -> None:
    write_valid(repo)
    path = write_task(repo, bad.task_id, bad.content)
    before = snapshot(repo / ".tasks")

    assert_list_skips(cli, [bad.label], [bad.task_id], bad.line)

    result = cli("check")
    assert result.exit_code == 1
    report = result.stdout + result.stderr
    assert where(bad.label, bad.line) in report, report
    assert bad.words.lower() in report.lower(), report
    result = cli("check", "--json")
    assert result.exit_code == 1
    errors = [(p["path"], p["line"]) for p in json.loads(result.stdout)["problems"] if p["severity"] == "error"]
    assert any(path == bad.label and (bad.line is None or line == bad.line) for path, line in errors), errors

    result = cli("show", "alpha")
    assert result.exit_code == 0 and "Alpha task" in result.stdout, result.stderr

    result = cli("show", bad.task_id)
    assert_error(result, 1, bad.label, bad.line)
    assert bad.words.lower() in result.stderr.lower()
    assert_json_error(cli("show", bad.task_id, "--json"), 1, bad.label, bad.line)

    # a `set` that leaves the file invalid is refused (one that repairs the field succeeds: test_tripping.py)
    unrelated = "status=done" if b"assignee" in bad.content else "assignee=x"
    assert_error(cli("set", bad.task_id, unrelated), 1, bad.label, bad.line)

    assert path.read_bytes() == bad.content
    assert snapshot(repo / ".tasks") == before


def test_alias_bomb_is_refused_quickly(cli: Cli, repo: Path) -> None:
    write_valid(repo)
    write_task(repo, "bomb", _bomb())
    for args in (("check",), ("list",), ("show", "bomb")):
        start = time.monotonic()
        result = cli(*args)
        elapsed = time.monotonic() - start
        assert elapsed < 2, f"gtask {' '.join(args)} took {elapsed:.1f}s"
        assert ".tasks/bomb.md:5:" in result.stdout + result.stderr
    assert cli("check").exit_code == 1


def test_ids_that_differ_only_in_case_are_both_reported(cli: Cli, repo: Path) -> None:
    write_valid(repo)
    upper = write_task(repo, "Fix-Login", task_text("Fix login, upper"))
    if not (repo / ".tasks" / "fix-login.md").exists():
        lower = write_task(repo, "fix-login", task_text("Fix login, lower"))
    else:
        pytest.skip("case-insensitive file system")
    labels = [".tasks/Fix-Login.md", ".tasks/fix-login.md"]
    before = snapshot(repo / ".tasks")

    assert_list_skips(cli, labels, ["Fix-Login", "fix-login"])
    assert "Fix login" not in cli("list").stdout

    result = cli("check")
    assert result.exit_code == 1
    for label in labels:
        assert label in result.stdout + result.stderr

    for task_id, label in (("Fix-Login", labels[0]), ("fix-login", labels[1])):
        assert_error(cli("show", task_id), 1, label, None)
        assert_json_error(cli("show", task_id, "--json"), 1, label, None)
        assert_error(cli("set", task_id, "status=done"), 1, label, None)

    assert upper.read_bytes() == task_text("Fix login, upper").encode()
    assert lower.read_bytes() == task_text("Fix login, lower").encode()
    assert snapshot(repo / ".tasks") == before


def test_dependency_on_a_missing_task(cli: Cli, repo: Path) -> None:
    write_valid(repo)
    text = "---\ntitle: Needs a ghost\nstatus: todo\ndepends_on:\n  - ghost\n---\nBody.\n"
    path = write_task(repo, "needs-ghost", text)

    result = cli("check")
    assert result.exit_code == 1
    report = result.stdout + result.stderr
    assert ".tasks/needs-ghost.md:4:" in report and "ghost" in report

    result = cli("list")
    assert result.exit_code == 0
    assert listed_ids(result.stdout) == ["alpha", "beta", "needs-ghost"]
    result = cli("list", "--json")
    assert result.exit_code == 0
    assert sorted(task["id"] for task in json.loads(result.stdout)) == ["alpha", "beta", "needs-ghost"]

    result = cli("show", "needs-ghost")
    assert result.exit_code == 0, result.stderr
    assert "Needs a ghost" in result.stdout and "ghost" in result.stdout
    result = cli("show", "needs-ghost", "--json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["depends_on"] == ["ghost"]
    assert [(d["ref"], d["state"]) for d in shown["dependencies"]] == [("ghost", "missing")]
    assert path.read_text() == text

    assert cli("show", "ghost").exit_code == 4
    assert cli("show", "ghost", "--json").exit_code == 4


def test_symlink_to_a_file_outside_the_repository(cli: Cli, repo: Path, tmp_path: Path) -> None:
    write_valid(repo)
    outside = tmp_path / "outside.md"
    secret = task_text("Secret outside task", labels="[private]").encode()
    outside.write_bytes(secret)
    link = repo / ".tasks" / "linked.md"
    link.symlink_to(outside)
    label = ".tasks/linked.md"
    before = snapshot(repo / ".tasks")

    assert_list_skips(cli, [label], ["linked"])
    result = cli("list", "--json")
    assert "Secret" not in result.stdout + result.stderr

    result = cli("check")
    assert result.exit_code == 1
    assert label in result.stdout + result.stderr
    assert "Secret" not in result.stdout + result.stderr

    result = cli("show", "linked")
    assert_error(result, 1, label, None)
    assert "Secret" not in result.stderr
    assert_json_error(cli("show", "linked", "--json"), 1, label, None)
    result = cli("set", "linked", "status=done")
    assert_error(result, 1, label, None)

    assert outside.read_bytes() == secret
    assert link.is_symlink() and os.readlink(link) == str(outside)
    assert snapshot(repo / ".tasks") == before


def test_crlf_file_works_and_keeps_its_line_endings(cli: Cli, repo: Path) -> None:
    write_valid(repo)
    text = "---\r\ntitle: Windows task\r\nstatus: todo\r\npriority: 1\r\nlabels:\r\n  - win\r\n---\r\n\r\nBody line.\r\n"
    path = write_task(repo, "crlf-task", text.encode())

    result = cli("list")
    assert result.exit_code == 0 and result.stderr == ""
    assert listed_ids(result.stdout) == ["alpha", "beta", "crlf-task"]
    result = cli("show", "crlf-task")
    assert result.exit_code == 0 and "Windows task" in result.stdout and "\r" not in result.stdout
    shown = json.loads(cli("show", "crlf-task", "--json").stdout)
    assert shown["title"] == "Windows task" and shown["labels"] == ["win"] and shown["priority"] == 1
    assert cli("check").exit_code == 0

    result = cli("set", "crlf-task", "status=done")
    assert result.exit_code == 0, result.stderr
    after = path.read_bytes()
    old_lines = text.encode().split(b"\r\n")
    new_lines = after.split(b"\r\n")
    assert b"\n" not in after.replace(b"\r\n", b""), after
    assert after.endswith(b"\r\n")
    assert len(new_lines) == len(old_lines)
    changed = [(old, new) for old, new in zip(old_lines, new_lines) if old != new]
    assert changed == [(b"status: todo", b"status: done")]
    assert json.loads(cli("show", "crlf-task", "--json").stdout)["status"] == "done"
    assert cli("check").exit_code == 0
