"""Milestones with quality gates: what holds tasks back until a gate passes.

A gate command is taken only from the config on the integration branch, read
from git objects: never from a task file, the work tree or another branch, so a
branch cannot change what a gate runs. A result is an empty protocol commit
with the trailers `Gate: <milestone>` and `Gate-Result: passed|failed`; the
newest result reachable from a commit is what counts there.

With `gate_signers` in the integration branch's config, a result counts only
when its commit carries an SSH signature that `git verify-commit` accepts
against that allowed-signers file (read from the integration branch, never the
work tree); without it every result is `unsigned`: any commit message can pass a gate.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from gtask.core.config import Config, Milestone, parse_config
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
    signature: str = "unsigned"  # "verified" when checked against gate_signers, else "unsigned"

    def to_json(self) -> dict[str, str | None]:
        return {"milestone": self.milestone, "result": self.result, "commit": self.commit,
                "tested": self.tested, "date": self.date, "signature": self.signature}


def _integration_config(store: Store, git: Git, commit: str | None) -> Config | None:
    if commit is None:
        return None
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    spec = f"{commit}:{folder}/{CONFIG_NAME}"
    obj = git.cat_file([spec]).get(spec)
    if obj is None:
        return None
    return parse_config(obj[1], store.project, f"{CONFIG_NAME} on the integration branch")


def integration_milestones(store: Store, git: Git, commit: str | None) -> dict[str, Milestone]:
    """The milestones of the config at `commit` (the integration branch's tip), read from git objects."""
    config = _integration_config(store, git, commit)
    return config.milestones if config else {}


def integration_signers(store: Store, git: Git, commit: str | None) -> bytes | None:
    """The allowed-signers file named by `gate_signers`, read at `commit`; None without the setting.

    A setting whose file is missing gives b"": nobody may then sign a result (fail closed).
    """
    config = _integration_config(store, git, commit)
    if config is None or config.gate_signers is None:
        return None
    spec = f"{commit}:{config.gate_signers}"
    obj = git.cat_file([spec]).get(spec)
    return obj[1] if obj is not None and obj[0] == "blob" else b""


def _verified(git: Git, commit: str, signers_file: str) -> bool:
    """Whether the commit has an SSH signature that git accepts against the allowed-signers file."""
    obj = git.cat_file([commit]).get(commit)
    if obj is None or b"\ngpgsig -----BEGIN SSH SIGNATURE-----" not in obj[1].split(b"\n\n", 1)[0]:
        return False
    return git.run("-c", f"gpg.ssh.allowedSignersFile={signers_file}", "verify-commit", commit,
                   check=False).returncode == 0


def gate_results(git: Git, rev: str, signers: bytes | None = None) -> dict[str, GateResult]:
    """The newest result of each gate among the commits reachable from `rev`.

    With `signers` (an allowed-signers file's bytes), only results in commits signed by one of them count.
    """
    latest: dict[str, GateResult] = {}
    records = git.log_records("--format=%H%x00%cI%x00%B", "-E", "--grep=^Gate-Result: ", rev)
    if not records:
        return latest
    with tempfile.TemporaryDirectory(prefix="gtask-signers-") as folder:
        signers_file = os.path.join(folder, "allowed_signers")
        if signers is not None:
            with open(signers_file, "wb") as handle:
                handle.write(signers)
        for commit, date, body in records:
            found = parse_trailers(body)
            names, results = found.get("Gate", []), found.get("Gate-Result", [])
            if len(names) == 1 and len(results) == 1 and results[0] in RESULTS and names[0] not in latest:
                commit = commit.strip()
                if signers is not None and not _verified(git, commit, signers_file):
                    continue  # unsigned or signed by someone not allowed: not a result
                tested = found.get("Gate-Commit", [None])[0]
                latest[names[0]] = GateResult(names[0], results[0], commit, tested, date,
                                              "unsigned" if signers is None else "verified")
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
    results = gate_results(git, head, integration_signers(store, git, integration_commit)) if head else {}
    return held_tasks(tasks, milestones, results)
