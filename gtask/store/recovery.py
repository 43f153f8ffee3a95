"""Settle a protocol step whose process died: wholly done or not done at all (see locking.py)."""

from __future__ import annotations

from pathlib import Path

from gtask.errors import GtaskError
from gtask.fsutil import atomic_write
from gtask.gitio.git import Git
from gtask.store.locking import read_journal


def recover(root: Path, journal: Path) -> str | None:
    """Settle the journal's step and say what was done; called with the writer lock held (its writer is dead)."""
    found = read_journal(journal)
    git = Git.discover(root)
    if found is None or git is None:
        journal.unlink(missing_ok=True)
        return None
    parent, files = found
    head = git.head_commit()
    paths = list(files)
    if all(_work_tree_bytes(git, rel) == _head_bytes(git, head, rel) for rel in paths):
        what = "finished it" if head != parent else "nothing had changed"
    elif head == parent:
        for rel, old in files.items():
            target = git.top / rel
            if old is None:
                target.unlink(missing_ok=True)
            else:
                atomic_write(target, old.decode("utf-8"))
        what = "put the task files back as they were"
    else:
        raise GtaskError(f"an interrupted gtask step left {', '.join(paths)} unlike both its start and HEAD; "
                         f"inspect them with 'git status' and 'git diff', then delete {journal}")
    _reset_index(git, head, paths)
    journal.unlink(missing_ok=True)
    return f"a gtask process was killed mid-step; {what} ({', '.join(paths)})"


def _work_tree_bytes(git: Git, rel: str) -> bytes | None:
    try:
        return (git.top / rel).read_bytes()
    except FileNotFoundError:
        return None


def _head_bytes(git: Git, head: str | None, rel: str) -> bytes | None:
    if head is None:
        return None
    obj = git.cat_file([f"{head}:{rel}"]).get(f"{head}:{rel}")
    return obj[1] if obj else None


def _reset_index(git: Git, head: str | None, paths: list[str]) -> None:
    """The index entries of the step's files as HEAD has them (they were clean before the step)."""
    if head:
        git.run("reset", "-q", head, "--", *paths, check=False)
    else:
        git.run("rm", "-q", "--cached", "--ignore-unmatch", "--", *paths, check=False)
