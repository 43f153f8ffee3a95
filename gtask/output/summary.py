"""The default of `gtask view`: a summary that fits a screen or two, in text and as the board's first sections."""

from __future__ import annotations

from gtask.core.graph import Node
from gtask.output.render import err, html_text, out, safe, state_text
from gtask.plan.overview import NEEDS_TOP, SUMMARY_TOP, Summary

STATE_SHORT = {"claimed": "claimed", "stale": "stale", "in_progress": "in progress", "ready": "ready",
               "waiting": "waiting", "blocked": "blocked", "proposed": "proposed", "done": "done",
               "canceled": "canceled"}


def _ref(node: Node) -> str:
    return f"{node[0]}:{node[1]}"


def _task_line(summary: Summary, node: Node) -> str:
    task = summary.overview.graph.tasks[node]
    extra = ""
    if task.claimed_by:
        extra = f"  [{task.claimed_by} until {task.lease_until or '?'}]"
    elif summary.overview.graph.state(node) == "claimed":  # on another branch or lease ref (the resolver's evidence)
        taken = next((v.repo.elsewhere.taken.get(task.id.lower()) for v in summary.overview.repos
                      if v.repo.project == node[0] and v.repo.error is None), None)
        extra = f"  [taken on {taken}]" if taken else ""
    lane = f"  lane {task.lane}" if task.lane else ""
    return f"{_ref(node)}  P{task.priority}  {task.title}{lane}{extra}"


def needs(summary: Summary) -> list[tuple[str, list[str]]]:
    """What needs a person, by kind: lines of text (untrusted: escape before printing)."""
    graph = summary.overview.graph
    return [
        ("proposals", [_task_line(summary, n) for n in summary.proposals]),
        ("stale leases", [_task_line(summary, n) for n in summary.stale]),
        ("blocked", [_task_line(summary, n) for n in summary.blocked]),
        ("waits across repositories", [f"{_ref(n)} waits on {_ref(d)} ({graph.state(d)})"
                                       for n, d in summary.across]),
    ]


def repo_line(summary: Summary, index: int) -> tuple[str, str, str, str]:
    """Name, tip, counts, claims/stale of one repository."""
    view = summary.overview.repos[index]
    repo = view.repo
    if repo.error:
        return repo.project or repo.path.name, "-", f"skipped: {repo.error}", ""
    tip = f"{repo.branch} @ {repo.commit[:8]}" if repo.commit else "work tree"
    counts = view.counts
    text = ", ".join(f"{n} {STATE_SHORT.get(s, s)}" for s, n in counts.items()) or "no tasks"
    flight = f"{counts.get('claimed', 0)} claims, {counts.get('stale', 0)} stale"
    return repo.project or repo.path.name, tip, text, flight


def text(summary: Summary) -> None:
    """Print the summary."""
    repos = summary.overview.repos
    out(f"REPOSITORIES ({len(repos)})")
    rows = [repo_line(summary, i) for i in range(len(repos))]
    width = max((len(r[0]) for r in rows), default=0)
    for name, tip, counts, flight in rows:
        out(safe(f"  {name:<{width}}  {tip}  {counts}" + (f"  ({flight})" if flight else "")))
    for view in repos:  # what could not be read goes to standard error, as in the full listing
        repo = view.repo
        if repo.error:
            err(f"{safe(repo.path)}: skipped: {safe(repo.error)}")
        for problem in repo.problems:
            if problem.is_error:
                err(f"{safe(repo.path)}/{safe(str(problem))}")
    kinds = needs(summary)
    total = sum(len(lines) for _, lines in kinds)
    out(f"NEEDS A PERSON ({total})" if total else "NEEDS A PERSON: nothing")
    for kind, lines in kinds:
        if lines:
            out(safe(f"  {kind} ({len(lines)}): " + ("" if len(lines) <= NEEDS_TOP else f"first {NEEDS_TOP} shown")))
            for line in lines[:NEEDS_TOP]:
                out(safe(f"    {line}"))
    _listing("READY NEXT", summary, summary.ready)
    _listing("CLAIMS IN FLIGHT", summary, summary.claims)
    out("(gtask view --all lists every task; --state, --lane, --label, --repo GLOB narrow)")


def _listing(title: str, summary: Summary, nodes: list[Node]) -> None:
    out(f"{title} ({len(nodes)})" + (f", first {SUMMARY_TOP}" if len(nodes) > SUMMARY_TOP else ""))
    for node in nodes[:SUMMARY_TOP]:
        state = summary.overview.graph.state(node)
        out(f"  {state_text(state)}  " + safe(_task_line(summary, node)))


def html(summary: Summary) -> str:
    """The summary as the board's first sections (every text escaped)."""
    repos = summary.overview.repos
    parts = ['<section class="across summaryview"><h2>Repositories</h2><table>',
             "<tr><th>repository</th><th>integration tip</th><th>tasks by state</th><th>in flight</th></tr>"]
    for i in range(len(repos)):
        parts.append("<tr>" + "".join(f"<td>{html_text(cell)}</td>" for cell in repo_line(summary, i)) + "</tr>")
    parts.append("</table></section>")
    parts.append('<section class="across"><h2>Needs a person</h2>')
    kinds = [(kind, lines) for kind, lines in needs(summary) if lines]
    if not kinds:
        parts.append('<p class="note">nothing</p>')
    for kind, lines in kinds:
        parts.append(f"<h3>{html_text(kind)} ({len(lines)})</h3><ul>"
                     + "".join(f"<li>{html_text(line)}</li>" for line in lines[:SUMMARY_TOP * 3]) + "</ul>")
    parts.append("</section>")
    for title, nodes in (("Ready next", summary.ready), ("Claims in flight", summary.claims)):
        parts.append(f'<section class="across"><h2>{title} ({len(nodes)})</h2><ol>'
                     + "".join(f"<li>{html_text(_task_line(summary, n))}</li>" for n in nodes[:SUMMARY_TOP])
                     + "</ol></section>")
    return "\n".join(parts)
