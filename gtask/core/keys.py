"""The one table of front-matter keys: type, who writes it, how it merges, where it is shown.

Schema checks, `set`, `new`'s key order, the merge driver, plan import and the
MCP tool schemas read this table; `tests/test_keys.py` fails when a key of the
task record or of `docs/format.md` is missing from it.
"""

from __future__ import annotations

from dataclasses import dataclass

# kinds: text, texts (a list of strings), refs (a list of task references), ref (one task reference), priority,
#        status, time, attempts
# written_by: anyone (people and agents, by hand or with set/new), gtask (protocol steps only)
# merge: scalar (a change on one side wins, both: conflict), set (lists merge as sets), status (by precedence),
#        with_status (follows the side whose status wins), earliest, latest_same_claimer, attempts (by agent, start)
# shown: list (a column of listings), show (the task's page), board (the HTML board too)


@dataclass(frozen=True)
class Key:
    """One front-matter key."""

    name: str
    kind: str
    written_by: str
    merge: str
    shown: str
    meaning: str

    @property
    def is_list(self) -> bool:
        return self.kind in ("texts", "refs", "attempts")


KEYS = (
    Key("title", "text", "anyone", "scalar", "list", "one line; required"),
    Key("status", "status", "anyone", "status", "list", "proposed, todo, in_progress, blocked, done, canceled"),
    Key("priority", "priority", "anyone", "scalar", "list", "0 (most urgent) to 4; default 2"),
    Key("depends_on", "refs", "anyone", "set", "show", "tasks that must be finished first"),
    Key("parent", "ref", "anyone", "scalar", "show", "the task this one is part of (does not block either way)"),
    Key("trigger", "text", "anyone", "scalar", "show", "why or when this becomes urgent"),
    Key("steps", "texts", "anyone", "set", "show", "pre-decided steps"),
    Key("risks", "texts", "anyone", "set", "show", "known risks"),
    Key("labels", "texts", "anyone", "set", "board", "free labels"),
    Key("lane", "text", "anyone", "scalar", "board", "one of the configured lanes"),
    Key("milestone", "text", "anyone", "scalar", "board", "groups tasks; gates hold later milestones"),
    Key("assignee", "text", "anyone", "scalar", "board", "who should do it (a wish, not a claim)"),
    Key("claimed_by", "text", "gtask", "with_status", "list", "who holds the claim"),
    Key("claimed_at", "time", "gtask", "with_status", "show", "when it was claimed"),
    Key("lease_until", "time", "gtask", "latest_same_claimer", "show", "when the claim lapses"),
    Key("claim_branch", "text", "gtask", "with_status", "show", "the branch of the claim commit"),
    Key("closed_at", "time", "gtask", "earliest", "show", "when it was done"),
    Key("closed_by", "text", "gtask", "with_status", "show", "the commit whose message closed it"),
    Key("attempts", "attempts", "gtask", "attempts", "show", "one mapping per try by an agent"),
)
BY_NAME = {key.name: key for key in KEYS}

KNOWN_KEYS = tuple(key.name for key in KEYS)  # also the order in which `new` writes them
LIST_KEYS = frozenset(key.name for key in KEYS if key.kind in ("texts", "refs"))
TEXT_KEYS = tuple(key.name for key in KEYS if key.kind == "text" and key.name != "title")
TEXT_LIST_KEYS = tuple(key.name for key in KEYS if key.kind == "texts")
TIME_KEYS = frozenset(key.name for key in KEYS if key.kind == "time")
CLAIM_KEYS = ("claimed_by", "claimed_at", "lease_until", "claim_branch")
WRITTEN_BY_GTASK = tuple(key.name for key in KEYS if key.written_by == "gtask")
STATUS_BOUND = tuple(key.name for key in KEYS if key.merge in ("with_status", "latest_same_claimer", "earliest"))
# what an agent may not change by `set` or `edit`: the protocol steps and a person decide these (a milestone
# too: moving a task out of one that a gate holds back would pass the gate)
NOT_FOR_AGENTS = frozenset(("status", "lane", "milestone", *WRITTEN_BY_GTASK))
