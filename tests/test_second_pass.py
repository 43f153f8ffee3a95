"""What the second adversarial pass found, each as it was reproduced: a writer holding a task file open, replace
refs and `core.useReplaceRefs` under the caches, and a revoked gate signer under `view`'s remembered answer."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import git, run_process, task_text, write_task

NO_CACHE = {"GTASK_NO_CACHE": "1"}


def same_warm_and_cold(repo: Path, *args: str) -> str:
    warm = run_process(repo, *args)
    cold = run_process(repo, *args, env=NO_CACHE)
    assert (warm.returncode, warm.stdout) == (cold.returncode, cold.stdout), args
    return warm.stdout


def test_a_write_refuses_while_another_process_keeps_the_file_open_for_writing(repo: Path) -> None:
    """Its later write would land in the file a swap displaced, and be lost: nothing is written, exit 3."""
    path = write_task(repo, "a", task_text("A"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a")
    before = path.read_bytes()
    with open(path, "a") as holder:
        result = run_process(repo, "set", "a", "priority=1")
        holder.write("appended by the holder\n")
    assert result.returncode == 3 and "open for writing" in result.stderr
    assert path.read_bytes() == before + b"appended by the holder\n"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".a.md.")]  # no temporary file left


def test_a_replaced_config_blob_gates_warm_as_cold(repo: Path) -> None:
    write_task(repo, "beta", task_text("Beta", milestone="m2"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "beta")
    assert "beta" in same_warm_and_cold(repo, "ready")
    config = repo / ".tasks" / "config.yaml"
    original = config.read_text()
    config.write_text(original + 'milestones:\n  m1:\n    gate: "true"\n  m2:\n    after: m1\n')
    gated = git(repo, "hash-object", "-w", ".tasks/config.yaml")
    config.write_text(original)
    git(repo, "replace", git(repo, "rev-parse", "HEAD:.tasks/config.yaml"), gated)
    assert "beta" not in same_warm_and_cold(repo, "ready")


def test_switching_replace_refs_in_git_config_reads_history_again(repo: Path) -> None:
    write_task(repo, "alpha", task_text("Alpha"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "alpha")
    (repo / "work.txt").write_text("work\n")
    write_task(repo, "alpha", task_text("Alpha", "done"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "work\n\nCloses: alpha")
    copy = git(repo, "commit-tree", "HEAD^{tree}", "-p", "HEAD~1", "-m", "work without a closing line")
    git(repo, "replace", "HEAD", copy)
    seen = set()
    for setting in ("false", "true", "false"):
        git(repo, "config", "core.useReplaceRefs", setting)
        seen.add(same_warm_and_cold(repo, "status", "--json"))
    assert len(seen) == 2  # the replacement changes the evidence, and each view of it is read afresh


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed: no signing key")
def test_a_revoked_gate_signer_is_seen_by_a_warm_view(tmp_path: Path) -> None:
    """`git verify-commit` judges signatures by git's configuration and files outside the repository: a
    workspace answer that checked signed gates is never remembered."""
    key = tmp_path / "key"
    git(tmp_path, "-c", "init.defaultBranch=main", "init", "-q", "ws/r")
    assert os.system(f"ssh-keygen -q -t ed25519 -N '' -f {key}") == 0
    repo = tmp_path / "ws" / "r"
    for name, value in (("user.name", "U"), ("user.email", "u@x"), ("gpg.format", "ssh"),
                        ("user.signingkey", str(key))):
        git(repo, "config", name, value)
    assert run_process(repo, "init").returncode == 0
    (repo / ".gtask").mkdir()
    (repo / ".gtask" / "allowed_signers").write_text(f"u@x {(tmp_path / 'key.pub').read_text()}")
    with open(repo / ".tasks" / "config.yaml", "a") as config:
        config.write('gate_signers: .gtask/allowed_signers\nmilestones:\n  m1:\n    gate: "true"\n  m2:\n'
                     "    after: m1\n")
    write_task(repo, "beta", task_text("Beta", milestone="m2"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "i")
    git(repo, "config", "commit.gpgsign", "true")
    assert run_process(repo, "gate", "run", "m1").returncode == 0
    git(repo, "config", "commit.gpgsign", "false")
    workspace = repo.parent
    assert "beta" in same_warm_and_cold(workspace, "view", ".")
    shutil.copy(tmp_path / "key.pub", tmp_path / "revoked")
    git(repo, "config", "gpg.ssh.revocationFile", str(tmp_path / "revoked"))
    assert "beta" not in same_warm_and_cold(workspace, "view", ".")
