"""Attempts: one try at a task by one agent, started and ended with a protocol commit each.

An attempt is one mapping in the task's `attempts` list, in this key order:
`agent`, `start`, `end`, `duration` (seconds), `outcome`, `reason`, `tokens`,
`cost` (USD), `commit` (HEAD when the attempt ended: the work it produced),
`note`. `start` appends a mapping with `agent` and `start`; `end` fills in the
latest open one of the same agent.
"""

from __future__ import annotations

import math
from typing import Any

from gtask.errors import UsageError

OUTCOMES = ("success", "failed", "abandoned")
REASONS = ("test_fail", "tool_error", "context_limit", "rate_limit", "permission_error", "other")
ATTEMPT_KEYS = ("agent", "start", "end", "duration", "outcome", "reason", "tokens", "cost", "commit", "note")


def is_open(attempt: Any) -> bool:
    """Tell whether an attempt has started and not ended."""
    return isinstance(attempt, dict) and attempt.get("end") is None and attempt.get("outcome") is None


def open_attempt(attempts: list[Any], agent: str) -> int | None:
    """The index of the agent's latest open attempt, if any."""
    for index in range(len(attempts) - 1, -1, -1):
        if is_open(attempts[index]) and attempts[index].get("agent") == agent:
            return index
    return None


def check_end(outcome: str, reason: str | None, tokens: int | None, cost: float | None) -> None:
    """Refuse an impossible end before anything is read or written."""
    if outcome not in OUTCOMES:
        raise UsageError(f"unknown outcome {outcome!r}: use one of {', '.join(OUTCOMES)}")
    if reason is not None and reason not in REASONS:
        raise UsageError(f"unknown reason {reason!r}: use one of {', '.join(REASONS)}")
    if reason is not None and outcome == "success":
        raise UsageError("--reason goes with a failed or abandoned attempt, not a success")
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0):
        raise UsageError(f"tokens must be a whole number of at least 0, not {tokens!r}")
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, (int, float))
                             or not math.isfinite(cost) or cost < 0):
        raise UsageError(f"cost must be a number of US dollars of at least 0, not {cost!r}")
