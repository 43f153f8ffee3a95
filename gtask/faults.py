"""Named crash points for fault-injection tests: `GTASK_FAULT=<name>` kills the process there.

Production runs never set the variable; tests use it to prove that a process
killed at any of these points leaves a state the next command recovers from.
"""

from __future__ import annotations

import os
import signal


def checkpoint(name: str) -> None:
    """Die at once (SIGKILL, no cleanup) when the test asked for a crash here."""
    if os.environ.get("GTASK_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
