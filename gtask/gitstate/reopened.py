"""Closing evidence older than a task file's last change does not close it again: a reopening outlives it.

`reconcile` (which closes by it) and `status` (which shows it) ask the same question and get the same answer.
It changes only when the integration branch's tip moves (or the history's shape: a deepened clone, a graft), so
it is remembered by that commit and `history_shape`; a new tip costs
one `git log` of the task folder and one `git rev-list` of what lies below the files' last changes,
however many commits and tasks.
"""

from __future__ import annotations

from gtask.gitio.git import Git
from gtask.gitio.gitfiles import history_shape
from gtask.gitio.history import Ancestry, newest_changes
from gtask.gitstate.evidence import Evidence
from gtask.store.cache import cache_path, read_cache, write_cache

CACHE_FORMAT = 2  # 2: keyed by the history's shape too


def current(proofs: list[Evidence], superseded: set[str]) -> list[Evidence]:
    """The proofs that still count: those not older than the task file's last change."""
    return [p for p in proofs if p.commit not in superseded]


def superseded(git: Git, tip: str | None, folder: str, asked: dict[str, list[Evidence]],
               use_cache: bool = True) -> dict[str, set[str]]:
    """For each task ID asked about (with its proofs): the proof commits older than its file's last change at `tip`.

    A proof is older when it is an ancestor of the newest commit that changed the file (and not that commit).
    """
    if tip is None or not asked:
        return {}
    key = {task_id.lower(): task_id for task_id in asked}
    path = cache_path(git.git_dir, "reopened", use_cache)
    stamp = {"format": CACHE_FORMAT, "tip": tip, "folder": folder, "shape": history_shape(git.git_dir) if path else ""}
    data = read_cache(path, stamp)
    known: dict[str, dict[str, bool]] = {}  # task (lower case) -> proof commit -> superseded
    if data is not None and isinstance(data.get("tasks"), dict):
        known = {str(t): {str(c): bool(v) for c, v in answers.items()} for t, answers in data["tasks"].items()
                 if isinstance(answers, dict)}
    missing = {lower: [p.commit for p in asked[task_id] if p.commit not in known.get(lower, {})]
               for lower, task_id in key.items()}
    missing = {lower: commits for lower, commits in missing.items() if commits or lower not in known}
    if missing:
        known.update(_answer(git, tip, folder, missing, known))
        write_cache(path, stamp, {"tasks": known})
    return {task_id: {c for c, old in known.get(lower, {}).items() if old} for lower, task_id in key.items()}


def _answer(git: Git, tip: str, folder: str, missing: dict[str, list[str]],
            known: dict[str, dict[str, bool]]) -> dict[str, dict[str, bool]]:
    last: dict[str, str] = {}
    for name, commit in newest_changes(git, tip, [folder or "."]).items():
        last.setdefault(name.lower(), commit)
    pairs = [(lower, commit, last[f"{lower}.md"]) for lower, commits in missing.items()
             for commit in commits if last.get(f"{lower}.md") not in (None, commit)]
    ancestry = Ancestry(git, sorted({changed for _, _, changed in pairs})) if pairs else None  # below them only
    answers = {lower: dict(known.get(lower, {})) for lower in missing}
    for lower, commits in missing.items():
        for commit in commits:
            answers[lower][commit] = False
    for lower, commit, changed in pairs:
        older = ancestry.is_ancestor(commit, changed) if ancestry is not None else None
        answers[lower][commit] = git.is_ancestor(commit, changed) if older is None else older
    return answers
