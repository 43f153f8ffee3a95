"""The approval gate: tasks an agent files wait as `proposed` until a person decides."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gtask.core.model import Task, format_time, now_utc
from gtask.errors import Conflict, NotFound, UsageError
from gtask.fsutil import create_exclusive
from gtask.protocol.session import Committed, Session
from gtask.store.locking import locked
from gtask.store.store import Store

if TYPE_CHECKING:  # read only by the decisions (claims import this module for require_authority)
    from gtask.errors import Problem
    from gtask.gitstate.proposals import BranchProposal, Survey


def require_authority(session: Session, task: Task, verb: str, force: bool = False) -> None:
    """One rule for every step on a task (done, release, handoff, attempt): refuse what the actor may not do.

    An agent may not act on a `proposed` task (a person has not approved it), on a task in a lane agents
    may not take, or on a task someone else holds with a live claim (not even with --force; a person may force).
    """
    if session.is_agent:
        if task.status == "proposed":
            raise Conflict(f"{task.id} is proposed: a person approves it ('gtask approve {task.id}') "
                           f"before an agent may {verb} it", path=task.path)
        allowed = session.store.config.agent_lanes
        if task.lane and task.lane not in allowed:
            raise Conflict(f"{task.id} is in lane {task.lane!r}, which needs a person; agents may {verb} only tasks "
                           f"in {', '.join(allowed) or 'no lane'} (config agent_lanes)", path=task.path)
    if task.claimed_by and task.claimed_by != session.agent and task.has_live_claim(now_utc()) \
            and (session.is_agent or not force):
        how = "" if session.is_agent else f"; use --force to {verb} it anyway"
        raise Conflict(f"{task.id} is claimed by {task.claimed_by} on {task.claim_branch or '?'} until "
                       f"{task.lease_until or 'no lease'}{how}", path=task.path)


@dataclass
class Decided:
    """The proposals a decision names: their IDs, and those brought in from another branch (with their bytes)."""

    ids: list[str]
    incoming: dict[str, tuple[BranchProposal, bytes]] = field(default_factory=dict)

    def bring_in(self, store: Store) -> None:
        """Write each branch proposal's file here, byte for byte as its branch has it."""
        for task_id, (_, raw) in self.incoming.items():
            try:
                create_exclusive(store.path_of(task_id), raw)
            except FileExistsError:
                raise Conflict(f"{task_id} appeared here meanwhile; nothing was changed",
                               path=store.label(store.path_of(task_id))) from None

    def note(self) -> str | None:
        return "\n".join(f"{task_id} brought in from {p.ref}" for task_id, (p, _) in self.incoming.items()) or None


def _proposed(session: Session, task_ids: list[str]) -> Decided:
    """Resolve the IDs; every one must be a clean, proposed task here or on another branch, else nothing happens."""
    from gtask.gitstate import proposals as branch_proposals

    decided = Decided([])
    elsewhere: Survey | None = None
    for task_id in task_ids:
        try:
            task_id = session.store.resolve_id(task_id)
        except NotFound:
            elsewhere = branch_proposals.survey(session.store, session.git) if elsewhere is None else elsewhere
            proposal = branch_proposals.find(session.store, session.git, task_id, elsewhere)
            decided.ids.append(proposal.task.id)
            decided.incoming[proposal.task.id] = (proposal, b"")
            continue
        session.ensure_clean(task_id)
        status = session.store.get(task_id).status
        if status != "proposed":
            raise Conflict(f"{task_id} is not proposed (status {status}); nothing was changed")
        decided.ids.append(task_id)
    if len({t.lower() for t in decided.ids}) != len(decided.ids):
        raise UsageError("an ID is named twice")
    if decided.incoming:
        for task_id in decided.incoming:
            session.ensure_clean(task_id)  # nothing staged under its name
        raw = branch_proposals.file_bytes(session.store, session.git, [p for p, _ in decided.incoming.values()])
        decided.incoming = {t: (p, raw[t]) for t, (p, _) in decided.incoming.items()}
    return decided


@locked
def approve(session: Session, task_ids: list[str], lane: str | None = None) -> Committed:
    """A person moves proposed tasks to `todo` (optionally into a lane), in one commit."""
    session.require_person("approval")
    store = session.store
    if lane is not None and lane not in store.config.lanes:
        raise UsageError(f"--lane {lane!r} is not one of the configured lanes: {', '.join(store.config.lanes)}")
    decided = _proposed(session, task_ids)
    ids = decided.ids
    changes = {"status": "todo", **({"lane": lane} if lane else {})}

    def change() -> list[str]:
        decided.bring_in(store)
        return [store.update(task_id, changes).id for task_id in ids]

    return session.change_and_commit("approve", ids[0], change, note=decided.note(), touched=ids)


