"""Who is acting: the one rule that tells an agent from a person (design §8)."""

from __future__ import annotations

import os


def acts_as_agent(explicit: str | None = None) -> bool:
    """An identity given by --agent or GTASK_AGENT marks an agent; git's user name alone marks a person."""
    return bool(explicit or os.environ.get("GTASK_AGENT"))
