"""`gtask view`: every repository's tasks in one view, grouped by state, with what blocks what."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gtask.core.graph import Node, TaskGraph
from gtask.plan.workspace import Repo, Workspace

STATE_ORDER = ("claimed", "stale", "in_progress", "ready", "waiting", "blocked", "proposed", "done", "canceled")


@dataclass
class RepoView:
    repo: Repo
    by_state: dict[str, list[Node]] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {state: len(nodes) for state, nodes in self.by_state.items()}


@dataclass
class Overview:
    graph: TaskGraph
    repos: list[RepoView]
    across: list[tuple[Node, Node]]  # (waiting task, unfinished dependency in another repository)


def build(workspace: Workspace, added: dict[Node, float] | None = None) -> Overview:
    """Group every task by repository and state, as the resolver derives them; list dependencies across repositories.

    `added` (first-commit times) is only needed to rank the ready tasks (`ranked`).
    """
    graph = workspace.graph(added)  # claims elsewhere, handoffs and gates, as in `list` and `ready`
    views = []
    for repo in workspace.repos:
        view = RepoView(repo)
        for task in sorted(repo.tasks, key=lambda t: (t.priority, t.id)) if repo.error is None else []:
            node = (task.project, task.id)
            view.by_state.setdefault(graph.state(node), []).append(node)
        view.by_state = {s: view.by_state[s] for s in sorted(view.by_state, key=_state_rank)}
        views.append(view)
    across = sorted(
        (node, dep) for node in graph.tasks for dep in graph.dependencies(node)
        if dep[0] != node[0] and not graph.is_finished(dep) and not graph.is_finished(node)
    )
    return Overview(graph, views, across)


def ages(workspace: Workspace) -> dict[Node, float]:
    """When each task file was first committed, per repository: the age part of the ranking (as `next`)."""
    from gtask.gitio import gitfiles
    from gtask.plan.planning import _repo_added  # one repository's ages through git (remembered after)
    from gtask.store.cache import first_added_cached

    added: dict[Node, float] = {}
    for repo in workspace.repos:
        if repo.error is not None or repo.project is None:
            continue
        tasks_dir = repo.path / ".tasks"
        top, git_dir = gitfiles.find_top(repo.path), gitfiles.find_git_dir(repo.path)
        cached = None
        if top is not None and git_dir is not None and tasks_dir.is_dir() and not tasks_dir.is_symlink():
            cached = first_added_cached(git_dir, tasks_dir.resolve().relative_to(top.resolve()).as_posix(),
                                        workspace.use_cache)
        if cached is None:  # not remembered for this HEAD: ask git once (and remember)
            added.update(_repo_added(repo.path, workspace.use_cache))
            continue
        added.update({(repo.project, name[:-3]): stamp for name, stamp in cached.items() if name.endswith(".md")})
    return added


def ranked(overview: Overview) -> list[Node]:
    """Every ready task in `next` order (the graph needs `added` for the age tie-break)."""
    from gtask.plan.planning import Plan

    return [(task.project, task.id) for task, _ in Plan(overview.graph, []).ranked_ready()]


def _state_rank(state: str) -> int:
    return STATE_ORDER.index(state) if state in STATE_ORDER else len(STATE_ORDER)


def to_json(overview: Overview) -> dict[str, Any]:
    graph = overview.graph
    repos = []
    for view in overview.repos:
        tasks = [graph.tasks[n].to_json(state) for state, nodes in view.by_state.items() for n in nodes]
        repos.append({**view.repo.to_json(), "counts": view.counts, "tasks": tasks})
    return {
        "repos": repos,
        "across": [{"task": f"{n[0]}:{n[1]}", "waits_on": f"{d[0]}:{d[1]}", "state": graph.state(d)}
                   for n, d in overview.across],
    }


# -- narrowing and the summary (the default of `gtask view`) -------------------

SUMMARY_TOP = 10  # ready tasks and claims shown in the summary
NEEDS_TOP = 4  # items per kind of "needs a person" shown in the summary


def narrow(overview: Overview, states: tuple[str, ...] = (), lane: str | None = None, label: str | None = None,
           repo_glob: str | None = None) -> Overview:
    """Only the repositories whose project or folder matches the glob, and the tasks that pass the filters."""
    from fnmatch import fnmatchcase

    graph = overview.graph
    views = []
    for view in overview.repos:
        names = [view.repo.project or "", view.repo.path.name]
        if repo_glob and not any(fnmatchcase(name, repo_glob) for name in names):
            continue
        kept = RepoView(view.repo)
        for state, nodes in view.by_state.items():
            if states and state not in states:
                continue
            chosen = [n for n in nodes if (lane is None or graph.tasks[n].lane == lane)
                      and (label is None or label in graph.tasks[n].labels)]
            if chosen:
                kept.by_state[state] = chosen
        views.append(kept)
    shown = {n for v in views for nodes in v.by_state.values() for n in nodes}
    return Overview(graph, views, [(n, d) for n, d in overview.across if n in shown])


@dataclass
class Summary:
    """What fits a screen: a line per repository, what needs a person, what is next, what is in flight."""

    overview: Overview
    proposals: list[Node]
    stale: list[Node]
    blocked: list[Node]
    across: list[tuple[Node, Node]]
    ready: list[Node]  # in `next` order
    claims: list[Node]

    def to_json(self) -> dict[str, Any]:
        def refs(nodes: list[Node]) -> list[str]:
            return [f"{p}:{t}" for p, t in nodes]

        return {
            "repos": [{**v.repo.to_json(), "counts": v.counts} for v in self.overview.repos],
            "needs_a_person": {"proposals": refs(self.proposals), "stale_leases": refs(self.stale),
                               "blocked": refs(self.blocked),
                               "across": [{"task": f"{n[0]}:{n[1]}", "waits_on": f"{d[0]}:{d[1]}"}
                                          for n, d in self.across]},
            "ready": refs(self.ready), "claims": refs(self.claims),
        }


def summarize(overview: Overview, ranked: list[Node]) -> Summary:
    """The summary of a (narrowed) overview; `ranked` is every ready task in `next` order."""
    def of(state: str) -> list[Node]:
        return [n for v in overview.repos for n in v.by_state.get(state, [])]

    ready = set(of("ready"))
    order = [n for n in ranked if n in ready] + sorted(ready - set(ranked))
    return Summary(overview, of("proposed"), of("stale"), of("blocked"), overview.across, order,
                   of("claimed") + of("in_progress"))
