"""Milestones with quality gates: what holds tasks back until a gate passes.

A gate command is taken only from the config on the integration branch, read
from git objects: never from a task file, the work tree or another branch, so a
branch cannot change what a gate runs. A result is an empty protocol commit
with the trailers `Gate: <milestone>` and `Gate-Result: passed|failed`; the
newest result reachable from a commit is what counts there.
"""

from __future__ import annotations

from dataclasses import dataclass

from gtask.core.config import Milestone, parse_config
from gtask.core.graph import Node
from gtask.core.model import Task
from gtask.core.trailers import parse_trailers
from gtask.gitio.git import Git
from gtask.store.store import CONFIG_NAME, Store

RESULTS = ("passed", "failed")


@dataclass
class GateResult:
    """One recorded run of a gate."""

    milestone: str
    result: str
    commit: str  # the commit that records the result
    tested: str | None  # the commit the gate ran on
    date: str

    def to_json(self) -> dict[str, str | None]:
        return {"milestone": self.milestone, "result": self.result, "commit": self.commit,
                "tested": self.tested, "date": self.date}


def integration_milestones(store: Store, git: Git, commit: str | None) -> dict[str, Milestone]:
    """The milestones of the config at `commit` (the integration branch's tip), read from git objects."""
    if commit is None:
        return {}
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    spec = f"{commit}:{folder}/{CONFIG_NAME}"
    obj = git.cat_file([spec]).get(spec)
    if obj is None:
        return {}
    return parse_config(obj[1], store.project, f"{CONFIG_NAME} on the integration branch").milestones


def gate_results(git: Git, rev: str) -> dict[str, GateResult]:
    """The newest result of each gate among the commits reachable from `rev`."""
    latest: dict[str, GateResult] = {}
    for commit, date, body in git.log_records("--format=%H%x00%cI%x00%B", "-E", "--grep=^Gate-Result: ", rev):
        found = parse_trailers(body)
        names, results = found.get("Gate", []), found.get("Gate-Result", [])
        if len(names) == 1 and len(results) == 1 and results[0] in RESULTS and names[0] not in latest:
            tested = found.get("Gate-Commit", [None])[0]
            latest[names[0]] = GateResult(names[0], results[0], commit.strip(), tested, date)
    return latest


def held_tasks(tasks: list[Task], milestones: dict[str, Milestone],
               results: dict[str, GateResult]) -> dict[Node, list[str]]:
    """Tasks of a milestone that comes `after` another whose gate has not passed: node -> those gates."""
    held: dict[Node, list[str]] = {}
    for task in tasks:
        milestone = milestones.get(task.milestone or "")
        if milestone is None:
            continue
        waiting = [f"gate:{name}" for name in milestone.after
                   if name not in results or results[name].result != "passed"]
        if waiting:
            held[(task.project, task.id)] = waiting
    return held


def holds_for(store: Store, git: Git | None, integration_commit: str | None,
              tasks: list[Task]) -> dict[Node, list[str]]:
    """What the gates hold back among these tasks, from HEAD's point of view."""
    if git is None:
        return {}
    milestones = integration_milestones(store, git, integration_commit)
    if not any(m.after for m in milestones.values()):
        return {}  # no ordering between milestones: no history to read
    head = git.head_commit()
    results = gate_results(git, head) if head else {}
    return held_tasks(tasks, milestones, results)
