"""Parsing task files for a listing (no body): one by one, or many at once in worker processes."""

from __future__ import annotations

import os
from pathlib import Path

from gtask.core import schema, taskfile
from gtask.core.model import Task
from gtask.errors import InvalidTask, Problem

PARALLEL_PARSE_MIN = 1500  # below this, starting worker processes costs more than it saves


def parse_many(files: list[tuple[str, str]], project: str) -> list[tuple[Task | None, list[Problem]]]:
    """Parse (path, label) files for a listing; many at once go to one worker process per core."""
    jobs = [(path, label, project) for path, label in files]
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_PARSE_MIN or workers < 2:
        return [parse_for_listing(*job) for job in jobs]
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.starmap(parse_for_listing, jobs, chunksize=max(64, len(jobs) // (workers * 4)))


def parse_for_listing(path: str, label: str, project: str) -> tuple[Task | None, list[Problem]]:
    """Parse one task file for a listing (no body); errors become problems."""
    try:
        tf = taskfile.read(Path(path), label)
    except InvalidTask as exc:
        return None, [Problem("error", exc.message, exc.path, exc.line)]
    task, problems = schema.build_task(tf, Path(path).name[:-3], project, label)
    if task is not None:
        task.body = None  # listings carry no body; get() reads the whole file
    return task, problems
