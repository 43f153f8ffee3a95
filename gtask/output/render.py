"""All output: human tables and text, stable JSON, errors. Terminal-safe by construction."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import TYPE_CHECKING, Any, TextIO

import click

from gtask.errors import GtaskError, Problem

if TYPE_CHECKING:
    from gtask.core.graph import Score
    from gtask.core.model import Task
    from gtask.gitstate.log import LogEntry
    from gtask.gitstate.status import StatusReport
    from gtask.plan.overview import Overview
    from gtask.plan.stats import Counts, Report
    from gtask.protocol.attempts import AttemptResult
    from gtask.protocol.claims import Outcome
    from gtask.protocol.reconcile import ReconcileReport
    from gtask.protocol.remote import SyncReport

# Never sent raw to a terminal: C0 and C1 controls (ESC starts ANSI/OSC sequences; 0x9b is a one-byte CSI),
# line separators, bidi overrides and isolates (they reorder what is shown: "Trojan Source"), and
# lone surrogates (file names that are not UTF-8), which cannot even be encoded for output.
_CONTROL_CLASS = ("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                  "\ud800-\udfff]")
_UNSAFE_BUT_ESC_CLASS = "[\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"


def _control() -> re.Pattern[str]:
    """The characters never sent raw (compiled on first use: most output is plain printable text)."""
    return re.compile(_CONTROL_CLASS)


def _unsafe_but_esc() -> re.Pattern[str]:
    return re.compile(_UNSAFE_BUT_ESC_CLASS)
_STATE_COLOURS = {
    "ready": "green", "claimed": "cyan", "in_progress": "cyan", "stale": "yellow",
    "waiting": "yellow", "blocked": "red", "done": "bright_black", "canceled": "bright_black",
    "landed": "bright_black", "proposed": "magenta", "missing": "red", "unverified": "red",
}


def html_text(text: object) -> str:
    """Terminal-safe text, HTML-escaped for the board and its SVG (task files are untrusted input)."""
    from html import escape

    return escape(safe(text), quote=True)


def safe(text: object) -> str:
    """Make text safe to print on a terminal: control characters are shown escaped, never sent raw."""
    text = str(text)
    if text.isprintable():
        return text
    return _control().sub(lambda m: repr(m.group())[1:-1], text)


def use_colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def state_text(state: str, stream: TextIO | None = None) -> str:
    stream = stream or sys.stdout
    if use_colour(stream) and state in _STATE_COLOURS:
        return click.style(state, fg=_STATE_COLOURS[state])
    return state


def state_cell(state: str, width: int) -> str:
    """A state name padded to `width` columns, coloured on a terminal (codes do not count as columns)."""
    return state_text(state) + " " * max(0, width - len(state))


def _last_guard(text: str) -> str:
    """Escape the unsafe characters that text which missed safe() may still carry."""
    # DOT labels made by json.dumps keep DEL and C1 controls. C0 controls stay: colour codes use ESC.
    if text.isascii() and "\x7f" not in text:
        return text
    return _unsafe_but_esc().sub(lambda m: repr(m.group())[1:-1], text)


def out(text: str = "") -> None:
    click.echo(_last_guard(text))


def err(text: str) -> None:
    click.echo(_last_guard(text), err=True)


def _json_text(value: Any, **options: Any) -> str:
    """Dump JSON with non-ASCII kept readable and every character unsafe on a terminal escaped."""
    text = json.dumps(value, ensure_ascii=False, **options)
    if not text.isascii() or "\x7f" in text:  # JSON escapes C0 controls itself, not DEL, C1, separators, bidi
        text = _control().sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


def emit_json(value: Any) -> None:
    """Print one JSON document: indented on a terminal, one compact line otherwise (cheaper for agents)."""
    indent = 2 if sys.stdout.isatty() else None
    click.echo(_json_text(value, indent=indent, separators=(", ", ": ") if indent is None else None))


def json_line(value: Any) -> None:
    """Print one JSON document on one line, terminal or not (JSON Lines)."""
    click.echo(_json_text(value, separators=(", ", ": ")))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], state_column: int | None = None) -> None:
    """Print rows in aligned columns (terminal-safe); the last column is not padded.

    The cells of `state_column` are state names, coloured after padding so that
    colour codes neither count in the widths nor get escaped.
    """
    _text_table(headers, [list(map(str, row)) for row in rows], state_column)


def _text_table(headers: Sequence[str], cells: list[list[str]], state_column: int | None) -> None:
    """`table` of cells that are text already (each row a list of its own, changed in place)."""
    if not cells:
        return
    if not "".join(["".join(row) for row in cells]).isprintable():  # one test for the common case
        cells = [row if "".join(row).isprintable() else [safe(text) for text in row] for row in cells]
    columns = list(zip(*cells, strict=False))
    widths = [max(len(str(h)), *map(len, column)) for h, column in zip(headers, columns, strict=False)]
    line = "  ".join(f"{{:<{width}}}" for width in widths)  # one format per row: 10,000 rows print in milliseconds
    lines = [line.format(*headers).rstrip()]
    if use_colour(sys.stdout) and state_column is not None:
        for row in cells:
            cell = row[state_column]
            row[state_column] = state_text(cell) + " " * (widths[state_column] - len(cell))
        # the padding is in the cell now: its column's width is the cell's own
        line = "  ".join("{}" if i == state_column else f"{{:<{w}}}" for i, w in enumerate(widths))
    form = line.format
    lines += [form(*row).rstrip() for row in cells]
    out("\n".join(lines))


_pending: list[Problem] = []  # with --json: skipped files, reported once the command's outcome is known


def problems(found: Sequence[Problem], as_json: bool, stream_err: bool = True) -> None:
    """Report problems of files that were skipped or checked."""
    if as_json and stream_err:
        _pending.extend(found)
        return
    for problem in found:
        click.echo(safe(str(problem)), err=stream_err)


def listing_problems(found: Sequence[Problem]) -> list[Problem]:
    """What a listing reports: the errors of skipped files, and keys that look like typos of known ones."""
    if not found:
        return []  # the schema's module (and the task file parser it needs) is not loaded for nothing
    from gtask.core.schema import is_typo_warning

    return list(dict.fromkeys(p for p in found if p.is_error or is_typo_warning(p)))  # a file read twice: once


def flush_problems() -> None:
    """With --json, after success: one JSON line per skipped file on standard error."""
    for problem in _pending:
        click.echo(_json_text({"problem": problem.to_json()}), err=True)
    _pending.clear()


def error(exc: GtaskError, as_json: bool) -> None:
    """Report the error: with --json one object, carrying the skipped files' problems too."""
    if as_json:
        body = exc.to_json()
        if _pending:
            body["error"]["problems"] = [p.to_json() for p in _pending]
            _pending.clear()
        click.echo(_json_text(body), err=True)
    else:
        click.echo(f"gtask: error: {safe(str(exc))}", err=True)


