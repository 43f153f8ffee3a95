"""What a workspace repository's other refs say about its tasks: the resolver's evidence for `view` and the board.

`gtask view` reads each repository at its integration branch; a task that is
`todo` there may be taken elsewhere (a live claim on another branch or a
fetched lease ref, `done` on another branch, a tombstone) or wait on a pushed
handoff. That evidence comes from `gitstate.resolver.gather`, as for `list`,
and the graph applies it with the resolver's precedence (design §2).

The checked-out branch counts as another branch too when the integration
branch is what was read (`checked_out`): `list` there reads its claim from the
work tree, and `view` must agree. Evidence is skipped only where it cannot
change a state: when the repository has no lease refs or tombstones and every
other branch is the current one (unless it counts) or points at the integration
commit, which git's own files tell without a
process. Otherwise the result is remembered in the git directory, keyed by
every ref, the history's shape (gitfiles.history_shape: fork points and
replaced commits) and the tasks it was gathered for, until the first live
lease in it passes: a warm `view` starts no git process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gtask.core.model import Task, now_utc, parse_time
from gtask.errors import GtaskError
from gtask.gitio import gitfiles
from gtask.store.cache import cache_path, read_cache, write_cache
from gtask.version import __version__

CACHE_FORMAT = 1


@dataclass
class Elsewhere:
    """The part of the resolver's `Evidence` a workspace keeps, by lower-case task ID."""

    taken: dict[str, str] = field(default_factory=dict)  # where it is taken: a branch, `lease@origin`, `done@origin`
    handoffs: dict[str, list[str]] = field(default_factory=dict)  # unfinished prerequisites a pushed handoff added
    until: float | None = None  # when a live lease in it passes (the answer may change by the clock alone)


def gather(folder: Path, tasks: list[Task], integration: str | None, use_cache: bool = True,
           checked_out: bool = False) -> Elsewhere:
    """What the resolver finds beyond these tasks of the repository at `folder` (`integration`: its commit).

    `checked_out`: the tasks are the integration branch's, so the checked-out branch is elsewhere too.
    """
    git_dir = gitfiles.find_git_dir(folder)
    if git_dir is None:
        return Elsewhere()
    refs = gitfiles.refs_of(git_dir)
    if refs is not None and not _could_take(git_dir, refs, integration, checked_out):
        return Elsewhere()  # nothing but this branch and the integration branch: the resolver would find nothing
    digest = hashlib.sha1(repr((sorted((refs or {}).items()), _head(git_dir), _tasks_key(tasks), checked_out,
                                gitfiles.history_shape(git_dir))).encode())  # fork points, replaced commits
    key = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:16]
    path = cache_path(git_dir, f"elsewhere-{key}", use_cache) if refs is not None else None
    stamp = {"format": CACHE_FORMAT, "version": __version__, "key": digest.hexdigest()}
    found = _load(read_cache(path, stamp))
    if found is not None:
        return found
    found = _gather(folder, tasks, integration, use_cache, checked_out)
    write_cache(path, stamp, {"taken": found.taken, "handoffs": found.handoffs, "until": found.until})
    return found


def _gather(folder: Path, tasks: list[Task], integration: str | None, use_cache: bool,
            checked_out: bool) -> Elsewhere:
    """Ask the resolver; also say when its answer may change by the clock alone (the first live lease's end)."""
    from gtask.gitstate import resolver
    from gtask.store.store import Store

    try:
        store = Store.open(folder, use_cache=use_cache)
        git, head = resolver.repository_at_head(store)
        evidence = resolver.gather(store, git, {t.id: t for t in tasks}, gates=False, head=head)
        if git is not None and checked_out and integration is not None:
            from gtask.plan.checked_out import versions_on_current_branch

            current = versions_on_current_branch(store, git, integration)
        else:
            current = []
    except GtaskError:
        return Elsewhere()  # no readable work tree or git: the integration branch alone
    found, now = Elsewhere(handoffs=dict(evidence.handoffs)), now_utc()
    taken = dict(evidence.taken)
    for version in current:  # as the resolver weighs another branch: a live claim or a completion takes the task
        if version.live_claim(now) or (version.task is not None and version.task.status == "done"):
            taken.setdefault(version.task_id.lower(), version)
    for task_id, version in taken.items():
        found.taken[task_id] = version.ref
        if version.task is not None and version.live_claim(now) and version.task.lease_until:
            end = parse_time(version.task.lease_until).timestamp()
            found.until = end if found.until is None else min(found.until, end)
    return found


def _load(data: dict[str, Any] | None) -> Elsewhere | None:
    """The remembered evidence, unless it is of another shape or a lease in it has passed."""
    if data is None:
        return None
    until, taken, handoffs = data.get("until"), data.get("taken"), data.get("handoffs")
    if (until is not None and not isinstance(until, (int, float))) or not isinstance(taken, dict) \
            or not isinstance(handoffs, dict):
        return None
    if until is not None and now_utc().timestamp() >= until:
        return None  # a lease in it has passed: ask again
    if not all(isinstance(v, str) for v in taken.values()) or \
            not all(isinstance(v, list) and all(isinstance(d, str) for d in v) for v in handoffs.values()):
        return None
    return Elsewhere(dict(taken), {str(k): list(v) for k, v in handoffs.items()}, until)


def _tasks_key(tasks: list[Task]) -> list[tuple[str, str, list[str]]]:
    """What of the tasks the evidence depends on (a handoff's prerequisites are checked against them)."""
    return [(t.id, t.status, t.depends_on) for t in tasks]


def _head(git_dir: Path) -> str:
    try:
        return (git_dir / "HEAD").read_text().strip()
    except OSError:
        return ""


def _could_take(git_dir: Path, refs: dict[str, str], integration: str | None, checked_out: bool = False) -> bool:
    """Whether any ref but the current branch (unless it counts) and those at the integration commit exists
    (lease refs always count)."""
    head = _head(git_dir)
    current = head[len("ref: "):] if head.startswith("ref: ") and not checked_out else None
    return any(ref.startswith("refs/gtask/") or (ref != current and sha != integration) for ref, sha in refs.items())
