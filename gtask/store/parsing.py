"""Parsing task files for a listing (no body): one by one, or many at once in worker processes."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gtask.core import schema, taskfile
from gtask.core.model import Task
from gtask.errors import InvalidTask, Problem
from gtask.store.cache import KEPT_LINES

PARALLEL_PARSE_MIN = 1500  # below this, starting worker processes costs more than it saves
_SHARED_TEXT = ("status", "lane", "milestone", "assignee", "claimed_by", "parent")  # few distinct values per store
_SHARED_LISTS = ("labels", "depends_on")


def parse_many(files: list[tuple[str, str]], project: str) -> list[tuple[Task | None, list[Problem]]]:
    """Parse (path, label) files for a listing; many at once go to one worker process per core."""
    jobs = [(path, label, project) for path, label in files]
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_PARSE_MIN or workers < 2:
        return [parse_for_listing(*job) for job in jobs]
    import multiprocessing

    with _no_gc(), multiprocessing.get_context("fork").Pool(workers, initializer=_worker_start) as pool:
        return pool.starmap(parse_for_listing, jobs, chunksize=max(64, len(jobs) // (workers * 4)))


@contextmanager
def _no_gc() -> Iterator[None]:
    """No cyclic garbage collection while results arrive: the tasks are acyclic, and each full collection would
    walk every task received so far (at 100,000 tasks the parent spent 3.5 s of CPU in it, 0.8 s without)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _worker_start() -> None:
    """A worker never walks the objects it inherited from the parent (nor copies their pages by touching them),
    and collects cycles rarely: it lives for one listing."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def parse_for_listing(path: str, label: str, project: str) -> tuple[Task | None, list[Problem]]:
    """Parse one task file for a listing (no body); errors become problems."""
    try:
        tf = taskfile.read(Path(path), label)
    except InvalidTask as exc:
        return None, [Problem("error", exc.message, exc.path, exc.line)]
    task, problems = schema.build_task(tf, os.path.basename(path)[:-3], project, label)
    if task is not None:
        task.body = None  # listings carry no body; get() reads the whole file
        task.lines = {key: task.lines[key] for key in KEPT_LINES if key in task.lines}  # as the cache keeps them
        _share_text(task)
    return task, problems


def _share_text(task: Task) -> None:
    """One string object per distinct status, lane, label, dependency, ... (100,000 tasks repeat a few values:
    one copy each, in the process and in what a worker sends back)."""
    state = task.__dict__
    for key in _SHARED_TEXT:
        value = state[key]
        if type(value) is str:
            state[key] = sys.intern(value)
    for key in _SHARED_LISTS:
        state[key] = [sys.intern(item) if type(item) is str else item for item in state[key]]
