"""`gtask triage`: what waits for a person; with --interactive, decide proposals one screen at a time."""

from __future__ import annotations

import contextlib
import os
import sys
import termios
import tty
from collections.abc import Iterator
from typing import Any

import click

from gtask.cli.options import json_option, open_session, open_store
from gtask.errors import GtaskError, UsageError
from gtask.output import render

KEYS_HELP = "[a]pprove  [r]eject  [s]kip  [e]dit  [q]uit"


@click.command()
@click.option("--interactive", "-i", is_flag=True,
              help="In a terminal: one screen per proposal, keys a/r/s/e/q; every decision lands in one commit.")
@json_option
@click.pass_context
def triage(ctx: click.Context, interactive: bool, as_json: bool) -> None:
    """List what waits for a person's decision, by lane, with the approval rule that would apply."""
    from gtask.protocol.approval import awaiting_decision, rule_names_for_waiting

    if interactive:
        if as_json:
            raise UsageError("--interactive cannot be combined with --json")
        _interactive(ctx)
        return
    store = open_store(ctx)
    waiting, problems = awaiting_decision(store)
    rules = rule_names_for_waiting(store)
    render.problems(problems, as_json)  # proposals on branches that cannot be read: named, never skipped
    if as_json:
        render.emit_json([{**task.to_json(), "waits_for": why, "branch": branch,
                           "rule": None if branch else rules.get(task.id)} for task, why, branch in waiting])
        return
    if not waiting:
        render.err("nothing waits for a decision")
    by_lane: dict[str, list[Any]] = {}
    for task, why, branch in waiting:
        by_lane.setdefault(task.lane or "(no lane)", []).append((task, why, branch))
    for lane in sorted(by_lane):
        render.out(f"{render.safe(lane)}:")
        for task, why, branch in by_lane[lane]:
            rule = f"  [rule {render.safe(rules[task.id])} would approve]" if task.id in rules and not branch else ""
            where = f"  [on {render.safe(branch)}]" if branch else ""
            render.out(f"  {render.safe(task.id)}  P{task.priority}  {render.safe(task.title)}  [needs {why}]"
                       f"{where}{rule}")


def _interactive(ctx: click.Context) -> None:
    """Walk the proposals; collect decisions; commit them together at the end (Ctrl-C: nothing)."""
    from gtask.gitstate.proposals import survey
    from gtask.protocol.approval import decide, proposals_with_filers, rule_names_for_waiting

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("triage --interactive needs a terminal; use 'gtask approve ID...' and "
                         "'gtask reject ID --reason TEXT' instead")
    session = open_session(ctx)
    session.require_person("triage")
    store = session.store
    proposals: list[tuple[Any, str | None, str | None]] = [(task, agent, None)
                                                           for task, agent in proposals_with_filers(store)]
    elsewhere = survey(store, session.git)
    proposals += [(p.task, None, p.ref) for p in elsewhere.found.values()]
    proposals.sort(key=lambda item: str(item[0].id))
    if not proposals:
        render.problems(elsewhere.problems(), as_json=False)
        render.err("no proposal waits for a decision")
        return
    rules = rule_names_for_waiting(store)
    approvals: dict[str, str | None] = {}
    rejections: dict[str, str] = {}
    keys = _Keys(sys.stdin.fileno())
    try:
        with keys:
            for number, (task, agent, branch) in enumerate(proposals, 1):
                key = ""
                while key not in ("a", "r", "s", "q"):
                    task = task if branch else store.get(task.id)  # re-read: `e` may have changed it
                    _screen(session, task, agent, None if branch else rules.get(task.id), number, len(proposals),
                            branch)
                    key = keys.read().lower()
                    if key == "e" and branch:
                        click.echo(f"\n{task.id} is on {branch}: approve it to bring it here, then edit it")
                    elif key == "e":
                        with keys.cooked():
                            click.edit(filename=str(store.path_of(task.id)))
                    elif key not in ("a", "r", "s", "q"):
                        click.echo(f"\n{KEYS_HELP}")
                if key == "q":
                    break
                if key == "a":
                    with keys.cooked():
                        approvals[task.id] = None if task.lane else _ask_lane(store.config.lanes)
                elif key == "r":
                    with keys.cooked():
                        rejections[task.id] = _ask_reason()
    except (KeyboardInterrupt, EOFError, click.exceptions.Abort):
        raise GtaskError("triage interrupted: no decision was committed") from None
    committed = decide(session, approvals, rejections)
    click.echo()
    render.problems(elsewhere.problems(), as_json=False)  # after the walk: its screens would clear them
    if committed.commit is None:
        render.out("no decision made; nothing committed")
        return
    render.out(f"approved {len(approvals)}, rejected {len(rejections)} in {committed.commit[:12]}")


class _Keys:
    """The terminal in cbreak mode for the whole walk (keys typed ahead stay readable); cooked for prompts."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.saved: list[Any] | None = None

    def __enter__(self) -> _Keys:
        self.saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)  # Ctrl-C still interrupts
        return self

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)

    def read(self) -> str:
        """One key; end of input stops the walk."""
        data = os.read(self.fd, 1)
        if not data:
            raise EOFError
        return data.decode("utf-8", "replace")

    @contextlib.contextmanager
    def cooked(self) -> Iterator[None]:
        """Line editing and echo back for a prompt or the editor."""
        if self.saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
        try:
            yield
        finally:
            tty.setcbreak(self.fd)


def _ask_lane(lanes: tuple[str, ...]) -> str:
    click.echo()
    return str(click.prompt("lane", type=click.Choice(list(lanes))))


def _ask_reason() -> str:
    click.echo()
    while True:
        reason = str(click.prompt("reason (one line)", default="", show_default=False)).strip()
        if reason:
            return reason


def _screen(session: Any, task: Any, agent: str | None, rule: str | None, number: int, total: int,
            branch: str | None = None) -> None:
    """One proposal: what it is, who filed it where (a proposal not here yet: its branch), what depends on it."""
    from gtask.gitstate.rules import branches_with, proposers

    store = session.store
    filer = None if branch else proposers(session.git).get(task.id.lower())
    where = branch or (", ".join(branches_with(session.git, filer.commit)) if filer else "")
    dependents = [t.id for t in store.dependents_of(task.id)]
    lines = [f"proposal {number} of {total}: {task.id}  P{task.priority}", f"  {task.title}", ""]
    lines.append(f"trigger:  {task.trigger or '-'}")
    lines += ["steps:"] + [f"  - {step}" for step in task.steps] if task.steps else ["steps:    -"]
    lines += ["risks:"] + [f"  - {risk}" for risk in task.risks] if task.risks else ["risks:    -"]
    lines.append(f"labels:   {', '.join(task.labels) or '-'}")
    lines.append(f"lane:     {task.lane or '(none: approving asks for one)'}")
    lines.append(f"filed by: {agent or '?'}" + (f" on {where}" if where else ""))
    lines.append(f"needed by: {', '.join(dependents) or '-'}")
    if rule:
        lines.append(f"rule:     {rule} would approve it")
    click.clear()
    click.echo("\n".join(render.safe(line) for line in lines))
    click.echo(f"\n{KEYS_HELP} ", nl=False)
