"""Commits that gtask makes: only its own task files, with the subject and trailers of design §3."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from gtask.core.model import Task
from gtask.core.trailers import message
from gtask.errors import Conflict, GtaskError, UsageError
from gtask.faults import checkpoint
from gtask.fsutil import atomic_write
from gtask.gitio.git import Git
from gtask.store.locking import locked, write_journal
from gtask.store.store import Store, journal_path


def repo_of(store: Store) -> Git:
    """Return the git repository of a store, or explain that there is none."""
    if store.is_plain_folder:
        raise UsageError("a plain folder of task files cannot be committed to")
    git = store.repository()
    if git is None:
        raise UsageError(f"{store.root} is not inside a git repository; run 'git init' first")
    return git


def agent_name(git: Git | None, explicit: str | None = None) -> str:
    """Who acts: --agent, else GTASK_AGENT, else git's user name."""
    name = explicit or os.environ.get("GTASK_AGENT") or (git.author_name() if git else None)
    if not name:
        raise UsageError("no agent name: pass --agent, set GTASK_AGENT, or set git user.name")
    if not name.isprintable() or len(name) > 100:
        raise UsageError(f"agent name {name!r} must be one printable line of at most 100 characters")
    return name


def acts_as_agent(explicit: str | None = None) -> bool:
    """An identity given by --agent or GTASK_AGENT marks an agent; git's user name alone marks a person."""
    return bool(explicit or os.environ.get("GTASK_AGENT"))


@dataclass
class Session:
    """A store, its repository and the agent acting on it."""

    store: Store
    git: Git
    agent: str
    is_agent: bool = False  # acting for an agent (--agent or GTASK_AGENT), not a person

    @classmethod
    def open(cls, store: Store, agent: str | None = None) -> Session:
        git = repo_of(store)
        return cls(store, git, agent_name(git, agent), acts_as_agent(agent))

    def require_person(self, what: str) -> None:
        """Refuse decisions that belong to a person when an agent acts."""
        if self.is_agent:
            raise Conflict(f"{what} is a person's decision; {self.agent!r} acts as an agent (--agent or GTASK_AGENT)")

    def rel_path(self, task_id: str) -> str:
        return self.store.path_of(task_id).resolve().relative_to(self.git.top.resolve()).as_posix()

    def ensure_clean(self, task_id: str) -> None:
        """Refuse to commit over uncommitted edits of the task file itself."""
        rel = self.rel_path(task_id)
        if self.git.path_is_dirty(rel):
            raise GtaskError(f"{rel} has uncommitted changes; commit or discard them first (nothing was changed)",
                             path=rel)

    def commit(self, task_ids: list[str], text: str) -> str:
        return self.git.commit_paths([self.rel_path(t) for t in task_ids], text)

    def snapshot(self, task_ids: list[str]) -> dict[str, bytes | None]:
        """The current bytes of these task files (None for files that do not exist)."""
        saved = {}
        for task_id in task_ids:
            path = self.store.path_of(task_id)
            saved[task_id] = path.read_bytes() if path.exists() else None
        return saved

    def restore(self, saved: dict[str, bytes | None]) -> None:
        for task_id, data in saved.items():
            path = self.store.path_of(task_id)
            if data is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write(path, data.decode("utf-8"))

    def change_and_commit(self, action: str, task_id: str, change: Callable[[], list[str]],
                          note: str | None = None, trailers: list[tuple[str, str]] | None = None,
                          touched: list[str] | None = None) -> Committed:
        """Run `change` (which returns the IDs of the files it wrote), then commit exactly those files.

        If anything fails, the files are restored: no half-done step stays behind.
        """
        with self.store.lock():
            saved = self.snapshot(touched or [task_id])
            parent = self.git.head_commit()
            journal = journal_path(self.git.git_dir)
            write_journal(journal, parent, {self.rel_path(t): raw for t, raw in saved.items()})
            try:
                checkpoint("step-journaled")
                changed = change()
                checkpoint("step-written")
                if self.snapshot(changed) == {t: saved.get(t) for t in changed}:
                    return Committed(None, parent, saved, [])  # nothing changed: no empty commit
                subject = task_id or changed[0]
                commit = self.commit(changed, message(action, subject, self.agent, note, trailers, changed))
            except BaseException:
                self.restore(saved)
                raise
            finally:
                journal.unlink(missing_ok=True)
        return Committed(commit, parent, saved, changed)

    def undo(self, done: Committed) -> None:
        """Take a commit back: the branch, the files and their index entries as they were before it."""
        if done.commit is None:
            return  # nothing was committed
        self.git.move_head_back(done.commit, done.parent)
        self.restore(done.saved)
        paths = [self.rel_path(t) for t in done.saved]
        if done.parent:
            self.git.run("reset", "-q", done.parent, "--", *paths, check=False)
        else:
            self.git.run("update-index", "--force-remove", "--", *paths, check=False)


@dataclass
class Committed:
    """A protocol commit, with what is needed to take it back."""

    commit: str | None  # None when nothing changed and nothing was committed
    parent: str | None
    saved: dict[str, bytes | None]
    changed: list[str]


@locked
def create_task(store: Store, title: str, fields: dict, task_id: str | None = None,
                commit: bool = False, agent: str | None = None) -> Task:
    """Create a task file, and with `commit` commit it; a failed commit removes the new file.

    Tasks that an agent files start as `proposed` (the approval gate): a person approves them.
    """
    if acts_as_agent(agent):
        if fields.get("status") not in (None, "proposed"):
            raise UsageError("an agent files tasks as proposed; a person approves them with 'gtask approve'")
        fields = {**fields, "status": "proposed"}
    if not commit:
        return store.create(title, fields, task_id=task_id)
    session = Session.open(store, agent)
    task_id = task_id or store.new_task_id(title)
    session.change_and_commit("new", task_id, lambda: [store.create(title, fields, task_id=task_id).id])
    return store.get(task_id)


@locked
def set_task(store: Store, task_id: str, assignments: list[str], commit: bool = False,
             agent: str | None = None) -> Task:
    """Apply `set` edits, and with `commit` commit the file; a failed commit restores it."""
    task_id = store.resolve_id(task_id)
    if not commit:
        return store.set_fields(task_id, assignments)
    session = Session.open(store, agent)
    session.ensure_clean(task_id)
    session.change_and_commit("edit", task_id, lambda: [store.set_fields(task_id, assignments).id])
    return store.get(task_id)
