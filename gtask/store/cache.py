"""A disposable parse cache (design §6): kept in the git directory, keyed by each file's stat.

Plain files stay the only source of truth. An entry is used only when the
file's size, modification time (ns), change time (ns) and inode all match; a
file modified within the last two seconds of the cache's writing is not stored
at all (git's "racily clean" rule), so an edit in the same clock tick with the
same size is always seen. A missing, unreadable or foreign cache is simply empty.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from gtask.core.model import Task
from gtask.errors import Problem
from gtask.gitio.gitfiles import find_git_dir, read_ref

if TYPE_CHECKING:
    from gtask.gitio.git import Git

FORMAT = 6  # 5: tasks carry `parent`; the index carries children. 6: each task row is its own JSON text
RACY_SECONDS = 2.0
_TASK_FIELDS = tuple(f.name for f in fields(Task) if f.name != "body")  # listings carry no body
_LINES = _TASK_FIELDS.index("lines")
KEPT_LINES = ("depends_on", "lane", "lease_until")  # what later checks point at; parse problems keep their own
Key = int
Reread = Callable[[str], Task]  # parses a task's file (by ID) when its cache row cannot be decoded


def stat_key(st: os.stat_result) -> Key:
    """Size, modification and change time (ns) and inode packed into one exact integer (cheap to compare)."""
    return (((st.st_size << 64 | st.st_mtime_ns) << 64 | st.st_ctime_ns) << 64) | st.st_ino


def _mtime_of(key: Key) -> float:
    return (key >> 128 & (1 << 64) - 1) / 1e9


# -- the one helper every cache uses -------------------------------------------------------


def cache_enabled(use_cache: bool) -> bool:
    """Caches are off with --no-cache (use_cache False) or with GTASK_NO_CACHE set."""
    return use_cache and not os.environ.get("GTASK_NO_CACHE")


def cache_path(git_dir: Path | None, name: str, use_cache: bool) -> Path | None:
    """Where a cache lives (`<git dir>/gtask/cache/<name>.json`), or None when caching is off or there is no git."""
    if git_dir is None or not cache_enabled(use_cache):
        return None
    return git_dir / "gtask" / "cache" / f"{name}.json"


def read_cache(path: Path | None, stamp: dict[str, Any]) -> dict[str, Any] | None:
    """A cache's data when it exists and carries every item of `stamp` (format, version, ...); else None."""
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None  # missing or of another shape: simply not used
    if not isinstance(data, dict) or any(data.get(key) != value for key, value in stamp.items()):
        return None
    return data


def write_cache(path: Path | None, stamp: dict[str, Any], data: dict[str, Any]) -> None:
    """Write a cache atomically (a temporary file renamed over it); failing to write is harmless."""
    if path is None:
        return
    temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump({**stamp, **data}, handle, ensure_ascii=False, separators=(",", ":"))
        os.replace(temp, path)
    except (OSError, TypeError, ValueError):
        temp.unlink(missing_ok=True)  # the cache is only an accelerator


def cache_file(tasks_dir: Path, kind: str, enabled: bool = True, salt: str = "") -> Path | None:
    """Where a cache of this task folder lives: in the git directory, or nowhere (no repository, disabled)."""
    git_dir = find_git_dir(tasks_dir) if cache_enabled(enabled) else None
    where = f"{tasks_dir.resolve()}\0{salt}".encode()
    name = f"{zlib.crc32(where):08x}"  # a checksum is enough: every entry is checked by its stat key
    return cache_path(git_dir, f"{kind}-{name}", enabled)


