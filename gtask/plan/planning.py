"""Planning over one store: ready, next, blocked, order (the graph does the work)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from gtask.core.graph import Node, Score, TaskGraph
from gtask.core.model import Task, now_utc
from gtask.errors import Problem
from gtask.store.cache import first_added
from gtask.store.store import Store

if TYPE_CHECKING:
    from gtask.gitio.git import Git
    from gtask.gitstate.branches import BranchView
    from gtask.gitstate.resolver import Evidence
    from gtask.plan.ranking_cache import RankingKey
    from gtask.plan.workspace import Workspace
    from gtask.store.loading import Loaded


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


class Plan:
    """Tasks as a graph, with the problems of files that could not be read.

    `project` is the home project (one store), or None for a whole workspace. (A plain class, not a
    dataclass: every command that plans builds this class, and a dataclass costs a compile at import.)
    """

    def __init__(self, graph: TaskGraph | Callable[[], TaskGraph], problems: list[Problem],
                 project: str | None = None, store: Store | None = None, view: BranchView | None = None,
                 agent_lanes: dict[str, frozenset[str]] | None = None, evidence: Evidence | None = None,
                 loaded: Loaded | None = None, ranking_key: RankingKey | None = None,
                 ranking: list[tuple[Task, Score]] | None = None) -> None:
        self._graph = graph  # a graph, or how to build it when first needed
        self.problems = problems
        self.project = project
        self.store = store
        self.view = view  # when read from git
        self.agent_lanes = agent_lanes if agent_lanes is not None else {}  # project -> lanes agents may take
        self.evidence = evidence  # what git says beyond the work tree (gitstate.resolver)
        self.loaded = loaded  # one store's tasks (read when first asked for: a remembered ranking does not)
        self.ranking_key = ranking_key  # how the ranking of ready tasks is remembered (ranking_cache)
        self._ranking = ranking

    @property
    def tasks(self) -> dict[str, Task]:
        """One store's tasks by ID."""
        return self.loaded.tasks if self.loaded is not None else {}

    @property
    def graph(self) -> TaskGraph:
        """The task graph (a warm `ready` or `next` whose ranking is remembered never builds it)."""
        if not isinstance(self._graph, TaskGraph):
            self._graph = self._graph()
        return self._graph

    @classmethod
    def of(cls, store: Store, git: Git | None = None) -> Plan:
        """Load the store and build its graph, with age and claims on other branches from git."""
        from gtask.gitstate import resolver
        from gtask.plan.ranking_cache import RankingKey, whole_of

        loaded = store.load()
        if git is None and not resolver.can_add_evidence(store):
            evidence = resolver.Evidence()  # one branch, no milestones: git cannot change a state, and is not run
        else:
            git, head = (git, None) if git is not None else resolver.repository_at_head(store)
            evidence = resolver.gather(store, git, lambda: loaded.tasks, head=head)  # read only if needed

        def build() -> TaskGraph:  # only when the ranking is not remembered, or for blocked, order, graph
            added = _remembered_added(store) if git is None else None
            if added is None:
                repo = git or resolver.repository(store)
                added = _added_times(store, repo) if repo else {}
            tasks, claimed, held = resolver.graph_inputs(store, loaded.tasks, evidence)
            return TaskGraph(tasks, added=added, claimed_elsewhere=claimed, held=held)

        key = RankingKey.of(store, loaded.generation, evidence)
        return cls(build, loaded.problems, store.project, store, evidence.view,
                   {store.project: frozenset(store.config.agent_lanes)}, evidence, loaded, key,
                   key.read(now_utc(), whole_of(loaded)) if key else None)

    @classmethod
    def of_workspace(cls, workspace: Workspace) -> Plan:
        """One graph over every repository of a workspace; `<project>:<id>` edges join them."""
        readable = [repo for repo in workspace.repos if repo.error is None]  # each has its project
        lanes = {cast(str, repo.project): frozenset(repo.agent_lanes) for repo in readable}
        added: dict[Node, float] = {}
        for repo in readable:  # age counts as in one repository: when each task file was first committed
            added.update(_repo_added(repo.path, workspace.use_cache))
        return cls(workspace.graph(added), workspace.problems + workspace.repo_errors(),  # the resolver's evidence
                   None, agent_lanes=lanes)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def ranked_ready(self, filters: Filters | None = None) -> list[tuple[Task, Score]]:
        """Ready tasks that pass the filters, best first, each with its score."""
        filters = filters or Filters()
        if self.project is not None:  # one store: rank every ready task once (or read it back), then filter
            return [(task, score) for task, score in self._home_ranking() if filters.accept(task)]
        graph = self.graph
        nodes = [n for n, task in graph.tasks.items() if filters.accept(task) and graph.state(n) == "ready"]
        scores = graph.scores(nodes)
        nodes.sort(key=lambda n: scores[n].sort_key(n))
        return [(graph.tasks[n], scores[n]) for n in nodes]

    def _home_ranking(self) -> list[tuple[Task, Score]]:
        """Every ready task of the home project, best first: remembered, or ranked and remembered."""
        if self._ranking is None:
            graph = self.graph
            nodes = [n for n in graph.tasks if n[0] == self.project and graph.state(n) == "ready"]
            scores = graph.scores(nodes)
            nodes.sort(key=lambda n: scores[n].sort_key(n))
            self._ranking = [(self.tasks[n[1]], scores[n]) for n in nodes]
            if self.ranking_key is not None:
                self.ranking_key.write(self._ranking, self.tasks, graph.now)
        return self._ranking

    def best(self, filters: Filters | None = None, agent: str | None = None) -> tuple[Task, Score] | None:
        ranked = spread(self.ranked_ready(filters), agent, fleet_of(self) if agent else ())
        return ranked[0] if ranked else None

    def label(self, node: Node) -> str:
        return node[1] if node[0] == self.project else f"{node[0]}:{node[1]}"  # as TaskGraph.label


