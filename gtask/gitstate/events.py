"""`gtask events`: the protocol events since a revision, oldest first, for scripts and CI.

An event is a gtask commit (its `Task-Action` trailer says what happened) or
any other commit with closing evidence (`Closes: <id>`), read from the history
between the revision and HEAD.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from gtask.core.trailers import parse_trailers
from gtask.errors import NotFound
from gtask.gitio.git import Git
from gtask.gitstate.evidence import closed_refs

_DETAILS = {"Gate": "gate", "Gate-Result": "result", "Needs": "needs", "Reason": "reason",
            "Attempt": "attempt", "Outcome": "outcome"}


@dataclass
class Event:
    commit: str
    date: str
    action: str
    agent: str | None
    tasks: list[str]
    details: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "date": self.date, "action": self.action, "agent": self.agent,
                "tasks": self.tasks, **self.details}


def events_since(git: Git, since: str, until: str = "HEAD", known: list[str] | None = None,
                 project: str | None = None) -> list[Event]:
    """Events of the commits reachable from `until` but not from `since`, oldest first.

    With `known` (the IDs of `project`), a closing line naming a task that does not exist closes nothing.
    """
    ids = {i.lower() for i in known} if known is not None else None
    for rev in (since, until):
        if git.rev_parse(f"{rev}^{{commit}}") is None:
            raise NotFound(f"no commit {rev!r} in this repository")
    found = []
    records = git.log_records("--reverse", "--format=%H%x00%cI%x00%an%x00%B", f"{since}..{until}")
    for commit, date, author, body in records:
        event = _event(commit.strip(), date, author, body, ids, project)
        if event is not None:
            found.append(event)
    return found


def _event(commit: str, date: str, author: str, body: str, known: set[str] | None = None,
           project: str | None = None) -> Event | None:
    found = parse_trailers(body)
    action = (found.get("Task-Action") or cast("list[str | None]", [None]))[-1]
    if action is None:
        closed = [str(ref) for ref in closed_refs(body, known, project)]  # each once, however often named
        return Event(commit, date, "closes", author, closed) if closed else None
    details = {name: found[key][-1] for key, name in _DETAILS.items() if key in found}
    tasks = list(dict.fromkeys(found.get("Task", [])))
    return Event(commit, date, action, (found.get("Agent") or [author])[-1], tasks, details)
