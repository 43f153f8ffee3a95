"""Tombstones: a completion ref on a remote (`refs/gtask/done/<id>`) and when it no longer holds a task."""

from __future__ import annotations

from gtask.core.model import parse_time
from gtask.errors import GtaskError
from gtask.gitio.git import Git
from gtask.gitstate import branches, evidence
from gtask.gitstate.branches import BranchView
from gtask.store.store import Store


def tombstone_is_void(store: Store, git: Git, task_id: str, tombstone: str, view: BranchView | None = None) -> bool:
    """A completion that no longer holds: it landed, and the task was reopened on the integration branch since.

    Landed means the tombstone's commit is on the integration branch, or a commit
    there closes the task no earlier than the tombstone was made (squash and
    rebase merges copy the commit). A completion still waiting on a branch never is void.
    """
    view = view or branches.scan(store, git)
    if view.integration_commit is None:
        return False
    try:
        here = store.get(task_id)
    except GtaskError:
        return False
    integration = branches.integration_versions(store, git, view, [here]).get(task_id)
    if integration is None or integration.is_finished:
        return False
    if git.is_ancestor(tombstone, view.integration_commit):
        return True
    made = git.commit_time(tombstone)
    proofs = evidence.scan(git, view.integration_commit, store.project, store.use_cache,
                           known=store.ids()).of(store.project, task_id)
    return made is not None and any(parse_time(p.date) > made for p in proofs)  # same second: not proven
