"""A progress line on standard error for commands that read many repositories."""

from __future__ import annotations

import sys
import time


class Progress:
    """A progress line on standard error, only on a terminal and only once reading takes a moment."""

    def __init__(self, enabled: bool, label: str = "reading repositories") -> None:
        self.stream = sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.label = label
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.start < 0.3:
            return
        width = 30
        filled = width * done // total
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        self.stream.flush()
        self.shown = True
        if done == total:
            self.stream.write("\r" + " " * (len(self.label) + width + 20) + "\r")
            self.stream.flush()
