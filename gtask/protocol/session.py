"""Commits that gtask makes: only its own task files, with the subject and trailers of design §3."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gtask.core.identity import acts_as_agent
from gtask.core.keys import NOT_FOR_AGENTS
from gtask.core.model import Task
from gtask.core.trailers import message
from gtask.errors import Conflict, GitError, GtaskError, UsageError
from gtask.faults import checkpoint
from gtask.fsutil import before_write, digest, one_dir_sync, read_or_none, replace_checked
from gtask.gitio.git import Git
from gtask.store.locking import append_journal, locked, write_journal
from gtask.store.store import Store, journal_path


def repo_of(store: Store) -> Git:
    """Return the git repository of a store, or explain that there is none."""
    if store.is_plain_folder:
        raise UsageError("a plain folder of task files cannot be committed to")
    git = store.repository()
    if git is None:
        raise UsageError(f"{store.root} is not inside a git repository; run 'git init' first")
    if (store.tasks_dir / ".git").exists():
        raise GtaskError(f"{store.label(store.tasks_dir)} is a git submodule (a repository of its own); gtask "
                         f"commits task files to the repository that holds {store.label(store.tasks_dir)}/: "
                         f"make it a plain folder, or commit in the submodule yourself (nothing was changed)")
    return git


def agent_name(git: Git | None, explicit: str | None = None) -> str:
    """Who acts: --agent, else GTASK_AGENT, else git's user name."""
    name = explicit or os.environ.get("GTASK_AGENT") or (git.author_name() if git else None)
    if not name:
        raise UsageError("no agent name: pass --agent, set GTASK_AGENT, or set git user.name")
    if not name.isprintable() or len(name) > 100:
        raise UsageError(f"agent name {name!r} must be one printable line of at most 100 characters")
    return name


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

    def approve_by_rules(self, task_ids: list[str], trailers: list[tuple[str, str]]) -> list[str]:
        """An agent's proposals that an integration-branch approval rule matches become todo in its lane."""
        if not self.is_agent:
            return []
        from gtask.gitstate.rules import apply_rules, integration_rules

        return apply_rules(self.store, integration_rules(self.store, self.git), self.agent, task_ids, trailers)

    def rel_path(self, task_id: str) -> str:
        return self.store.path_of(task_id).resolve().relative_to(self.git.top.resolve()).as_posix()

    def ensure_clean(self, task_id: str) -> None:
        """Refuse to commit over uncommitted edits of the task file itself."""
        rel = self.rel_path(task_id)
        if self.git.path_is_dirty(rel):
            raise GtaskError(f"{rel} has uncommitted changes; commit or discard them first (nothing was changed)",
                             path=rel)

    def commit(self, task_ids: list[str], text: str) -> str:
        parent = self.git.head_commit()
        try:
            return self.git.commit_paths([self.rel_path(t) for t in task_ids], text)
        except Conflict:
            if self.git.head_commit() != parent:
                raise  # another writer moved the branch: trying again can work
            # nobody moved it, yet git would not: retrying cannot help (exit 1, not 3)
            raise GitError("git refused to move the branch although no one else moved it: a reference-transaction "
                           "hook refused, or the disk is full or read-only (see git's hooks and 'df'); nothing was "
                           "committed") from None

    def snapshot(self, task_ids: list[str]) -> dict[str, bytes | None]:
        """The current bytes of these task files (None for files that do not exist)."""
        saved = {}
        for task_id in task_ids:
            path = self.store.path_of(task_id)
            saved[task_id] = path.read_bytes() if path.exists() else None
        return saved

    def restore(self, saved: dict[str, bytes | None], wrote: dict[str, set[bytes]] | None = None) -> list[str]:
        """Put back the files' saved bytes, only where they still hold what this step wrote; return those left.

        A file changed by hand meanwhile is left as it is (and named), never overwritten.
        """
        left = []
        for task_id, data in saved.items():
            path = self.store.path_of(task_id)
            now = read_or_none(path)
            if now == data:
                continue
            if wrote is not None and now not in wrote.get(task_id, set()):
                left.append(self.rel_path(task_id))
            elif data is None:
                path.unlink(missing_ok=True)
            elif not replace_checked(path, data, now):
                left.append(self.rel_path(task_id))
        return left

    def change_and_commit(self, action: str, task_id: str, change: Callable[[], list[str]],
                          note: str | None = None, trailers: list[tuple[str, str]] | None = None,
                          touched: list[str] | None = None, planned: dict[str, bytes] | None = None) -> Committed:
        """Run `change` (which returns the IDs of the files it wrote), then commit exactly those files.

        If anything fails, the files are restored: no half-done step stays behind.
        The journal stays until the step is settled, so a restore that fails too
        (a full disk) is settled by the next writer. It is written once; the hash
        of each write is appended to it (one fsync) before the bytes land, unless
        `planned` (task ID -> the bytes `change` will write, a batch) declared it
        up front.
        """
        with self.store.lock():
            saved = self.snapshot(touched or [task_id])
            parent = self.git.head_commit()
            journal = journal_path(self.git.git_dir)
            rels = {t: self.rel_path(t) for t in saved}
            olds = {rels[t]: raw for t, raw in saved.items()}
            hashes: dict[str, list[str]] = {rels[t]: [digest(raw)] for t, raw in (planned or {}).items() if t in rels}
            wrote: dict[str, set[bytes]] = {}
            by_path = {self.store.path_of(t).resolve(): t for t in saved}

            def record(path: Path, raw: bytes) -> None:
                task = by_path.get(path.resolve())
                if task is None:
                    return  # not a file of this step (a rejected edit kept aside, a cache)
                wrote.setdefault(task, set()).add(raw)
                known, hashed = hashes.setdefault(rels[task], []), digest(raw)
                if hashed not in known:
                    known.append(hashed)
                    append_journal(journal, rels[task], [hashed])  # before the bytes land

            write_journal(journal, parent, olds, hashes)
            settled = False
            text = ""
            before_write.append(record)
            try:
                checkpoint("step-journaled")
                with one_dir_sync():  # every file's hash is journaled before it lands
                    changed = change()
                checkpoint("step-written")
                if self.snapshot(changed) == {t: saved.get(t) for t in changed}:
                    settled = True
                    return Committed(None, parent, saved, [])  # nothing changed: no empty commit
                subject = task_id or changed[0]
                text = message(action, subject, self.agent, note, trailers, changed)
                commit = self.commit(changed, text)
                settled = True
            except BaseException:
                before_write.remove(record)
                if text and self._landed(parent, text):
                    # Our commit is on the branch and could not be taken back (a full disk): restoring the
                    # files would make the next `git commit -a` revert it. The journal stays for the next writer.
                    raise
                left = self.restore(saved, wrote)
                settled = True
                if left:
                    self.store.notify(f"left {', '.join(left)} as changed by hand during the step; nothing was "
                                      f"committed")
                raise
            finally:
                if record in before_write:
                    before_write.remove(record)
                if settled:
                    journal.unlink(missing_ok=True)
        return Committed(commit, parent, saved, changed, {t: wrote.get(t, set()) for t in saved})

    def _landed(self, parent: str | None, text: str) -> bool:
        """Whether HEAD is this step's own commit (made on `parent` with message `text`)."""
        head = self.git.head_commit()
        if head is None or head == parent:
            return False
        found = self.git.run("log", "-1", "--format=%P%x00%B", head, check=False).stdout
        parents, _, body = found.partition("\0")
        return parents.strip() == (parent or "") and body.strip() == text.strip()

    def undo(self, done: Committed) -> None:
        """Take a commit back: the branch, the files and their index entries as they were before it.

        Only what the commit wrote is taken back: a file or index entry changed since is left alone.
        """
        if done.commit is None:
            return  # nothing was committed
        self.git.move_head_back(done.commit, done.parent)
        self.restore(done.saved, done.wrote if done.wrote else None)
        for task_id in done.saved:
            rel = self.rel_path(task_id)
            listed = self.git.run("ls-files", "-s", "--", rel, check=False).stdout.split()
            entry = listed[1] if len(listed) >= 2 else None
            ours = self.git.run("rev-parse", "-q", "--verify", f"{done.commit}:{rel}", check=False).stdout.strip()
            if entry is not None and entry != ours:
                continue  # staged by hand since the commit
            if done.parent:
                self.git.run("reset", "-q", done.parent, "--", rel, check=False)
            else:
                self.git.run("update-index", "--force-remove", "--", rel, check=False)


