"""Planning over one store: ready, next, blocked, order (the graph does the work)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from gtask.core.graph import Node, Score, TaskGraph
from gtask.core.model import Task
from gtask.errors import Problem
from gtask.store.store import Store

if TYPE_CHECKING:
    from gtask.gitio.git import Git
    from gtask.gitstate.branches import BranchView
    from gtask.plan.workspace import Workspace


@dataclass
class Filters:
    """Narrow candidates to a lane, a label or a milestone; for an agent, to its lanes.

    `agent_lanes` maps each project to the lanes agents may take without a
    person (config `agent_lanes`); a task without a lane may be taken by anyone.
    """

    lane: str | None = None
    label: str | None = None
    milestone: str | None = None
    agent_lanes: dict[str, frozenset[str]] | None = None

    def accept(self, task: Task) -> bool:
        return ((self.lane is None or task.lane == self.lane)
                and (self.label is None or self.label in task.labels)
                and (self.milestone is None or task.milestone == self.milestone)
                and (self.agent_lanes is None or not task.lane
                     or task.lane in self.agent_lanes.get(task.project, frozenset())))


@dataclass
class Plan:
    """Tasks as a graph, with the problems of files that could not be read.

    `project` is the home project (one store), or None for a whole workspace.
    """

    graph: TaskGraph
    problems: list[Problem]
    project: str | None = None
    store: Store | None = None
    view: object = None  # branches.BranchView when read from git
    agent_lanes: dict[str, frozenset[str]] = field(default_factory=dict)  # project -> lanes agents may take

    @classmethod
    def of(cls, store: Store, git: Git | None = None) -> Plan:
        """Load the store and build its graph, with age and claims on other branches from git."""
        loaded = store.load()
        git = git or _git(store)
        added = _added_times(store, git) if git else {}
        view = None
        claimed: set[Node] = set()
        held: dict[Node, list[str]] = {}
        if git is not None and not store.is_plain_folder:
            from gtask.gitstate.branches import scan
            from gtask.gitstate.holds import holds_for

            view = scan(store, git)
            claimed = _taken_elsewhere(store, git, view, loaded.tasks)
            held = holds_for(store, git, view.integration_commit, list(loaded.tasks.values()))
        graph = TaskGraph(loaded.tasks.values(), added=added, claimed_elsewhere=claimed, held=held)
        return cls(graph, loaded.problems, store.project, store, view,
                   {store.project: frozenset(store.config.agent_lanes)})

    @classmethod
    def of_workspace(cls, workspace: Workspace) -> Plan:
        """One graph over every repository of a workspace; `<project>:<id>` edges join them."""
        readable = [repo for repo in workspace.repos if repo.error is None]  # each has its project
        lanes = {cast(str, repo.project): frozenset(repo.agent_lanes) for repo in readable}
        held = {(cast(str, repo.project), task_id): gates for repo in readable for task_id, gates in repo.held.items()}
        return cls(TaskGraph(workspace.tasks, held=held), workspace.problems + workspace.repo_errors(), None,
                   agent_lanes=lanes)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def ranked_ready(self, filters: Filters | None = None) -> list[tuple[Task, Score]]:
        """Ready tasks that pass the filters, best first, each with its score."""
        filters = filters or Filters()
        graph = self.graph
        nodes = [n for n, task in graph.tasks.items()
                 if (self.project is None or n[0] == self.project) and filters.accept(task)
                 and graph.state(n) == "ready"]
        scores = graph.scores(nodes)
        nodes.sort(key=lambda n: scores[n].sort_key(n))
        return [(graph.tasks[n], scores[n]) for n in nodes]

    def best(self, filters: Filters | None = None) -> tuple[Task, Score] | None:
        ranked = self.ranked_ready(filters)
        return ranked[0] if ranked else None

    def label(self, node: Node) -> str:
        return self.graph.label(node, self.project)


def _git(store: Store) -> Git | None:
    from gtask.errors import GitError

    try:
        git = store.repository()
    except GitError:
        return None  # no git installed: plan from the files alone
    return git if git is not None and git.head_commit() else None


def _added_times(store: Store, git: Git) -> dict[Node, float]:
    """When each task file was first committed: the age part of a task's score."""
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    return {(store.project, name[:-3]): stamp for name, stamp in git.first_added(folder).items()
            if name.endswith(".md")}


def _taken_elsewhere(store: Store, git: Git, view: BranchView, tasks: dict[str, Task]) -> set[Node]:
    """Tasks with a live claim or a completion on another branch, or a live lease or tombstone on a remote.

    A tombstone of a task that landed and was reopened since does not count.
    """
    from gtask.core.model import now_utc
    from gtask.gitstate.tombstones import tombstone_is_void

    now = now_utc()
    taken = set()
    for versions in view.versions.values():
        task_id = versions[0].task_id
        for version in versions:
            done = version.task is not None and version.task.status == "done"
            elsewhere = done and not version.ref.startswith("done@")
            tombstone = done and task_id in tasks and not tombstone_is_void(store, git, task_id, version.commit, view)
            if version.live_claim(now) or elsewhere or tombstone:
                taken.add((store.project, task_id))
    return taken
