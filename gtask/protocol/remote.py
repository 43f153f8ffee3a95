"""Exactly-once claims across clones through any git remote (design §3).

Two kinds of refs live on the remote, each changed only by `git push --atomic`
together with the agent's branch, with a compare-and-swap on the old value
(`--force-with-lease=<ref>:<old>`; an empty old value means "must not exist"):

- `refs/gtask/claims/<id>`, the lease: points at the claim commit. Git refuses
  to create a ref that exists, so of any number of agents racing for one task
  exactly one wins. `release` and `done` delete it; a stale lease is taken over
  by moving it with the same compare-and-swap.
- `refs/gtask/done/<id>`, the tombstone: created by `done --push`, pointing at
  the done commit. Every claim push asserts it is absent, so a task cannot be
  claimed again by an agent that planned before the completion reached it (the
  lease alone is gone by then). A task reopened on the integration branch after
  it landed may be claimed again: that claim removes the tombstone.

Fetched refs are mirrored locally under `refs/gtask/<remote>/claims/<id>` and
`refs/gtask/<remote>/done/<id>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from gtask.core.model import Task, now_utc
from gtask.errors import Conflict, GitError, GtaskError, UsageError
from gtask.faults import checkpoint
from gtask.gitio.git import remote_failure
from gtask.gitstate.branches import decode_ref_id, encode_ref_id, parse_blob
from gtask.gitstate.tombstones import tombstone_is_void
from gtask.protocol.session import Committed, Session

KINDS = ("claims", "done")


def remote_ref(kind: str, task_id: str) -> str:
    return f"refs/gtask/{kind}/{encode_ref_id(task_id)}"


@dataclass
class TaskRefs:
    """What the remote holds for one task: the lease's and the tombstone's commits."""

    lease: str | None = None
    tombstone: str | None = None


class LostRace(Conflict):
    """A compare-and-swap on the remote failed: another agent changed the task's refs first."""


