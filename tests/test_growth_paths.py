"""The paths a large store takes: many files parsed in worker processes give what parsing one by one gives."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from gtask.store import parsing

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def test_worker_pool_parse_equals_one_by_one(tmp_path: Path) -> None:
    from generate import generate  # benchmarks/generate.py: the benchmark's own tasks

    generate(tmp_path, parsing.PARALLEL_PARSE_MIN + 20)
    folder = tmp_path / ".tasks"
    broken = folder / "zz-broken.md"
    broken.write_text("---\ntitle: x\nstatus: todo\npriority: high\nlabels: [a, 'b']\n---\n")
    (folder / "zz-bad-yaml.md").write_text("---\ntitle: x\nstatus: [todo\n---\n")
    files = [(str(path), f".tasks/{path.name}") for path in sorted(folder.glob("*.md"))]
    assert len(files) >= parsing.PARALLEL_PARSE_MIN  # the pool is used

    pooled = parsing.parse_many(files, "demo")
    alone = [parsing.parse_for_listing(path, label, "demo") for path, label in files]

    assert gc.isenabled()  # collection is back on after the results arrived
    assert [repr(result) for result in pooled] == [repr(result) for result in alone]
    assert [task.lines if task else None for task, _ in pooled] == [task.lines if task else None for task, _ in alone]
    problems = {problem.path: (problem.message, problem.line) for _, found in pooled for problem in found}
    assert problems[".tasks/zz-broken.md"][1] == 4  # the priority's own file line
    assert problems[".tasks/zz-bad-yaml.md"][1] is not None
    tasks = [task for task, _ in pooled if task is not None]
    assert len(tasks) == len(files) - 2
    assert all(task.body is None for task in tasks)
    statuses = {id(task.status) for task in tasks if task.status == "todo"}
    assert len(statuses) <= 8  # one shared string per worker's batch, not one per task


def test_collection_stays_off_when_it_was_off(tmp_path: Path) -> None:
    from generate import generate

    generate(tmp_path, parsing.PARALLEL_PARSE_MIN)
    files = [(str(path), path.name) for path in sorted((tmp_path / ".tasks").glob("*.md"))]
    gc.disable()
    try:
        assert len(parsing.parse_many(files, "demo")) == len(files)
        assert not gc.isenabled()
    finally:
        gc.enable()
