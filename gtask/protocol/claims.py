"""The protocol for one clone (design §3): claim, release, done, handoff, each one commit."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from gtask.core.config import parse_duration
from gtask.core.graph import TaskGraph
from gtask.core.keys import CLAIM_KEYS
from gtask.core.model import Task, format_time, now_utc
from gtask.core.writer import REMOVE
from gtask.errors import Conflict, GitError, UsageError
from gtask.gitstate import branches, resolver
from gtask.protocol.approval import require_authority
from gtask.protocol.remote import Remote
from gtask.protocol.session import Session
from gtask.store.locking import locked

if TYPE_CHECKING:
    from gtask.plan.planning import Filters, Plan

_UNCLAIM = {key: REMOVE for key in CLAIM_KEYS}


@dataclass
class Outcome:
    """What a protocol command did."""

    task: Task
    commit: str
    took_over_from: str | None = None
    prerequisite: Task | None = None
    now_ready: list[Task] = field(default_factory=list)
    state: str | None = None  # the derived state when the step decides it (a claim: `claimed`, as `show` says)

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task.to_json(self.state), "commit": self.commit, "took_over_from": self.took_over_from,
            "prerequisite": self.prerequisite.to_json() if self.prerequisite else None,
            "now_ready": [t.to_json("ready") for t in self.now_ready],
        }


MAX_LEASE_SECONDS = 366 * 24 * 3600


def lease_seconds(session: Session, lease: str | None) -> int:
    """The lease asked for (like 2h), else the config's; refuse nonsense with a usage error."""
    if lease is None:
        return session.store.config.lease_seconds
    try:
        seconds = parse_duration(lease)
    except ValueError as exc:
        raise UsageError(f"--lease: {exc}") from None
    if not 0 < seconds <= MAX_LEASE_SECONDS:
        raise UsageError(f"--lease must be between 1s and 366d, not {lease!r}")
    return seconds


def _holder(task: Task, where: str | None = None) -> str:
    return f"{task.claimed_by} on {where or task.claim_branch or '?'} until {task.lease_until or 'no lease'}"


def _ours(session: Session, commit: str) -> bool:
    """A claim is ours when its commit is in our history: a lease belongs to a claim commit, not to an agent name."""
    head = session.git.head_commit()
    return head is not None and session.git.is_ancestor(commit, head)


def _refuse_foreign_claims(session: Session, task: Task, view: branches.BranchView, force: bool) -> None:
    now = now_utc()
    if task.status == "in_progress" and task.has_live_claim(now) and task.claimed_by != session.agent and not force:
        raise Conflict(f"{task.id} is claimed by {_holder(task)}")
    for version in view.live_claims(task.id, now):
        assert version.task is not None  # a live claim is a task's
        if not _ours(session, version.commit) and not force:
            raise Conflict(f"{task.id} is claimed by {_holder(version.task, version.ref)}")


def _refuse_person_lanes(session: Session, task: Task) -> None:
    """An agent takes only tasks without a lane or in the lanes config gives agents (no --force for this)."""
    allowed = session.store.config.agent_lanes
    if session.is_agent and task.status == "proposed":  # the approval gate holds for claims too, even forced
        raise Conflict(f"{task.id} is proposed: a person approves it ('gtask approve {task.id}') before an agent "
                       "may claim it")
    if session.is_agent and task.lane and task.lane not in allowed:
        raise Conflict(f"{task.id} is in lane {task.lane!r}, which needs a person; agents take "
                       f"{', '.join(allowed) or 'no lane'} (config agent_lanes)")


