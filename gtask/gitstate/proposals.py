"""Proposals that agents filed on other branches, seen where the person is before any merge (design §3).

An agent's `gtask new` makes a `proposed` task on the agent's branch; once the branch is pushed and the
person has run `gtask sync`, it is on a remote-tracking branch. `gitstate.branches.scan` already reads the
task files each branch changed since its merge base with the integration branch, so finding proposals
costs nothing more; bringing one in reads its file in one object read. A task file there that cannot be
read (broken YAML, an invalid field) is named, with its branch, file and line, never skipped in silence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gtask.core import schema, taskfile
from gtask.core.model import Task
from gtask.errors import GtaskError, InvalidTask, NotFound, Problem
from gtask.gitio.git import Git
from gtask.gitstate.branches import BranchView, RefVersion, scan
from gtask.store.store import Store

_MIRRORED = ("lease@", "done@")  # lease refs and tombstones: a claim or completion, never a proposal


@dataclass(frozen=True)
class BranchProposal:
    """A proposed task that exists on another branch and not in this work tree."""

    task: Task
    ref: str  # `agent/x` or `origin/agent/x`
    commit: str


@dataclass(frozen=True)
class Unreadable:
    """A task file on another branch, for an ID with no file here, that cannot be read: maybe a proposal."""

    task_id: str
    ref: str
    commit: str
    path: str  # the file inside the repository
    line: int | None
    message: str

    def problem(self) -> Problem:
        return Problem("error", f"the task file on {self.ref} (commit {self.commit[:12]}) cannot be read, so its "
                                f"proposal cannot be decided: {self.message}", self.path, self.line)

    def error(self) -> InvalidTask:
        return InvalidTask(f"{self.task_id} on {self.ref} (commit {self.commit[:12]}) cannot be read: {self.message}; "
                           f"nothing was changed (the agent fixes the file on its branch and pushes it)",
                           path=self.path, line=self.line)


@dataclass
class Survey:
    """Every branch's proposals (lower-case ID -> proposal) and the task files there that cannot be read."""

    found: dict[str, BranchProposal] = field(default_factory=dict)
    unreadable: dict[str, Unreadable] = field(default_factory=dict)

    def problems(self) -> list[Problem]:
        return [self.unreadable[key].problem() for key in sorted(self.unreadable)]


def survey(store: Store, git: Git | None, view: BranchView | None = None) -> Survey:
    """The proposals on other branches for IDs that have no file here (here wins), and the unreadable files there.

    A proposal on several branches is named once: by its local branch if it has one, else the first by name.
    """
    result = Survey()
    if git is None or store.is_plain_folder or not git.head_commit():
        return result
    view = scan(store, git) if view is None else view
    here = {task_id.lower() for task_id in store.ids()}
    broken: dict[str, RefVersion] = {}
    for key, versions in sorted(view.versions.items()):
        if key in here:
            continue
        for version in sorted(versions, key=lambda v: ("/" in v.ref and v.ref.split("/")[0] in git.remotes(), v.ref)):
            task = version.task
            if version.ref.startswith(_MIRRORED) or (task is not None and task.status != "proposed"):
                continue
            if version.problem:
                broken.setdefault(key, version)
            elif task is not None:
                result.found[key] = BranchProposal(task, version.ref, version.commit)
                break
    result.unreadable = _locate(store, git, {k: v for k, v in broken.items() if k not in result.found})
    return result


def _locate(store: Store, git: Git, broken: dict[str, RefVersion]) -> dict[str, Unreadable]:
    """Each unreadable file's first error with its line (one object read for all; only broken files pay it)."""
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    specs = {key: f"{v.commit}:{folder}/{v.task_id}.md" for key, v in broken.items()}
    objects = git.cat_file(specs.values())
    found = {}
    for key, version in broken.items():
        label = f"{folder}/{version.task_id}.md"
        obj = objects.get(specs[key])
        line, message = None, version.problem or "unreadable"
        if obj is not None:
            try:
                tf = taskfile.parse(taskfile.decode(obj[1], label), label)
                errors = [p for p in schema.build_task(tf, version.task_id, store.project, label)[1] if p.is_error]
                line, message = (errors[0].line, errors[0].message) if errors else (None, message)
            except GtaskError as exc:
                line, message = exc.line, exc.message
        found[key] = Unreadable(version.task_id, version.ref, version.commit, label, line, message)
    return found


def find(store: Store, git: Git, task_id: str, known: Survey | None = None) -> BranchProposal:
    """The proposal with this ID on another branch; raise InvalidTask when its file there cannot be read,
    NotFound when there is none."""
    proposals = survey(store, git) if known is None else known
    if task_id.lower() in proposals.unreadable:
        raise proposals.unreadable[task_id.lower()].error()
    if task_id.lower() not in proposals.found:
        raise NotFound(f"no task {task_id!r} here, and no branch has a proposal with that ID "
                       f"(run 'gtask sync' to fetch the agents' branches)")
    return proposals.found[task_id.lower()]


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
