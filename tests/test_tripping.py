"""Help where people trip: typo'd keys, repairing an invalid field with `set`, a readable log, flow lists kept."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, git, task_text, write_task


def test_a_typod_key_warns_with_the_key_it_meant(repo: Path, cli: Cli) -> None:
    write_task(repo, "b", task_text("B"))
    write_task(repo, "a", "---\ntitle: A\nstatus: todo\ndepends-on: [b]\nprority: 1\nnotes: kept quietly\n---\n")
    checked = cli("check")
    assert checked.exit_code == 0
    lines = [line for line in checked.stdout.splitlines() + checked.stderr.splitlines() if "did you mean" in line]
    assert any(".tasks/a.md:4:" in line and "`depends_on`" in line for line in lines)
    assert any(".tasks/a.md:5:" in line and "`priority`" in line for line in lines)
    assert not any("notes" in line for line in lines)  # far from every known key: no guess
    for command in (("list",), ("ready",), ("next",)):
        result = cli(*command)
        assert result.exit_code == 0
        assert ".tasks/a.md:4:" in result.stderr and "`depends_on`" in result.stderr, command
        assert result.stderr.count(".tasks/a.md:4:") == 1


def test_set_repairs_the_invalid_field_it_changes(repo: Path, cli: Cli) -> None:
    path = write_task(repo, "a", "---\ntitle: A\nstatus: in_progres\n---\n")
    before = path.read_bytes()
    shown = cli("show", "a")
    assert shown.exit_code == 1 and ".tasks/a.md:3" in shown.stderr
    assert "gtask set a status=" in shown.stderr  # the error says how to repair it
    other = cli("set", "a", "priority=1")  # a change that leaves the field invalid is refused
    assert other.exit_code == 1 and "gtask set a status=" in other.stderr
    assert path.read_bytes() == before
    fixed = cli("set", "a", "status=todo")
    assert fixed.exit_code == 0, fixed.stderr
    assert path.read_text() == "---\ntitle: A\nstatus: todo\n---\n"


def test_set_keeps_a_flow_list_in_flow_style(repo: Path, cli: Cli) -> None:
    path = write_task(repo, "a", "---\ntitle: A\nstatus: todo\nlabels: [a, b]\nsteps:\n  - one\n---\n")
    assert cli("set", "a", "labels+=x", "labels+=with, comma", "steps+=two").exit_code == 0
    assert path.read_text() == ('---\ntitle: A\nstatus: todo\nlabels: [a, b, x, "with, comma"]\n'
                                "steps:\n  - one\n  - two\n---\n")
    assert cli("show", "a", "--json").exit_code == 0


def test_log_is_one_readable_line_per_event(repo: Path, cli: Cli) -> None:
    assert cli("new", "Work", "--id", "w", "--commit").exit_code == 0
    for args in (("claim", "w"), ("attempt", "start", "w"),
                 ("attempt", "end", "w", "--outcome", "failed", "--reason", "test_fail", "--tokens", "1200")):
        result = cli(*args, "--agent", "codex")
        assert result.exit_code == 0, result.stderr
    (repo / "f.txt").write_text("x\n")
    git(repo, "add", "f.txt")
    git(repo, "commit", "-q", "-m", "Fix it\n\nCloses: w\nAgent: codex")
    result = cli("log", "w")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5, result.stdout
    assert any("attempt failed: test_fail, 1200 tokens" in line for line in lines)
    assert not any("{" in line or "'outcome'" in line for line in lines)  # no Python reprs
    closing = lines[-1].split()
    assert closing[2] == "closes" and closing[3] == "codex"  # the agent, not the git author
    assert len({line.index(line.split()[3]) for line in lines}) == 1  # the who column is aligned
