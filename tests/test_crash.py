"""SIGKILL at every point of a write and of a protocol commit: the step happens wholly or not at all."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import Cli, git, run_process, task_text, write_task

POINTS = ("step-journaled", "temp-written", "step-written", "commit-made", "ref-moved")
PLAN = "tasks:\n  - name: a\n    title: Planned A\n  - name: b\n    title: Planned B\n    depends_on: [a]\n"
COMMANDS = {
    "claim": ("claim", "t1", "--agent", "bot"),
    "done": ("done", "t0", "--agent", "bot"),
    "handoff": ("handoff", "t0", "--needs", "A missing piece", "--agent", "bot"),
    "new": ("new", "Fresh task", "--commit"),
    "import": ("import", "plan.yaml", "--agent", "bot"),
    "approve": ("approve", "idea"),
    "attempt": ("attempt", "start", "t0", "--agent", "bot"),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with tasks, one claimed by `bot`, one proposed, committed (copied for each case)."""
    path = tmp_path_factory.mktemp("template") / "repo"
    path.mkdir()
    env = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@x"}
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test Person")
    git(path, "config", "user.email", "test@example.com")
    assert run_process(path, "init", "--project", "demo", env=env).returncode == 0
    for number in range(3):
        write_task(path, f"t{number}", task_text(f"Task {number}"))
    write_task(path, "idea", task_text("An idea", status="proposed"))
    write_task(path, "zz", task_text("Bystander"))
    (path / "plan.yaml").write_text(PLAN)
    (path / ".gitignore").write_text("plan.yaml\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "tasks")
    assert run_process(path, "claim", "t0", "--agent", "bot").returncode == 0
    return path


def task_files(repo: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((repo / ".tasks").iterdir()) if p.is_file()}


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_killed_step_is_finished_or_undone_by_the_next_writer(template: Path, tmp_path: Path, capsys,
                                                                 command: str, point: str) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(template, repo, symlinks=True)
    before, start = task_files(repo), git(repo, "rev-parse", "HEAD")

    killed = run_process(repo, *COMMANDS[command], env={"GTASK_FAULT": point})
    assert killed.returncode == -signal.SIGKILL, f"{command} never reached {point}: {killed.stderr}"

    # readers meanwhile see whole files: old or new versions, never a mix
    listing = run_process(repo, "list", "--json")
    assert listing.returncode == 0 and listing.stderr == ""

    # the next writer (here an unrelated `set`) settles the interrupted step first
    cli = Cli(repo, capsys)
    settled = cli("set", "zz", "priority=1")
    assert settled.exit_code == 0, settled.stderr
    head = git(repo, "rev-parse", "HEAD")
    after = {name: data for name, data in task_files(repo).items() if name != "zz.md"}
    if head == start:  # not landed: every file as it was
        assert after == {name: data for name, data in before.items() if name != "zz.md"}
    else:  # landed: exactly one commit, and the files are what it holds
        assert git(repo, "rev-parse", "HEAD^") == start
        assert git(repo, "log", "-1", "--format=%s").startswith("gtask: ")
        for name, data in after.items():
            assert subprocess.run(["git", "show", f"HEAD:.tasks/{name}"], cwd=repo, capture_output=True).stdout == data
    assert git(repo, "status", "--porcelain") == "M .tasks/zz.md"  # the index agrees with HEAD for the step's files
    assert subprocess.run(["git", "fsck", "--no-dangling"], cwd=repo, capture_output=True).returncode == 0
    assert cli("check").exit_code == 0

    # and the command can simply be run again
    again = cli(*COMMANDS[command])
    assert again.exit_code in (0, 3), again.stderr