@locked
def claim(session: Session, task_id: str, lease: str | None = None, force: bool = False,
          push: str | None = None, plan: Plan | None = None) -> Outcome:
    """Claim a ready (or stale) task on the current branch; with `push` (a remote, or ""), exactly once.

    `plan` is the caller's fresh plan of this store (next --claim has one), so it is not read again.
    """
    store, git = session.store, session.git
    branch = git.current_branch()
    if branch is None:
        raise UsageError("HEAD is detached: a claim needs a branch (git switch -c <branch>)")
    seconds = lease_seconds(session, lease)  # a bad --lease is refused before anything happens
    task_id = store.resolve_id(task_id)
    session.ensure_clean(task_id)
    if plan is None:
        loaded = store.load()
        if task_id not in loaded.tasks:
            store.get(task_id)  # raises the file's own error
        evidence = resolver.gather(store, git, loaded.tasks)  # the same truth as ready/next/list
        tasks, nodes_taken, held = resolver.graph_inputs(store, loaded.tasks, evidence)
        graph = TaskGraph(tasks, claimed_elsewhere=nodes_taken, held=held)
        view = evidence.view or branches.scan(store, git)  # an unborn branch has no evidence yet
        taken = evidence.taken.get(task_id.lower())
    else:
        graph, view = plan.graph, plan.view or branches.scan(store, git)
        taken = plan.evidence.taken.get(task_id.lower()) if plan.evidence else None
    task = graph.tasks[(store.project, task_id)]
    state = graph.state((store.project, task_id))
    _refuse_foreign_claims(session, task, view, force)
    _refuse_person_lanes(session, task)
    remote, expected = _remote_plan(session, task_id, push, force)
    took_over = task.claimed_by if state == "stale" and task.claimed_by != session.agent else None
    took_over = took_over or (remote.took_over if remote else None) or _stale_elsewhere(session, view, task_id)
    renewing = state == "claimed" and task.claimed_by == session.agent
    if state == "claimed" and taken is not None and taken.task is not None and not renewing and not force:
        if taken.task.status == "done":
            raise Conflict(f"{task_id} was already completed on {taken.ref} (commit {taken.commit[:12]})")
        raise Conflict(f"{task_id} is claimed by {_holder(taken.task, taken.ref)}")
    if state not in ("ready", "stale") and not renewing and not force:
        waits = ", ".join(graph.label(n, store.project) for n in graph.unfinished_deps((store.project, task_id)))
        detail = f"; it waits on {waits}" if waits else ""
        raise Conflict(f"{task_id} is not ready (state {state}{detail}); use --force to claim it anyway")
    now = now_utc()
    changes = {
        "status": "in_progress", "claimed_by": session.agent, "claimed_at": format_time(now),
        "lease_until": format_time(now + timedelta(seconds=seconds)), "claim_branch": branch,
    }
    note = f"Took over from {took_over} (lease passed)" if took_over else None
    committed = session.change_and_commit("claim", task_id, lambda: [store.update(task_id, changes).id], note=note)
    if remote:
        remote.publish_claim(task_id, committed, expected, force)
    return Outcome(store.get(task_id), cast(str, committed.commit or git.head_commit()), took_over_from=took_over,
                   state="claimed")


def _stale_elsewhere(session: Session, view: branches.BranchView, task_id: str) -> str | None:
    """Who held a claim, on another branch or lease ref, whose lease has passed (a takeover reports them)."""
    now = now_utc()
    for version in view.of(task_id):
        task = version.task
        if task is not None and task.status == "in_progress" and task.claimed_by and not task.has_live_claim(now) \
                and not _ours(session, version.commit):
            return task.claimed_by
    return None


@locked
def renew(session: Session, task_id: str, lease: str | None = None, push: str | None = None) -> Outcome:
    """Extend a live lease held by this agent (a heartbeat for long work); authority as for every step."""
    store = session.store
    task_id = store.resolve_id(task_id)
    session.ensure_clean(task_id)
    task = store.get(task_id)
    require_authority(session, task, "renew")  # proposed, a person's lane, someone else's live claim
    if task.status != "in_progress" or task.claimed_by != session.agent:
        holder = f" ({_holder(task)})" if task.claimed_by else ""
        raise Conflict(f"{task_id} is not claimed by {session.agent}{holder}")
    if not task.has_live_claim(now_utc()):
        raise Conflict(f"the lease on {task_id} passed at {task.lease_until}; "
                       "claim it again (it may have been taken over)")
    _refuse_foreign_claims(session, task, branches.scan(store, session.git), force=False)  # claims elsewhere
    seconds = lease_seconds(session, lease)
    remote, expected = _remote_plan(session, task_id, push, force=False)
    until = format_time(now_utc() + timedelta(seconds=seconds))
    committed = session.change_and_commit("renew", task_id, lambda: [store.update(task_id, {"lease_until": until}).id])
    if remote:
        remote.publish_claim(task_id, committed, expected, force=False)
    return Outcome(store.get(task_id), cast(str, committed.commit or session.git.head_commit()))


