"""`gtask view --html`: one self-contained page, a board by state with a lane per repository, and the graph.

The page has no script and loads nothing: CSS is inline, the graph is SVG
drawn here, and a Content-Security-Policy forbids scripts and every fetch in
case some text ever got through unescaped. Task files are untrusted input:
every piece of their text passes through `_e` (terminal-safe, then HTML-escaped).
"""

from __future__ import annotations

from datetime import UTC, datetime

from gtask.core.graph import Node, TaskGraph
from gtask.core.model import parse_time
from gtask.output import svggraph
from gtask.output.graphfmt import STATE_STYLES
from gtask.output.render import html_text as _e
from gtask.plan.overview import Overview, RepoView

# as a person reads a board: not yet agreed, can start, being worked on, held up, finished
COLUMNS = ("proposed", "ready", "claimed", "in_progress", "stale", "waiting", "blocked",
           "done-unmerged", "unverified", "landed", "done", "canceled")
FOLDED = {"landed", "done", "canceled"}  # finished work: a few cards, the rest behind a summary
SHOWN = {"open": 30, "finished": 3}  # cards shown per cell before the rest are folded
MAX_PROBLEMS = 20
MARKERS = {  # a text marker, so that nothing is told by colour alone
    "claimed": "CLAIMED", "stale": "STALE CLAIM", "in_progress": "IN PROGRESS", "blocked": "BLOCKED",
    "done-unmerged": "NOT MERGED", "unverified": "UNVERIFIED",
}  # waiting cards say what they wait on; the other columns need no marker
HINTS = {
    "proposed": "awaiting approval", "ready": "can start now", "claimed": "someone holds it",
    "in_progress": "no claim on record", "stale": "lease passed: may be taken over",
    "waiting": "on unfinished dependencies", "blocked": "marked blocked", "done-unmerged": "done on a branch",
    "unverified": "done, no closing commit", "landed": "on the integration branch", "done": "finished",
    "canceled": "dropped",
}
MIDDOT = " \u00b7 "
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render(result: Overview, lead: str = "") -> str:
    """Return the whole page for the view model; `lead` (escaped HTML: the summary sections) comes first."""
    graph = result.graph
    states = _column_order({s for v in result.repos for s in v.by_state})
    picture = svggraph.draw(graph)
    readable = [v for v in result.repos if v.repo.error is None]
    total = sum(len(nodes) for v in readable for nodes in v.by_state.values())
    generated = graph.now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        "<title>gtask board</title>",
        f"<style>{_css(states)}</style>",
        "</head><body>",
        "<header>",
        "<h1>gtask board</h1>",
        f'<p class="sub">{total} tasks in {len(readable)} of {len(result.repos)} repositories '
        f"\u00b7 generated {generated}</p>",
        _summary(result),
        "</header>",
        "<main>",
        lead,
        _board(result, states),
        _across(result),
        _graph_section(picture),
        "</main>",
        '<footer>Written by <code>gtask view --html</code>: no scripts, nothing loaded from the network.</footer>',
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _column_order(present: set[str]) -> list[str]:
    known = [s for s in COLUMNS if s in present]
    return known + sorted(present - set(COLUMNS))


# -- header --------------------------------------------------------------------


def _summary(result: Overview) -> str:
    totals: dict[str, int] = {}
    for view in result.repos:
        for state, nodes in view.by_state.items():
            totals[state] = totals.get(state, 0) + len(nodes)
    chips = [f'<span class="chip s-{_cls(s)}">{totals[s]} {_e(_name(s))}</span>'
             for s in _column_order(set(totals))]
    failed = sum(1 for v in result.repos if v.repo.error)
    if failed:
        noun = "repository" if failed == 1 else "repositories"
        chips.append(f'<span class="chip bad">{failed} {noun} could not be read</span>')
    if result.across:
        chips.append(f'<span class="chip cross">{len(result.across)} waiting across repositories</span>')
    return f'<p class="summary">{"".join(chips)}</p>'


# -- the board -----------------------------------------------------------------


def _board(result: Overview, states: list[str]) -> str:
    if not result.repos:
        return '<p class="notice">No repositories.</p>'
    parts = [f'<section class="board" aria-label="Board" style="--cols:{max(1, len(states))}">']
    for state in states:
        count = sum(len(v.by_state.get(state, ())) for v in result.repos)
        parts.append(f'<div class="colhead s-{_cls(state)}"><b>{_e(_name(state))}</b> '
                     f'<span class="n">{count}</span><small>{_e(HINTS.get(state, ""))}</small></div>')
    for view in result.repos:
        parts.append(_lane(result.graph, view, states))
    parts.append("</section>")
    return "\n".join(parts)


