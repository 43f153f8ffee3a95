"""The task folder as the parse cache last held it whole: its listing and every entry's stat key, compared in one go.

When `os.listdir` gives the same names in the same order and every entry still has the stat key it had
(size, modification and change time in ns, inode: see cache.stat_key), the folder is exactly as it was when
the parse cache's generation was written; a warm command then knows that generation, the folder's problems
and its sorted task names without reading or decoding any cached task. Entries changed within two seconds of
the writing (modification or change time) keep the snapshot from being written at all (the racy-clean rule).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from gtask.errors import Problem
from gtask.store.cache import Key, cache_file, is_recent, read_cache, stat_key, write_cache

FORMAT = 1


class Warm:
    """What a matching snapshot says: the folder's sorted task file names, the generation, the problems."""

    __slots__ = ("_keys", "_listing", "generation", "names", "problems", "stamp")

    def __init__(self, names: list[str], generation: str, problems: list[Problem], stamp: int,
                 listing: list[str], keys: list[Key]) -> None:
        self.names, self.generation, self.problems, self.stamp = names, generation, problems, stamp
        self._listing, self._keys = listing, keys

    def task_keys(self) -> dict[str, Key]:
        """Each task file's stat key (as checked)."""
        by_name = dict(zip(self._listing, self._keys, strict=True))
        return {name: by_name[name] for name in self.names}


def snapshot_path(tasks_dir: Path, salt: str, enabled: bool = True) -> Path | None:
    return cache_file(tasks_dir, "snapshot", enabled, salt=salt)


def entry_keys(folder: str, listing: list[str]) -> list[Key] | None:
    """The stat key of every entry of the listing (not following links); None when one has gone."""
    if os.stat not in os.supports_dir_fd:
        try:
            return [stat_key(os.lstat(os.path.join(folder, name))) for name in listing]
        except OSError:
            return None
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None
    try:
        lstat = os.stat
        return [stat_key(lstat(name, dir_fd=descriptor, follow_symlinks=False)) for name in listing]
    except OSError:
        return None
    finally:
        os.close(descriptor)


def check(path: Path | None, salt: str, folder: str) -> Warm | None:
    """The snapshot's facts when the folder is exactly as it recorded; None otherwise (or with no snapshot)."""
    data = read_cache(path, {"format": FORMAT, "salt": salt})
    if data is None:
        return None
    try:
        stamp = os.stat(folder).st_mtime_ns
        listing = os.listdir(folder)
        if listing != data["listing"]:
            return None
        keys = entry_keys(folder, listing)
        if keys is None or keys != data["keys"]:
            return None
        names, generation = data["names"], data["generation"]
        problems = [Problem(*p) for p in data["problems"]]
        if not isinstance(generation, str) or not isinstance(names, list):
            return None
        return Warm(names, generation, problems, stamp, listing, keys)
    except (OSError, KeyError, TypeError, ValueError):
        return None


def save(path: Path | None, salt: str, folder: str, listing: list[str], task_keys: dict[str, Key], names: list[str],
         generation: str, problems: list[Problem]) -> None:
    """Record the folder as these keys say it is (the other entries are stat'ed now); nothing when one is racy."""
    if path is None:
        return
    others = [name for name in listing if name not in task_keys]
    other_keys = entry_keys(folder, others)
    if other_keys is None:
        return
    by_name = {**task_keys, **dict(zip(others, other_keys, strict=True))}
    keys = [by_name[name] for name in listing]
    now = time.time()
    if any(is_recent(key, now) for key in keys):
        return
    data: dict[str, Any] = {"listing": listing, "keys": keys, "names": names, "generation": generation,
                            "problems": [[p.severity, p.message, p.path, p.line] for p in problems]}
    write_cache(path, {"format": FORMAT, "salt": salt}, data)