@locked
def reject(session: Session, task_id: str, reason: str) -> Committed:
    """A person cancels a proposed task; the reason goes into the commit."""
    session.require_person("rejection")
    if not reason.strip():
        raise UsageError("--reason must say why")
    store = session.store
    decided = _proposed(session, [task_id])
    (task_id,) = decided.ids
    changes = {"status": "canceled", "closed_at": format_time(now_utc())}

    def change() -> list[str]:
        decided.bring_in(store)
        return [store.update(task_id, changes).id]

    note = "\n".join(filter(None, [reason, decided.note()]))
    return session.change_and_commit("reject", task_id, change, note=note,
                                     trailers=[("Reason", " ".join(reason.split())[:200])])


def awaiting_decision(store: Store) -> tuple[list[tuple[Task, str, str | None]], list[Problem]]:
    """What waits for a person: proposed tasks (here, or on another branch: its name), and ready tasks in lanes
    agents may not take; with the problems of task files on other branches that cannot be read."""
    from gtask.gitstate.proposals import Survey, survey
    from gtask.plan.planning import Plan

    plan = Plan.of(store)
    waiting: list[tuple[Task, str, str | None]] = []
    for node, task in sorted(plan.graph.tasks.items()):
        if task.status == "proposed":
            waiting.append((task, "approval", None))
        elif task.lane and task.lane not in store.config.agent_lanes and plan.graph.state(node) == "ready":
            waiting.append((task, "a person", None))
    view = plan.evidence.view if plan.evidence is not None else None  # no view: no other branch to read
    elsewhere = survey(store, view.git, view) if view is not None else Survey()
    waiting += [(p.task, "approval", p.ref) for p in elsewhere.found.values()]
    return sorted(waiting, key=lambda item: item[0].id), elsewhere.problems()


# -- approval rules (the integration branch's config) -------------------------


def proposals_with_filers(store: Store) -> list[tuple[Task, str | None]]:
    """Every proposed task with the agent who filed it (None when no gtask commit names it)."""
    from gtask.gitstate.rules import proposers

    git = None if store.is_plain_folder else store.repository()
    who = proposers(git) if git is not None else {}
    tasks = sorted((t for t in store.load().tasks.values() if t.status == "proposed"), key=lambda t: t.id)
    return [(task, who[task.id.lower()].agent if task.id.lower() in who else None) for task in tasks]


def rule_names_for_waiting(store: Store) -> dict[str, str]:
    """Proposed task ID -> the name of the approval rule that would approve it (none without a repository)."""
    from gtask.gitstate.rules import integration_rules, rule_for

    git = None if store.is_plain_folder else store.repository()
    rules = integration_rules(store, git) if git is not None else ()
    if not rules:
        return {}
    found = {}
    for task, agent in proposals_with_filers(store):
        rule = rule_for(rules, agent, task)
        if rule is not None:
            found[task.id] = rule.name
    return found


@locked
def approve_by_rule(session: Session, rule_name: str) -> Committed:
    """A person applies one approval rule by hand to every proposed task it matches, in one commit."""
    from gtask.errors import NotFound
    from gtask.gitstate.rules import RULE_TRAILER, integration_rules

    session.require_person("approval")
    store = session.store
    rules = {rule.name: rule for rule in integration_rules(store, session.git)}
    if rule_name not in rules:
        known = ", ".join(sorted(rules)) or "none"
        raise NotFound(f"no approval rule {rule_name!r} in the integration branch's config (rules: {known})")
    rule = rules[rule_name]
    ids = [task.id for task, agent in proposals_with_filers(store) if rule.matches(agent, task.labels)
           and not session.git.path_is_dirty(session.rel_path(task.id))]
    if not ids:
        return Committed(None, session.git.head_commit(), {}, [])

    def change() -> list[str]:
        return [store.update(task_id, {"status": "todo", "lane": rule.lane}).id for task_id in ids]

    return session.change_and_commit("approve", ids[0], change, trailers=[(RULE_TRAILER, rule_name)], touched=ids)


@locked
def decide(session: Session, approvals: dict[str, str | None], rejections: dict[str, str]) -> Committed:
    """A person's triage decisions (ID -> lane or None; ID -> reason) as ONE commit; nothing when there are none."""
    session.require_person("approval")
    store = session.store
    decided = _proposed(session, list(approvals) + list(rejections))
    ids = decided.ids
    for lane in approvals.values():
        if lane is not None and lane not in store.config.lanes:
            raise UsageError(f"lane {lane!r} is not one of the configured lanes: {', '.join(store.config.lanes)}")
    if any(not reason.strip() for reason in rejections.values()):
        raise UsageError("a rejection must say why")
    if not ids:
        return Committed(None, session.git.head_commit(), {}, [])
    closed = format_time(now_utc())

    def change() -> list[str]:
        decided.bring_in(store)
        for task_id, lane in approvals.items():
            store.update(task_id, {"status": "todo", **({"lane": lane} if lane else {})})
        for task_id in rejections:
            store.update(task_id, {"status": "canceled", "closed_at": closed})
        return ids

    note = "\n".join([f"approved {task_id}" for task_id in approvals]
                     + [f"rejected {task_id}: {' '.join(reason.split())[:200]}"
                        for task_id, reason in rejections.items()] + [decided.note() or ""]).strip()
    return session.change_and_commit("triage", ids[0], change, note=note, touched=ids)