def _lane(graph: TaskGraph, view: RepoView, states: list[str]) -> str:
    repo = view.repo
    if repo.error:
        return (f'<div class="lanehead failed"><h2>{_e(repo.path.name)}</h2> '
                f'<span class="path">{_e(repo.path)}</span><p class="notice bad">'
                f"This repository could not be read and is left out: {_e(repo.error)}</p></div>")
    where = f"{_e(repo.branch)} @ {_e((repo.commit or '')[:8])}" if repo.commit else "work tree"
    counts = MIDDOT.join(f"{n} {_e(_name(s))}" for s, n in view.counts.items()) or "no tasks"
    parts = [f'<div class="lanehead"><h2>{_e(repo.project)}</h2> <span class="path">{_e(repo.path)}</span> '
             f'<span class="branch">{where}</span> <span class="counts">{counts}</span>{_problems(view)}</div>']
    for state in states:
        cards = _cards(graph, view, state, view.by_state.get(state, []))
        parts.append(f'<div class="cell s-{_cls(state)}" data-state="{_e(state)}">{cards}</div>')
    return "\n".join(parts)


def _problems(view: RepoView) -> str:
    errors = [p for p in view.repo.problems if p.is_error]
    if not errors:
        return ""
    items = "".join(f"<li>{_e(p)}</li>" for p in errors[:MAX_PROBLEMS])
    hidden = len(errors) - MAX_PROBLEMS
    more = f"<li>and {hidden} more (<code>gtask check</code>)</li>" if hidden > 0 else ""
    noun = "task file" if len(errors) == 1 else "task files"
    return (f'<details class="notice bad"><summary>{len(errors)} {noun} could not be read and '
            f"{'is' if len(errors) == 1 else 'are'} left out</summary><ul>{items}{more}</ul></details>")


def _cards(graph: TaskGraph, view: RepoView, state: str, nodes: list[Node]) -> str:
    limit = SHOWN["finished" if state in FOLDED else "open"]
    cards = [_card(graph, view, state, node) for node in nodes]
    if len(cards) <= limit:
        return "".join(cards)
    return ("".join(cards[:limit]) + f'<details class="more"><summary>{len(cards) - limit} more '
            f"{_e(_name(state))}</summary>{''.join(cards[limit:])}</details>")


def _card(graph: TaskGraph, view: RepoView, state: str, node: Node) -> str:
    task = graph.tasks[node]
    marker = MARKERS.get(state)
    priority = _e(task.priority)
    head = (f'<span class="tag">{marker}</span>' if marker else "") + \
        f'<code class="id">{_e(task.id)}</code><span class="pri p{priority}">P{priority}</span>'
    lines = [f'<div class="top">{head}</div>', f'<div class="title">{_e(task.title)}</div>']
    if task.claimed_by and state in ("claimed", "stale", "in_progress"):
        until = f" until {_time(task.lease_until, graph.now)}" if task.lease_until else ""
        verb = "was held by" if state == "stale" else "held by"
        lines.append(f'<div class="claim">{verb} <b>{_e(task.claimed_by)}</b>{until}</div>')
    elif state == "claimed" and task.id.lower() in view.repo.elsewhere.taken:  # on another branch or lease ref
        lines.append(f'<div class="claim">taken on <b>{_e(view.repo.elsewhere.taken[task.id.lower()])}</b></div>')
    unfinished = graph.unfinished_deps(node) if state not in FOLDED else []
    if unfinished:
        waits = ", ".join(_ref(graph, dep, node[0]) for dep in unfinished)
        lines.append(f'<div class="waits">waits on {waits}</div>')
    gates = view.repo.held.get(task.id)
    if gates:
        lines.append(f'<div class="waits">held by {_e(", ".join(gates))}</div>')
    meta = [f"@{task.assignee}" if task.assignee and not task.claimed_by else "",
            task.lane or "", task.milestone or "", *task.labels]
    meta = [str(m) for m in meta if m]
    if meta:
        lines.append(f'<div class="meta">{_e(MIDDOT.join(meta))}</div>')
    return f'<div class="card s-{_cls(state)}">{"".join(lines)}</div>'


