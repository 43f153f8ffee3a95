"""gtask: a git-native, plain-text task store for people and AI coding agents.

The library is the product; the CLI is one client. Heavy parts (the graph,
which needs networkx) load on first use, so `import gtask` stays fast.
"""

from __future__ import annotations

from typing import Any

from gtask.core.model import STATUSES, Task
from gtask.errors import Conflict, GitError, GtaskError, InvalidTask, NotFound, Problem, UsageError
from gtask.store.loading import Loaded
from gtask.store.store import Store
from gtask.version import __version__

__all__ = [
    "STATUSES", "Conflict", "GitError", "GtaskError", "InvalidTask", "Loaded", "NotFound", "Plan", "Problem",
    "Store", "Task", "TaskGraph", "UsageError", "__version__", "load_graph",
]

_LAZY = {"Plan": "gtask.plan.planning", "Filters": "gtask.plan.planning", "TaskGraph": "gtask.core.graph",
         "load_graph": "gtask.plan.dag"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gtask' has no attribute {name!r}")
