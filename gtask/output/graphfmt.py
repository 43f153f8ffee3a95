"""The dependency graph as Mermaid, Graphviz DOT or JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from gtask.core.graph import Node, TaskGraph

# fill, stroke, text colour per derived state
STATE_STYLES = {
    "ready": ("#d3f9d8", "#2b8a3e", "#000"),
    "waiting": ("#fff3bf", "#e67700", "#000"),
    "claimed": ("#d0ebff", "#1971c2", "#000"),
    "in_progress": ("#d0ebff", "#1971c2", "#000"),
    "stale": ("#ffe8cc", "#d9480f", "#000"),
    "blocked": ("#ffe3e3", "#c92a2a", "#000"),
    "proposed": ("#f3d9fa", "#862e9c", "#000"),
    "done": ("#e9ecef", "#868e96", "#495057"),
    "canceled": ("#f8f9fa", "#adb5bd", "#868e96"),
    "external": ("#ffffff", "#495057", "#000"),
    "missing": ("#ffffff", "#c92a2a", "#c92a2a"),
}


def select(graph: TaskGraph, ids: Iterable[Node] | None = None, root: Node | None = None) -> list[Node]:
    """Pick the nodes to draw: all, the given ones, or a root with everything up- and downstream."""
    if root is not None:
        import networkx as nx

        return sorted({root} | nx.ancestors(graph.g, root) | nx.descendants(graph.g, root))
    if ids is not None:
        return sorted(ids)
    return sorted(graph.nodes())


def _text(graph: TaskGraph, node: Node, home: str | None) -> str:
    task = graph.tasks.get(node)
    label = graph.label(node, home)
    return f"{label}: {task.title}" if task else label


def mermaid(graph: TaskGraph, nodes: list[Node], home: str | None, by_project: bool = False) -> str:
    """Mermaid flowchart that GitHub renders as it is; state shown by node style, projects as subgraphs."""
    names = {node: f"n{i}" for i, node in enumerate(nodes)}
    lines = ["flowchart LR"]
    groups: dict[str, list[Node]] = {}
    for node in nodes:
        groups.setdefault(node[0] if by_project else "", []).append(node)
    for number, (project, members) in enumerate(sorted(groups.items())):
        indent = "  "
        if project:
            lines.append(f'  subgraph p{number}["{_mermaid_escape(project)}"]')
            indent = "    "
        for node in members:
            state = graph.state(node)
            text = _mermaid_escape(_text(graph, node, home))
            lines.append(f'{indent}{names[node]}["{text}<br/><i>{state}</i>"]:::{_class(state)}')
        if project:
            lines.append("  end")
    for dep, task in sorted(graph.g.subgraph(nodes).edges):
        lines.append(f"  {names[dep]} --> {names[task]}")
    for state, (fill, stroke, colour) in STATE_STYLES.items():
        lines.append(f"  classDef {_class(state)} fill:{fill},stroke:{stroke},color:{colour}")
    return "\n".join(lines) + "\n"


def _class(state: str) -> str:
    return f"s_{state.replace('-', '_')}"


def _mermaid_escape(text: str) -> str:
    replacements = {"&": "#amp;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "\n": " "}
    return "".join(replacements.get(ch, ch) if ch.isprintable() or ch == "\n" else " " for ch in text)


def dot(graph: TaskGraph, nodes: list[Node], home: str | None) -> str:
    """Graphviz DOT, edges from a dependency to its dependent."""
    lines = ["digraph tasks {", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fontname="sans-serif"];']
    for node in nodes:
        fill, stroke, colour = STATE_STYLES.get(graph.state(node), STATE_STYLES["external"])
        label = json.dumps(f"{_text(graph, node, home)}\n({graph.state(node)})", ensure_ascii=False)
        lines.append(f'  {json.dumps(graph.label(node, home))} [label={label}, fillcolor="{fill}", '
                     f'color="{stroke}", fontcolor="{colour}"];')
    for dep, task in sorted(graph.g.subgraph(nodes).edges):
        lines.append(f"  {json.dumps(graph.label(dep, home))} -> {json.dumps(graph.label(task, home))};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def as_json(graph: TaskGraph, nodes: list[Node], home: str | None) -> dict[str, Any]:
    """Nodes with state, edges as {from: dependency, to: dependent}."""
    return {
        "nodes": [
            {"ref": graph.label(n, home), "project": n[0], "id": n[1], "state": graph.state(n),
             "title": graph.tasks[n].title if n in graph.tasks else None,
             "status": graph.tasks[n].status if n in graph.tasks else None}
            for n in nodes
        ],
        "edges": [{"from": graph.label(d, home), "to": graph.label(t, home)}
                  for d, t in sorted(graph.g.subgraph(nodes).edges)],
    }
