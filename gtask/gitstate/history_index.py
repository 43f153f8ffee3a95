"""Which commits of every branch changed each task file or close a task, remembered by the refs' tips.

`gtask log ID` reads one task's entries from it instead of walking the whole history twice. Both facts
belong to single commits (a change to the file, a closing line), so when the refs only moved forward
the index reads only the new commits (`git log NEW --not OLD`); otherwise it reads them all again. So it does
when the history's shape changed (`history_shape`: a deepened clone, a graft, a replace ref), which the same
tips can reach other commits through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gtask.gitio.git import Git
from gtask.gitio.gitfiles import history_shape
from gtask.gitio.history import messages, still_reachable, touching
from gtask.gitstate.evidence import GREP, closed_refs
from gtask.store.cache import cache_path, read_cache, write_cache

CACHE_FORMAT = 2  # 2: keyed by the history's shape too


@dataclass
class HistoryIndex:
    """Commits reachable from `tips`, newest first: by task file path, and by closed `project:id` (id lower case)."""

    tips: list[str]
    files: dict[str, list[str]] = field(default_factory=dict)
    closes: dict[str, list[str]] = field(default_factory=dict)

    def closing(self, project: str, task_id: str) -> list[str]:
        """The commits with a closing line naming this task of `project` (as `id` or `project:id`)."""
        found = self.closes.get(f":{task_id.lower()}", []) + self.closes.get(f"{project}:{task_id.lower()}", [])
        return list(dict.fromkeys(found))

    def add(self, newer: HistoryIndex) -> None:
        """Put the commits of `newer` (read from the new tips, not the old) before these."""
        for mine, theirs in ((self.files, newer.files), (self.closes, newer.closes)):
            for key, commits in theirs.items():
                mine[key] = commits + [c for c in mine.get(key, []) if c not in commits]
        self.tips = newer.tips


def history_index(git: Git, folder: str, tips: list[str], use_cache: bool = True) -> HistoryIndex:
    """The index for these tips, from the cache when it holds them, reading only new commits when it can."""
    tips = sorted(set(tips))
    path = cache_path(git.git_dir, "history-index", use_cache)
    stamp = {"format": CACHE_FORMAT, "folder": folder, "shape": history_shape(git.git_dir) if path else ""}
    old = _read(path, stamp)
    if old is not None and old.tips == tips:
        return old
    if old is not None and old.tips and still_reachable(git, old.tips, tips):
        old.add(_walk(git, folder, tips, [f"^{tip}" for tip in old.tips]))
        index = old
    else:
        index = _walk(git, folder, tips, [])
    write_cache(path, stamp, {"tips": index.tips, "files": index.files, "closes": index.closes})
    return index


def _walk(git: Git, folder: str, tips: list[str], exclude: list[str]) -> HistoryIndex:
    revs = [*tips, *exclude]
    index = HistoryIndex(tips, touching(git, revs, folder))
    for commit, body in messages(git, revs, "-E", "-i", f"--grep={GREP}"):
        for ref in closed_refs(body):
            index.closes.setdefault(f"{ref.project or ''}:{ref.id.lower()}", []).append(commit)
    return index


def _read(path: Path | None, stamp: dict[str, object]) -> HistoryIndex | None:
    data = read_cache(path, stamp)
    if data is None:
        return None
    try:
        return HistoryIndex([str(t) for t in data["tips"]],
                            {str(k): [str(c) for c in v] for k, v in data["files"].items()},
                            {str(k): [str(c) for c in v] for k, v in data["closes"].items()})
    except (KeyError, TypeError, AttributeError):
        return None  # a cache of another shape is simply not used
