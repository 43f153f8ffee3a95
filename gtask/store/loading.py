"""Reading a whole task folder for a listing: stat every file, take cached parses, parse the rest.

Tasks read here carry no body; `Store.get()` reads one task whole. When the folder is exactly as the parse
cache last held it whole (snapshot.py), nothing cached is read until a task is asked for.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gtask.core.ids import Ref, id_problem
from gtask.core.model import Task
from gtask.errors import NotFound, Problem
from gtask.store import snapshot
from gtask.store.cache import DependentsIndex, Key, ParseCache, stat_key
from gtask.version import __version__

if TYPE_CHECKING:  # only a type: a command does not pay for building a Protocol class

    class TaskFolder(Protocol):
        """What loading needs of a store (the Store class has it; loading does not import it)."""

        tasks_dir: Path
        use_cache: bool

        @property
        def project(self) -> str: ...

        def label(self, path: Path) -> str: ...

        def note_listing(self, stamp: int, names: list[str], clash_free: bool = False) -> None: ...


class Loaded:
    """Every valid task of a store, and the problems of the files that are not.

    `generation` is the parse cache's generation when every file is in it exactly as read (same names, same
    stat keys): then these tasks are the ones that generation holds, and results derived from them may be
    remembered by it. `tasks` may be read only when first asked for (a warm `ready` never asks).
    """

    def __init__(self, tasks: dict[str, Task] | None = None, problems: list[Problem] | None = None,
                 generation: str | None = None, load: Callable[[], dict[str, Task]] | None = None) -> None:
        self._tasks = tasks if tasks is not None or load is not None else {}
        self._load = load
        self.problems: list[Problem] = problems if problems is not None else []
        self.generation = generation

    @property
    def tasks(self) -> dict[str, Task]:
        if self._tasks is None:
            assert self._load is not None
            self._tasks, self._load = self._load(), None
        return self._tasks

    @tasks.setter
    def tasks(self, tasks: dict[str, Task]) -> None:
        self._tasks, self._load = tasks, None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def __repr__(self) -> str:
        return f"Loaded(tasks={self.tasks!r}, problems={self.problems!r}, generation={self.generation!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Loaded):
            return NotImplemented
        return (self.tasks, self.problems, self.generation) == (other.tasks, other.problems, other.generation)

    __hash__ = None  # type: ignore[assignment]


def load_all(store: TaskFolder) -> Loaded:
    """Read every task file of a store; broken ones become problems and do not stop the others."""
    if store.tasks_dir.is_symlink():
        from gtask.core.taskfile import LINKED_FOLDER

        return Loaded(problems=[Problem("error", LINKED_FOLDER, store.label(store.tasks_dir))])
    salt = f"{__version__}:{store.project}"
    folder = str(store.tasks_dir)
    where = snapshot.snapshot_path(store.tasks_dir, salt, store.use_cache)
    warm = snapshot.check(where, salt, folder)
    if warm is not None:
        return _warm(store, warm, salt)
    try:
        stamp, listing = os.stat(folder).st_mtime_ns, os.listdir(folder)
    except FileNotFoundError:
        raise NotFound(f"the task folder {folder} is gone") from None
    names = sorted(name for name in listing if name.endswith(".md") and not name.startswith("."))
    store.note_listing(stamp, names)
    loaded, keys, changed = _read(store, names, salt)
    index = DependentsIndex.for_folder(store.tasks_dir, store.project, store.use_cache)
    if loaded.generation is not None:  # every file is cached as read: the index and the snapshot name it
        if changed or not index.made_from(loaded.generation, store.project):
            index.save(loaded.generation, _reverse_index(store, loaded), store.project,
                       _children_index(store, loaded))
        snapshot.save(where, salt, folder, listing, keys, names, loaded.generation, loaded.problems)
    return loaded


def current_generation(store: TaskFolder) -> str | None:
    """The parse cache generation the folder is exactly in now (its snapshot matches), else None."""
    if store.tasks_dir.is_symlink():
        return None
    salt = f"{__version__}:{store.project}"
    warm = snapshot.check(snapshot.snapshot_path(store.tasks_dir, salt, store.use_cache), salt, str(store.tasks_dir))
    if warm is None:
        return None
    store.note_listing(warm.stamp, warm.names, clash_free=True)  # a clash keeps the snapshot from being written
    return warm.generation


def _warm(store: TaskFolder, warm: snapshot.Warm, salt: str) -> Loaded:
    """The folder is as the snapshot says: its tasks are read from the parse cache only when asked for."""
    store.note_listing(warm.stamp, warm.names, clash_free=True)  # a clash keeps the snapshot from being written

    def tasks() -> dict[str, Task]:
        return _cached_tasks(store, warm, salt)

    loaded = Loaded(problems=warm.problems, generation=warm.generation, load=tasks)
    index = DependentsIndex.for_folder(store.tasks_dir, store.project, store.use_cache)
    if not index.exists():  # deleted meanwhile: written again from the cached tasks
        index.save(warm.generation, _reverse_index(store, loaded), store.project, _children_index(store, loaded))
    return loaded


def _cached_tasks(store: TaskFolder, warm: snapshot.Warm, salt: str) -> dict[str, Task]:
    """The snapshot's tasks from the parse cache; a file whose entry is gone (a cache deleted) is parsed."""
    from gtask.store.parsing import parse_many

    cache = ParseCache.for_folder(store.tasks_dir, salt, store.use_cache)
    folder, folder_label = str(store.tasks_dir), store.label(store.tasks_dir)
    reread = _rereader(store)
    results: dict[str, tuple[Task | None, list[Problem]]] = {}
    misses = []
    keys = warm.task_keys()
    for name in warm.names:
        cached = cache.get(name, keys[name], reread)
        if cached is None:
            misses.append(name)
        else:
            results[name] = cached
    parsed = parse_many([(f"{folder}/{name}", f"{folder_label}/{name}") for name in misses], store.project)
    results.update(zip(misses, parsed, strict=True))
    tasks = {}
    for name in warm.names:
        task = results[name][0]
        if task is not None:
            tasks[name[:-3]] = task
    return tasks


