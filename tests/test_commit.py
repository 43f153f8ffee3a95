"""`--commit` commits only the task file, and the user's other work stays exactly as it was."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, git, task_text, write_task


def snapshot(repo: Path) -> tuple[str, str, str]:
    return (git(repo, "diff"), git(repo, "diff", "--cached"), git(repo, "status", "--porcelain"))


def test_new_commit_leaves_staged_and_unstaged_work_alone(cli: Cli, repo: Path) -> None:
    (repo / "README.md").write_text("demo\nunstaged line\n")
    (repo / "staged.txt").write_text("staged\n")
    git(repo, "add", "staged.txt")
    diff, cached, _ = snapshot(repo)
    result = cli("new", "Fix login", "--commit")
    assert result.exit_code == 0, result.stderr
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == ".tasks/fix-login.md"
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("gtask: new fix-login\n")
    assert "Task: fix-login" in message and "Task-Action: new" in message and "Agent: Test Person" in message
    assert git(repo, "diff") == diff
    assert git(repo, "diff", "--cached") == cached
    assert "fix-login" not in git(repo, "status", "--porcelain")


def test_set_commit_refuses_a_task_file_with_uncommitted_edits(cli: Cli, repo: Path) -> None:
    path = write_task(repo, "a", task_text("A"))
    git(repo, "add", ".tasks/a.md")
    git(repo, "commit", "-q", "-m", "add a")
    path.write_text(task_text("A edited by hand"))
    head = git(repo, "rev-parse", "HEAD")
    result = cli("set", "a", "priority=1", "--commit")
    assert result.exit_code == 1 and "uncommitted changes" in result.stderr
    assert path.read_text() == task_text("A edited by hand")
    assert git(repo, "rev-parse", "HEAD") == head


def test_set_commit_in_a_repository_without_commits(tmp_path: Path, capsys) -> None:
    from gtask.cli.main import run

    git(tmp_path, "init", "-q", "-b", "main")
    assert run(["-C", str(tmp_path), "init"]) == 0
    assert run(["-C", str(tmp_path), "new", "First task", "--commit"]) == 0
    assert git(tmp_path, "log", "--format=%s") == "gtask: new first-task"
    assert git(tmp_path, "status", "--porcelain") == "?? .tasks/config.yaml"
