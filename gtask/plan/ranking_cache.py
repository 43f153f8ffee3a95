"""The ranking of ready tasks and every task's state, remembered while nothing they depend on has changed
(design §6: disposable).

A warm `ready` or `next` then builds no graph: the ranking is read back and only
the filters run; a warm `list` reads the states back. Both are functions of the task files (named by the parse cache's
generation: the same files with the same stat keys), the evidence git adds (a
digest of it), HEAD and the shape of the history under it (tasks' ages are first-commit times: a deeper shallow
clone, grafts or replace refs change them) and the clock, which
only matters at the moment a lease runs out: a record is used only between the
time it was made and the earliest lease that had not run out then.

Each record also carries the fields a listing prints and filters on (ROW_FIELDS), so a warm listing neither
reads the parse cache nor decodes a cached task: its tasks know those fields, and read the whole task only
when another field is asked for (`--json`, `--tree`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gtask.core.model import Task, now_utc, parse_time
from gtask.gitio.gitfiles import find_git_dir, history_shape, read_ref
from gtask.store.cache import CachedTask, cache_file, read_cache, write_cache
from gtask.version import __version__

if TYPE_CHECKING:
    from pathlib import Path

    from gtask.core.graph import Score
    from gtask.gitstate.resolver import Evidence
    from gtask.store.loading import Loaded
    from gtask.store.store import Store

FORMAT = 2  # 2: rows carry the listed fields (the ID, ROW_FIELDS, then the score or the state)
ROW_FIELDS = ("title", "status", "priority", "labels", "lane", "milestone", "assignee", "claimed_by", "project")
SCORE_FIELDS = ("priority", "unblocks_direct", "unblocks_total", "added")
Ranked = list[tuple[Task, "Score"]]  # ready tasks of the home project and their scores, best first
Whole = Callable[[str], Task]  # the whole task of an ID (read when a field a row lacks is asked for)


def listing(store: Store, loaded: Loaded) -> tuple[dict[str, str], list[Task]]:
    """Every loaded task's derived state (as gitstate.resolver.states gives it) and the tasks by ID
    (case-insensitively, `x` before `x-awmv`): remembered, or resolved and remembered."""
    from gtask.gitstate import resolver

    evidence = resolver.evidence_for(store, loaded.tasks) if resolver.can_add_evidence(store) else resolver.Evidence()
    key = RankingKey.of(store, loaded.generation, evidence, "states")
    now = now_utc()
    remembered = key.read_listing(now, whole_of(loaded)) if key else None
    if remembered is not None:
        return remembered
    found = resolver.resolve(store, loaded.tasks, evidence, now)
    tasks = sorted(loaded.tasks.values(), key=lambda t: (t.id.lower(), t.id))
    if key is not None:
        key.write_listing(found, tasks, loaded.tasks, now)
    return found, tasks


def whole_of(loaded: Loaded) -> Whole:
    """How a task that knows only its listed fields reads the rest: the loaded tasks (read when first asked)."""

    def whole(task_id: str) -> Task:
        try:
            return loaded.tasks[task_id]
        except KeyError:
            from gtask.errors import NotFound

            raise NotFound(f"task {task_id!r} was removed while gtask was reading it") from None

    return whole


def _row(task: Task) -> list[Any]:
    return [task.id, *(getattr(task, name) for name in ROW_FIELDS)]


_ROW_KEYS = ("id", *ROW_FIELDS)


class RankingKey:
    """What a remembered ranking must have been computed from."""

    def __init__(self, path: Path | None, stamp: dict[str, Any]) -> None:
        self.path, self.stamp = path, stamp

    def __repr__(self) -> str:
        return f"RankingKey({self.path!r}, {self.stamp!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RankingKey) and (self.path, self.stamp) == (other.path, other.stamp)

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def of(cls, store: Store, generation: str | None, evidence: Evidence, kind: str = "ranking") -> RankingKey | None:
        """The key of this command's inputs, or None when they cannot be named (a file not in the parse cache)."""
        if generation is None or not store.use_cache:
            return None
        path = cache_file(store.tasks_dir, kind, store.use_cache, salt=store.project)
        git_dir = find_git_dir(store.tasks_dir) if path is not None else None
        if path is None or git_dir is None:
            return None
        digest = "none"  # no evidence beyond the work tree (no 24-digit digest is this)
        if evidence.taken or evidence.handoffs or evidence.gates:
            import hashlib
            import json

            facts = [sorted(evidence.taken), sorted(evidence.handoffs.items()), sorted(evidence.gates.items())]
            digest = hashlib.blake2b(json.dumps(facts).encode(), digest_size=12).hexdigest()
        return cls(path, {"format": FORMAT, "version": __version__, "project": store.project,
                          "generation": generation, "evidence": digest, "head": read_ref(git_dir, "HEAD") or "",
                          "shape": history_shape(git_dir) if kind == "ranking" else ""})  # states need no ages

    def _read(self, now: datetime) -> Any:
        """What was remembered, when it was made from these inputs and no lease has run out since."""
        data = read_cache(self.path, self.stamp)
        if data is None:
            return None
        try:
            made, until, moment = float(data["made"]), data["until"], now.timestamp()
            if not made <= moment or (until is not None and moment >= float(until)):
                return None
            return data["data"]
        except (KeyError, TypeError, ValueError):
            return None  # no record, or one of another shape

    def _write(self, value: Any, tasks: dict[str, Task], now: datetime) -> None:
        write_cache(self.path, self.stamp, {"made": now.timestamp(), "until": _lease_change(tasks, now), "data": value})

    def read(self, now: datetime, whole: Whole) -> Ranked | None:
        """The remembered ranking: tasks that know their listed fields, and their scores, best first."""
        from gtask.core.graph import Score

        rows = self._read(now)
        if not isinstance(rows, list):
            return None
        try:
            tasks = CachedTask.partials(rows, _ROW_KEYS, len(_ROW_KEYS) + len(SCORE_FIELDS), whole)
            scores = []
            for row in rows:
                score = object.__new__(Score)  # not the frozen dataclass's constructor: this is hot
                score.__dict__.update(zip(SCORE_FIELDS, row[len(_ROW_KEYS):], strict=True))
                scores.append(score)
        except (TypeError, ValueError, AttributeError):
            return None  # a record of another shape: rank again
        return list(zip(tasks, scores, strict=True))

    def write(self, ranked: Ranked, tasks: dict[str, Task], now: datetime) -> None:
        """Remember a ranking made at `now` from these tasks."""
        self._write([[*_row(task), *(getattr(score, name) for name in SCORE_FIELDS)] for task, score in ranked],
                    tasks, now)

    def read_listing(self, now: datetime, whole: Whole) -> tuple[dict[str, str], list[Task]] | None:
        """The remembered state of every task, and the tasks by ID (knowing their listed fields)."""
        data = self._read(now)
        if not isinstance(data, list):
            return None
        try:
            states = {row[0]: row[-1] for row in data}
            if len(states) != len(data) or not all(isinstance(state, str) for state in states.values()):
                return None
            return states, list(CachedTask.partials(data, _ROW_KEYS, len(_ROW_KEYS) + 1, whole))
        except (KeyError, TypeError, ValueError, IndexError):
            return None

    def write_listing(self, states: dict[str, str], listed: list[Task], tasks: dict[str, Task],
                      now: datetime) -> None:
        """Remember the states of these tasks and the order they are listed in, made at `now`."""
        self._write([[*_row(task), states[task.id]] for task in listed], tasks, now)


def _lease_change(tasks: dict[str, Task], now: datetime) -> float | None:
    """The first moment after `now` at which a lease runs out, changing some task's state (None: never)."""
    moments = []
    for task in tasks.values():
        if task.claimed_by and task.lease_until:
            try:
                moment = parse_time(task.lease_until)
            except ValueError:
                continue  # an unreadable lease counts as run out, now and later
            if moment > now:
                moments.append(moment.timestamp())
    return min(moments, default=None)
