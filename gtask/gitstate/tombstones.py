"""Tombstones: a completion ref on a remote (`refs/gtask/done/<id>`) and when it no longer holds a task.

A tombstone is believed only in its one shape: a commit in which the task's file says `done` (what
`done --push` leaves). Anything else pushed there (a tree, a tag, a commit where the task is not done)
takes nothing: it is ignored with a notice, and a claim's push removes it.
"""

from __future__ import annotations

from collections.abc import Callable

from gtask.core.model import Task, parse_time
from gtask.errors import GtaskError
from gtask.gitio.git import Git
from gtask.gitstate import branches, evidence
from gtask.gitstate.branches import BranchView
from gtask.store.store import Store


def tombstone_is_void(store: Store, git: Git, task_id: str, tombstone: str, view: BranchView | None = None,
                      planned: Callable[[str], Task | None] | None = None) -> bool:
    """A completion that no longer holds: it landed, and the task was reopened on the integration branch since.

    Landed means the tombstone's commit is on the integration branch, or a commit
    there closes the task no earlier than the tombstone was made (squash and
    rebase merges copy the commit). A completion still waiting on a branch never is void; anything that is
    not a completion at all (see is_completion) is void from the start, with a notice.
    `planned` reads the version of the task being planned against (the integration branch's for `view`);
    without it, the work tree's file.
    """
    view = view or branches.scan(store, git)
    if not is_completion(view, task_id, tombstone):
        store.notify(f"refs/gtask/done/{task_id} points at {tombstone[:12]}, which is not a completion of {task_id} "
                     f"(a commit whose {task_id}.md says done): ignored")
        return True
    if view.integration_commit is None:
        return False
    here = planned(task_id) if planned is not None else _in_work_tree(store, task_id)
    if here is None:
        return False
    integration = branches.integration_versions(store, git, view, [here]).get(here.id)
    if integration is None or integration.is_finished:
        return False
    if git.is_ancestor(tombstone, view.integration_commit):
        return True
    made = git.commit_time(tombstone)
    proofs = evidence.scan(git, view.integration_commit, store.project, store.use_cache,
                           known=store.ids()).of(store.project, task_id)
    return made is not None and any(parse_time(p.date) > made for p in proofs)  # same second: not proven


def _in_work_tree(store: Store, task_id: str) -> Task | None:
    try:
        return store.get(task_id)
    except GtaskError:
        return None


def is_completion(view: BranchView, task_id: str, tombstone: str) -> bool:
    """Whether a tombstone is a completion: a commit (the scan mirrors only commits) in which the task is done.

    Read from the view's mirrored refs (`done@<remote>`), so it costs no git process.
    """
    return any(version.ref.startswith("done@") and version.commit == tombstone and version.task is not None
               and version.task.status == "done" for version in view.of(task_id))