def task_rows(tasks: Sequence[Task], states: dict[str, str], with_project: bool = False,
              with_lane: bool = False) -> None:
    """Print tasks as a table: ID (with project across repositories), state, priority, title, who (and lane)."""
    if not tasks:
        err("no tasks")
        return
    rows = [[f"{task.project}:{task.id}" if with_project else task.id, states[task.id], f"P{task.priority}",
             str(task.title), str(task.claimed_by or task.assignee or "")] for task in tasks]
    if with_lane:
        for row, task in zip(rows, tasks, strict=True):
            row.append(str(task.lane or "-"))
    _text_table(["ID", "STATE", "PRI", "TITLE", "WHO"] + (["LANE"] if with_lane else []), rows, state_column=1)


def task_detail(task: Task, state: str, deps: list[dict[str, Any]], dependents: list[dict[str, Any]],
                children: Sequence[dict[str, Any]] = ()) -> None:
    """Print one task for a person to read."""
    out(f"{safe(task.id)}: {safe(task.title)}")
    facts = [f"state {state_text(state)}", f"status {task.status}", f"priority {task.priority}"]
    for key in ("lane", "milestone", "assignee"):
        if getattr(task, key):
            facts.append(f"{key} {safe(getattr(task, key))}")
    out("  " + " | ".join(facts))
    if task.claimed_by:
        out(f"  claimed by {safe(task.claimed_by)} on {safe(task.claim_branch or '?')} "
            f"until {safe(task.lease_until or 'no lease')}")
    if task.labels:
        out(f"  labels: {safe(', '.join(task.labels))}")
    if task.trigger:
        out(f"  trigger: {safe(task.trigger)}")
    for title, entries in (("depends on", deps), ("needed by", dependents)):
        if entries:
            out(f"{title}:")
            for entry in entries:
                out(f"  {safe(entry['ref']):<28} {state_text(entry['state'])}  {safe(entry['title'] or '')}".rstrip())
    if task.parent:
        out(f"parent: {safe(task.parent)}")
    if children:
        done = sum(1 for child in children if child["status"] == "done")
        out(f"children: {done}/{len(children)} done")
        for child in children:
            out(f"  {safe(child['id']):<28} {child['status']:<11} {safe(child['title'])}".rstrip())
    for title, items in (("steps", task.steps), ("risks", task.risks)):
        if items:
            out(f"{title}:")
            for number, item in enumerate(items, 1):
                out(f"  {number}. {safe(item)}")
    if task.extra:
        out("other keys: " + ", ".join(safe(k) for k in task.extra))
    assert task.body is not None  # a task read whole, as show reads it
    if task.body.strip():
        out("")
        out("\n".join(safe(line) for line in task.body.rstrip().splitlines()))


