"""`gtask triage --interactive` driven through a real pseudo-terminal: keys in, one commit out."""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from conftest import Cli, git, run_process

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def _propose(cli: Cli, *task_ids: str) -> None:
    for task_id in task_ids:
        result = cli("new", f"Proposal {task_id}", "--id", task_id, "--lane", "autonomous", "--label", "docs",
                     "--commit", "--agent", "codex")
        assert result.exit_code == 0, result.stderr


def _controlling_terminal() -> None:
    """In the child: a new session whose controlling terminal is the pty, so Ctrl-C becomes SIGINT."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A gtask process on the slave side of a pseudo-terminal; the test types and reads on the master side."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.master, slave = os.openpty()
        env = {**os.environ, "TERM": "dumb", "GTASK_AGENT": ""}
        env.pop("GTASK_AGENT")
        self.proc = subprocess.Popen([sys.executable, "-m", "gtask", *args], cwd=cwd, stdin=slave, stdout=slave,
                                     stderr=slave, env=env, preexec_fn=_controlling_terminal)
        os.close(slave)
        self.screen = ""

    def read_until(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} never appeared; the screen was:\n{self.screen}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the process ended and closed the terminal
                    chunk = b""
                assert chunk or text in self.screen, f"{text!r} never appeared; the screen was:\n{self.screen}"
                self.screen += chunk.decode("utf-8", "replace")
        return self.screen

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def finish(self) -> int:
        try:
            while True:
                ready, _, _ = select.select([self.master], [], [], 20)
                if not ready:
                    break
                chunk = os.read(self.master, 4096)
                if not chunk:
                    break
                self.screen += chunk.decode("utf-8", "replace")
        except OSError:
            pass
        code = self.proc.wait(timeout=30)
        os.close(self.master)
        return code


def test_approve_reject_skip_quit_make_exactly_one_commit(repo: Path, cli: Cli) -> None:
    _propose(cli, "p-a", "p-b", "p-c", "p-d")
    before = git(repo, "rev-parse", "HEAD")
    term = Terminal(repo, "triage", "--interactive")
    term.read_until("proposal 1 of 4: p-a")
    term.read_until("filed by: codex on main")  # the screen may arrive in more than one read
    term.type("a")
    term.read_until("proposal 2 of 4: p-b")
    term.type("r")
    term.read_until("reason")
    term.type("duplicates p-a\r")
    term.read_until("proposal 3 of 4: p-c")
    term.type("s")
    term.read_until("proposal 4 of 4: p-d")
    term.type("q")
    assert term.finish() == 0, term.screen
    assert git(repo, "rev-list", "--count", f"{before}..HEAD") == "1"
    changed = git(repo, "diff", "--name-only", before, "HEAD").split()
    assert sorted(changed) == [".tasks/p-a.md", ".tasks/p-b.md"]
    assert "status: todo" in (repo / ".tasks" / "p-a.md").read_text()
    assert "status: canceled" in (repo / ".tasks" / "p-b.md").read_text()
    for task_id in ("p-c", "p-d"):
        assert "status: proposed" in (repo / ".tasks" / f"{task_id}.md").read_text()
    assert "duplicates p-a" in git(repo, "log", "-1", "--format=%B")
    assert git(repo, "status", "--porcelain", "--", ".tasks/*.md") == ""


def test_ctrl_c_commits_nothing(repo: Path, cli: Cli) -> None:
    _propose(cli, "p-a", "p-b")
    before = git(repo, "rev-parse", "HEAD")
    term = Terminal(repo, "triage", "--interactive")
    term.read_until("proposal 1 of 2: p-a")
    term.type("a")
    term.read_until("proposal 2 of 2: p-b")
    term.type("\x03")
    assert term.finish() == 1, term.screen
    assert git(repo, "rev-parse", "HEAD") == before
    assert git(repo, "status", "--porcelain", "--", ".tasks/*.md") == ""
    assert "status: proposed" in (repo / ".tasks" / "p-a.md").read_text()


def test_without_a_terminal_it_refuses(repo: Path, cli: Cli) -> None:
    _propose(cli, "p-a")
    before = git(repo, "rev-parse", "HEAD")
    result = run_process(repo, "triage", "--interactive", input="a")
    assert result.returncode == 2
    assert "approve" in result.stderr and "reject" in result.stderr
    assert git(repo, "rev-parse", "HEAD") == before
