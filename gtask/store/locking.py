"""One writer at a time per clone, and recovery from a writer that was killed.

Every read-modify-write of task files (and every protocol commit) runs under
an exclusive `flock` on `gtask/lock` in the git common directory (so
worktrees of one clone share it; a plain folder of tasks uses a hidden file in
the folder). The kernel drops the lock when a process dies, even by SIGKILL,
so a lock can never be left stale. The lock is reentrant within a process.

Before a protocol step changes files it writes a journal (the files' old
bytes, the branch's old commit and, before each write, the hash of the bytes
it writes) beside the lock. Whoever takes the lock
next and finds a journal knows its writer died mid-step, because a live
writer would still hold the lock, and settles it: if the step's commit landed,
the index entries of its files are brought up to date (only entries still as
the step found them); if it did not, files that hold bytes the step wrote get
their old bytes back. Either way the step happened wholly or not at all, and a
hand edit made after the crash is left as it is.
"""

from __future__ import annotations

import base64
import errno
import fcntl
import functools
import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from gtask.errors import GtaskError

WAIT_SECONDS = 60.0  # GTASK_LOCK_WAIT overrides
_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth)
S = TypeVar("S")
P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def exclusive(lock_path: Path) -> Iterator[bool]:
    """Hold the lock at `lock_path`, waiting up to GTASK_LOCK_WAIT seconds for another gtask process.

    Yields True when this call took the lock, False when this process already held it.
    """
    key = str(lock_path)
    if key in _held:
        fd, depth = _held[key]
        _held[key] = (fd, depth + 1)
        try:
            yield False
        finally:
            fd, depth = _held[key]
            _held[key] = (fd, depth - 1)
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = open_regular(lock_path, os.O_RDWR | os.O_CREAT, "writer lock")
    try:
        _acquire(fd, lock_path)
        _held[key] = (fd, 1)
        try:
            yield True
        finally:
            del _held[key]
    finally:
        os.close(fd)  # closing drops the flock


_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a folder"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


def open_regular(path: Path, flags: int, what: str) -> int:
    """Open one of gtask's own files under the git directory, refusing anything but a regular file.

    Never blocks (a FIFO put in its place is refused, not waited on) and never follows a symbolic link
    (which could make gtask read or create a file elsewhere); FileNotFoundError passes through.
    """
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except FileNotFoundError:
        raise
    except OSError as exc:
        kind = "a symbolic link" if exc.errno == errno.ELOOP or os.path.islink(path) else None
        if kind is None and exc.errno not in (errno.ENXIO, errno.EISDIR, errno.EWOULDBLOCK):
            raise
        raise _not_regular(path, kind or _kind(path), what) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _not_regular(path, next((name for test, name in _KINDS if test(mode)), "not a regular file"), what)
    return fd


def _kind(path: Path) -> str:
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "not a regular file"
    return "a symbolic link" if stat.S_ISLNK(mode) else next((n for t, n in _KINDS if t(mode)), "not a regular file")


def _not_regular(path: Path, kind: str, what: str) -> GtaskError:
    return GtaskError(f"gtask keeps its {what} here, but this is {kind}, not a regular file; nothing was changed: "
                      f"look at it, remove it if nothing of yours is in it, and run the command again", path=str(path))


def _acquire(fd: int, lock_path: Path) -> None:
    from gtask.fsutil import env_seconds

    deadline = time.monotonic() + env_seconds("GTASK_LOCK_WAIT", WAIT_SECONDS)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise GtaskError(f"another gtask process has been writing in this clone for too long "
                                 f"(lock {lock_path}); nothing was changed, try again") from None
            time.sleep(0.02)


def locked(step: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run a protocol step (first argument a Session or a Store) under the clone's writer lock.

    The step's checks and its change then see the same files: two processes in
    one work tree cannot both claim a task or lose each other's update.
    """
    @functools.wraps(step)
    def wrapper(first: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with getattr(first, "store", first).lock():
            return step(first, *args, **kwargs)
    return wrapper


# -- the journal of one protocol step -------------------------------------------------


def write_journal(path: Path, parent: str | None, files: dict[str, bytes | None],
                  wrote: dict[str, list[str]] | None = None) -> None:
    """Record a step: the branch's commit, each file's old bytes (None: absent) and the hashes of the bytes it wrote.

    Recovery restores a file only when it still holds bytes the step wrote, so
    a hand edit made after a crash is never undone. The record is one line;
    hashes of later writes are appended to it (append_journal), never rewritten.
    """
    from gtask.fsutil import write_temp

    data = {"parent": parent,
            "files": {rel: None if raw is None else base64.b64encode(raw).decode() for rel, raw in files.items()},
            "wrote": wrote or {}}
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = stat.S_IFREG
    if not stat.S_ISREG(mode):  # a link or FIFO here is someone's, not a journal a crash left: not replaced
        raise _not_regular(path, _kind(path), "journal of a step")
    os.replace(write_temp(path, json.dumps(data) + "\n"), path)  # whole or absent, like a task file


def append_journal(path: Path, rel: str, hashes: list[str]) -> None:
    """Add the hashes of bytes about to be written to `rel`, on disk before they land (one line, one fsync)."""
    fd = open_regular(path, os.O_WRONLY | os.O_APPEND, "journal of a step")
    try:
        os.write(fd, (json.dumps([rel, hashes]) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


Journal = tuple[str | None, dict[str, bytes | None], dict[str, list[str]] | None]


def read_journal(path: Path) -> Journal | None:
    """The parent commit, old bytes and written hashes of an interrupted step (hashes None: an older gtask's).

    A last line cut short was being appended when the writer died: the write it announced never began.
    """
    try:
        with os.fdopen(open_regular(path, os.O_RDONLY, "journal of a step"), "rb") as handle:
            lines = handle.read().decode().splitlines()
        data = json.loads(lines[0])
        files = {rel: None if raw is None else base64.b64decode(raw) for rel, raw in data["files"].items()}
        wrote = data.get("wrote")
        if wrote is not None:
            wrote = {str(rel): [str(h) for h in hashes] for rel, hashes in wrote.items()}
        for number, line in enumerate(lines[1:], 2):
            try:
                rel, hashes = json.loads(line)
            except ValueError:
                if number == len(lines):
                    break  # torn by the crash: its bytes were never written
                raise
            if wrote is not None:
                wrote.setdefault(str(rel), []).extend(str(h) for h in hashes)
        return data["parent"], files, wrote
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise GtaskError(f"the journal of an interrupted gtask step is unreadable ({exc}); "
                         f"check `git status` and delete {path}") from None
