"""`gtask report`: the morning report as Markdown (pastes into a PR or chat) or one self-contained HTML page.

Task files are untrusted: Markdown text passes through `safe` and has its table pipes escaped; HTML text
through `html_text`. The page has no script and loads nothing (the board's CSP and CSS).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gtask.output.board import CSP, page_css
from gtask.output.render import html_text, safe
from gtask.plan.report import RepoReport

Section = tuple[str, list[str], list[list[str]], str]  # title, headers, rows, text when there are no rows


def sections(report: RepoReport) -> list[Section]:
    """The report as titled tables, shared by Markdown and HTML."""
    totals = report.attempts.totals
    attempts_rows = [[str(totals.attempts), str(totals.successes), str(totals.failed), str(totals.abandoned),
                      str(totals.open), str(totals.tokens), f"{totals.cost:.2f}"]] if totals.attempts else []
    return [
        ("Landed", ["task", "title", "by", "closing commits"],
         [[r["task"], r.get("title") or "", ", ".join(r["agents"]), " ".join(c[:12] for c in r["commits"])]
          for r in report.landed], "nothing landed"),
        ("Completed, not merged", ["task", "title", "by", "commits"],
         [[r["task"], r.get("title") or "", ", ".join(r["agents"]), " ".join(c[:12] for c in r["commits"])]
          for r in report.unmerged], "nothing waits to be merged"),
        ("Attempts", ["attempts", "succeeded", "failed", "abandoned", "open", "tokens", "cost"],
         attempts_rows, "no attempts"),
        ("Failures by reason", ["reason", "count"],
         [[reason, str(count)] for reason, count in report.attempts.failures_by_reason.items()], "no failures"),
        ("Most retried", ["task", "title", "attempts", "failed"],
         [[t.id, t.title, str(c.attempts), str(c.failed + c.abandoned)] for t, c in report.attempts.retried_most],
         "no task was retried"),
        ("Attempts by task", ["task", "attempts", "outcomes", "tokens"],
         [[t.id, str(c.attempts), f"{c.successes} ok, {c.failed} failed, {c.abandoned} abandoned", str(c.tokens)]
          for t, c in report.attempts.tasks], "no attempts"),
        ("Handoffs", ["task", "by", "needs", "prerequisite"],
         [[r["task"], r["agent"] or "?", r["needs"] or "-",
           ("filed, " if r["filed"] else "linked, ") + (r["needs_status"] or "?")] for r in report.handoffs],
         "no handoffs"),
        ("Proposals waiting", ["task", "title", "by", "labels", "new", "rule that would apply"],
         [[r["task"], r["title"], r["agent"] or "?", ", ".join(r["labels"]) or "-", "new" if r["new"] else "",
           r["rule"] or "-"] for r in report.proposals], "no proposal waits"),
        ("Gates", ["gate", "result", "by", "commit"],
         [[r["gate"] or "?", r["result"] or "?", r["agent"] or "?", r["commit"][:12]] for r in report.gates],
         "no gate ran"),
        ("Stale leases", ["task", "title", "claimed by", "lease until"],
         [[r["task"], r["title"], r["claimed_by"] or "?", r["lease_until"] or "?"] for r in report.stale],
         "no stale lease"),
        ("Ready next", ["task", "title", "priority", "lane", "who"],
         [[r["task"], r["title"], f"P{r['priority']}", r["lane"] or "-",
           "agents" if r["agents_may_take"] else "a person"] for r in report.ready], "nothing is ready"),
        ("Ready by lane", ["lane", "ready"], [[lane, str(n)] for lane, n in sorted(report.ready_by_lane.items())],
         "nothing is ready"),
    ]


def _md_cell(text: str) -> str:
    return safe(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown(reports: Sequence[RepoReport]) -> str:
    """The report as Markdown."""
    lines: list[str] = []
    for report in reports:
        since = f"{report.since}" + (f" ({report.since_time})" if report.since_time else "")
        lines += [f"# gtask report: {_md_cell(report.repo)} since {_md_cell(since)}", ""]
        for title, headers, rows, empty in sections(report):
            lines += [f"## {title}", ""]
            if not rows:
                lines += [f"_{empty}_", ""]
                continue
            lines.append("| " + " | ".join(headers) + " |")
            lines.append("|" + "|".join("---" for _ in headers) + "|")
            lines += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def html(reports: Sequence[RepoReport]) -> str:
    """The report as one self-contained page in the board's style."""
    parts = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">', '<link rel="icon" href="data:,">',
             "<title>gtask report</title>", f"<style>{page_css()}{_CSS}</style>", "</head><body>",
             "<header><h1>gtask report</h1></header>", "<main>"]
    for report in reports:
        since = report.since + (f" ({report.since_time})" if report.since_time else "")
        parts.append(f'<section class="repo"><h2>{html_text(report.repo)}</h2>'
                     f'<p class="sub">since {html_text(since)}</p>')
        for title, headers, rows, empty in sections(report):
            parts.append(f'<section class="across"><h3>{html_text(title)}</h3>')
            if not rows:
                parts.append(f'<p class="note">{html_text(empty)}</p></section>')
                continue
            parts.append("<table><tr>" + "".join(f"<th>{html_text(h)}</th>" for h in headers) + "</tr>")
            parts += ["<tr>" + "".join(_td(i, cell) for i, cell in enumerate(row)) + "</tr>" for row in rows]
            parts.append("</table></section>")
        parts.append("</section>")
    parts += ["</main>", "<footer>gtask report: no script, nothing loaded</footer>", "</body></html>"]
    return "\n".join(parts) + "\n"


def _td(index: int, cell: str) -> str:
    return f"<td><code>{html_text(cell)}</code></td>" if index == 0 else f"<td>{html_text(cell)}</td>"


def to_json(reports: Sequence[RepoReport]) -> dict[str, Any]:
    return {"repositories": [report.to_json() for report in reports]}


_CSS = "h3{font-size:15px;margin:0}section.repo{margin-top:12px}"
