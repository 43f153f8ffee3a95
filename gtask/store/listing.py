"""The task folder's file names: listed once while the folder is unchanged, and looked up by ID regardless of case."""

from __future__ import annotations

import os
import time
from bisect import bisect_left
from pathlib import Path

from gtask.errors import NotFound
from gtask.store.cache import RACY_SECONDS  # a folder changed this recently may change again unseen


class Listing:
    """The sorted `.md` file names of one folder, re-read when the folder's modification time changes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._names: tuple[int, list[str]] | None = None  # the folder's mtime and its task file names
        self._by_lower: dict[str, list[str]] | None = None  # stored IDs by lower-case ID, built on first use
        self._clash_free = False  # known to hold no two names equal regardless of case

    def names(self) -> list[str]:
        """The names of the `.md` files, sorted (a copy)."""
        try:
            stamp = os.stat(self.folder).st_mtime_ns
            if self._names is None or self._names[0] != stamp or time.time() - stamp / 1e9 < RACY_SECONDS:
                names = sorted(n for n in os.listdir(self.folder) if n.endswith(".md") and not n.startswith("."))
                self.note(stamp, names)
            assert self._names is not None
            return list(self._names[1])
        except FileNotFoundError:
            raise NotFound(f"the task folder {self.folder} is gone") from None

    def note(self, stamp: int, names: list[str], clash_free: bool = False) -> None:
        """Remember the sorted names listed when the folder had modification time `stamp` (ns); `clash_free`
        when they are known to hold no two names equal regardless of case."""
        if self._names is None or self._names[1] != names:
            self._by_lower = None
        self._names, self._clash_free = (stamp, names), clash_free

    def same_id(self, task_id: str) -> list[str]:
        """Every stored ID equal to `task_id` regardless of case."""
        names = self.names()
        if self._by_lower is None and self._clash_free:  # the ID as spelled is the only one there can be
            position = bisect_left(names, f"{task_id}.md")
            if position < len(names) and names[position] == f"{task_id}.md":
                return [task_id]
        if self._by_lower is None:
            self._by_lower = {}
            for name in names:
                self._by_lower.setdefault(name[:-3].lower(), []).append(name[:-3])
        return list(self._by_lower.get(task_id.lower(), []))
