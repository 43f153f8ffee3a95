"""Fixtures: real git repositories in temporary folders, the real CLI, a guarded home."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from gtask.cli.main import run

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the real home; git identity comes from the environment."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(var, "Test Person")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(var, "test@example.com")
    for var in ("GTASK_AGENT", "GTASK_WORKSPACE", "EDITOR", "VISUAL", "GIT_DIR", "GIT_WORK_TREE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` and return its stripped output; fail the test on error."""
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)} failed: {proc.stderr}"
    return proc.stdout.strip()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


class Cli:
    """Runs `gtask` in-process (fast) against one folder."""

    def __init__(self, cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.cwd = cwd
        self.capsys = capsys

    def __call__(self, *args: str) -> CliResult:
        self.capsys.readouterr()
        code = run(["-C", str(self.cwd), *args])
        captured = self.capsys.readouterr()
        return CliResult(code, captured.out, captured.err)


def run_process(cwd: Path, *args: str, env: dict[str, str] | None = None,
                input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `gtask` in a separate process."""
    return subprocess.run([sys.executable, "-m", "gtask", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, input=input)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one commit and an initialised `.tasks/` (project `demo`)."""
    path = tmp_path / "demo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test Person")
    git(path, "config", "user.email", "test@example.com")
    (path / "README.md").write_text("demo\n")
    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "initial")
    assert run(["-C", str(path), "init", "--project", "demo"]) == 0
    return path


@pytest.fixture
def cli(repo: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(repo, capsys)


def write_task(repo: Path, task_id: str, text: str | bytes) -> Path:
    """Write a task file as raw bytes or text (kept exactly, line endings included)."""
    path = repo / ".tasks" / f"{task_id}.md"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def task_text(title: str, status: str = "todo", **extra: str) -> str:
    lines = ["---", f"title: {title}", f"status: {status}"]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return "\n".join(lines + ["---", "", "Body.", ""])


def make_repo(root: Path, name: str, tasks: dict[str, str], project: str | None = None) -> Path:
    """A repository of a workspace: its tasks committed on main (project: `project`, else its folder name)."""
    path = root / name
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / ".tasks").mkdir()
    (path / ".tasks" / "config.yaml").write_text(f"project: {project or name}\n")
    for task_id, text in tasks.items():
        (path / ".tasks" / f"{task_id}.md").write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "tasks")
    return path