def _rereader(store: TaskFolder) -> Callable[[str], Task]:
    folder, folder_label = str(store.tasks_dir), store.label(store.tasks_dir)

    def reread(task_id: str) -> Task:  # for a cached task whose row turns out to be damaged: its file
        from gtask.store.parsing import parse_for_listing

        task, problems = parse_for_listing(f"{folder}/{task_id}.md", f"{folder_label}/{task_id}.md", store.project)
        if task is None:
            raise next(p for p in problems if p.is_error).as_error()
        return task

    return reread


def _read(store: TaskFolder, names: list[str], salt: str) -> tuple[Loaded, dict[str, Key], bool]:
    """Stat every file, take the cached parses, parse the rest; the keys read, and whether the cache changed."""
    from gtask.store.parsing import parse_many

    loaded = Loaded()
    cache = ParseCache.for_folder(store.tasks_dir, salt, store.use_cache)
    keys: dict[str, Key] = {}
    clashing = _case_clashes(names)
    folder, folder_label = str(store.tasks_dir), store.label(store.tasks_dir)
    reread = _rereader(store)
    results: dict[str, tuple[Task | None, list[Problem]]] = {}
    misses: list[str] = []
    kept = 0  # files whose entry in the cache is exactly what was read
    for name in names:
        try:
            st = os.lstat(f"{folder}/{name}")
        except FileNotFoundError:
            continue  # deleted while we read: it is simply not there
        key = stat_key(st)
        cached = cache.get(name, key, reread) if stat.S_ISREG(st.st_mode) and name not in clashing else None
        if cached is not None:  # only files that passed the checks below were ever cached
            keys[name], results[name] = key, cached
            kept += 1
            continue
        problem = _file_problem(name[:-3], st, f"{folder_label}/{name}", clashing)
        if problem:
            results[name] = (None, [problem])
            continue
        keys[name] = key
        misses.append(name)
    parsed_files = parse_many([(f"{folder}/{name}", f"{folder_label}/{name}") for name in misses], store.project)
    for name, parsed in zip(misses, parsed_files, strict=False):
        results[name] = parsed
        kept += cache.put(name, keys[name], *parsed)
    for name in names:
        if name in results:
            task, problems = results[name]
            loaded.problems.extend(problems)
            if task is not None:
                loaded.tasks[name[:-3]] = task
    cache.keep_only(set(names))
    if cache.generation is None and kept == len(names):
        cache.dirty = True  # a cache from before generations: name its entries once
    changed = cache.dirty
    cache.save()
    if kept == len(names) == len(cache.entries):
        loaded.generation = cache.generation
    return loaded, keys, changed


def _reverse_index(store: TaskFolder, loaded: Loaded) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for task in loaded.tasks.values():
        for text in task.depends_on:
            ref = Ref.parse(text)
            if ref.is_local(store.project):
                index.setdefault(ref.id.lower(), []).append(task.id)
    return index


def _children_index(store: TaskFolder, loaded: Loaded) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for task in loaded.tasks.values():
        ref = Ref.parse(task.parent) if task.parent else None
        if ref is not None and ref.is_local(store.project):
            index.setdefault(ref.id.lower(), []).append(task.id)
    return index


def _case_clashes(names: list[str]) -> set[str]:
    """File names whose IDs differ only in case from another file's."""
    by_lower: dict[str, list[str]] = {}
    for name in names:
        by_lower.setdefault(name.lower(), []).append(name)
    return {name for group in by_lower.values() if len(group) > 1 for name in group}


def _file_problem(task_id: str, st: os.stat_result, label: str, clashing: set[str]) -> Problem | None:
    if stat.S_ISLNK(st.st_mode):
        return Problem("error", "is a symbolic link; gtask does not follow links in the task folder", label)
    if not stat.S_ISREG(st.st_mode):
        return Problem("error", "is not a regular file", label)
    problem = id_problem(task_id)
    if problem:
        return Problem("error", f"bad file name: {problem}", label)
    if f"{task_id}.md" in clashing:
        return Problem("error", "ID clashes with another file whose name differs only in case: "
                       "IDs are unique regardless of case", label)
    return None