def _own_task(session: Session, task_id: str, force: bool, verb: str) -> Task:
    """The task, with a clean file, not held by someone else's live claim (unless forced)."""
    task_id = session.store.resolve_id(task_id)
    session.ensure_clean(task_id)
    task = session.store.get(task_id)
    require_authority(session, task, verb, force)
    return task


@locked
def release(session: Session, task_id: str, note: str | None = None, force: bool = False,
            push: str | None = None) -> Outcome:
    """Give a claimed task back: status todo, claim keys removed."""
    store = session.store
    task = _own_task(session, task_id, force, "release")
    task_id = task.id
    if task.status != "in_progress" and not task.claimed_by:
        raise Conflict(f"{task_id} is not claimed (status {task.status})")
    changes = {"status": "todo", **_UNCLAIM}
    remote = _remote(session, push)
    committed = session.change_and_commit("release", task_id, lambda: [store.update(task_id, changes).id],
                                          note=note)
    if remote:
        remote.publish_end(task_id, committed, done=False)
    return Outcome(store.get(task_id), cast(str, committed.commit))  # the status changed: a commit


@locked
def done(session: Session, task_id: str, note: str | None = None, force: bool = False,
         push: str | None = None) -> Outcome:
    """Complete a task; the commit carries `Closes: <id>`; report what became ready."""
    store = session.store
    task = _own_task(session, task_id, force, "complete")
    task_id = task.id
    if task.is_finished and not force:
        raise Conflict(f"{task_id} is already {task.status}")
    changes = {"status": "done", "closed_at": format_time(now_utc()), **_UNCLAIM}
    remote = _remote(session, push)
    committed = session.change_and_commit("done", task_id, lambda: [store.update(task_id, changes).id],
                                          note=note, trailers=[("Closes", task_id)])
    if remote:
        remote.publish_end(task_id, committed, done=True)
    # only a task's dependents can become ready through it, and before this they were waiting on it
    dependents = store.dependents_of(task_id)
    evidence = resolver.gather(store, session.git, {t.id: t for t in dependents}) if dependents else None
    now_ready = sorted((t for t in dependents if evidence and resolver.state_of(store, t, evidence) == "ready"),
                       key=lambda t: t.id)
    return Outcome(store.get(task_id), cast(str, committed.commit), now_ready=now_ready)  # status changed: a commit


@locked
def handoff(session: Session, task_id: str, needs_title: str | None = None, needs_id: str | None = None,
            note: str | None = None, push: str | None = None) -> Outcome:
    """File (or link) a prerequisite, add it to depends_on and release the claim, in one commit."""
    if bool(needs_title) == bool(needs_id):
        raise UsageError("handoff needs exactly one of --needs TITLE or --needs-id ID")
    store = session.store
    task_id = store.resolve_id(task_id)
    session.ensure_clean(task_id)
    task = store.get(task_id)
    require_authority(session, task, "hand off")
    # a prerequisite that does not parse is refused before any change
    prereq_id = store.get(needs_id).id if needs_id else store.new_task_id(cast(str, needs_title))

    def change() -> list[str]:
        if needs_title:
            status = "proposed" if session.is_agent else "todo"  # an agent's new task waits for approval
            store.create(needs_title, {"status": status}, task_id=prereq_id)
        present = {d.lower() for d in task.depends_on}
        depends = list(task.depends_on) + ([prereq_id] if prereq_id.lower() not in present else [])
        changes: dict[str, Any] = {"depends_on": depends}
        if task.status == "in_progress" or task.claimed_by:
            changes.update({"status": "todo", **_UNCLAIM})
        store.update(task_id, changes)
        if needs_title:
            session.approve_by_rules([prereq_id], trailers)
        return [task_id] + ([prereq_id] if needs_title else [])

    remote = _remote(session, push)
    trailers = [("Needs", prereq_id)]  # change() may add Approval-Rule before the message is built
    committed = session.change_and_commit("handoff", task_id, change, note=note, trailers=trailers,
                                          touched=[task_id, prereq_id])
    if remote:  # the lease stays, at the handoff commit: other clones see what the task now waits on
        remote.publish_end(task_id, committed, done=False, keep=True)
    return Outcome(store.get(task_id), cast(str, committed.commit), prerequisite=store.get(prereq_id))


