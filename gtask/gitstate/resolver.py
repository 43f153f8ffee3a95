"""The one resolver of a task's derived state (design §2, "Which evidence wins"): every view asks it.

Evidence, read once per command:

- the work tree's task files (the store): status, claim keys, `depends_on`;
- the milestones' gates on the integration branch (gitstate.holds);
- every other branch's changed task files, local and remote-tracking (gitstate.branches.scan);
- lease refs and tombstones mirrored from remotes (`refs/gtask/<remote>/{claims,done}/<id>`).

`refine` is the precedence: a finished or claimed work-tree state stands; a
task taken elsewhere (a live claim on another branch or lease ref, a
completion on another branch, a tombstone that still holds) is `claimed`; a
task a handoff on a lease ref made wait on an unfinished prerequisite, or held
back by a gate, is `waiting`. TaskGraph applies the same rule from the same
`Evidence` (`graph_inputs`), so planning and listing cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from gtask.core.ids import Ref
from gtask.core.model import Task, local_states, now_utc
from gtask.errors import GtaskError

if TYPE_CHECKING:  # branches loads the git module: a one-branch `show` needs neither
    from gtask.core.graph import Node
    from gtask.gitio.git import Git
    from gtask.gitstate.branches import BranchView, RefVersion
    from gtask.store.store import Store

TAKEN_STATES = ("ready", "waiting")  # the states evidence elsewhere may turn into `claimed`


@dataclass
class Evidence:
    """What git says beyond the work tree, keyed by lower-case task ID."""

    view: BranchView | None = None
    taken: dict[str, RefVersion] = field(default_factory=dict)  # the version that takes the task
    handoffs: dict[str, list[str]] = field(default_factory=dict)  # prerequisites a pushed handoff added
    gates: dict[str, list[str]] = field(default_factory=dict)  # `gate:<milestone>` entries holding it back

    def where(self, task_id: str) -> str | None:
        """Where the task is taken (a branch, `lease@origin`, `done@origin`), or None."""
        version = self.taken.get(task_id.lower())
        return version.ref if version else None


def gather(store: Store, git: Git | None, tasks: dict[str, Task] | Callable[[], dict[str, Task]], *,
           gates: bool = True, head: str | None = None) -> Evidence:
    """Read every piece of evidence about these tasks that git has (nothing without git).

    `tasks` are the versions being planned against (the work tree's, or the integration branch's for `view`).
    They may be a function that reads the work tree's: they are needed only for a handoff on a lease ref and
    for milestone gates, so a warm listing of a store with other branches does not read 100,000 tasks for that.
    `head` is HEAD's commit when the caller has read it already (one `rev-parse` per command).
    """
    if git is None or store.is_plain_folder or store.tasks_dir.is_symlink():
        return Evidence()  # a linked task folder is refused everywhere; its files are not the repository's
    head = head or git.head_commit()
    if not head:
        return Evidence()
    from gtask.gitstate.branches import scan
    from gtask.gitstate.holds import holds_for

    view = scan(store, git)
    evidence = Evidence(view)
    now = now_utc()
    read = _Tasks(tasks)
    for key, versions in view.versions.items():
        for version in versions:
            if _takes(store, git, view, version, now, read):
                evidence.taken.setdefault(key, version)
            held = _handoff(store, git, head, version, read, view)
            if held:
                evidence.handoffs[key] = held
    if gates:
        evidence.gates = {node[1].lower(): names for node, names in
                          holds_for(store, git, view.integration_commit, lambda: list(read.all.values())).items()}
    return evidence


class _Tasks:
    """The tasks, read on first use, with their IDs by lower case (built once, not per branch version)."""

    def __init__(self, tasks: dict[str, Task] | Callable[[], dict[str, Task]]) -> None:
        self._tasks = tasks
        self._by_lower: dict[str, str] | None = None

    @property
    def all(self) -> dict[str, Task]:
        if callable(self._tasks):
            self._tasks = self._tasks()
        return self._tasks

    def planned(self, store: Store, task_id: str) -> Task | None:
        """The version of one task being planned against: the given tasks' (for `view`, the integration
        branch's); when they are still a function (the work tree's, unread), its own file alone."""
        if not callable(self._tasks):
            return self.get(task_id)
        try:
            return store.get(task_id)
        except GtaskError:
            return None  # not here, or broken

    def get(self, task_id: str) -> Task | None:
        if self._by_lower is None:
            self._by_lower = {known.lower(): known for known in self.all}
        found = self._by_lower.get(task_id.lower())
        return self.all[found] if found is not None else None


def _takes(store: Store, git: Git, view: BranchView, version: RefVersion, now: datetime, tasks: _Tasks) -> bool:
    """A live claim, a completion on another branch, or a tombstone that still holds (not voided by a reopening).

    A tombstone is judged with the version of its task being planned against (`tasks`): the integration
    branch's for `view`, the work tree's for `list`.
    """
    from gtask.gitstate.tombstones import tombstone_is_void

    if version.live_claim(now):
        return True
    if version.task is None or version.task.status != "done":
        return False
    if not version.ref.startswith("done@"):
        return True
    return not tombstone_is_void(store, git, version.task_id, version.commit, view,
                                 planned=lambda task_id: tasks.planned(store, task_id))


def _handoff(store: Store, git: Git, head: str | None, version: RefVersion, tasks: _Tasks,
             view: BranchView) -> list[str]:
    """The unfinished prerequisites a handoff kept on a lease ref adds, while that handoff is not in HEAD."""

    def find(task_id: str) -> Task | None:
        known = tasks.get(task_id)
        if known is not None:
            return known
        try:
            return store.get(task_id)
        except GtaskError:
            return None  # not here (yet), or broken: not finished here

    task = version.task
    if not version.ref.startswith("lease@") or task is None or task.status == "in_progress":
        return []
    here = tasks.get(version.task_id)
    if here is None:
        return []
    present = {d.lower() for d in here.depends_on}
    added = [d for d in task.depends_on if d.lower() not in present]
    if not added or (head and git.is_ancestor(version.commit, head)):
        return []  # nothing new, or the handoff is merged: the work tree says it all
    def finished(text: str) -> bool:
        ref = Ref.parse(text)
        if not ref.is_local(here.project):
            return False
        local = find(ref.id)
        if local is not None and local.is_finished:
            return True
        return any(v.task is not None and v.task.is_finished for v in view.of(ref.id))

    return [d for d in added if not finished(d)]


def refine(state: str, task_id: str, evidence: Evidence) -> str:
    """Apply the evidence beyond the work tree to a task's work-tree state (the precedence of design §2)."""
    key = task_id.lower()
    if state == "ready" and key in evidence.handoffs:
        state = "waiting"
    if state in TAKEN_STATES and key in evidence.taken:
        return "claimed"
    if state == "ready" and key in evidence.gates:
        return "waiting"
    return state