class Remote:
    """One git remote used as the coordination server."""

    def __init__(self, session: Session, name: str) -> None:
        self.session = session
        self.git = session.git
        self.name = name
        self.took_over: str | None = None  # whose stale lease plan_claim found (a takeover reports it)

    @classmethod
    def choose(cls, session: Session, name: str | None) -> Remote:
        """The remote as given, else the branch's upstream, origin, or the only one."""
        chosen = name or session.git.default_remote()
        if not chosen:
            raise UsageError("no remote to push to: name one (--push REMOTE) or add one (git remote add origin URL)")
        if chosen not in session.git.remotes():
            raise UsageError(f"{chosen!r} is not a configured remote (git remote add NAME URL first): "
                             "leases are mirrored per remote name")
        return cls(session, chosen)

    def mirror(self, kind: str, task_id: str) -> str:
        return f"refs/gtask/{self.name}/{kind}/{encode_ref_id(task_id)}"

    # -- reading -----------------------------------------------------------

    def known(self, task_id: str) -> TaskRefs:
        """The task's refs as last fetched."""
        return TaskRefs(self.git.rev_parse(self.mirror("claims", task_id)),
                        self.git.rev_parse(self.mirror("done", task_id)))

    def fetch(self, task_id: str) -> TaskRefs:
        """Ask the remote for the task's refs now, and mirror them."""
        for _ in range(5):
            listing = self.git.run("ls-remote", self.name, remote_ref("claims", task_id), remote_ref("done", task_id),
                                   check=False)
            if listing.returncode != 0:
                raise GitError(remote_failure(self.name, listing.stderr))
            found = {line.split()[1]: line.split()[0] for line in listing.stdout.splitlines() if line.strip()}
            specs = [f"+{ref}:{self.mirror(ref.split('/')[2], task_id)}" for ref in found]
            try:
                if specs:
                    self.git.fetch(self.name, specs, prune=False)
                break
            except GitError:
                continue  # a ref went away between listing and fetching: ask again
        else:
            raise GitError(f"the refs of {task_id} on {self.name!r} keep changing; try again")
        for kind in KINDS:
            if remote_ref(kind, task_id) not in found:
                self.git.update_ref(self.mirror(kind, task_id), None)
        return TaskRefs(found.get(remote_ref("claims", task_id)), found.get(remote_ref("done", task_id)))

    def task_at(self, commit: str, task_id: str) -> Task | None:
        """The task as a commit has it (who holds it, until when, its status)."""
        store = self.session.store
        folder = store.tasks_dir.resolve().relative_to(self.git.top.resolve()).as_posix()
        spec = f"{commit}:{folder}/{task_id}.md"
        return parse_blob(store, folder, f"{task_id}.md", self.git.cat_file([spec]).get(spec))[0]

    # -- deciding ----------------------------------------------------------

    def plan_claim(self, task_id: str, refs: TaskRefs, force: bool) -> dict[str, str]:
        """Check that the task may be claimed given its remote refs; return the compare-and-swap values."""
        if refs.lease and not self.ours(refs.lease):  # a lease is its claim commit's, not an agent name's
            holder = self.task_at(refs.lease, task_id)
            if holder is not None and holder.has_live_claim(now_utc()) and not force:
                raise Conflict(describe(task_id, holder))
            if holder is not None and holder.status == "in_progress" and holder.claimed_by:
                self.took_over = holder.claimed_by  # its lease passed
            waits = self.handoff_waits(holder)
            if waits and not force:
                raise Conflict(f"{task_id} was handed off and waits on {', '.join(waits)} "
                               f"(refs/gtask/claims/{task_id} on {self.name}, commit {refs.lease[:12]})")
        if refs.tombstone and not tombstone_is_void(self.session.store, self.git, task_id, refs.tombstone):
            finisher = self.task_at(refs.tombstone, task_id)
            who = f" by {finisher.closed_by or '?'}" if finisher is not None and finisher.closed_by else ""
            raise Conflict(f"{task_id} was already completed{who} (refs/gtask/done/{task_id} on {self.name}, "
                           f"commit {refs.tombstone[:12]}); sync to see it")
        return {"claims": refs.lease or "", "done": refs.tombstone or ""}

    def ours(self, commit: str) -> bool:
        """The commit is in this clone's history (this clone made that claim or handoff)."""
        head = self.git.head_commit()
        return head is not None and self.git.is_ancestor(commit, head)

    def handoff_waits(self, holder: Task | None) -> list[str]:
        """The prerequisites a handoff kept on the lease names that are not finished here or on the remote."""
        if holder is None or holder.status == "in_progress":
            return []
        waits = []
        for dep in holder.depends_on:
            try:
                finished = self.session.store.get(dep).is_finished
            except GtaskError:
                finished = False  # not here yet: the handoff's new task
            if not finished and self.git.rev_parse(self.mirror("done", dep)) is None:
                waits.append(dep)
        return waits

    # -- pushing -----------------------------------------------------------

    def push(self, commit: str, updates: dict[str, str | None], expected: dict[str, str], task_id: str) -> None:
        """Push the branch and update (None: delete) the task's refs, all or nothing, with compare-and-swap."""
        branch = self.git.current_branch()
        refspecs = [f"{commit}:refs/heads/{branch}"] if branch else []
        refspecs += [f"{value or ''}:{remote_ref(kind, task_id)}" for kind, value in updates.items()]
        result = self.git.push(self.name, refspecs, {remote_ref(k, task_id): v for k, v in expected.items()})
        if result.ok:
            checkpoint("after-push")
            for kind, value in updates.items():
                self.git.update_ref(self.mirror(kind, task_id), value)
            return
        if any(result.rejected_because_taken(remote_ref(kind, task_id)) for kind in expected):
            raise LostRace(f"lost the race for {task_id}")
        raise GitError(result.explain(self.name))

    def publish_claim(self, task_id: str, committed: Committed, expected: dict[str, str], force: bool) -> None:
        """Push a claim commit with its lease; on a lost race undo the commit and say who holds the task."""
        # re-claimed within the same second, nothing changed: the claim at HEAD is the one to publish
        commit = cast(str, committed.commit or self.git.head_commit())  # a repository with commits has HEAD
        for attempt in range(2):
            try:
                # Deleting the tombstone either removes it (a reopened task) or, when it is
                # absent, asserts atomically that it still is: no completion raced us.
                updates = {"claims": commit, "done": None}
                checkpoint("claim-before-push")
                self.push(commit, updates, expected, task_id)
                return
            except LostRace:
                refs = self.fetch(task_id)
                try:
                    fresh = self.plan_claim(task_id, refs, force)
                except Conflict as exc:
                    self.session.undo(committed)
                    raise LostRace(f"lost the race: {exc.message}") from None
                if attempt == 1 or fresh == expected:
                    self.session.undo(committed)
                    raise LostRace(f"lost the race for {task_id}") from None
                expected = fresh  # our knowledge was old: the lease is ours, stale or gone
            except GtaskError:
                self.session.undo(committed)
                raise

    def publish_end(self, task_id: str, committed: Committed, done: bool, keep: bool = False) -> None:
        """Push a release or completion: the lease goes (compare-and-swap); a completion leaves a tombstone.

        With `keep` (a handoff) the lease moves to the handoff commit instead, which says what the task
        now waits on: no clone claims it until that is finished (plan_claim and the resolver read it).
        """
        try:
            refs = self.fetch(task_id)
            if refs.lease:
                holder = self.task_at(refs.lease, task_id)
                if holder is not None and not self.ours(refs.lease) and holder.has_live_claim(now_utc()):
                    raise Conflict(f"the lease was taken over: {describe(task_id, holder)}")
            updates: dict[str, str | None] = {"claims": None} if refs.lease else {}
            expected = {"claims": refs.lease} if refs.lease else {}
            if keep:
                updates["claims"], expected["claims"] = committed.commit, refs.lease or ""
            if done:
                updates["done"] = committed.commit
                expected["done"] = refs.tombstone or ""
            commit = cast(str, committed.commit or self.git.head_commit())  # a repository with commits has HEAD
            if updates:
                self.push(commit, updates, expected, task_id)
            else:
                self._push_branch(commit)
        except GtaskError:
            self.session.undo(committed)
            raise

    def _push_branch(self, commit: str) -> None:
        result = self.git.push(self.name, [f"{commit}:refs/heads/{self.git.current_branch()}"])
        if not result.ok:
            raise GitError(result.explain(self.name))

    # -- sync --------------------------------------------------------------

    def fetch_leases(self) -> None:
        """Fetch every lease and tombstone (pruning deleted ones) and nothing else: one git process, no report.

        What an agent needs before it chooses a task: the claims that already landed. The atomic push decides.
        """
        self.git.fetch(self.name, [f"+refs/gtask/{kind}/*:refs/gtask/{self.name}/{kind}/*" for kind in KINDS])

    def sync(self) -> SyncReport:
        """Fetch branches, leases and tombstones (pruning deleted ones); report local claims the remote lacks."""
        self.git.fetch(self.name, [f"+refs/heads/*:refs/remotes/{self.name}/*"]
                       + [f"+refs/gtask/{kind}/*:refs/gtask/{self.name}/{kind}/*" for kind in KINDS])
        report = SyncReport(self.name)
        for ref, commit in self.git.refs([f"refs/gtask/{self.name}/claims"]).items():
            task_id = decode_ref_id(ref.rsplit("/", 1)[1])
            report.leases[task_id] = self.task_at(commit, task_id)
        report.completed = sorted(decode_ref_id(ref.rsplit("/", 1)[1])
                                  for ref in self.git.refs([f"refs/gtask/{self.name}/done"]))
        now = now_utc()
        for task in self.session.store.load().tasks.values():
            if task.status == "in_progress" and task.claimed_by == self.session.agent and task.has_live_claim(now):
                holder = report.leases.get(task.id)
                if holder is None or holder.claimed_by != self.session.agent:
                    report.unpushed_claims.append(task.id)
        return report


def describe(task_id: str, holder: Task | None) -> str:
    if holder is None or not holder.claimed_by:
        return f"{task_id} is claimed on the remote"
    return f"{task_id} is claimed by {holder.claimed_by} on {holder.claim_branch or '?'} until {holder.lease_until}"


@dataclass
class SyncReport:
    remote: str
    leases: dict[str, Task | None] = field(default_factory=dict)
    completed: list[str] = field(default_factory=list)
    unpushed_claims: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "remote": self.remote,
            "leases": {i: (t.to_json() if t else None) for i, t in sorted(self.leases.items())},
            "completed": self.completed,
            "unpushed_claims": self.unpushed_claims,
        }