# -- across clones: the lease ref on the remote (see remote.py) ---------------


def _remote(session: Session, push: str | None) -> Remote | None:
    """The remote a step pushes to: None without --push; "" means the default remote."""
    return None if push is None else Remote.choose(session, push or None)


def _remote_plan(session: Session, task_id: str, push: str | None, force: bool) -> tuple[Remote | None, dict[str, str]]:
    """With --push: the remote and the compare-and-swap values for the task's refs, checked before committing."""
    remote = _remote(session, push)
    return (remote, remote.plan_claim(task_id, remote.known(task_id), force)) if remote else (None, {})


@locked
def claim_next(session: Session, filters: Filters | None = None, push: str | None = None, tries: int = 5,
               lease: str | None = None) -> Outcome | None:
    """Claim the best ready task; on a lost race move to the next candidate, up to `tries` attempts.

    With `push`, the remote's leases are fetched before choosing (and again after a lost race), so the agent
    does not reach for tasks the fleet already took. Returns None when nothing is ready; raises Conflict when
    every attempt lost.
    """
    from gtask.plan.planning import Filters

    remote = _remote(session, push)
    _see_leases(remote)
    if session.is_agent:
        store = session.store  # as Plan.agent_lanes: this project's lanes for agents
        filters = replace(filters or Filters(), agent_lanes={store.project: frozenset(store.config.agent_lanes)})
    plan, candidates = _candidates(session, filters, set())
    if not candidates:
        return None
    lost: list[str] = []
    tried: set[str] = set()
    while candidates and len(lost) < tries:
        task_id = candidates.pop(0)
        tried.add(task_id)
        try:
            outcome = claim(session, task_id, lease=lease, push=push, plan=plan)
        except Conflict as exc:
            lost.append(f"{task_id}: {exc.message}")
            if remote is not None and _see_leases(remote):
                # our view of the remote was stale: plan again on what it holds now, rather than spend the
                # other tries on tasks the fleet already took (each agent's next preference differs)
                plan, candidates = _candidates(session, filters, tried)
                if not candidates and not plan.ranked_ready(filters):
                    _lost_notice(session, lost, "nothing else is ready")
                    return None  # the fleet took the rest: nothing is ready now, as a fresh `next` would say
            continue
        if lost:
            _lost_notice(session, lost, f"claimed {outcome.task.id}")
        return outcome
    raise Conflict(f"lost {len(lost)} race(s): " + "; ".join(lost))


def _lost_notice(session: Session, lost: list[str], then: str) -> None:
    session.store.notify(f"lost the race for {', '.join(t.split(':')[0] for t in lost)}; {then}")


def _see_leases(remote: Remote | None) -> bool:
    """Fetch the remote's leases and tombstones; False when it cannot be reached (the push will say why)."""
    if remote is None:
        return False
    try:
        remote.fetch_leases()
    except GitError:
        return False
    return True


def _candidates(session: Session, filters: Filters | None, tried: set[str]) -> tuple[Plan, list[str]]:
    """A fresh plan and its ready tasks in this agent's order (spread over equally good ones), untried first."""
    from gtask.plan.planning import Plan, fleet_of, spread

    plan = Plan.of(session.store, session.git)
    agent = session.agent if session.is_agent else None  # agents spread over ties; a person takes the plain order
    ranked = spread(plan.ranked_ready(filters), agent, fleet_of(plan) if agent else ())
    return plan, [task.id for task, _ in ranked if task.id not in tried]