class ParseCache:
    """Parsed tasks and problems of one task folder, by file name."""

    def __init__(self, path: Path | None, salt: str) -> None:
        self.path = path
        self.salt = salt
        self.entries: dict[str, list[Any]] = {}
        self.dirty = False
        self.generation: str | None = None  # names these exact entries; a new one each time they are written
        if path is not None:
            self._read()

    @classmethod
    def for_folder(cls, tasks_dir: Path, salt: str, enabled: bool = True) -> ParseCache:
        return cls(cache_file(tasks_dir, "tasks", enabled), salt)

    def _read(self) -> None:
        data = read_cache(self.path, {"format": FORMAT, "salt": self.salt})
        entries = data.get("entries") if data else None
        self.entries = entries if isinstance(entries, dict) else {}
        generation = data.get("generation") if data and self.entries else None
        self.generation = generation if isinstance(generation, str) else None

    def get(self, name: str, key: Key, reread: Reread) -> tuple[Task | None, list[Problem]] | None:
        """The cached parse when `key` is still the file's stat key. The task's fields are decoded when first
        read (see CachedTask); `reread` parses a task's file, for a row that turns out to be damaged."""
        entry = self.entries.get(name)
        try:
            if entry is None or entry[0] != key or not isinstance(entry[1], (str, type(None))):
                return None
            task = CachedTask.shell(name[:-3], entry[1], reread) if entry[1] is not None else None
            problems = [Problem(*p) for p in entry[2]] if entry[2] else []
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):
            return None  # an entry of another shape: parse the file again
        return task, problems

    def put(self, name: str, key: Key, task: Task | None, problems: list[Problem]) -> bool:
        """Remember one file's parse; False when it may not be cached (racily clean, or not plain JSON)."""
        if self.path is None or _mtime_of(key) > time.time() - RACY_SECONDS:
            return False
        if task is not None and not (_plain_json(task.extra) and _plain_json(task.attempts)):
            return False  # e.g. non-string keys: JSON would not give the same value back
        row = None
        if task is not None:
            data = [getattr(task, f) for f in _TASK_FIELDS]
            data[_LINES] = [task.lines.get(key) for key in KEPT_LINES]  # a small list, not a dict per task
            row = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        self.entries[name] = [key, row, [[p.severity, p.message, p.path, p.line] for p in problems]]
        self.dirty = True
        return True

    def keep_only(self, names: set[str]) -> None:
        gone = set(self.entries) - names
        for name in gone:
            del self.entries[name]
        self.dirty = self.dirty or bool(gone)

    def save(self) -> None:
        """Write the cache atomically, under a new generation; failure to write is harmless."""
        if self.dirty:
            self.generation = os.urandom(8).hex()
            write_cache(self.path, {"format": FORMAT, "salt": self.salt},
                        {"entries": self.entries, "generation": self.generation})
            self.dirty = False


_ROW_DECODER = json.JSONDecoder().raw_decode


