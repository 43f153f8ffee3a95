"""Task IDs, references to tasks in other projects, and IDs made from titles."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from gtask.errors import UsageError

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PROJECT_PATTERN = ID_PATTERN
SLUG_MAX = 48
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def is_valid_id(text: str) -> bool:
    """Tell whether `text` is a valid task ID (design §1)."""
    return ID_PATTERN.fullmatch(text) is not None


def id_problem(text: str) -> str | None:
    """Say what is wrong with `text` as an ID, or None when it is valid."""
    if is_valid_id(text):
        return None
    if len(text) > 64:
        return f"ID {text[:70]!r}... is longer than 64 characters"
    return (
        f"{text!r} is not a valid task ID: use letters, digits, '-', '_' and '.', "
        "starting with a letter or digit"
    )


class BadReference(UsageError, ValueError):
    """A reference that is not `id` or `project:id`."""

    # A ValueError for the validators that collect it as a problem; a UsageError (exit 2, one sentence)
    # wherever a reference from the command line, such as `graph --root ../x`, reaches Ref.parse unchecked.


class Ref(NamedTuple):
    """A reference to a task: `id` in this project, or `project:id`."""

    project: str | None
    id: str

    @classmethod
    def parse(cls, text: str) -> Ref:
        """Parse `id` or `project:id`; raise BadReference (a ValueError) when it is not valid."""
        return _parse_ref(text)

    @classmethod
    def _parse(cls, text: str) -> Ref:
        project: str | None
        project, sep, task_id = text.rpartition(":")
        if not sep:
            project = None
        elif not PROJECT_PATTERN.fullmatch(project):
            raise BadReference(f"{text!r} is not a valid reference: bad project name {project!r}")
        problem = id_problem(task_id)
        if problem:
            raise BadReference(f"{text!r} is not a valid reference: {problem}")
        return cls(project, task_id)

    def __str__(self) -> str:
        return f"{self.project}:{self.id}" if self.project else self.id

    def is_local(self, project: str) -> bool:
        """Tell whether this reference points into `project`."""
        return self.project is None or self.project == project


@lru_cache(maxsize=65536)
def _parse_ref(text: str) -> Ref:
    return Ref._parse(text)  # graphs parse the same references many times


def slugify(title: str, limit: int = SLUG_MAX) -> str:
    """Return a lower-case ASCII slug of `title`, cut at a word boundary."""
    import unicodedata

    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    if not slug and words:
        slug = words[0][:limit]
    return slug or "task"


def random_suffix() -> str:
    """Return 4 random base32 characters."""
    import secrets

    return "".join(secrets.choice(_BASE32) for _ in range(4))


def new_id(title: str, taken: Callable[[str], bool]) -> str:
    """Derive an ID from `title`; add a random suffix while `taken` says it exists."""
    base = slugify(title)
    if not taken(base):
        return base
    while True:
        candidate = f"{base}-{random_suffix()}"
        if not taken(candidate):
            return candidate
