"""The integration branch's first-parent history of task files, in a fixed number of git processes.

Used to find the commit that brought a task's `done` in (design §2, `landed`): a merge commit, or a
commit that also changed files outside the task folder (a squash).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

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


def instant(date: str) -> float:
    """The moment a strict ISO date (`%cI`) names, in seconds since the epoch: dates compare across time zones."""
    try:
        return datetime.fromisoformat(date).timestamp()
    except ValueError:
        return 0.0  # not a date git wrote: first, in a fixed place


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


def newest_changes(git: Git, tip: str, paths: Iterable[str]) -> dict[str, str]:
    """The newest commit reachable from `tip` that changed each file under `paths`, by file name: one `git log`."""
    newest: dict[str, str] = {}
    commit = ""
    out = git.run("log", "--format=%x01%H", "--name-only", "--no-renames", tip, "--", *paths, check=False).stdout
    for line in out.splitlines():
        if line.startswith("\x01"):
            commit = line[1:]
        elif line:
            newest.setdefault(line.rsplit("/", 1)[-1], commit)
    return newest


class Ancestry:
    """Ancestry among the commits reachable from some tips, from one `git rev-list --topo-order --parents`.

    The listing holds every ancestor of what it holds, so a commit outside it is no ancestor of one inside.
    In topological order every commit comes before its parents, so a commit listed before another is never
    its ancestor; two commits on the first listed commit's first-parent line are ordered by it; any other
    pair is decided by a walk from the younger through the commits listed between the two.
    """

    def __init__(self, git: Git, tips: list[str]) -> None:
        self.position: dict[str, int] = {}
        self.parents: dict[str, list[str]] = {}
        for number, line in enumerate(git.out("rev-list", "--topo-order", "--parents", *tips, "--").splitlines()):
            commit, *parents = line.split()
            self.position[commit] = number
            self.parents[commit] = parents
        self.first_parent_line: set[str] = set()
        step = next(iter(self.position), None)
        while step is not None and step not in self.first_parent_line:
            self.first_parent_line.add(step)
            step = next(iter(self.parents.get(step, [])), None)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool | None:
        """Whether `ancestor` is reachable from `descendant` (None: `descendant` is not in this listing)."""
        if descendant not in self.position:
            return None
        if ancestor == descendant:
            return True
        if ancestor not in self.position:
            return False  # every ancestor of a listed commit is listed
        limit = self.position[ancestor]
        if self.position[descendant] > limit:
            return False  # listed after it: older, never a descendant
        if ancestor in self.first_parent_line and descendant in self.first_parent_line:
            return True  # both on one first-parent line, and the descendant comes first
        stack, seen = [descendant], {descendant}
        while stack:
            for parent in self.parents.get(stack.pop(), []):
                if parent == ancestor:
                    return True
                if parent not in seen and self.position.get(parent, limit + 1) < limit:
                    seen.add(parent)
                    stack.append(parent)
        return False


def layers(git: Git, groups: Iterable[list[str]]) -> dict[str, int]:
    """For commits in groups (those of one second): how deep each lies below the others of its group: 0 when none
    of them reaches it, else the most of them on one path down to it. An ancestor is deeper than its descendants;
    a fact of the group alone, not of the order it came in. Two git processes for all groups: the merge base of all
    of them, and one `rev-list` of what lies between it and them (where every path between two of them runs).
    """
    groups = [list(dict.fromkeys(group)) for group in groups]
    wanted = list(dict.fromkeys(commit for group in groups if len(group) > 1 for commit in group))
    depth = {commit: 0 for group in groups for commit in group}
    if not wanted:
        return depth
    bases = git.run("merge-base", "--octopus", "--all", *wanted, check=False).stdout.split() \
        if len(wanted) <= _ON_COMMAND_LINE else []  # more: the whole listing below them (as exact, longer)
    revs = "".join(f"{rev}\n" for rev in [*wanted, *(f"^{base}" for base in bases)])
    rows = [line.split() for line in git.run("rev-list", "--topo-order", "--parents", "--stdin", input=revs,
                                             check=False).stdout.splitlines()]
    position = {row[0]: number for number, row in enumerate(rows)}
    for group in groups:
        members, listed = set(group), [position[commit] for commit in group if commit in position]
        above: dict[str, int] = {}  # most members on one path down to a commit, itself not counted
        for commit, *parents in rows[min(listed, default=0):max(listed, default=-1) + 1]:  # children come first
            if commit in above or commit in members:
                here = above.get(commit, 0) + (commit in members)
                for parent in parents:
                    above[parent] = max(above.get(parent, 0), here)
        for commit in group:
            depth[commit] = above.get(commit, 0)
        for commit in (c for c in group if c not in position and len(group) > 1):  # a merge base: below all
            depth[commit] = 1 + max((depth[c] for c in group if c in position), default=0)
    return depth


_ON_COMMAND_LINE = 1000  # commits named to `git merge-base` at most (its arguments; rev-list reads its own)


def touching(git: Git, revs: list[str], folder: str) -> dict[str, list[str]]:
    """Every commit reachable from `revs` that changed each file under `folder`, newest first: one `git log`.

    Whole history (no simplification), so whether a commit is listed depends on that commit alone; a merge
    counts when the file differs from every parent (as `git log -- file` shows merges).
    """
    out = git.run("log", "--full-history", "-c", "--name-only", "--no-renames", "--format=%x01%H", *revs,
                  "--", folder or ".", check=False).stdout
    found: dict[str, list[str]] = {}
    commit = ""
    for line in out.splitlines():
        if line.startswith("\x01"):
            commit = line[1:]
        elif line and (not found.get(line) or found[line][-1] != commit):
            found.setdefault(line, []).append(commit)
    return found


def messages(git: Git, revs: list[str], *options: str) -> list[tuple[str, str]]:
    """(commit, message) of the commits reachable from `revs`, newest first, filtered by `options` (a --grep)."""
    out = git.run("log", *options, "--format=%x01%H%x00%B", *revs, check=False).stdout
    return [(commit, body) for commit, _, body in (record.partition("\0") for record in out.split("\x01")[1:])]


def read_commits(git: Git, commits: list[str], fmt: str, *options: str) -> list[list[str]]:
    """`git log --no-walk` of exactly these commits, one field list per commit (as Git.log_records splits them)."""
    if not commits:
        return []
    out = git.run("log", "--no-walk=unsorted", "--stdin", f"--format=%x01{fmt}", *options,
                  input="".join(f"{commit}\n" for commit in commits), check=False).stdout
    return [record.split("\0") for record in out.split("\x01")[1:]]


def still_reachable(git: Git, old: list[str], tips: list[str]) -> bool:
    """Whether every commit reachable from `old` is reachable from `tips` (the refs only moved forward)."""
    result = git.run("rev-list", "--max-count=1", *old, "--not", *tips, "--", check=False)
    return result.returncode == 0 and not result.stdout.strip()
