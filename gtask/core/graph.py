"""The dependency graph: derived states, ready, next, blocked, order, cycles.

Nodes are `(project, id)` so that one graph can span many repositories. An edge
runs from a dependency to the task that depends on it, the direction work flows.
A reference that resolves to no task stays in the graph as a placeholder node,
`missing` (an unknown ID of a project the graph holds) or `external` (another
project's task that this graph does not hold).

States, `ready`, `next` and `blocked` walk plain adjacency dicts; the networkx
graph (`.g`) is built on first use by the algorithms that need it (order,
cycles, drawing), so the hottest commands do not pay for importing networkx.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gtask.core.ids import Ref
from gtask.core.model import Task, now_utc, own_state

if TYPE_CHECKING:
    import networkx as nx

Node = tuple[str, str]


@dataclass(frozen=True)
class Score:
    """Why a ready task ranks where it does: lower priority first, then more unblocked, then older."""

    priority: int
    unblocks_direct: int
    unblocks_total: int
    added: float | None

    def sort_key(self, node: Node) -> tuple[int, int, int, float, Node]:
        return (self.priority, -self.unblocks_total, -self.unblocks_direct, self.added or float("inf"), node)

    def to_json(self) -> dict[str, Any]:
        return {"priority": self.priority, "unblocks_direct": self.unblocks_direct,
                "unblocks_total": self.unblocks_total, "added": self.added}


class TaskGraph:
    """Tasks of one or many projects and the `depends_on` edges between them."""

    def __init__(self, tasks: Iterable[Task], now: datetime | None = None,
                 added: dict[Node, float] | None = None, claimed_elsewhere: set[Node] | None = None,
                 held: dict[Node, list[str]] | None = None) -> None:
        self.now = now or now_utc()
        self.added = added or {}
        self.claimed_elsewhere = claimed_elsewhere or set()
        self.held = held or {}  # node -> the gates (`gate:<milestone>`) that hold it back
        self.tasks: dict[Node, Task] = {}
        self._by_lower: dict[tuple[str, str], Node] = {}
        for task in tasks:
            node = (task.project, task.id)
            self.tasks[node] = task
            self._by_lower[(task.project, task.id.lower())] = node
        self.projects = {project for project, _ in self.tasks}
        self.pred: dict[Node, dict[Node, None]] = {node: {} for node in self.tasks}  # ordered sets
        self.succ: dict[Node, dict[Node, None]] = {node: {} for node in self.tasks}
        self.placeholders: dict[Node, str] = {}  # node -> "missing" or "external"
        for node, task in self.tasks.items():
            for text in task.depends_on:
                dep = self.resolve(node[0], text)
                self.pred[node][dep] = None
                self.succ[dep][node] = None
        self._states: dict[Node, str] = {}
        self._below: dict[Node, int] | None = None
        self._nx: nx.DiGraph | None = None

    @property
    def g(self) -> nx.DiGraph:
        """The same graph as a networkx DiGraph (built on first use), with `missing`/`external` node attributes."""
        if self._nx is None:
            import networkx as nx

            graph = nx.DiGraph()
            graph.add_nodes_from(self.tasks)
            for node, kind in self.placeholders.items():
                graph.add_node(node, missing=kind == "missing", external=kind == "external")
            graph.add_edges_from((dep, node) for node, deps in self.pred.items() for dep in deps)
            self._nx = graph
        return self._nx

    def nodes(self) -> list[Node]:
        return list(self.pred)

    # -- nodes -----------------------------------------------------------

    def resolve(self, project: str, text: str) -> Node:
        """Turn a reference written in `project` into a node; unknown ones become placeholder nodes."""
        ref = Ref.parse(text)
        target = ref.project or project
        found = self._by_lower.get((target, ref.id.lower()))
        if found:
            return found
        node = (target, ref.id)
        if node not in self.pred:
            self.placeholders[node] = "missing" if target in self.projects else "external"
            self.pred[node], self.succ[node] = {}, {}
            self._nx = None
        return node

    def label(self, node: Node, home: str | None = None) -> str:
        """Show a node as `id` inside its home project, else `project:id`."""
        return node[1] if node[0] == home else f"{node[0]}:{node[1]}"

    def dependencies(self, node: Node) -> list[Node]:
        return sorted(self.pred[node])

    def dependents(self, node: Node) -> list[Node]:
        return sorted(self.succ[node])

    # -- states ----------------------------------------------------------

    def is_finished(self, node: Node) -> bool:
        task = self.tasks.get(node)
        return task is not None and task.is_finished

    def state(self, node: Node) -> str:
        """Return the derived state of design §2 (`missing`/`external` for placeholder nodes)."""
        if node not in self._states:
            task = self.tasks.get(node)
            if task is None:
                self._states[node] = self.placeholders[node]
            else:
                deps_done = all(self.is_finished(dep) for dep in self.pred[node])
                state = own_state(task, deps_done, self.now)
                if state in ("ready", "waiting") and node in self.claimed_elsewhere:
                    state = "claimed"  # a live claim on another branch (design §2: "not claimed on any ref")
                elif state == "ready" and node in self.held:
                    state = "waiting"  # its milestone comes after one whose gate has not passed
                self._states[node] = state
        return self._states[node]

    def unfinished_deps(self, node: Node) -> list[Node]:
        return [dep for dep in self.dependencies(node) if not self.is_finished(dep)]

    # -- planning --------------------------------------------------------

    def scores(self, nodes: Iterable[Node]) -> dict[Node, Score]:
        """Score nodes by priority and by how much unfinished work they unblock."""
        below = self._unblocked_sets()
        succ = self.succ
        result = {}
        for node in nodes:
            task = self.tasks[node]
            direct = sum(1 for child in succ[node] if not self.is_finished(child))
            total = below.get(node, direct)
            result[node] = Score(task.priority, direct, total, self.added.get(node))
        return result

    def _unblocked_sets(self) -> dict[Node, int]:
        """For each unfinished node, how many unfinished nodes are downstream of it.

        Each node's downstream set (as bits) is the union of its children's; a child's set is dropped once every
        parent has taken it, so only the sets on the frontier are held (all of them at once grew as n²: 122 MB
        at 100,000 tasks).
        """
        if self._below is not None:
            return self._below
        open_nodes = [n for n in self.pred if not self.is_finished(n)]
        index = {node: i for i, node in enumerate(open_nodes)}
        succ = self.succ
        open_succ = {n: [c for c in succ[n] if c in index] for n in open_nodes}
        pending = {n: len(open_succ[n]) for n in open_nodes}
        takers = {n: sum(1 for p in self.pred[n] if p in index) for n in open_nodes}  # parents yet to take n's set
        pred = self.pred
        stack = [n for n, count in pending.items() if count == 0]
        sets: dict[Node, int] = {}
        below: dict[Node, int] = {}
        while stack:  # leaves first: each node's set is the union of its children's
            node = stack.pop()
            bits = 0
            for child in open_succ[node]:
                bits |= sets[child] | (1 << index[child])
                takers[child] -= 1
                if takers[child] == 0:
                    del sets[child]
            below[node] = bits.bit_count()
            if takers[node]:
                sets[node] = bits
            for parent in pred[node]:
                if parent in pending:
                    pending[parent] -= 1
                    if pending[parent] == 0:
                        stack.append(parent)
        self._below = below  # nodes on a cycle are absent: they fall back to direct counts
        return below

    def ready(self, project: str | None = None) -> list[Node]:
        """Ready tasks, best first."""
        nodes = [n for n in self.tasks if (project is None or n[0] == project) and self.state(n) == "ready"]
        scores = self.scores(nodes)
        return sorted(nodes, key=lambda n: scores[n].sort_key(n))

    def blocked(self, project: str | None = None) -> list[tuple[Node, list[tuple[Node, int]]]]:
        """Each waiting task with the unfinished tasks it waits on, nearest first."""
        result = []
        for node in sorted(self.tasks):
            if self.state(node) != "waiting" or (project is not None and node[0] != project):
                continue
            result.append((node, self.waits_on(node)))
        return result

    def waits_on(self, node: Node) -> list[tuple[Node, int]]:
        """Every unfinished task upstream of `node`, with its distance, nearest first."""
        found: dict[Node, int] = {}
        frontier = [node]
        distance = 0
        while frontier:
            distance += 1
            next_frontier = []
            for current in frontier:
                for dep in self.pred[current]:
                    if dep not in found and dep != node and not self.is_finished(dep):
                        found[dep] = distance
                        next_frontier.append(dep)
            frontier = next_frontier
        return sorted(found.items(), key=lambda item: (item[1], item[0]))

    def cycles(self) -> list[list[Node]]:
        """One cycle per strongly connected tangle, each closing on its first node."""
        import networkx as nx

        result = []
        for component in nx.strongly_connected_components(self.g):
            if len(component) == 1:
                (only,) = component
                if not self.g.has_edge(only, only):
                    continue
            start = min(component)
            edges = nx.find_cycle(self.g.subgraph(component), source=start)
            # edges run dependency -> dependent; show "depends on" order instead
            path = [edges[0][0]] + [v for _, v in edges]
            result.append(list(reversed(path)))
        return sorted(result)

    def order(self) -> tuple[list[list[Node]], list[Node]]:
        """Waves of unfinished tasks that can run in parallel, and the critical path.

        Raise `nx.NetworkXUnfeasible` when the open work contains a cycle.
        """
        import networkx as nx

        open_nodes = [n for n in self.tasks if not self.is_finished(n)]
        sub = self.g.subgraph(open_nodes)
        waves = [sorted(wave) for wave in nx.topological_generations(sub)]
        critical = nx.dag_longest_path(sub) if open_nodes else []
        return waves, critical


def cycle_through(tasks: dict[str, Task], task_id: str, new_deps: list[str], project: str) -> list[str] | None:
    """Return the cycle (as IDs, "depends on" order) that edges task -> new_deps would close, if any."""
    import networkx as nx

    graph = TaskGraph(tasks.values())
    source = graph._by_lower.get((project, task_id.lower()), (project, task_id))
    for dep in new_deps:
        target = graph.resolve(project, dep)
        if target == source:
            return [task_id, task_id]
        if source in graph.g and nx.has_path(graph.g, source, target):
            path = nx.shortest_path(graph.g, source, target)  # source is upstream of dep
            return [task_id] + [n[1] for n in reversed(path)]
    return None