class _Decoded:
    """A field of a CachedTask: the first read of any field decodes the row into the instance's own dict."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, task: CachedTask | None, owner: type | None = None) -> Any:
        if task is None:
            return self
        task.decode()
        return task.__dict__[self.name]


class CachedTask(Task):
    """A task read from the parse cache, its row decoded only when a field is first read.

    A listing of 10,000 tasks prints a few rows (`next`) or some (`ready`): the others are never decoded.
    Decoded, it holds exactly the fields a freshly parsed listing task holds, and compares equal to it.
    """

    __qualname__ = "Task"

    @classmethod
    def shell(cls, task_id: str, row: str, reread: Reread) -> CachedTask:
        """A task that knows its ID and the row holding the rest (built cheaply: once per cached file)."""
        task = cls.__new__(cls)
        task.__dict__.update(id=task_id, _row=row, _reread=reread)
        return task

    def decode(self) -> None:
        """Fill every field from the row (fields set on the task meanwhile are kept)."""
        state = self.__dict__
        row, reread = state.pop("_row", None), state.pop("_reread", None)
        if row is None or reread is None:
            return
        try:
            data, end = _ROW_DECODER(row)
            if end != len(row) or not isinstance(data, list) or len(data) != len(_TASK_FIELDS):
                raise ValueError("cache row of another shape")
            values = dict(zip(_TASK_FIELDS, data, strict=False))
            values["lines"] = {key: line for key, line in zip(KEPT_LINES, data[_LINES], strict=False) if line}
        except (ValueError, TypeError):
            values = dict(reread(state["id"]).__dict__)  # a damaged row: the file is the truth
        values["body"] = None
        values.update(state)
        self.__dict__ = values

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Task):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(Task) if f.compare)

    __hash__ = None  # type: ignore[assignment]  # as Task's: a mutable dataclass


for _name in (*_TASK_FIELDS, "body"):
    setattr(CachedTask, _name, _Decoded(_name))


def _plain_json(value: Any) -> bool:
    """Tell whether JSON gives back exactly this value."""
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, list):
        return all(_plain_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_json(v) for k, v in value.items())
    return False


class DependentsIndex:
    """Who depends on whom, for `show` without reading every file.

    Valid only while every task file still has the stat key it had when the
    index was written (and no file came or went); otherwise it is ignored.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._checked: dict[str, Any] | bool | None = False  # False: not read yet; None: not to be trusted

    @classmethod
    def for_folder(cls, tasks_dir: Path, project: str, enabled: bool = True) -> DependentsIndex:
        # the project and format are in the file name: a rename or an upgrade starts a new index
        return cls(cache_file(tasks_dir, "dependents", enabled, salt=f"{FORMAT}:{project}"))

    def save(self, keys: dict[str, Key], dependents: dict[str, list[str]], project: str,
             children: dict[str, list[str]] | None = None) -> None:
        if any(_mtime_of(key) > time.time() - RACY_SECONDS for key in keys.values()):
            return  # a racily clean file could change unseen: write no index
        write_cache(self.path, {"format": FORMAT, "project": project}, {"keys": keys, "dependents": dependents,
                                                                       "children": children or {}})

    def lookup(self, tasks_dir: Path, names: list[str], task_id: str, project: str,
               relation: str = "dependents") -> list[str] | None:
        """IDs of the tasks that depend on `task_id`, or None when the index cannot be trusted.

        `names` are the folder's task file names now; every one must still have its stat key.
        """
        if self._checked is False:
            self._checked = self._read_valid(tasks_dir, names, project)
        data = self._checked
        if not isinstance(data, dict):
            return None
        try:
            found = data[relation].get(task_id.lower(), [])
            return [str(item) for item in found] if isinstance(found, list) else None
        except (KeyError, TypeError, AttributeError):
            return None

    def _read_valid(self, tasks_dir: Path, names: list[str], project: str) -> dict[str, Any] | None:
        """The index's data when every task file still has its stat key (read and checked once)."""
        data = read_cache(self.path, {"format": FORMAT, "project": project})
        if data is None:
            return None
        try:
            keys = data["keys"]
            if len(keys) != len(names):
                return None
            folder = str(tasks_dir)
            for name in names:
                if keys.get(name) != stat_key(os.lstat(f"{folder}/{name}")):
                    return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return data


def first_added_cached(git_dir: Path, folder: str, use_cache: bool = True) -> dict[str, float] | None:
    """The remembered first-added times when HEAD has not moved (read from git's files: no git process)."""
    head = read_ref(git_dir, "HEAD")
    data = read_cache(cache_path(git_dir, "first-added", use_cache), {"format": 1, "folder": folder})
    added = data.get("added") if data and head and data.get("head") == head else None
    return added if isinstance(added, dict) else None


def first_added(git: Git, folder: str, use_cache: bool = True) -> dict[str, float]:
    """`git.first_added(folder)` remembered by HEAD: a warm run reads no history, a moved HEAD only the new part."""
    head = read_ref(git.git_dir, "HEAD")
    path = cache_path(git.git_dir, "first-added", use_cache) if head else None
    stamp = {"format": 1, "folder": folder}
    data = read_cache(path, stamp)
    old = data.get("head") if data else None
    added = data.get("added") if data else None
    if head and old == head and isinstance(added, dict):
        return added
    if isinstance(old, str) and isinstance(added, dict) and git.is_ancestor(old, cast(str, head)):
        for name, when in git.first_added(folder, f"{old}..{head}").items():
            added[name] = min(when, added.get(name, when))  # a re-added file keeps its first time
    else:  # first run, or HEAD moved to a commit that does not contain the old one (reset, checkout)
        added = git.first_added(folder)
    if head:
        write_cache(path, stamp, {"head": head, "added": added})
    return added
