"""Approval rules, as the integration branch's committed config has them, and who filed each proposal.

Like milestone gates, rules are read from git objects at the integration branch's tip: never from the
work tree or another branch, so a rule widened on an agent's branch approves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from gtask.core.config import ApprovalRule, parse_config
from gtask.core.model import Task
from gtask.core.trailers import parse_trailers
from gtask.gitio.git import Git
from gtask.gitstate.branches import integration_commit
from gtask.store.store import CONFIG_NAME, Store

PROPOSING_ACTIONS = ("new", "import", "handoff")
RULE_TRAILER = "Approval-Rule"


def integration_rules(store: Store, git: Git) -> tuple[ApprovalRule, ...]:
    """The approval rules of the config committed at the integration branch's tip (none without one)."""
    commit = integration_commit(store, git)
    if commit is None:
        return ()
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    spec = f"{commit}:{folder}/{CONFIG_NAME}"
    obj = git.cat_file([spec]).get(spec)
    if obj is None:
        return ()
    return parse_config(obj[1], store.project, f"{CONFIG_NAME} on the integration branch").approval_rules


def rule_for(rules: tuple[ApprovalRule, ...], agent: str | None, task: Task) -> ApprovalRule | None:
    """The first rule that approves this proposal by this agent, if any."""
    return next((rule for rule in rules if rule.matches(agent, task.labels)), None)


def apply_rules(store: Store, rules: tuple[ApprovalRule, ...], agent: str, task_ids: list[str],
                trailers: list[tuple[str, str]]) -> list[str]:
    """Move the proposed tasks a rule matches to `todo` in its lane; add one trailer per rule used; return them."""
    approved = []
    for task_id in task_ids:
        task = store.get(task_id)
        rule = rule_for(rules, agent, task) if task.status == "proposed" else None
        if rule is None:
            continue
        store.update(task_id, {"status": "todo", "lane": rule.lane})
        approved.append(task_id)
        if (RULE_TRAILER, rule.name) not in trailers:
            trailers.append((RULE_TRAILER, rule.name))
    return approved


@dataclass(frozen=True)
class Proposer:
    """Who filed a task and in which commit (the oldest new/import/handoff commit naming it)."""

    agent: str
    commit: str
    date: str


def proposers(git: Git, rev: str = "HEAD") -> dict[str, Proposer]:
    """Task ID (lower case) -> who filed it, from the trailers of the commits reachable from `rev`."""
    found: dict[str, Proposer] = {}
    if git.rev_parse(f"{rev}^{{commit}}") is None:
        return found
    records = git.log_records("--format=%H%x00%cI%x00%an%x00%B", "-E", "--grep=^Task-Action: (new|import|handoff)$",
                              rev)
    for commit, date, author, body in records:  # newest first: older commits overwrite
        trailers = parse_trailers(body)
        if (trailers.get("Task-Action") or [""])[-1] not in PROPOSING_ACTIONS:
            continue
        agent = (trailers.get("Agent") or [author])[-1]
        for task_id in trailers.get("Task", []):
            found[task_id.lower()] = Proposer(agent, commit.strip(), date)
    return found


def branches_with(git: Git, commit: str) -> list[str]:
    """The local branches that contain a commit (where a proposal can be seen)."""
    out = git.run("for-each-ref", "--format=%(refname:short)", "--contains", commit, "refs/heads", check=False)
    return [line for line in out.stdout.splitlines() if line]
