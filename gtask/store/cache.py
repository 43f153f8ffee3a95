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
import stat
import time
import zlib
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from gtask.core.model import Task
from gtask.errors import Problem
from gtask.gitio.gitfiles import find_git_dir, history_shape, read_ref

if TYPE_CHECKING:
    from gtask.gitio.git import Git

FORMAT = 8  # 5: tasks carry `parent`; the index carries children. 6: each task row is its own JSON text.
# 7: the index is named by the parse cache generation it was made from. 8: rows keep the status, parent, attempts lines
RACY_SECONDS = 2.0
_ALL_FIELDS = tuple(f.name for f in fields(Task))
_TASK_FIELDS = tuple(name for name in _ALL_FIELDS if name != "body")  # listings carry no body
_LINES = _TASK_FIELDS.index("lines")
# what later checks point at (Task.line_of in plan/checks.py, gitstate, protocol); parse problems keep their own
KEPT_LINES = ("status", "depends_on", "parent", "lane", "lease_until", "attempts")
Key = int
Reread = Callable[[str], Task]  # parses a task's file (by ID) when its cache row cannot be decoded


def stat_key(st: os.stat_result) -> Key:
    """Size, modification and change time (ns) and inode packed into one exact integer (cheap to compare)."""
    return (((st.st_size << 64 | st.st_mtime_ns) << 64 | st.st_ctime_ns) << 64) | st.st_ino


def _mtime_of(key: Key) -> float:
    return (key >> 128 & (1 << 64) - 1) / 1e9


def is_recent(key: Key, now: float) -> bool:
    """Modified or changed (a change time cannot be set back) within the racy window before `now`."""
    return max(_mtime_of(key), (key >> 64 & (1 << 64) - 1) / 1e9) > now - RACY_SECONDS


# -- the one helper every cache uses -------------------------------------------------------


def cache_enabled(use_cache: bool) -> bool:
    """Caches are off with --no-cache (use_cache False) or with GTASK_NO_CACHE set."""
    return use_cache and not os.environ.get("GTASK_NO_CACHE")


def cache_path(git_dir: Path | None, name: str, use_cache: bool) -> Path | None:
    """Where a cache lives (`<git dir>/gtask/cache/<name>.json`), or None when caching is off or there is no git."""
    if git_dir is None or not cache_enabled(use_cache):
        return None
    return git_dir / "gtask" / "cache" / f"{name}.json"


def read_cache_text(path: Path) -> str | None:
    """A cache file's text; None when it is missing, unreadable or not a regular file (a FIFO or a link planted
    there must not block or redirect a read command)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        with os.fdopen(descriptor, encoding="utf-8", newline="", closefd=False) as handle:
            return handle.read()
    except (OSError, ValueError):
        return None
    finally:
        os.close(descriptor)


def read_cache(path: Path | None, stamp: dict[str, Any]) -> dict[str, Any] | None:
    """A cache's data when it exists and carries every item of `stamp` (format, version, ...); else None."""
    text = read_cache_text(path) if path is not None else None
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None  # of another shape: simply not used
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
        text = json.dumps({**stamp, **data}, ensure_ascii=False, separators=(",", ":"))  # the C encoder; dump's isn't
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(text)
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
        if task is not None and not (plain_json(task.extra) and plain_json(task.attempts)):
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

    @classmethod
    def partials(cls, rows: list[list[Any]], names: tuple[str, ...], width: int,
                 whole: Callable[[str], Task]) -> list[CachedTask]:
        """Tasks that know some fields: each row holds `width` values, the first ones those of `names` (the
        first name is "id"); `whole(task_id)` gives the whole task when another field is read. Raises
        ValueError for a row of another shape."""
        new, tasks = cls.__new__, []
        for row in rows:
            if len(row) != width or not isinstance(row[0], str):
                raise ValueError("a row of another shape")
            known = dict(zip(names, row, strict=False))
            known["_full"] = whole
            task = new(cls)
            task.__dict__ = known
            tasks.append(task)
        return tasks

    def decode(self) -> None:
        """Fill every field from the row (fields set on the task meanwhile are kept)."""
        state = self.__dict__
        full = state.pop("_full", None)
        if full is not None:
            whole = full(state["id"])
            values = {name: getattr(whole, name) for name in _ALL_FIELDS}
            values.update(state)
            self.__dict__ = values
            return
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


