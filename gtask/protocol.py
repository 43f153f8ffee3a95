"""Commits that gtask makes: only its own task files, with the subject and trailers of SPEC §3."""

from __future__ import annotations

import os

from .errors import GtaskError, UsageError
from .fsutil import atomic_write
from .gitops import Git
from .model import Task
from .store import Store


def repo_of(store: Store) -> Git:
    """Return the git repository of a store, or explain that there is none."""
    if store.is_plain_folder:
        raise UsageError("a plain folder of task files cannot be committed to")
    git = Git.discover(store.root)
    if git is None:
        raise UsageError(f"{store.root} is not inside a git repository; run 'git init' first")
    return git


def agent_name(git: Git | None, explicit: str | None = None) -> str:
    """Who acts: --agent, else GTASK_AGENT, else git user.name."""
    name = explicit or os.environ.get("GTASK_AGENT") or (git.author_name() if git else None)
    if not name:
        raise UsageError("no agent name: pass --agent, set GTASK_AGENT, or set git user.name")
    return name


def message(action: str, task_id: str, agent: str, note: str | None = None,
            trailers: dict[str, str] | None = None) -> str:
    """Build a protocol commit message: subject, optional note, trailers."""
    parts = [f"gtask: {action} {task_id}", ""]
    if note:
        parts += [note.strip(), ""]
    parts += [f"Task: {task_id}", f"Task-Action: {action}", f"Agent: {agent}"]
    parts += [f"{key}: {value}" for key, value in (trailers or {}).items()]
    return "\n".join(parts) + "\n"


def task_rel_path(store: Store, git: Git, task_id: str) -> str:
    return store.path_of(task_id).resolve().relative_to(git.top.resolve()).as_posix()


def ensure_clean(store: Store, task_id: str) -> None:
    """Refuse to commit over uncommitted edits of the task file itself."""
    git = repo_of(store)
    rel = task_rel_path(store, git, task_id)
    if git.is_tracked(rel) and git.path_is_dirty(rel):
        raise GtaskError(f"{rel} has uncommitted changes; commit or discard them first (nothing was changed)",
                         path=rel)


def commit_task_change(store: Store, task_id: str, action: str, agent: str | None = None,
                       note: str | None = None, trailers: dict[str, str] | None = None) -> str:
    """Commit one task file as a protocol commit; return the commit id."""
    git = repo_of(store)
    who = agent_name(git, agent)
    rel = task_rel_path(store, git, task_id)
    return git.commit_paths([rel], message(action, task_id, who, note, trailers))


def create_task(store: Store, title: str, fields: dict, task_id: str | None = None,
                commit: bool = False, agent: str | None = None) -> Task:
    """Create a task file, and with `commit` commit it; a failed commit removes the new file."""
    if commit:
        agent = agent_name(repo_of(store), agent)
    task = store.create(title, fields, task_id=task_id)
    if commit:
        try:
            commit_task_change(store, task.id, "new", agent)
        except BaseException:
            store.path_of(task.id).unlink()
            raise
    return task


def set_task(store: Store, task_id: str, assignments: list[str], commit: bool = False,
             agent: str | None = None) -> Task:
    """Apply `set` edits, and with `commit` commit the file; a failed commit restores it."""
    task_id = store.resolve_id(task_id)
    if not commit:
        return store.set_fields(task_id, assignments)
    agent = agent_name(repo_of(store), agent)
    ensure_clean(store, task_id)
    path = store.path_of(task_id)
    original = path.read_bytes()
    task = store.set_fields(task_id, assignments)
    try:
        commit_task_change(store, task.id, "edit", agent)
    except BaseException:
        atomic_write(path, original.decode("utf-8"))
        raise
    return task