def _ref(graph: TaskGraph, dep: Node, home: str) -> str:
    cls = ' class="x"' if dep[0] != home else ""
    return f'<code{cls}>{_e(graph.label(dep, home))}</code> <small>({_e(graph.state(dep))})</small>'


def _time(text: str, now: datetime) -> str:
    """A lease time in UTC to the minute, with how far off it is."""
    try:
        when = parse_time(text).astimezone(UTC)
    except (ValueError, TypeError):
        return _e(text)
    minutes = int((when - now).total_seconds() // 60)
    span = abs(minutes)
    if span >= 1440:
        size = f"{span // 525600}y" if span >= 525600 else f"{span // 1440}d"
    else:
        size = f"{span // 60}h{span % 60:02d}m" if span >= 60 else f"{span}m"
    rel = f"in {size}" if minutes >= 0 else f"{size} ago"
    return f'<time datetime="{_e(text)}">{when:%Y-%m-%d %H:%M} UTC</time> ({rel})'


# -- across repositories and the graph ----------------------------------------


def _across(result: Overview) -> str:
    if not result.across:
        return ""
    graph = result.graph
    rows = "".join(f"<tr><td><code>{_e(graph.label(n))}</code></td><td>{_e(graph.tasks[n].title)}</td>"
                   f"<td>waits on <code class=\"x\">{_e(graph.label(d))}</code></td><td>{_e(graph.state(d))}</td></tr>"
                   for n, d in result.across)
    return ('<section class="across"><h2>Waiting across repositories</h2>'
            f"<table><thead><tr><th>task</th><th>title</th><th>dependency</th><th>its state</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></section>")


def _graph_section(picture: svggraph.Picture) -> str:
    if not picture.drawn:
        return '<section class="deps"><h2>Dependency graph</h2><p class="notice">No tasks to draw.</p></section>'
    legend = "".join(
        f'<span class="key"><i style="background:{STATE_STYLES[s][0]};border-color:{STATE_STYLES[s][1]}"></i>'
        f"{_e(s)}</span>" for s in picture.states if s in STATE_STYLES)
    legend += ('<span class="key"><i class="edge"></i>depends on (arrow points to the waiting task)</span>'
               '<span class="key"><i class="edge x"></i>across repositories</span>'
               '<span class="key"><i class="edge done"></i>dependency finished</span>')
    note = f'<p class="note">{_e(picture.note)}</p>' if picture.note else ""
    return (f'<section class="deps"><h2>Dependency graph</h2><p class="legend">{legend}</p>{note}'
            f'<div class="graphwrap">{picture.svg}</div></section>')


# -- helpers -------------------------------------------------------------------


def _name(state: str) -> str:
    return state.replace("_", " ")


def _cls(state: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in state)




def page_css() -> str:
    """The board's stylesheet, for other pages in its style (the report)."""
    return _css([])


def _css(states: list[str]) -> str:
    colours = "".join(
        f".s-{_cls(s)}{{--fill:{STATE_STYLES[s][0]};--edge:{STATE_STYLES[s][1]}}}"
        for s in sorted(set(states) | set(COLUMNS)) if s in STATE_STYLES)
    return colours + _BASE_CSS


_BASE_CSS = """
:root{--ink:#212529;--muted:#6c757d;--line:#dee2e6;--bg:#f8f9fa}
.s-done-unmerged,.s-landed,.s-unverified{--fill:#e9ecef;--edge:#868e96}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);background:var(--bg)}
header{padding:16px 20px 4px}
h1{margin:0;font-size:22px}
h2{font-size:16px;margin:0}
.sub{margin:2px 0 8px;color:var(--muted)}
.summary{display:flex;flex-wrap:wrap;gap:6px;margin:0 0 8px}
.chip{border:1px solid var(--edge,#adb5bd);background:var(--fill,#fff);border-radius:12px;padding:1px 9px;font-size:13px}
.chip.bad{--fill:#ffe3e3;--edge:#c92a2a;font-weight:600}
.chip.cross{--fill:#e5dbff;--edge:#7048e8}
main{padding:0 20px 20px}
.board{display:grid;grid-template-columns:repeat(var(--cols),minmax(170px,1fr));gap:0 8px;margin-top:8px}
.colhead{position:sticky;top:0;z-index:1;background:var(--bg);border-top:4px solid var(--edge,#adb5bd);padding:6px 4px 4px;text-transform:capitalize}
.colhead .n{color:var(--muted);margin-left:4px}
.colhead small{display:block;text-transform:none;color:var(--muted);font-size:12px}
.lanehead{grid-column:1/-1;margin-top:14px;padding:8px 10px;background:#fff;border:1px solid var(--line);border-left:6px solid #495057;border-radius:6px}
.lanehead h2{display:inline}
.lanehead .path{color:var(--muted);font-size:12px;margin-left:6px;word-break:break-all}
.lanehead .branch{font-family:"DejaVu Sans Mono",monospace;font-size:12px;background:#f1f3f5;border-radius:4px;padding:0 5px;margin-left:6px}
.lanehead .counts{display:block;font-size:13px;color:#495057;margin-top:2px}
.lanehead.failed{border-left-color:#c92a2a}
.notice{margin:6px 0 0;padding:6px 10px;border-radius:4px;background:#fff;border:1px solid var(--line)}
.notice.bad{background:#fff5f5;border-color:#ffa8a8;color:#a61e1e}
.notice ul{margin:4px 0 0;padding-left:20px;font-family:"DejaVu Sans Mono",monospace;font-size:12px}
.cell{padding:6px 0;min-height:40px;display:flex;flex-direction:column;gap:6px}
.card{background:#fff;border:1px solid var(--line);border-left:5px solid var(--edge,#adb5bd);border-radius:5px;padding:6px 8px;overflow-wrap:anywhere}
.card .top{display:flex;flex-wrap:wrap;align-items:baseline;gap:2px 6px}
.card .id{font-family:"DejaVu Sans Mono",monospace;font-size:12px;font-weight:600;flex:1;min-width:0}
.card .pri{flex:none;order:1}
.card .tag{flex:none}
.card .tag~.pri{margin-left:auto}
.card .tag~.id{order:2;flex-basis:100%}
.card .title{margin-top:2px}
.pri{font-size:11px;font-weight:700;border-radius:3px;padding:0 4px;background:#f1f3f5;color:#495057}
.pri.p0{background:#c92a2a;color:#fff}.pri.p1{background:#f08c00;color:#fff}
.tag{font-size:10px;font-weight:700;letter-spacing:.04em;border-radius:3px;padding:1px 4px;color:#fff;background:var(--edge,#495057)}
.card .claim,.card .waits,.card .meta{font-size:12px;margin-top:4px}
.card .claim{background:var(--fill);border-radius:3px;padding:2px 5px}
.card .waits{color:#5c3c00}
.card .meta{color:var(--muted)}
.card code{font-family:"DejaVu Sans Mono",monospace;font-size:12px}
code.x{color:#5f3dc4;font-weight:600}
.card.s-claimed,.card.s-stale{border-width:2px 2px 2px 6px;border-color:var(--edge)}
.card.s-blocked{border-width:2px 2px 2px 6px;border-color:var(--edge);background:repeating-linear-gradient(135deg,#fff 0 10px,#fff5f5 10px 20px)}
.card.s-done,.card.s-canceled,.card.s-landed{color:#495057;background:#f8f9fa}
.card.s-canceled .title{text-decoration:line-through}
details.more summary{cursor:pointer;color:var(--muted);font-size:12px;padding:2px 0}
details.more[open]{display:flex;flex-direction:column;gap:6px}
section.across,section.deps{margin-top:24px}
.across table{border-collapse:collapse;background:#fff;margin-top:6px}
.across td,.across th{border:1px solid var(--line);padding:3px 8px;text-align:left;font-size:13px}
.legend{display:flex;flex-wrap:wrap;gap:12px;font-size:12px;margin:6px 0}
.key i{display:inline-block;width:14px;height:12px;border:2px solid;border-radius:3px;vertical-align:-2px;margin-right:4px}
.key i.edge{width:22px;height:0;border:0;border-top:2px solid #868e96;border-radius:0;vertical-align:3px}
.key i.edge.x{border-top-color:#7048e8}
.key i.edge.done{border-top-style:dashed}
.note{font-size:13px;color:#495057;margin:4px 0}
.graphwrap{overflow:auto;max-height:80vh;background:#fff;border:1px solid var(--line);border-radius:6px}
svg.graph{display:block}
svg.graph .gl{font:600 12px "DejaVu Sans Mono",monospace}
svg.graph .gs{font:11px system-ui,"DejaVu Sans",sans-serif}
footer{padding:10px 20px 20px;color:var(--muted);font-size:12px}
"""
