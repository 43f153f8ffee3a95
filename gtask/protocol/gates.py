"""`gate run`: run a milestone's gate and record its result as a commit (holds: gitstate.holds)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from gtask.core.config import Milestone
from gtask.core.trailers import message
from gtask.errors import GtaskError, NotFound, UsageError
from gtask.gitstate.holds import integration_milestones, integration_signers
from gtask.protocol.session import Session


@dataclass
class GateRun:
    milestone: str
    result: str
    exit_code: int
    tested: str
    commit: str
    output: str | None  # captured only for --json

    def to_json(self) -> dict[str, Any]:
        return {"milestone": self.milestone, "result": self.result, "exit_code": self.exit_code,
                "tested": self.tested, "commit": self.commit, "output": self.output}


def argv_of(milestone: Milestone) -> list[str] | str:
    """What to execute: an argv list, or a line for the shell when the config says `shell: true`."""
    if milestone.gate is None:
        raise NotFound(f"milestone {milestone.name!r} has no gate in the integration branch's config")
    if milestone.shell:
        return milestone.gate if isinstance(milestone.gate, str) else shlex.join(milestone.gate)
    argv = list(milestone.gate) if isinstance(milestone.gate, tuple) else shlex.split(milestone.gate)
    if not argv:
        raise UsageError(f"milestone {milestone.name!r} has an empty gate")
    return argv


def run_gate(session: Session, name: str, integration_commit: str | None, capture: bool) -> GateRun:
    """Run a milestone's gate on HEAD's work tree and record the result as a commit on the current branch."""
    git = session.git
    milestone = integration_milestones(session.store, git, integration_commit).get(name)
    if milestone is None:
        raise NotFound(f"no milestone {name!r} in the integration branch's config")
    command = argv_of(milestone)
    tested = git.head_commit()
    if tested is None or git.current_branch() is None:
        raise UsageError("a gate result is recorded on a branch with commits: check out a branch first")
    if git.run("status", "--porcelain", "--untracked-files=no").stdout.strip():
        raise GtaskError("the work tree has uncommitted changes; a gate result must describe a commit "
                         "(commit or stash them first)")
    try:
        proc = subprocess.run(command, cwd=git.top, shell=milestone.shell, text=True,
                              stdout=subprocess.PIPE if capture else None,
                              stderr=subprocess.STDOUT if capture else None)
    except OSError as exc:
        raise GtaskError(f"cannot run the gate of {name!r}: {exc.strerror or exc}") from None
    result = "passed" if proc.returncode == 0 else "failed"
    note = f"The gate of {name} {result} on {tested[:12]} (exit {proc.returncode})."
    text = message("gate", name, session.agent, note, task_ids=[],
                   trailers=[("Gate", name), ("Gate-Result", result), ("Gate-Commit", tested)])
    # with gate_signers a result counts only when signed: sign it with the person's key (commit.gpgsign or not)
    must_sign = integration_signers(session.store, git, integration_commit) is not None
    commit = git.commit_paths([], text, sign=True if must_sign else None)
    sys.stdout.flush()
    return GateRun(name, result, proc.returncode, tested, commit, proc.stdout if capture else None)
