"""Atomic file writes: a temporary file in the same folder, renamed over the old one."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gtask.errors import Conflict, UsageError

TEMP_SUFFIX = ".gtask-tmp"
SETTLE_SECONDS = 0.002  # how long a displaced file is watched for a late write before it is dropped
# Called with (path, new bytes) before any write here lands; a protocol step journals the bytes it writes.
before_write: list[Callable[[Path, bytes], None]] = []


def digest(raw: bytes) -> str:
    """The hash a journal records for bytes that a step wrote."""
    import hashlib  # writers only: a read does not load it

    return hashlib.sha256(raw).hexdigest()


def env_seconds(name: str, default: float) -> float:
    """A number of seconds from the environment; a malformed value is a usage error, not a traceback."""
    text = os.environ.get(name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0 or value == float("inf"):
        raise UsageError(f"{name}={text!r} is not a number of seconds (for example {name}=30)")
    return value


def explain_os_error(exc: OSError) -> str:
    """One sentence for a failed file operation: what happened, where, and what to do."""
    where = f" ({exc.filename})" if exc.filename else ""
    settle = "; nothing half-done is left unrecorded: the next gtask command settles it"
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return f"the disk is full{where}: free some space and run the command again{settle}"
    if exc.errno == errno.EROFS:
        return f"the file system is read-only{where}: gtask cannot write here{settle}"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied{where}: check who owns the folder and its mode"
    return f"{exc.strerror or exc}{where}"


def _checkpoint(name: str) -> None:
    from gtask.faults import checkpoint  # writers only (it loads `signal`)

    checkpoint(name)


def _announce(path: Path, raw: bytes) -> None:
    for hook in before_write:
        hook(path, raw)


def read_or_none(path: Path) -> bytes | None:
    """A file's bytes, or None when it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO put in its place must not block
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def replace_checked(path: Path, text: str | bytes, expected: bytes | None) -> bool:
    """Write `text` over `path` only if the file still holds exactly `expected` (None: absent); say whether it did.

    The comparison runs right before the rename, so an editor's write made
    while gtask prepared its change is never overwritten: the caller re-reads
    and re-applies, or refuses.
    """
    raw = text if isinstance(text, bytes) else text.encode("utf-8")
    _announce(path, raw)
    temp = write_temp(path, raw)
    _checkpoint("temp-written")
    try:
        lease = _read_lease(path) if expected is not None else None
    except Conflict:
        os.unlink(temp)
        raise
    try:
        os.chmod(temp, (path.stat().st_mode & 0o7777) if expected is not None and path.exists() else 0o644)
        if read_or_none(path) != expected:
            os.unlink(temp)
            return False
        if expected is None:
            os.link(temp, path)  # fails if someone created the file meanwhile
            os.unlink(temp)
        elif _exchange(temp, path):
            # The swap is atomic: what we displaced is exactly what was there at that instant. A writer that
            # opened the old file just before may still be writing to it: give it a moment before we look.
            # With a lease, no writer had the old file open, and one opening it since waits on the lease and
            # breaks it: the swap is undone before that writer goes on, so its bytes land in the live file.
            time.sleep(SETTLE_SECONDS)
            if (lease is not None and lease.broken()) or read_or_none(Path(temp)) != expected:
                _exchange(temp, path)  # an editor wrote (or is about to) into the old file: put it back
                os.unlink(temp)
                return False
            os.unlink(temp)
        else:
            os.replace(temp, path)
    except FileExistsError:
        os.unlink(temp)
        return False
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    finally:
        if lease is not None:
            lease.release()  # a writer waiting on it opens the file that is live now
    _fsync_dir(path.parent)
    return True


LEASE_WAIT_SECONDS = 1.0  # how long a write waits for another process to close the file it has open for writing


