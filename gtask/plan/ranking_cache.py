"""The ranking of ready tasks and every task's state, remembered while nothing they depend on has changed
(design §6: disposable).

A warm `ready` or `next` then builds no graph: the ranking is read back and only
the filters run; a warm `list` reads the states back. Both are functions of the task files (named by the parse cache's
generation: the same files with the same stat keys), the evidence git adds (a
digest of it), HEAD (tasks' ages are first-commit times) and the clock, which
only matters at the moment a lease runs out: a record is used only between the
time it was made and the earliest lease that had not run out then.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gtask.core.graph import Score
from gtask.core.model import Task, now_utc, parse_time
from gtask.gitio.gitfiles import find_git_dir, read_ref
from gtask.store.cache import cache_file, read_cache, write_cache
from gtask.version import __version__

if TYPE_CHECKING:
    from pathlib import Path

    from gtask.gitstate.resolver import Evidence
    from gtask.store.loading import Loaded
    from gtask.store.store import Store

FORMAT = 1
Ranked = list[tuple[str, Score]]  # task ID (home project) and its score, best first


def states(store: Store, loaded: Loaded) -> dict[str, str]:
    """Every loaded task's derived state, as gitstate.resolver.states gives it: remembered, or resolved and
    remembered."""
    from gtask.gitstate import resolver

    evidence = resolver.evidence_for(store, loaded.tasks)
    key = RankingKey.of(store, loaded.generation, evidence, "states")
    now = now_utc()
    remembered = key.read_states(now, loaded.tasks) if key else None
    if remembered is not None:
        return remembered
    found = resolver.resolve(store, loaded.tasks, evidence, now)
    if key is not None:
        key.write_states(found, loaded.tasks, now)
    return found


@dataclass
class RankingKey:
    """What a remembered ranking must have been computed from."""

    path: Path | None
    stamp: dict[str, Any]

    @classmethod
    def of(cls, store: Store, generation: str | None, evidence: Evidence, kind: str = "ranking") -> RankingKey | None:
        """The key of this command's inputs, or None when they cannot be named (a file not in the parse cache)."""
        if generation is None or not store.use_cache:
            return None
        path = cache_file(store.tasks_dir, kind, store.use_cache, salt=store.project)
        git_dir = find_git_dir(store.tasks_dir) if path is not None else None
        if path is None or git_dir is None:
            return None
        facts = [sorted(evidence.taken), sorted(evidence.handoffs.items()), sorted(evidence.gates.items())]
        digest = hashlib.blake2b(json.dumps(facts).encode(), digest_size=12).hexdigest()
        return cls(path, {"format": FORMAT, "version": __version__, "project": store.project,
                          "generation": generation, "evidence": digest, "head": read_ref(git_dir, "HEAD") or ""})

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

    def read(self, now: datetime) -> Ranked | None:
        """The remembered ranking (task ID and score, best first)."""
        rows = self._read(now)
        try:
            return [(str(task_id), _score(int(pri), int(direct), int(total), None if added is None else float(added)))
                    for task_id, pri, direct, total, added in rows]
        except (TypeError, ValueError):
            return None  # a record of another shape: rank again

    def write(self, ranked: Ranked, tasks: dict[str, Task], now: datetime) -> None:
        """Remember a ranking made at `now` from these tasks."""
        self._write([[task_id, s.priority, s.unblocks_direct, s.unblocks_total, s.added] for task_id, s in ranked],
                     tasks, now)

    def read_states(self, now: datetime, tasks: dict[str, Task]) -> dict[str, str] | None:
        """The remembered state of each of these tasks."""
        states = self._read(now)
        if not isinstance(states, dict) or states.keys() != tasks.keys():
            return None
        return states

    def write_states(self, states: dict[str, str], tasks: dict[str, Task], now: datetime) -> None:
        self._write(states, tasks, now)


def _score(priority: int, direct: int, total: int, added: float | None) -> Score:
    """A Score without its frozen dataclass constructor (it is hot: once per ready task)."""
    score = object.__new__(Score)
    score.__dict__.update(priority=priority, unblocks_direct=direct, unblocks_total=total, added=added)
    return score


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