def explain_score(task: Task, score: Score, runners_up: list[tuple[str, Score]]) -> None:
    """Print why a task ranks first: its score's parts, and the next candidates'."""
    out(f"  priority {score.priority} (0 is most urgent)")
    out(f"  unblocks {score.unblocks_direct} task(s) directly, {score.unblocks_total} in all")
    out(f"  age: {'added ' + _when(score.added) if score.added else 'unknown (not committed)'}")
    for task_id, other in runners_up:
        out(f"  then {safe(task_id)}: priority {other.priority}, unblocks {other.unblocks_total}")


def _when(stamp: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def blocked_list(entries: list[dict[str, Any]]) -> None:
    if not entries:
        err("nothing is waiting")
    for entry in entries:
        task = entry["task"]
        out(f"{safe(entry['ref'])}  {safe(task.title)}")
        for dep in entry["waits_on"]:
            hops = "" if dep["distance"] == 1 else f" (via {dep['distance'] - 1} more)"
            out(f"  waits on {safe(dep['ref'])}  {state_text(dep['state'])}{hops}")


def waves(rows: list[list[dict[str, Any]]], critical: list[str]) -> None:
    if not rows:
        err("no open work")
        return
    for number, wave in enumerate(rows, 1):
        out(f"wave {number}:")
        for item in wave:
            out(f"  {safe(item['ref']):<30} {state_cell(item['state'], 10)} {safe(item['title'] or '')}".rstrip())
    out("critical path (in execution order): " + " -> ".join(safe(ref) for ref in critical))


def outcome(result: Outcome, verb: str) -> None:
    """Print what a protocol command did."""
    task = result.task
    out(f"{verb} {safe(task.id)} in {result.commit[:12]}")
    if result.took_over_from:
        out(f"  took over from {safe(result.took_over_from)} (lease passed)")
    if task.claimed_by and task.status == "in_progress":
        out(f"  held by {safe(task.claimed_by)} on {safe(task.claim_branch)} until {safe(task.lease_until)}")
    if result.prerequisite is not None:
        out(f"  now depends on {safe(result.prerequisite.id)}: {safe(result.prerequisite.title)}")
    for ready in result.now_ready:
        out(f"  now ready: {safe(ready.id)}  {safe(ready.title)}")


def status_table(report: StatusReport) -> None:
    """Print tasks with their state here and what other branches say."""
    out(f"on {report.current or 'detached HEAD'}; integration branch {report.integration or '?'}")
    rows = []
    for entry in report.entries:  # one concise clause per task; each ref's detail is in --json
        title = entry.here.title if entry.here else (entry.elsewhere[0].task.title if entry.elsewhere[0].task else "")
        rows.append([entry.task_id, entry.state, title, entry.note])
    table(["ID", "STATE", "TITLE", "ELSEWHERE"], rows, state_column=1)


def log_entries(entries: Sequence[LogEntry]) -> None:
    if not entries:
        err("no history")
    from gtask.gitstate.log import summary

    width = max((len(safe(entry.agent or entry.author)) for entry in entries), default=0)
    for entry in entries:
        who = safe(entry.agent or entry.author)  # the agent of the Agent: trailer, else the git author
        what = summary(entry) or entry.subject
        out(f"{entry.date}  {entry.commit[:12]}  {safe(entry.action):<9} {who:<{width}}  {safe(what)}")


def reconcile_report(report: ReconcileReport, dry_run: bool) -> None:
    would = "would mark" if dry_run else "marked"
    for task_id, evidence in report.closed:
        out(f"{would} {safe(task_id)} done: closed by {evidence.commit[:12]} {safe(evidence.subject)}")
    for task_id, evidence in report.filled:
        out(f"{'would record' if dry_run else 'recorded'} closed_by {evidence.commit[:12]} on {safe(task_id)}")
    for task_id in report.unverified:
        out(f"unverified: {safe(task_id)} is done but no commit on the integration branch closes it: "
            f"add a commit whose message has a line `Closes: {safe(task_id)}` (a custom squash message "
            "can drop such lines; see docs/forges.md)")
    for commit, line, why in report.ignored:
        out(f"ignored: {commit[:12]} closing line {safe(line)!r}: {safe(why)}")
    if report.commit:
        out(f"committed {report.commit[:12]}")
    if not (report.closed or report.filled or report.unverified):
        out("nothing to reconcile")


def sync_report(report: SyncReport) -> None:
    out(f"fetched {safe(report.remote)}: {len(report.leases)} lease ref(s), {len(report.completed)} completion(s)")
    for task_id, holder in sorted(report.leases.items()):
        who = f"{safe(holder.claimed_by)} until {safe(holder.lease_until)}" if holder else "?"
        out(f"  {safe(task_id)}: {who}")
    for task_id in report.unpushed_claims:
        out(f"  your claim on {safe(task_id)} is not on the remote: "
            f"run 'gtask claim {safe(task_id)} --push' to push it")


def overview(result: Overview) -> None:
    """Print the workspace: each repository with counts, then its tasks grouped by state."""
    graph = result.graph
    for view in result.repos:
        repo = view.repo
        if repo.error:
            err(f"{safe(repo.path)}: skipped: {safe(repo.error)}")
            continue
        counts = ", ".join(f"{n} {s}" for s, n in view.counts.items()) or "no tasks"
        where = f"{repo.branch} @ {repo.commit[:8]}" if repo.commit else "work tree"
        out(f"{safe(repo.project)}  ({safe(repo.path)}, {where}): {counts}")
        for state, nodes in view.by_state.items():
            if state in ("done", "canceled"):
                continue
            for node in nodes:
                task = graph.tasks[node]
                extra = ""
                if task.claimed_by and state in ("claimed", "stale"):
                    extra = f"  [{safe(task.claimed_by)} until {safe(task.lease_until)}]"
                elif state == "waiting":
                    waits = [graph.label(d, node[0]) for d in graph.unfinished_deps(node)] + graph.held.get(node, [])
                    extra = f"  waits on {safe(', '.join(waits))}" if waits else ""
                out(f"  {state_cell(state, 10)} {safe(task.id):<28} P{task.priority}  {safe(task.title)}{extra}")
        for problem in repo.problems:
            if problem.is_error:
                err(f"{safe(repo.path)}/{safe(str(problem))}")
    if result.across:
        out("across repositories:")
        for node, dep in result.across:
            out(f"  {safe(node[0])}:{safe(node[1])} waits on {safe(dep[0])}:{safe(dep[1])} "
                f"({state_text(graph.state(dep))})")


def attempt_result(result: AttemptResult, verb: str) -> None:
    """Print what `attempt start` or `attempt end` did."""
    attempt = result.attempt
    out(f"{verb} {safe(result.task.id)} in {result.commit[:12]}")
    if attempt.get("outcome"):
        facts = [str(attempt["outcome"])] + [f"{key} {safe(attempt[key])}" for key in ("reason", "tokens")
                                             if attempt.get(key) is not None]
        if attempt.get("cost") is not None:
            facts.append(f"cost ${attempt['cost']:.2f}")
        facts.append(f"took {_duration(attempt.get('duration') or 0)}")
        out("  " + ", ".join(facts))


def _duration(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def stats_report(report: Report) -> None:
    """Print attempt statistics: totals, failures by reason, then one table per task, agent and label."""
    totals = report.totals
    if not totals.attempts:
        err("no attempts")
        return
    rate = "-" if totals.success_rate is None else f"{totals.success_rate:.0%}"
    out(f"{totals.attempts} attempts ({totals.finished} finished, {totals.open} open): "
        f"{totals.successes} succeeded, {totals.failed} failed, {totals.abandoned} abandoned; success rate {rate}")
    out(f"tokens {totals.tokens}, cost ${totals.cost:.2f}, time {_duration(totals.duration)}")
    if report.failures_by_reason:
        out("failures by reason: " + ", ".join(f"{safe(r)} {n}" for r, n in report.failures_by_reason.items()))
    headers = ["ATTEMPTS", "OK", "FAILED", "ABANDONED", "OPEN", "TOKENS", "COST"]

    def counters(counts: Counts) -> list[Any]:
        return [counts.attempts, counts.successes, counts.failed, counts.abandoned, counts.open, counts.tokens,
                f"{counts.cost:.2f}"]

    def ref(task: Task) -> str:
        return f"{task.project}:{task.id}" if report.projects > 1 else task.id

    out("")
    out("by task:")
    table(["TASK", *headers, "TITLE"], ([ref(t), *counters(c), t.title] for t, c in report.tasks))
    for title, key, groups in (("by agent", "AGENT", report.agents), ("by label", "LABEL", report.labels)):
        if groups:
            out("")
            out(f"{title}:")
            table([key, *headers], ([name, *counters(c)] for name, c in groups.items()))
    if report.retried_most:
        out("")
        out("retried most:")
        table(["TASK", "ATTEMPTS", "FAILED", "ABANDONED", "TITLE"],
              ([ref(t), c.attempts, c.failed, c.abandoned, t.title] for t, c in report.retried_most))