@dataclass
class Committed:
    """A protocol commit, with what is needed to take it back."""

    commit: str | None  # None when nothing changed and nothing was committed
    parent: str | None
    saved: dict[str, bytes | None]
    changed: list[str]
    wrote: dict[str, set[bytes]] = field(default_factory=dict)  # per task, the bytes the step wrote


@locked
def create_task(store: Store, title: str, fields: dict[str, Any], task_id: str | None = None,
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
    trailers: list[tuple[str, str]] = []  # filled by change(): the commit message is built after it

    def change() -> list[str]:
        created = store.create(title, fields, task_id=task_id).id
        session.approve_by_rules([created], trailers)
        return [created]

    session.change_and_commit("new", task_id, change, trailers=trailers)
    return store.get(task_id)




@locked
def set_task(store: Store, task_id: str, assignments: list[str], commit: bool = False,
             agent: str | None = None) -> Task:
    """Apply `set` edits, and with `commit` commit the file; a failed commit restores it."""
    task_id = store.resolve_id(task_id)
    if acts_as_agent(agent):  # authority applies to every step: an agent moves these only through the protocol
        keys = sorted({a.split("=", 1)[0].rstrip("+-").strip() for a in assignments} & NOT_FOR_AGENTS)
        if keys:
            raise Conflict(f"an agent may not set {', '.join(keys)} on {task_id}: claim, done, release and handoff "
                           "change these, a person approves and moves lanes and milestones; nothing was changed")
    if not commit:
        return store.set_fields(task_id, assignments)
    session = Session.open(store, agent)
    session.ensure_clean(task_id)
    session.change_and_commit("edit", task_id, lambda: [store.set_fields(task_id, assignments).id])
    return store.get(task_id)
