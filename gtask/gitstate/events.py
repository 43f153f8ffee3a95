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


def events_since(git: Git, since: str, until: str = "HEAD") -> list[Event]:
    """Events of the commits reachable from `until` but not from `since`, oldest first."""
    for rev in (since, until):
        if git.rev_parse(f"{rev}^{{commit}}") is None:
            raise NotFound(f"no commit {rev!r} in this repository")
    found = []
    records = git.log_records("--reverse", "--format=%H%x00%cI%x00%an%x00%B", f"{since}..{until}")
    for commit, date, author, body in records:
        event = _event(commit.strip(), date, author, body)
        if event is not None:
            found.append(event)
    return found


def _event(commit: str, date: str, author: str, body: str) -> Event | None:
    found = parse_trailers(body)
    action = (found.get("Task-Action") or cast("list[str | None]", [None]))[-1]
    if action is None:
        closed = [str(ref) for ref in closed_refs(body)]
        return Event(commit, date, "closes", author, closed) if closed else None
    details = {name: found[key][-1] for key, name in _DETAILS.items() if key in found}
    return Event(commit, date, action, (found.get("Agent") or [author])[-1], found.get("Task", []), details)
