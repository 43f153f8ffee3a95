"""Where users already are: `check --files` under real pre-commit, and shell completion in a real bash."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, Cli, git, run_process, task_text, write_task

BIN = Path(sys.executable).parent
PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")  # read before HOME is isolated


# -- check --files ----------------------------------------------------------------


def test_check_files_validates_only_the_files_named(cli: Cli, repo: Path) -> None:
    write_task(repo, "good", task_text("Good"))
    write_task(repo, "ghost-ref", task_text("Needs a ghost", depends_on="[ghost]"))
    write_task(repo, "bad-lane", task_text("Odd lane", lane="nowhere"))
    write_task(repo, "broken", "---\ntitle: [unclosed\n---\n")
    assert cli("check", "--files", ".tasks/good.md", ".tasks/config.yaml").exit_code == 0
    result = cli("check", "--files", ".tasks/good.md", ".tasks/ghost-ref.md", ".tasks/bad-lane.md",
                 ".tasks/gone.md", "--json")
    assert result.exit_code == 1
    problems = {(p["path"], p["message"].split(",")[0]) for p in json.loads(result.stdout)["problems"]}
    assert problems == {(".tasks/ghost-ref.md", "depends on 'ghost'"),
                        (".tasks/bad-lane.md", "lane 'nowhere' is not one of the configured lanes: triage")}
    assert cli("check", "--files", "README.md").exit_code == 1
    assert cli("check", ".tasks/good.md").exit_code == 2  # files only with --files


def test_pre_commit_runs_gtask_check_on_the_changed_task_files(repo: Path, tmp_path: Path) -> None:
    pre_commit = shutil.which("pre-commit", path=str(BIN))
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (the test extra installs it)")
    hooks = tmp_path / "hooks"  # this repository as committed, as users reference it
    git(tmp_path, "clone", "-q", "--no-hardlinks", str(ROOT), str(hooks))
    shutil.rmtree(hooks / "gtask")  # the work tree's code, committed or not
    shutil.copytree(ROOT / "gtask", hooks / "gtask", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, hooks / name)
    git(hooks, "add", "-A")
    git(hooks, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "--allow-empty", "-m", "work tree")
    rev = git(hooks, "rev-parse", "HEAD")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n      - id: gtask-check\n")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PIP_CACHE_DIR": PIP_CACHE,
           "PATH": f"{BIN}:{os.environ['PATH']}"}
    install = subprocess.run([pre_commit, "install"], cwd=repo, capture_output=True, text=True, env=env)
    assert install.returncode == 0, install.stderr
    write_task(repo, "fine", task_text("Fine"))
    write_task(repo, "wrong", task_text("Wrong", priority="9"))
    git(repo, "add", "-A")
    refused = subprocess.run(["git", "commit", "-q", "-m", "plan"], cwd=repo, capture_output=True, text=True,
                             env=env, timeout=600)
    assert refused.returncode != 0, refused.stdout + refused.stderr
    assert ".tasks/wrong.md:4: error: 'priority' must be a whole number" in refused.stdout + refused.stderr
    write_task(repo, "wrong", task_text("Wrong", priority="1"))
    git(repo, "add", "-A")
    accepted = subprocess.run(["git", "commit", "-q", "-m", "plan"], cwd=repo, capture_output=True, text=True,
                              env=env, timeout=600)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "gtask check" in accepted.stdout + accepted.stderr


# -- shell completion -------------------------------------------------------------


@pytest.fixture
def ids_repo(repo: Path) -> Path:
    for task_id in ("api-auth", "api-docs", "web-login"):
        write_task(repo, task_id, task_text(task_id))
    return repo


def complete(repo: Path, shell: str, words: str) -> str:
    """Ask gtask for completions as the shell's script does (fish passes the word being typed, zsh its index)."""
    cword = words.split()[-1] if shell == "fish" else str(len(words.split()) - 1)
    env = {"_GTASK_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
    proc = run_process(repo, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_bash_completes_task_ids_and_statuses_in_a_real_bash(ids_repo: Path) -> None:
    script = run_process(ids_repo, "completion", "bash")
    assert script.returncode == 0 and "_gtask_completion" in script.stdout
    (ids_repo.parent / "gtask-completion.bash").write_text(script.stdout)
    shim = ids_repo.parent / "bin"
    shim.mkdir()
    (shim / "gtask").write_text(f"#!/bin/sh\nexec {sys.executable} -m gtask \"$@\"\n")
    (shim / "gtask").chmod(0o755)

    def tab(*words: str) -> list[str]:
        line = f'source {ids_repo.parent / "gtask-completion.bash"}; COMP_WORDS=({" ".join(words)}); ' \
               f'COMP_CWORD={len(words) - 1}; _gtask_completion gtask; printf "%s\\n" "${{COMPREPLY[@]}}"'
        proc = subprocess.run(["bash", "-c", line], cwd=ids_repo, capture_output=True, text=True,
                              env={**os.environ, "PATH": f"{shim}:{os.environ['PATH']}"})
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split()

    assert tab("gtask", "show", "api") == ["api-auth", "api-docs"]
    assert tab("gtask", "claim", "web") == ["web-login"]
    assert tab("gtask", "approve", "api-auth", "api-d") == ["api-docs"]
    assert tab("gtask", "list", "--status", "in") == ["in_progress"]
    assert "reconcile" in tab("gtask", "rec")


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_and_answers(ids_repo: Path, shell: str) -> None:
    script = run_process(ids_repo, "completion", shell)
    assert script.returncode == 0 and "_GTASK_COMPLETE" in script.stdout
    answer = complete(ids_repo, shell, "gtask show api")
    assert "api-auth" in answer and "api-docs" in answer and "web-login" not in answer
    assert "in_progress" in complete(ids_repo, shell, "gtask list --status in")
