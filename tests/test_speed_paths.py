"""Warm-path shortcuts stay exact: lazy commands, first-added times remembered by HEAD."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import git, task_text, write_task

from gtask.gitio.git import Git
from gtask.store.cache import first_added


def _commit(repo: Path, task_id: str, when: int) -> None:
    write_task(repo, task_id, task_text(f"Task {task_id}"))
    git(repo, "add", ".tasks")
    env = {**os.environ, "GIT_AUTHOR_DATE": f"{when} +0000", "GIT_COMMITTER_DATE": f"{when} +0000"}
    proc = subprocess.run(["git", "commit", "-q", "-m", f"add {task_id}"], cwd=repo, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def _fresh(repo: Path) -> dict[str, float]:
    repo_git = Git.discover(repo)
    assert repo_git is not None
    return repo_git.first_added(".tasks")


def _cached(repo: Path, use_cache: bool = True) -> dict[str, float]:
    repo_git = Git.discover(repo)
    assert repo_git is not None
    return first_added(repo_git, ".tasks", use_cache)


def test_first_added_cache_equals_a_fresh_read_after_commits_resets_and_readds(repo: Path) -> None:
    _commit(repo, "a", 1_700_000_000)
    assert _cached(repo) == _fresh(repo)
    cache = next((repo / ".git" / "gtask" / "cache").glob("first-added*"))
    old_head = git(repo, "rev-parse", "HEAD")
    _commit(repo, "b", 1_700_000_100)
    _commit(repo, "c", 1_700_000_200)
    assert set(_cached(repo)) >= {"a.md", "b.md", "c.md"}
    assert _cached(repo) == _fresh(repo)  # read only OLD..NEW, merged
    assert git(repo, "rev-parse", "HEAD") in cache.read_text()
    git(repo, "rm", "-q", ".tasks/b.md")
    git(repo, "commit", "-q", "-m", "drop b")
    _commit(repo, "b", 1_700_000_300)  # re-added later: keeps its first time
    assert _cached(repo)["b.md"] == 1_700_000_100.0 == _fresh(repo)["b.md"]
    git(repo, "reset", "-q", "--hard", old_head)  # not a descendant: recompute
    assert _cached(repo) == _fresh(repo)
    assert "c.md" not in _cached(repo)
    _commit(repo, "d", 1_700_000_400)
    assert _cached(repo) == _fresh(repo) == _cached(repo, use_cache=False)


def test_no_cache_reads_and_writes_no_first_added_cache(repo: Path) -> None:
    _commit(repo, "a", 1_700_000_000)
    assert _cached(repo, use_cache=False) == _fresh(repo)
    assert not list((repo / ".git" / "gtask").glob("cache/first-added*"))


def test_ready_with_the_cache_equals_no_cache_after_history_moves(repo: Path) -> None:
    for number, when in enumerate((1_700_000_500, 1_700_000_100, 1_700_000_300)):
        _commit(repo, f"t{number}", when)
    base = [sys.executable, "-m", "gtask", "-C", str(repo)]

    def ready(*flags: str) -> str:
        proc = subprocess.run([*base, *flags, "ready", "--json"], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    first = ready()
    assert first == ready("--no-cache") == ready()
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    assert ready() == ready("--no-cache")


def test_a_command_imports_only_its_own_module() -> None:
    code = ("import sys; from gtask.cli.main import cli, run; run(['--version']); "
            "print(sorted(m for m in sys.modules if m.startswith('gtask.cli.')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    loaded = proc.stdout.strip().splitlines()[-1]
    assert "gtask.cli.attempt" not in loaded and "gtask.cli.mcp" not in loaded
    from gtask.cli.main import COMMANDS, cli

    assert sorted(cli.commands) == sorted(COMMANDS)
    assert cli.commands["ready"].name == "ready" and cli.get_command(None, "attempt").name == "attempt"  # type: ignore[arg-type]