def resolve(store: Store, tasks: dict[str, Task], evidence: Evidence, now: datetime | None = None) -> dict[str, str]:
    """Every task's derived state: the work tree's, refined by the evidence."""
    base = local_states(tasks, store.project, now or now_utc())
    return {task_id: refine(state, task_id, evidence) for task_id, state in base.items()}


def states(store: Store, tasks: dict[str, Task] | None = None, git: Git | None = None) -> dict[str, str]:
    """The derived state of every task of the store (or of these tasks), with all the evidence git has."""
    tasks = store.load().tasks if tasks is None else tasks
    return resolve(store, tasks, gather(store, git, tasks) if git is not None else evidence_for(store, tasks))


def evidence_for(store: Store, tasks: dict[str, Task]) -> Evidence:
    """`gather` with the store's repository; no git process at all when git cannot change a state."""
    if not can_add_evidence(store):
        return Evidence()
    git, head = repository_at_head(store)
    return gather(store, git, tasks, head=head)


def state_of(store: Store, task: Task, evidence: Evidence) -> str:
    """One task's derived state, reading only its dependencies' files."""
    return refine(store.state_of(task), task.id, evidence)


def graph_inputs(store: Store, tasks: dict[str, Task],
                 evidence: Evidence) -> tuple[list[Task], set[Node], dict[Node, list[str]]]:
    """What TaskGraph needs to derive the same states: tasks (handoff prerequisites added), taken and held nodes."""
    listed = [replace(t, depends_on=[*t.depends_on, *evidence.handoffs[t.id.lower()]])
              if t.id.lower() in evidence.handoffs else t for t in tasks.values()]
    taken = {(store.project, t.id) for t in tasks.values() if t.id.lower() in evidence.taken}
    held = {(store.project, t.id): evidence.gates[t.id.lower()] for t in tasks.values()
            if t.id.lower() in evidence.gates}
    return listed, taken, held


def can_add_evidence(store: Store) -> bool:
    """Whether git could change any state: another branch or lease ref exists, or the integration branch's
    config orders milestones (a gate may hold a task back; never the work tree's config, design §2).

    Read from git's own files and a record kept by the integration branch's commit (no git process when
    warm), so a one-branch repository's `show` needs no git at all.
    """
    from gtask.gitio import gitfiles

    git_dir = None if store.is_plain_folder else gitfiles.find_git_dir(store.tasks_dir)
    if git_dir is None:
        return False
    if gitfiles.has_other_refs(git_dir):
        return True
    from gtask.gitstate.holds import may_hold

    return may_hold(store)


def repository(store: Store) -> Git | None:
    """The store's git repository with at least one commit, or None (no git, a plain folder, no commits)."""
    return repository_at_head(store)[0]


def repository_at_head(store: Store) -> tuple[Git | None, str | None]:
    """`repository` and the HEAD commit it was checked with, so that callers need not ask git again."""
    from gtask.errors import GitError

    try:
        git = store.repository()
    except GitError:
        return None, None  # no git installed: the files alone
    head = git.head_commit() if git is not None else None
    return (git, head) if head else (None, None)
