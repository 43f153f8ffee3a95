"""Planning over one store: ready, next, blocked, order (the graph does the work)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from gtask.core.graph import Node, Score, TaskGraph
from gtask.core.model import Task
from gtask.errors import Problem
from gtask.store.cache import first_added
from gtask.store.store import Store

if TYPE_CHECKING:
    from gtask.gitio.git import Git
    from gtask.gitstate.branches import BranchView
    from gtask.gitstate.resolver import Evidence
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
    view: BranchView | None = None  # when read from git
    agent_lanes: dict[str, frozenset[str]] = field(default_factory=dict)  # project -> lanes agents may take
    evidence: Evidence | None = None  # what git says beyond the work tree (gitstate.resolver)

    @classmethod
    def of(cls, store: Store, git: Git | None = None) -> Plan:
        """Load the store and build its graph, with age and claims on other branches from git."""
        from gtask.gitstate import resolver

        loaded = store.load()
        git = git or resolver.repository(store)
        added = _added_times(store, git) if git else {}
        evidence = resolver.gather(store, git, loaded.tasks)
        tasks, claimed, held = resolver.graph_inputs(store, loaded.tasks, evidence)
        graph = TaskGraph(tasks, added=added, claimed_elsewhere=claimed, held=held)
        view = evidence.view
        return cls(graph, loaded.problems, store.project, store, view,
                   {store.project: frozenset(store.config.agent_lanes)}, evidence)

    @classmethod
    def of_workspace(cls, workspace: Workspace) -> Plan:
        """One graph over every repository of a workspace; `<project>:<id>` edges join them."""
        readable = [repo for repo in workspace.repos if repo.error is None]  # each has its project
        lanes = {cast(str, repo.project): frozenset(repo.agent_lanes) for repo in readable}
        held = {(cast(str, repo.project), task_id): gates for repo in readable for task_id, gates in repo.held.items()}
        added: dict[Node, float] = {}
        for repo in readable:  # age counts as in one repository: when each task file was first committed
            added.update(_repo_added(repo.path))
        return cls(TaskGraph(workspace.tasks, added=added, held=held), workspace.problems + workspace.repo_errors(),
                   None, agent_lanes=lanes)

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

    def best(self, filters: Filters | None = None, agent: str | None = None) -> tuple[Task, Score] | None:
        ranked = spread(self.ranked_ready(filters), agent)
        return ranked[0] if ranked else None

    def label(self, node: Node) -> str:
        return self.graph.label(node, self.project)


SPREAD_WINDOW = 32  # only the head of the ranking is ever tried; hashing the rest would be wasted work


def spread(ranked: list[tuple[Task, Score]], agent: str | None) -> list[tuple[Task, Score]]:
    """Order each run of equally good candidates (same priority and unblock counts) by this agent's preference.

    Rendezvous hashing of (agent, task): agents racing for the same ties each reach for a different task, and
    one agent always prefers the same one. A better task still comes first; without an agent nothing moves.
    """
    if not agent or len(ranked) < 2:
        return ranked
    import hashlib

    def key(item: tuple[Task, Score]) -> tuple[int, int, int, bytes]:
        task, score = item
        digest = hashlib.blake2b(f"{agent}\0{task.project}:{task.id}".encode(), digest_size=8).digest()
        return (score.priority, -score.unblocks_total, -score.unblocks_direct, bytes(255 - b for b in digest))

    head = sorted(ranked[:SPREAD_WINDOW], key=key)
    return head + ranked[SPREAD_WINDOW:]


def _repo_added(path: Path) -> dict[Node, float]:
    """The first-commit times of one workspace repository's task files (none when it cannot be read)."""
    from gtask.errors import GtaskError
    from gtask.gitio import gitfiles
    from gtask.gitstate.resolver import repository
    from gtask.store.cache import first_added_cached

    try:
        store = Store.open(path)
        top, git_dir = gitfiles.find_top(store.tasks_dir), gitfiles.find_git_dir(store.tasks_dir)
        if top is not None and git_dir is not None and not store.tasks_dir.is_symlink():
            folder = store.tasks_dir.resolve().relative_to(top.resolve()).as_posix()
            cached = first_added_cached(git_dir, folder)
            if cached is not None:  # a warm workspace view starts no git process for ages
                return {(store.project, name[:-3]): stamp for name, stamp in cached.items() if name.endswith(".md")}
        git = repository(store)
        return _added_times(store, git) if git else {}
    except GtaskError:
        return {}


def _added_times(store: Store, git: Git) -> dict[Node, float]:
    """When each task file was first committed: the age part of a task's score."""
    if store.tasks_dir.is_symlink():
        return {}  # a linked task folder is refused; its files are not the repository's
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    return {(store.project, name[:-3]): stamp for name, stamp in first_added(git, folder, store.use_cache).items()
            if name.endswith(".md")}