class _Lease:
    """A read lease on a file (Linux): held only while no process has the file open for writing, and broken by
    the kernel, which then holds the opener back, when one opens it for writing. SIGIO, the kernel's notice of
    the break, is ignored while it is held: the lease's state says it."""

    def __init__(self, fd: int, handler: Any) -> None:
        self.fd = fd
        self.handler = handler

    def broken(self) -> bool:
        """Whether a process has tried to open the file for writing since the lease was taken."""
        import fcntl

        return fcntl.fcntl(self.fd, fcntl.F_GETLEASE) != fcntl.F_RDLCK

    def release(self) -> None:
        import fcntl
        import signal

        try:
            fcntl.fcntl(self.fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        finally:
            os.close(self.fd)
            signal.signal(signal.SIGIO, self.handler)


def _read_lease(path: Path) -> _Lease | None:
    """A read lease on `path`, waiting up to LEASE_WAIT_SECONDS while another process has it open for writing.

    None where there can be none (not Linux, not the main thread, a file system or owner that refuses leases):
    the write then relies on the check of the displaced bytes alone. A writer that keeps the file open past the
    wait is a Conflict: what it writes later would go to the file a swap displaced, and be lost.
    """
    import signal  # writers only
    import threading

    try:
        import fcntl

        setlease = fcntl.F_SETLEASE
    except (ImportError, AttributeError):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None  # SIGIO's disposition can be set only there
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    handler = signal.signal(signal.SIGIO, signal.SIG_IGN)
    deadline = time.monotonic() + LEASE_WAIT_SECONDS
    while True:
        try:
            fcntl.fcntl(fd, setlease, fcntl.F_RDLCK)
            return _Lease(fd, handler)
        except OSError as exc:
            if exc.errno != errno.EAGAIN or time.monotonic() > deadline:
                os.close(fd)
                signal.signal(signal.SIGIO, handler)
                if exc.errno == errno.EAGAIN:
                    raise Conflict("the file is open for writing in another process; nothing was written: try "
                                   "again when it has closed the file", path=str(path)) from None
                return None
            time.sleep(0.001)  # a writer has it open (an append in flight): let it finish


def rewrite(path: Path, label: str, compute: Callable[[bytes | None], str | bytes | None], tries: int = 20) -> bool:
    """Write compute(current bytes) over `path` unless it changes under us; re-apply on new bytes, else Conflict.

    `compute` returns None when nothing needs writing; returns whether a write happened.
    """
    for _ in range(tries):
        current = read_or_none(path)
        new = compute(current)
        if new is None:
            return False
        if replace_checked(path, new, current):
            return True
    raise Conflict(f"{label} kept changing while gtask wrote it; nothing was written, your edits are as you left "
                   f"them: try again", path=label)


def write_temp(path: Path, text: str | bytes) -> str:
    """Write `text` (or bytes), synced to disk, to a new temporary file beside `path`; return its name."""
    import tempfile  # only writers pay for it

    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text if isinstance(text, bytes) else text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(temp)
        raise
    return temp


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` so that a crash leaves the old file or the new one, never a mix."""
    _announce(path, text.encode("utf-8"))
    temp = write_temp(path, text)
    _checkpoint("temp-written")
    try:
        try:
            os.chmod(temp, path.stat().st_mode & 0o7777)
        except FileNotFoundError:
            os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def create_exclusive(path: Path, text: str | bytes) -> None:
    """Create a new file atomically; raise FileExistsError if it already exists."""
    _announce(path, text if isinstance(text, bytes) else text.encode("utf-8"))
    temp = write_temp(path, text)
    _checkpoint("temp-written")
    try:
        os.chmod(temp, 0o644)
        os.link(temp, path)  # fails if `path` exists: no overwrite, no half-written file
    finally:
        os.unlink(temp)
    _fsync_dir(path.parent)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2: Callable[..., int] | bool | None = False  # False: not looked up yet


def _exchange(a: str | Path, b: str | Path) -> bool:
    """Swap two names atomically (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    global _renameat2
    if _renameat2 is False:
        _renameat2 = None
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _renameat2 = libc.renameat2
        except (OSError, AttributeError):
            pass
    if _renameat2 is None or _renameat2 is True:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    import ctypes

    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        _renameat2 = None  # a file system without the flag: plain rename after the check
        return False
    raise OSError(code, os.strerror(code), str(b))


_deferred_dirs: list[set[Path]] = []  # folders whose fsync a batch makes once, at its end


@contextmanager
def one_dir_sync() -> Iterator[None]:
    """Within the block, each folder written to is fsynced once, when the block ends, not after every file.

    For a batch whose files are journaled before they land (a protocol step): a crash mid-batch may lose a
    rename, which recovery settles like a write that never happened; the block's end makes them all durable.
    """
    _deferred_dirs.append(set())
    try:
        yield
    finally:
        for folder in _deferred_dirs.pop():
            _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    if _deferred_dirs:
        _deferred_dirs[-1].add(folder)
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_temp_files(folder: Path) -> None:
    """Remove temporary files of a write killed before its rename (call holding the writer lock)."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
                    os.unlink(entry.path)
    except FileNotFoundError:
        pass
