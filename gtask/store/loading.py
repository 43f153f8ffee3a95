"""Reading a whole task folder for a listing: stat every file, take cached parses, parse the rest.

Tasks read here carry no body; `Store.get()` reads one task whole.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from gtask.core import taskfile
from gtask.core.ids import Ref, id_problem
from gtask.core.model import Task
from gtask.errors import Problem
from gtask.store.cache import DependentsIndex, Key, ParseCache, stat_key
from gtask.store.parsing import parse_for_listing, parse_many
from gtask.version import __version__


class TaskFolder(Protocol):
    """What loading needs of a store (the Store class has it; loading does not import it)."""

    tasks_dir: Path
    use_cache: bool

    @property
    def project(self) -> str: ...

    def label(self, path: Path) -> str: ...

    def file_names(self) -> list[str]: ...


@dataclass
class Loaded:
    """Every valid task of a store, and the problems of the files that are not."""

    tasks: dict[str, Task] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # the parse cache's generation when every file is in it exactly as read (same names, same stat keys):
    # then these tasks are the ones that generation holds, and results derived from them may be remembered by it
    generation: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def load_all(store: TaskFolder) -> Loaded:
    """Read every task file of a store; broken ones become problems and do not stop the others."""
    loaded = Loaded()
    if store.tasks_dir.is_symlink():
        loaded.problems.append(Problem("error", taskfile.LINKED_FOLDER, store.label(store.tasks_dir)))
        return loaded
    cache = ParseCache.for_folder(store.tasks_dir, f"{__version__}:{store.project}", store.use_cache)
    keys: dict[str, Key] = {}
    names = store.file_names()
    clashing = _case_clashes(names)
    folder, folder_label = str(store.tasks_dir), store.label(store.tasks_dir)

    def reread(task_id: str) -> Task:  # for a cached task whose row turns out to be damaged: its file
        task, problems = parse_for_listing(f"{folder}/{task_id}.md", f"{folder_label}/{task_id}.md", store.project)
        if task is None:
            raise next(p for p in problems if p.is_error).as_error()
        return task

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
    index = DependentsIndex.for_folder(store.tasks_dir, store.project, store.use_cache)
    if index.path is not None and len(keys) == len(names) and (changed or not index.path.exists()):
        index.save(keys, _reverse_index(store, loaded), store.project, _children_index(store, loaded))
    return loaded


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