SPREAD_WINDOW = 32  # only the head of the ranking is ever tried; hashing the rest would be wasted work
FLEET_LIMIT = 64  # agents matched to the first run of ties (more would only cost hashing)


def spread(ranked: list[tuple[Task, Score]], agent: str | None,
           fleet: Collection[str] = ()) -> list[tuple[Task, Score]]:
    """Order each run of equally good candidates (same priority and unblocks counts) by this agent's preference.

    Rendezvous hashing of (agent, task): agents racing for the same ties each reach for a different task, and
    one agent always prefers the same one. With the `fleet` (the other agents this clone sees holding claims),
    the first run of ties is matched to the agents (highest hash first, one task each), and this agent's match
    goes first: agents that see the same fleet and tasks never reach for the same one. A better task still
    comes first; without an agent nothing moves.
    """
    if not agent or len(ranked) < 2:
        return ranked

    def tie(item: tuple[Task, Score]) -> tuple[int, int, int]:
        return item[1].priority, -item[1].unblocks_total, -item[1].unblocks_direct

    def key(item: tuple[Task, Score]) -> tuple[tuple[int, int, int], bytes]:
        return tie(item), bytes(255 - b for b in _weight(agent, item[0]))

    head = sorted(ranked[:SPREAD_WINDOW], key=key)
    first = [item for item in head if tie(item) == tie(head[0])]
    mine = _match(agent, fleet, [task for task, _ in first]) if len(first) > 1 and fleet else None
    if mine is not None:
        head.insert(0, head.pop(next(n for n, (task, _) in enumerate(head) if task is mine)))
    return head + ranked[SPREAD_WINDOW:]


def _weight(agent: str, task: Task) -> bytes:
    import hashlib

    return hashlib.blake2b(f"{agent}\0{task.project}:{task.id}".encode(), digest_size=8).digest()


def _match(agent: str, fleet: Collection[str], tasks: list[Task]) -> Task | None:
    """The task this agent gets when the fleet's agents take one each, highest (agent, task) hash first."""
    agents = [*sorted(set(fleet) - {agent})[:FLEET_LIMIT - 1], agent]
    pairs = sorted(((_weight(a, t), a, n) for a in agents for n, t in enumerate(tasks)), reverse=True)
    taken_agents: set[str] = set()
    taken_tasks: set[int] = set()
    for _, who, n in pairs:
        if who in taken_agents or n in taken_tasks:
            continue
        if who == agent:
            return tasks[n]
        taken_agents.add(who)
        taken_tasks.add(n)
        if len(taken_tasks) == len(tasks):
            return None  # more agents than ties: this one keeps its own preference
    return None


def fleet_of(plan: Plan) -> set[str]:
    """The agents holding a live claim anywhere this clone can see (leases fetched from the remote, branches)."""
    from gtask.core.model import now_utc

    now = now_utc()
    versions = plan.view.versions.values() if plan.view else []
    return {v.task.claimed_by for vs in versions for v in vs if v.task and v.task.claimed_by and v.live_claim(now)}


def _repo_added(path: Path, use_cache: bool = True) -> dict[Node, float]:
    """The first-commit times of one workspace repository's task files (none when it cannot be read)."""
    from gtask.errors import GtaskError
    from gtask.gitstate.resolver import repository

    try:
        store = Store.open(path, use_cache=use_cache)
        cached = _remembered_added(store)
        if cached is not None:  # a warm workspace view starts no git process for ages
            return cached
        git = repository(store)
        return _added_times(store, git) if git else {}
    except GtaskError:
        return {}


def _remembered_added(store: Store) -> dict[Node, float] | None:
    """The first-commit times remembered for the current HEAD, read without a git process; None when not known."""
    from gtask.gitio import gitfiles
    from gtask.store.cache import first_added_cached

    if store.is_plain_folder:
        return None
    top, git_dir = gitfiles.find_top(store.tasks_dir), gitfiles.find_git_dir(store.tasks_dir)
    if top is None or git_dir is None or store.tasks_dir.is_symlink():
        return None
    try:
        folder = store.tasks_dir.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return None
    cached = first_added_cached(git_dir, folder, store.use_cache)
    if cached is None:
        return None
    return {(store.project, name[:-3]): stamp for name, stamp in cached.items() if name.endswith(".md")}


def _added_times(store: Store, git: Git) -> dict[Node, float]:
    """When each task file was first committed: the age part of a task's score."""
    if store.tasks_dir.is_symlink():
        return {}  # a linked task folder is refused; its files are not the repository's
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    return {(store.project, name[:-3]): stamp for name, stamp in first_added(git, folder, store.use_cache).items()
            if name.endswith(".md")}
