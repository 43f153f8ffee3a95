"""The checked-out branch's task files, for a view that reads the integration branch (`view`, the board).

`gitstate.branches.scan` leaves the current branch out: everywhere else the
work tree speaks for it. A workspace view reads each repository at its
integration branch instead, so there the checked-out branch is one more branch
whose changed task files may take a task (a claim committed on it, as `list`
in that repository counts).
"""

from __future__ import annotations

from gtask.gitio import gitfiles
from gtask.gitio.git import ZERO, Git
from gtask.gitstate.branches import RefVersion, parse_blob
from gtask.store.store import Store


def versions_on_current_branch(store: Store, git: Git, integration: str) -> list[RefVersion]:
    """The task files the checked-out branch changed since it forked from `integration` (a commit).

    None when HEAD is detached, is the integration commit, or has nothing of its own.
    """
    known, branch = gitfiles.current_branch(git.git_dir)
    branch = branch if known else git.current_branch()
    tip = git.rev_parse(f"refs/heads/{branch}") if branch else None
    if branch is None or tip is None or tip == integration:
        return []
    base = git.merge_base(tip, integration)
    if base == tip:
        return []  # behind the integration branch: nothing of its own
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    if base is None:  # no common history: everything it has is new
        spec = f"{tip}:{folder}"
        changes = [(name, ZERO, blob) for name, blob in git.trees([spec])[spec].items()]
    else:
        changes = git.diff_trees([(tip, base)], folder).get(tip, [])
    wanted = [(name, blob) for name, _, blob in changes if name.endswith(".md") and blob != ZERO]
    objects = git.cat_file(blob for _, blob in wanted)
    versions = []
    for name, blob in wanted:
        task, problem = parse_blob(store, folder, name, objects.get(blob))
        versions.append(RefVersion(branch, tip, name[:-3], task, problem))
    return versions
