"""The dependency graph as an inline SVG picture: a layered layout computed here, no external tools.

Nodes sit in columns by dependency depth (the longest path from a root), so
arrows run left to right, from a dependency to the task that waits for it.
A large graph is cut to a size a person can read; `Picture.note` says what
was left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from gtask.core.graph import Node, TaskGraph
from gtask.output.graphfmt import STATE_STYLES
from gtask.output.render import html_text as _e
from gtask.output.render import safe

MAX_NODES = 250
NODE_W, NODE_H = 220, 40
GAP_X, GAP_Y = 64, 12
WAYPOINT_PITCH = 14
MARGIN = 12
LABEL_CHARS = 27
SWEEPS = 4
ALONE_PER_ROW = 5  # tasks without dependencies in the picture go in rows of this many, below the rest
MAX_SEEDS = 200  # tasks tried as the start of a picture cut from one large group
EDGE_COLOUR, CROSS_COLOUR = "#868e96", "#7048e8"


@dataclass(frozen=True)
class Picture:
    """An `<svg>` element, how many nodes it draws out of how many, and what was left out."""

    svg: str
    drawn: int
    total: int
    note: str
    states: tuple[str, ...]


def draw(graph: TaskGraph, limit: int = MAX_NODES) -> Picture:
    """Lay out and draw the graph, cut to at most `limit` nodes."""
    nodes, note = pick(graph, limit)
    depth, preds = _depths(nodes, graph.pred)
    linked = {n for n, deps in preds.items() if deps} | {d for deps in preds.values() for d in deps}
    layout = _layout([n for n in nodes if n in linked], depth, preds)
    svg = _svg(graph, layout, [n for n in nodes if n not in linked])
    states = tuple(sorted({graph.state(n) for n in nodes}, key=lambda s: list(STATE_STYLES).index(s)
                          if s in STATE_STYLES else len(STATE_STYLES)))
    return Picture(svg, len(nodes), len(graph.pred), note, states)


def pick(graph: TaskGraph, limit: int) -> tuple[list[Node], str]:
    """Every node if they fit; else open work; else whole dependency chains, most telling first."""
    every = graph.nodes()
    if len(every) <= limit:
        return sorted(every), ""
    open_nodes = [n for n in every if not graph.is_finished(n)]
    finished = len(every) - len(open_nodes)
    if len(open_nodes) <= limit:
        return sorted(open_nodes), f"Only open work is drawn: {finished} finished tasks are left out."
    chosen, cut = _chains(graph, open_nodes, limit)
    which = ("the open tasks that nothing open holds up, best first as `gtask next` ranks them, each with what it "
             "unblocks" if cut else "whole dependency chains, those across repositories and the most urgent first")
    return sorted(chosen), (
        f"Drawn: {len(chosen)} of {len(open_nodes)} open tasks: {which}. Left out: {finished} finished tasks, "
        f"open tasks without dependencies, and the rest. `gtask graph --format dot` draws everything.")


def _chains(graph: TaskGraph, open_nodes: list[Node], limit: int) -> tuple[list[Node], bool]:
    """Fill `limit` with weakly connected groups of open tasks, each kept whole where it fits.

    When the first group alone is too large, take part of it (see `_fans`) and say so.
    """
    open_set = set(open_nodes)
    parent = {n: n for n in open_nodes}

    def find(node: Node) -> Node:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for node in open_nodes:
        for dep in graph.pred[node]:
            if dep in open_set:
                parent[find(dep)] = find(node)
    groups: dict[Node, list[Node]] = {}
    for node in open_nodes:
        groups.setdefault(find(node), []).append(node)

    def priority(node: Node) -> int:
        return graph.tasks[node].priority if node in graph.tasks else 9

    def rank(members: list[Node]) -> tuple[bool, int, int, Node]:
        return (len({n[0] for n in members}) == 1, min(map(priority, members)), -len(members), min(members))

    chosen: list[Node] = []
    for members in sorted((g for g in groups.values() if len(g) > 1), key=rank):
        room = limit - len(chosen)
        if room <= 0:
            break
        if len(members) <= room:
            chosen += members
        elif not chosen:
            return _fans(graph, members, room), True
    return chosen, False


def _fans(graph: TaskGraph, members: list[Node], room: int) -> list[Node]:
    """Up to `room` members: the tasks to start next (ranked as `gtask next` ranks them), each with what it unblocks.

    A task's downstream is taken whole where it fits; the first one is cut, nearest first, when it does not.
    """
    inside = set(members)
    roots = [n for n in members if n in graph.tasks and not any(d in inside for d in graph.pred[n])]
    scores = graph.scores(roots)
    roots.sort(key=lambda n: scores[n].sort_key(n))
    chosen: dict[Node, None] = {}
    for root in roots[:MAX_SEEDS]:
        left = room - len(chosen)
        if left <= 0:
            break
        fan = {root: None} if root not in chosen else {}
        queue = [root]
        for node in queue:  # breadth first; stops once the fan cannot fit
            for child in sorted(graph.succ[node]):
                if child in inside and child not in chosen and child not in fan:
                    fan[child] = None
                    queue.append(child)
            if len(fan) > left:
                break
        if len(fan) <= left:
            chosen.update(fan)
        elif not chosen:
            chosen.update(dict.fromkeys(list(fan)[:left]))
    return list(chosen)


def _depths(nodes: list[Node], pred: dict[Node, dict[Node, None]]) -> tuple[dict[Node, int], dict[Node, list[Node]]]:
    """Longest path from a root for each node, and each node's dependencies inside the picture."""
    inside = set(nodes)
    preds = {n: [p for p in pred[n] if p in inside and p != n] for n in nodes}
    succs: dict[Node, list[Node]] = {n: [] for n in nodes}
    for node, deps in preds.items():
        for dep in deps:
            succs[dep].append(node)
    pending = {n: len(deps) for n, deps in preds.items()}
    depth = dict.fromkeys(nodes, 0)
    stack = [n for n in nodes if pending[n] == 0]
    while stack:
        node = stack.pop()
        for child in succs[node]:
            depth[child] = max(depth[child], depth[node] + 1)
            pending[child] -= 1
            if pending[child] == 0:
                stack.append(child)
    return depth, preds  # nodes on a cycle keep the depth their acyclic parents gave them


