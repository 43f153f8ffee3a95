"""One exception family; each subclass carries its exit code (design §4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class GtaskError(Exception):
    """Base of every error gtask reports to a user."""

    exit_code = 1
    code = "error"

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def location(self) -> str:
        """Return `path:line: ` (or less) for the start of a message."""
        if self.path and self.line:
            return f"{self.path}:{self.line}: "
        if self.path:
            return f"{self.path}: "
        return ""

    def __str__(self) -> str:
        return f"{self.location()}{self.message}"

    def to_json(self) -> dict[str, Any]:
        """Return the error object of design §4."""
        return {"error": {"code": self.code, "message": self.message, "path": self.path, "line": self.line}}


class UsageError(GtaskError):
    """The command line asked for something impossible."""

    exit_code = 2
    code = "usage"


class Conflict(GtaskError):
    """Claimed by someone else, lost a race, a cycle, or stale input."""

    exit_code = 3
    code = "conflict"


class NotFound(GtaskError):
    """A task, repository or file that does not exist."""

    exit_code = 4
    code = "not_found"


class InvalidTask(GtaskError):
    """A task file that cannot be read or does not validate."""

    code = "invalid_task"


class GitError(GtaskError):
    """A git command failed; the message says what to do."""

    code = "git"


@dataclass(frozen=True)
class Problem:
    """One finding of validation: an error, or a warning that does not fail."""

    severity: str  # "error" or "warning"
    message: str
    path: str | None = None
    line: int | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = self.path or ""
        if self.line:
            where += f":{self.line}"
        return f"{where}: {self.severity}: {self.message}" if where else f"{self.severity}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"severity": self.severity, "message": self.message, "path": self.path, "line": self.line}

    def as_error(self) -> InvalidTask:
        """Return this problem as an exception to raise."""
        return InvalidTask(self.message, path=self.path, line=self.line)
