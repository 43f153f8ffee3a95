"""Proposals that agents filed on other branches, seen where the person is before any merge (design §3).

An agent's `gtask new` makes a `proposed` task on the agent's branch; once the branch is pushed and the
person has run `gtask sync`, it is on a remote-tracking branch. `gitstate.branches.scan` already reads the
task files each branch changed since its merge base with the integration branch, so finding proposals
costs nothing more; bringing one in reads its file in one object read.
"""

from __future__ import annotations

from dataclasses import dataclass

from gtask.core.model import Task
from gtask.errors import NotFound
from gtask.gitio.git import Git
from gtask.gitstate.branches import BranchView, scan
from gtask.store.store import Store

_MIRRORED = ("lease@", "done@")  # lease refs and tombstones: a claim or completion, never a proposal


@dataclass(frozen=True)
class BranchProposal:
    """A proposed task that exists on another branch and not in this work tree."""

    task: Task
    ref: str  # `agent/x` or `origin/agent/x`
    commit: str


def on_branches(store: Store, git: Git | None, view: BranchView | None = None) -> dict[str, BranchProposal]:
    """Lower-case ID -> the proposal on another branch, for IDs that have no file here (here wins).

    A proposal on several branches is named once: by its local branch if it has one, else the first by name.
    """
    if git is None or store.is_plain_folder or not git.head_commit():
        return {}
    view = scan(store, git) if view is None else view
    here = {task_id.lower() for task_id in store.ids()}
    found: dict[str, BranchProposal] = {}
    for key, versions in sorted(view.versions.items()):
        if key in here:
            continue
        for version in sorted(versions, key=lambda v: ("/" in v.ref and v.ref.split("/")[0] in git.remotes(), v.ref)):
            task = version.task
            if version.ref.startswith(_MIRRORED) or task is None or version.problem or task.status != "proposed":
                continue
            found[key] = BranchProposal(task, version.ref, version.commit)
            break
    return found


def find(store: Store, git: Git, task_id: str, known: dict[str, BranchProposal] | None = None) -> BranchProposal:
    """The proposal with this ID on another branch; raise NotFound when there is none."""
    proposals = on_branches(store, git) if known is None else known
    if task_id.lower() not in proposals:
        raise NotFound(f"no task {task_id!r} here, and no branch has a proposal with that ID "
                       f"(run 'gtask sync' to fetch the agents' branches)")
    return proposals[task_id.lower()]


def file_bytes(store: Store, git: Git, proposals: list[BranchProposal]) -> dict[str, bytes]:
    """Task ID -> the proposal's file exactly as its branch has it (one object read for all)."""
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    specs = {p.task.id: f"{p.commit}:{folder}/{p.task.id}.md" for p in proposals}
    objects = git.cat_file(specs.values())
    found = {}
    for task_id, spec in specs.items():
        obj = objects.get(spec)
        if obj is None:
            raise NotFound(f"the proposal {task_id} is no longer on {spec.split(':', 1)[0][:12]}; run 'gtask sync'")
        found[task_id] = obj[1]
    return found
