"""Atomic file writes: a temporary file in the same folder, renamed over the old one."""

from __future__ import annotations

import os
from pathlib import Path

from gtask.faults import checkpoint

TEMP_SUFFIX = ".gtask-tmp"


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
    temp = write_temp(path, text)
    checkpoint("temp-written")
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
    temp = write_temp(path, text)
    checkpoint("temp-written")
    try:
        os.chmod(temp, 0o644)
        os.link(temp, path)  # fails if `path` exists: no overwrite, no half-written file
    finally:
        os.unlink(temp)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
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
