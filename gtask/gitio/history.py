"""The integration branch's first-parent history of task files, in a fixed number of git processes.

Used to find the commit that brought a task's `done` in (design §2, `landed`): a merge commit, or a
commit that also changed files outside the task folder (a squash).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gtask.gitio.git import Git


@dataclass(frozen=True)
class Change:
    """One commit of the first-parent line with the task files it changed: path -> (old blob, new blob)."""

    commit: str
    parents: tuple[str, ...]
    date: str
    subject: str
    files: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


def first_parent_changes(git: Git, tip: str, paths: Iterable[str]) -> list[Change]:
    """Newest first: the commits on `tip`'s first-parent line that changed any of `paths` (files or folders).

    One `git log`; a merge commit's changes are those against its first parent (what it brought in).
    """
    records = git.log_records(tip, "--first-parent", "-m", "--raw", "--no-abbrev", "--no-renames",
                              "--format=%H%x00%P%x00%cI%x00%s%x00", "--", *paths)
    changes = []
    for commit, parents, date, subject, raw, *_ in records:
        files = {}
        for line in raw.splitlines():
            if line.startswith(":") and "\t" in line:
                meta, path = line.split("\t", 1)
                _, _, old, new, _ = meta.split(" ")
                files[path] = (old, new)
        changes.append(Change(commit, tuple(parents.split()), date, subject, files))
    return changes


def changes_outside(git: Git, commits: Iterable[str], folder: str) -> set[str]:
    """Which of these (non-merge) commits changed any file outside `folder`, in one `git diff-tree --stdin`.

    The folder is excluded by a pathspec, so git lists only the files outside it (a large squash lists few).
    """
    wanted = list(dict.fromkeys(commits))
    if not wanted or folder in ("", "."):
        return set()  # a task folder at the top holds every file: nothing is outside it
    out = git.run("diff-tree", "--stdin", "--root", "--always", "-r", "--name-only", "--no-renames", "-z",
                  "--", f":(top,exclude,literal){folder}", input="".join(f"{commit}\n" for commit in wanted),
                  env={"GIT_LITERAL_PATHSPECS": "0"}).stdout  # the one pathspec is literal by its own magic
    found: set[str] = set()
    expected = iter(wanted)
    current = next(expected)
    upcoming = next(expected, None)
    for token in out.split("\0"):
        token = token.strip("\n")
        if token == upcoming:
            current, upcoming = upcoming, next(expected, None)
        elif token and token != current:
            found.add(current)
    return found
