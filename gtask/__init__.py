"""gtask: a git-native, plain-text task store for people and AI coding agents.

The library is the product; the CLI is one client. Heavy parts (the graph,
which needs networkx) load on first use, so `import gtask` stays fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import Any  # noqa: E402

from .errors import  Conflict, GitError, GtaskError, InvalidTask, NotFound, Problem, UsageError
from .model import STATUSES, Task
from .store import Loaded, Store

__all__ = [
    "Conflict", "GitError", "GtaskError", "InvalidTask", "Loaded", "NotFound", "Plan", "Problem",
    "STATUSES", "Store", "Task", "TaskGraph", "UsageError",
]

_LAZY = {"Plan": "planning", "Filters": "planning", "TaskGraph": "graph"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'gtask' has no attribute {name!r}")