def plain_json(value: Any) -> bool:
    """Tell whether JSON gives back exactly this value."""
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, list):
        return all(plain_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain_json(v) for k, v in value.items())
    return False


class DependentsIndex:
    """Who depends on whom (and whose parent is whom), for `show` without reading every file.

    Valid only for the parse cache's generation it was made from, while the folder is exactly as that
    generation holds it (snapshot.py); otherwise it is ignored.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._data: dict[str, Any] | bool | None = False  # False: not read yet

    @classmethod
    def for_folder(cls, tasks_dir: Path, project: str, enabled: bool = True) -> DependentsIndex:
        # the project and format are in the file name: a rename or an upgrade starts a new index
        return cls(cache_file(tasks_dir, "dependents", enabled, salt=f"{FORMAT}:{project}"))

    def exists(self) -> bool:
        """Whether an index is on disk (a warm command only looks; `show` checks its generation)."""
        return self.path is not None and self.path.exists()

    def made_from(self, generation: str, project: str) -> bool:
        """Whether the index on disk was made from this generation of the parse cache."""
        data = read_cache(self.path, {"format": FORMAT, "project": project})
        return data is not None and data.get("generation") == generation

    def save(self, generation: str, dependents: dict[str, list[str]], project: str,
             children: dict[str, list[str]] | None = None) -> None:
        write_cache(self.path, {"format": FORMAT, "project": project},
                    {"generation": generation, "dependents": dependents, "children": children or {}})

    def lookup(self, generation: str | None, task_id: str, project: str,
               relation: str = "dependents") -> list[str] | None:
        """IDs of the tasks that name `task_id` in `relation`, or None when the index cannot be trusted.

        `generation` is the parse cache's generation that the folder is in now (None: not known).
        """
        if generation is None:
            return None
        if self._data is False:
            self._data = read_cache(self.path, {"format": FORMAT, "project": project})
        data = self._data
        if not isinstance(data, dict) or data.get("generation") != generation:
            return None
        try:
            found = data[relation].get(task_id.lower(), [])
            return [str(item) for item in found] if isinstance(found, list) else None
        except (KeyError, TypeError, AttributeError):
            return None


ADDED_FORMAT = 2  # 2: keyed by the history's shape too (shallow boundary, grafts, replace refs)


def _added_stamp(git_dir: Path, folder: str) -> dict[str, Any]:
    """What remembered first-added times hold for besides HEAD: a new shape means a new history under HEAD."""
    return {"format": ADDED_FORMAT, "folder": folder, "shape": history_shape(git_dir)}


def first_added_cached(git_dir: Path, folder: str, use_cache: bool = True) -> dict[str, float] | None:
    """The remembered first-added times when HEAD and the history's shape have not changed (read from git's files:
    no git process)."""
    path = cache_path(git_dir, "first-added", use_cache)
    if path is None:
        return None
    head = read_ref(git_dir, "HEAD")
    data = read_cache(path, _added_stamp(git_dir, folder))
    added = data.get("added") if data and head and data.get("head") == head else None
    return added if isinstance(added, dict) else None


def first_added(git: Git, folder: str, use_cache: bool = True) -> dict[str, float]:
    """`git.first_added(folder)` remembered by HEAD and the history's shape: a warm run reads no history, a HEAD
    moved forward only the new part. Exact: the walk follows every parent of a merge (git.first_added), so the
    commits that add a file, seen from a descendant of OLD, are those seen from OLD and those of `OLD..NEW`."""
    head = read_ref(git.git_dir, "HEAD")
    path = cache_path(git.git_dir, "first-added", use_cache) if head else None
    stamp = _added_stamp(git.git_dir, folder) if path is not None else {}
    data = read_cache(path, stamp)
    old = data.get("head") if data else None
    added = data.get("added") if data else None
    if head and old == head and isinstance(added, dict):
        return added
    if isinstance(old, str) and isinstance(added, dict) and git.is_ancestor(old, cast(str, head)):
        for name, when in git.first_added(folder, f"{old}..{head}").items():
            added[name] = min(when, added.get(name, when))  # a re-added file keeps its first time
    else:  # first run, a new shape of history, or HEAD moved to a commit that does not contain the old one
        added = git.first_added(folder)
    if head:
        write_cache(path, stamp, {"head": head, "added": added})
    return added
