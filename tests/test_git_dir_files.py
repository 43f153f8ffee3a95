"""What gtask opens under `.git/gtask/` (the journal, the writer lock) is a regular file or nothing.

A FIFO, a socket or a symbolic link put there (by a script, a bad checkout of the git directory, or
someone with write access to it) must not hang a writer or make gtask write outside the git directory:
the command refuses with exit 1 naming the path, and nothing changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import git, task_text, write_task

WAIT = 20  # a writer that blocks on a FIFO never returns: this bounds the test, it measures nothing


def _committed(repo: Path) -> Path:
    path = write_task(repo, "a", task_text("A"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a")
    return path


def _set(repo: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([sys.executable, "-m", "gtask", "set", "a", "priority=1", "--commit"], cwd=repo,
                              capture_output=True, text=True, env={**os.environ, "GTASK_LOCK_WAIT": "2"},
                              timeout=WAIT)
    except subprocess.TimeoutExpired:
        pytest.fail("gtask blocked on a file under .git/gtask/")


def _unchanged(repo: Path, path: Path, before: bytes, head: str) -> None:
    assert path.read_bytes() == before
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("kind", ["fifo", "link", "dangling-link", "folder"])
def test_a_journal_that_is_not_a_regular_file_is_refused_without_blocking(repo: Path, tmp_path: Path,
                                                                          kind: str) -> None:
    path = _committed(repo)
    before, head = path.read_bytes(), git(repo, "rev-parse", "HEAD")
    journal = repo / ".git" / "gtask" / "journal.json"
    journal.parent.mkdir(exist_ok=True)
    outside = tmp_path / "elsewhere.json"
    if kind == "fifo":
        os.mkfifo(journal)
    elif kind == "folder":
        journal.mkdir()
    else:
        if kind == "link":  # a journal that would "restore" a.md to bytes nobody wrote there
            outside.write_text('{"parent": null, "files": {".tasks/a.md": "aGVsbG8K"}}\n')
        journal.symlink_to(outside)
    result = _set(repo)
    assert result.returncode == 1, result.stderr
    assert ".git/gtask/journal.json" in result.stderr and "Traceback" not in result.stderr
    _unchanged(repo, path, before, head)
    assert journal.is_symlink() == kind.endswith("link")  # left as found, for a person to look at
    assert outside.exists() == (kind == "link")


@pytest.mark.parametrize("kind", ["fifo", "link", "dangling-link"])
def test_a_lock_that_is_not_a_regular_file_is_refused(repo: Path, tmp_path: Path, kind: str) -> None:
    path = _committed(repo)
    before, head = path.read_bytes(), git(repo, "rev-parse", "HEAD")
    lock = repo / ".git" / "gtask" / "lock"
    lock.parent.mkdir(exist_ok=True)
    outside = tmp_path / "outside-lock"
    if kind == "fifo":
        os.mkfifo(lock)
    else:
        if kind == "link":
            outside.write_text("")
        lock.symlink_to(outside)
    result = _set(repo)
    assert result.returncode == 1, result.stderr
    assert ".git/gtask/lock" in result.stderr and "Traceback" not in result.stderr
    _unchanged(repo, path, before, head)
    assert outside.exists() == (kind == "link")  # a dangling link does not make gtask create a file elsewhere


@pytest.mark.parametrize("kind", ["fifo", "link"])
def test_a_cache_file_that_is_not_a_regular_file_is_not_read(repo: Path, tmp_path: Path, kind: str) -> None:
    """Caches are accelerators: a FIFO or a link where one belongs is passed over, never read or waited on."""
    _committed(repo)
    time.sleep(2.1)  # files changed in the last 2 s are not cached (the racy-clean rule)
    run = [sys.executable, "-m", "gtask", "list"]
    fresh = subprocess.run([*run[:3], "--no-cache", "list"], cwd=repo, capture_output=True, text=True, timeout=WAIT)
    subprocess.run(run, cwd=repo, capture_output=True, timeout=WAIT)  # writes the caches
    caches = sorted((repo / ".git" / "gtask" / "cache").glob("*.json"))
    assert caches
    for cache in caches:
        cache.unlink()
        if kind == "fifo":
            os.mkfifo(cache)
        else:
            (tmp_path / cache.name).write_text('{"format": 0}')
            cache.symlink_to(tmp_path / cache.name)
    try:
        result = subprocess.run(run, cwd=repo, capture_output=True, text=True, timeout=WAIT)
    except subprocess.TimeoutExpired:
        pytest.fail("gtask blocked on a cache file")
    assert (result.returncode, result.stdout) == (fresh.returncode, fresh.stdout)
