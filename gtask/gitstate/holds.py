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
Either way a result counts only when the commit it was run on (`Gate-Commit:`,
else the result's own commit) is in the integration branch's history: a gate
that passed on unmerged work releases nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gtask.core.config import Config, Milestone, parse_config
from gtask.core.model import Task
from gtask.errors import GtaskError
from gtask.gitio import gitfiles
from gtask.store.cache import cache_path, read_cache, write_cache
from gtask.store.store import CONFIG_NAME, Store

if TYPE_CHECKING:  # a warm read that asks only `may_hold` loads neither the git module nor the graph
    from gtask.core.graph import Node
    from gtask.gitio.git import Git

RESULTS = ("passed", "failed")
_OBJECT_NAME = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # a full SHA-1 or SHA-256 name, never an option


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


def tasks_folder(store: Store, git: Git) -> str:
    """The task folder's path from the repository root, as git names it in a tree."""
    return store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()


def _config_at(git: Git, folder: str, commit: str | None, project: str = "-") -> Config | None:
    if commit is None:
        return None
    spec = f"{commit}:{folder}/{CONFIG_NAME}"
    obj = git.cat_file([spec]).get(spec)
    if obj is None:
        return None
    return parse_config(obj[1], project, f"{CONFIG_NAME} on the integration branch")


def integration_milestones(store: Store, git: Git, commit: str | None) -> dict[str, Milestone]:
    """The milestones of the config at `commit` (the integration branch's tip), read from git objects."""
    config = _config_at(git, tasks_folder(store, git), commit, store.project)
    return config.milestones if config else {}


ORDERED_FORMAT = 1


def may_hold(store: Store) -> bool:
    """Whether a gate may hold a task back: the integration branch's config orders milestones (`after`).

    The answer is remembered by the integration branch's commit, read from git's own files, so a warm read
    starts no git process; git is asked when that record is missing or the files cannot tell the commit.
    Only for a repository whose one branch is checked out (`resolver.can_add_evidence` asks it then).
    """
    if store.is_plain_folder or store.tasks_dir.is_symlink():
        return False  # the resolver reads no evidence for these (a linked folder is refused everywhere)
    git_dir, folder = gitfiles.find_git_dir(store.tasks_dir), _folder(store)
    if git_dir is None or folder is None:
        return False
    branch = gitfiles.integration_branch(git_dir, store.config.integration_branch)
    known, commit = _tip(git_dir, branch) if branch else (True, None)
    if known and commit is None:
        return False  # no integration branch (yet): no config there, no gate
    path = cache_path(git_dir, "integration-gates", store.use_cache) if known else None
    shape = gitfiles.history_shape(git_dir) if path is not None else ""  # a replace ref can swap the config
    stamp = {"format": ORDERED_FORMAT, "commit": commit, "folder": folder, "shape": shape}
    record = read_cache(path, stamp)
    if record is not None and isinstance(record.get("ordered"), bool):
        return bool(record["ordered"])
    ordered = _orders_milestones(store, commit)
    if ordered is None:
        return True  # git cannot tell (say, a config that does not parse there): let the resolver ask and report
    write_cache(path, stamp, {"ordered": ordered})
    return ordered


def _folder(store: Store) -> str | None:
    """The task folder's path from the work tree's top, read from the file system (None when not below it)."""
    top = gitfiles.find_top(store.tasks_dir)
    try:
        return store.tasks_dir.resolve().relative_to(top.resolve()).as_posix() if top else None
    except ValueError:
        return None


def _tip(git_dir: Path, branch: str) -> tuple[bool, str | None]:
    """(known, commit) of a local branch from git's files: (True, None) when it does not exist (an unborn HEAD),
    (False, None) when only git can tell (a ref these readers do not parse)."""
    ref = f"refs/heads/{branch}"
    commit = gitfiles.read_ref(git_dir, ref)
    if commit is not None:
        return True, commit
    shared = gitfiles.common_dir(git_dir)
    try:
        packed = (shared / "packed-refs").read_text(errors="replace")
    except FileNotFoundError:
        packed = ""
    except OSError:
        return False, None
    absent = not (shared / ref).exists() and f" {ref}\n" not in f"{packed}\n" and not (shared / "reftable").exists()
    return absent, None


def _orders_milestones(store: Store, commit: str | None) -> bool | None:
    """Whether the config on the integration branch (at `commit`, else as git finds it) orders milestones;
    None when git cannot tell."""
    from gtask.gitstate.branches import integration_commit

    try:
        git = store.repository()
        if git is None:
            return False
        commit = commit or integration_commit(store, git)
        return any(m.after for m in integration_milestones(store, git, commit).values())
    except GtaskError:
        return None


def signers_at(git: Git, folder: str, commit: str | None) -> bytes | None:
    """The allowed-signers file named by `gate_signers` in the config of `folder` at `commit`; None without it.

    A setting whose file is missing gives b"": nobody may then sign a result (fail closed).
    """
    config = _config_at(git, folder, commit)
    if config is None or config.gate_signers is None:
        return None
    spec = f"{commit}:{config.gate_signers}"
    obj = git.cat_file([spec]).get(spec)
    return obj[1] if obj is not None and obj[0] == "blob" else b""


def integration_signers(store: Store, git: Git, commit: str | None) -> bytes | None:
    """The allowed-signers file named by `gate_signers` on the integration branch (see `signers_at`)."""
    return signers_at(git, tasks_folder(store, git), commit)


def _verified(git: Git, commit: str, signers_file: str) -> bool:
    """Whether the commit has an SSH signature that git accepts against the allowed-signers file."""
    obj = git.cat_file([commit]).get(commit)
    if obj is None or b"\ngpgsig -----BEGIN SSH SIGNATURE-----" not in obj[1].split(b"\n\n", 1)[0]:
        return False
    return git.run("-c", f"gpg.ssh.allowedSignersFile={signers_file}", "verify-commit", commit,
                   check=False).returncode == 0


def _ran_on(named: list[str] | None, commit: str) -> str | None:
    """The commit a result says it ran on (`Gate-Commit:`, else the result's own); None when that is not one name."""
    if named is None:
        return commit
    return named[0] if len(named) == 1 and _OBJECT_NAME.fullmatch(named[0]) else None


def gate_results(git: Git, rev: str, signers: bytes | None = None,
                 integration: str | None = None) -> dict[str, GateResult]:
    """The newest result of each gate among the commits reachable from `rev` that counts.

    With `signers` (an allowed-signers file's bytes), only results in commits signed by one of them count.
    A result counts only when the commit it ran on is in the history of `integration` (else of `rev`):
    one `git merge-base --is-ancestor` per distinct tested commit, only for results that would count.
    """
    import tempfile

    from gtask.core.trailers import parse_trailers

    latest: dict[str, GateResult] = {}
    records = git.log_records("--format=%H%x00%cI%x00%B", "-E", "--grep=^Gate-Result: ", rev)
    if not records:
        return latest
    merged: dict[str, bool] = {}
    base = integration or rev
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
                ran_on = _ran_on(found.get("Gate-Commit"), commit)
                if ran_on is None:
                    continue  # a tested commit that is not one full object name: not a result
                if signers is not None and not _verified(git, commit, signers_file):
                    continue  # unsigned or signed by someone not allowed: not a result
                if ran_on not in merged:
                    merged[ran_on] = git.is_ancestor(ran_on, base)
                if not merged[ran_on]:
                    continue  # run on work the integration branch does not have
                tested = found["Gate-Commit"][0] if "Gate-Commit" in found else None
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
              tasks: Callable[[], list[Task]]) -> dict[Node, list[str]]:
    """What the gates hold back among these tasks (read only when a gate may hold any), from HEAD's point of view."""
    if git is None:
        return {}
    milestones = integration_milestones(store, git, integration_commit)
    if not any(m.after for m in milestones.values()):
        return {}  # no ordering between milestones: no history to read
    head = git.head_commit()
    signers = integration_signers(store, git, integration_commit)
    results = gate_results(git, head, signers, integration_commit) if head else {}
    return held_tasks(tasks(), milestones, results)


def holds_at(git: Git, folder: str, rev: str, integration: str | None, tasks: list[Task],
             milestones: dict[str, Milestone]) -> dict[str, list[str]]:
    """What the gates hold back at `rev` (a workspace's view): task ID -> gates, results checked as in a repo."""
    results = gate_results(git, rev, signers_at(git, folder, integration), integration)
    return {task_id: gates for (_, task_id), gates in held_tasks(tasks, milestones, results).items()}