Item = Node | int  # a task, or a waypoint (an int) that carries a long edge through a column


@dataclass
class _Layout:
    columns: list[list[Item]]
    y: dict[Item, float]  # top of each item
    routes: list[tuple[Node, Node, list[int]]]  # dependency, dependent, the waypoints between them
    height: float


def _layout(nodes: list[Node], depth: dict[Node, int], preds: dict[Node, list[Node]]) -> _Layout:
    """Columns by depth, long edges broken into waypoints, each column ordered by barycentre sweeps."""
    columns: list[list[Item]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in sorted(nodes):  # by project, then ID: a project's tasks start out together
        columns[depth[node]].append(node)
    up: dict[Item, list[Item]] = {n: [] for n in nodes}  # neighbours one column to the left
    down: dict[Item, list[Item]] = {n: [] for n in nodes}  # ... and to the right
    routes = []
    count = 0
    column: int | list[Item]  # an index while routing, a column while placing
    for node, deps in sorted(preds.items()):
        for dep in deps:
            previous: Item = dep
            waypoints = []
            for column in range(depth[dep] + 1, depth[node]):  # empty for back edges on a cycle
                point, count = count, count + 1
                columns[column].append(point)
                up[point], down[point] = [], []
                waypoints.append(point)
            for item in cast("list[Item]", [*waypoints, node]):
                if depth[node] > depth[dep]:
                    down[previous].append(item)
                    up[item].append(previous)
                previous = item
            routes.append((dep, node, waypoints))
    y: dict[Item, float] = {}

    def pitch(item: Item) -> int:
        return WAYPOINT_PITCH if isinstance(item, int) else NODE_H + GAP_Y

    def size(column: list[Item]) -> float:
        return sum(pitch(item) for item in column)

    tallest = max((size(c) for c in columns), default=0)

    def place(column: list[Item]) -> None:
        top = (tallest - size(column)) / 2
        for item in column:
            waypoint = isinstance(item, int)
            y[item] = top + (WAYPOINT_PITCH - GAP_Y) / 2 if waypoint else top
            top += pitch(item)

    def middle(item: Item) -> float:
        return y[item] + (NODE_H / 2 if not isinstance(item, int) else 0)

    for column in columns:
        place(column)
    for sweep in range(SWEEPS):
        neighbours = up if sweep % 2 == 0 else down
        for column in columns[1:] if sweep % 2 == 0 else columns[-2::-1]:
            def key(item: Item, neighbours: dict[Item, list[Item]] = neighbours) -> float:
                near = neighbours[item]
                return sum(middle(n) for n in near) / len(near) if near else middle(item)
            column.sort(key=key)
            place(column)
    return _Layout(columns, y, routes, max(0.0, tallest - GAP_Y))


def _svg(graph: TaskGraph, layout: _Layout, alone: list[Node]) -> str:
    """Draw the layered part, then the tasks without dependencies in rows below it."""
    columns = layout.columns
    left = {item: MARGIN + number * (NODE_W + GAP_X) for number, column in enumerate(columns) for item in column}
    top = {item: round(MARGIN + value) for item, value in layout.y.items()}
    per_row = max(len(columns), min(len(alone), ALONE_PER_ROW))
    below = MARGIN + (round(layout.height) + 2 * GAP_Y if columns else 0)
    for number, node in enumerate(alone):
        row, column = divmod(number, per_row)
        left[node], top[node] = MARGIN + column * (NODE_W + GAP_Y), below + row * (NODE_H + GAP_Y)
    rows = -(-len(alone) // per_row) if alone else 0
    layered = len(columns) * (NODE_W + GAP_X) - GAP_X
    width = 2 * MARGIN + max(layered, per_row * (NODE_W + GAP_Y) - GAP_Y if alone else 0)
    height = (below + rows * (NODE_H + GAP_Y) - GAP_Y if alone else below - 2 * GAP_Y) + MARGIN
    nodes = sorted(item for item in left if not isinstance(item, int))
    parts = [
        f'<svg class="graph" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Dependency graph: {len(nodes)} tasks, {len(layout.routes)} dependencies">',
        "<defs>",
        *(f'<marker id="gt-arrow{suffix}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
          f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
          for suffix, colour in (("", EDGE_COLOUR), ("-x", CROSS_COLOUR))),
        "</defs>",
    ]
    half = NODE_H // 2
    for dep, node, waypoints in layout.routes:
        x, y = left[dep] + NODE_W, top[dep] + half
        path = [f"M{x},{y}"]
        for point in waypoints:
            path.append(_curve(x, y, left[point], top[point]))
            x, y = left[point] + NODE_W, top[point]
            path.append(f"H{x}")
        path.append(_curve(x, y, left[node], top[node] + half))
        cross = dep[0] != node[0]
        dashes = ' stroke-dasharray="4 3"' if graph.is_finished(dep) else ""
        colour, thickness, marker = (CROSS_COLOUR, 1.6, "-x") if cross else (EDGE_COLOUR, 1.2, "")
        parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="{thickness}"{dashes} '
                     f'marker-end="url(#gt-arrow{marker})"/>')
    for node in nodes:
        parts.append(_node(graph, node, left[node], top[node]))
    parts.append("</svg>")
    return "\n".join(parts)


def _curve(x1: int, y1: int, x2: int, y2: int) -> str:
    bend = GAP_X // 2 if x2 > x1 else GAP_X  # a back edge on a cycle loops out and in
    return f"C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"


def _node(graph: TaskGraph, node: Node, x: int, y: int) -> str:
    state = graph.state(node)
    fill, stroke, colour = STATE_STYLES.get(state, STATE_STYLES["external"])
    label = safe(graph.label(node))
    short = label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "\u2026"
    task = graph.tasks.get(node)
    detail = f"{state} \u00b7 P{task.priority}" if task else state
    tip = f"{label}: {task.title} ({state})" if task else f"{label} ({state})"
    heavy = 2.4 if state in ("claimed", "stale", "blocked") else 1.2
    dashes = ' stroke-dasharray="5 3"' if state == "blocked" else ""
    return (f'<g><title>{_e(tip)}</title>'
            f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{heavy}"{dashes}/>'
            f'<text x="{x + 8}" y="{y + 16}" class="gl" fill="{colour}">{_e(short)}</text>'
            f'<text x="{x + 8}" y="{y + 32}" class="gs" fill="{colour}">{_e(detail)}</text></g>')


