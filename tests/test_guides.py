"""The guides run as written: every ```sh block of the person's guide in a fresh folder, every ```python
block of the library guide in a fresh repository (real git, real CLI on PATH)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import git, task_text, write_task

DOCS = Path(__file__).resolve().parent.parent / "docs"


def blocks(name: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", (DOCS / name).read_text(), re.S | re.M)


def test_the_persons_guide_runs_as_written(tmp_path: Path) -> None:
    script = "set -euo pipefail\n" + "".join(
        f"echo '>>> block {number}'\n{block}" for number, block in enumerate(blocks("guide-person.md", "sh"), 1))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "EDITOR": "true"}
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    shop = tmp_path / "shop"
    assert "merge=gtask" in (shop / ".gitattributes").read_text()
    assert "status: todo" in (shop / ".tasks" / "cache-the-catalogue.md").read_text()
    assert "status: canceled" in (shop / ".tasks" / "rewrite-everything-in-rust.md").read_text()
    assert "lane: autonomous   # agents may take it" in (shop / ".tasks" / "auth-check.md").read_text()


def test_the_library_guide_runs_as_written(repo: Path, monkeypatch, capsys) -> None:
    write_task(repo, "model", task_text("Define the model"))
    write_task(repo, "store", task_text("Store tasks", depends_on="[model]"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tasks")
    monkeypatch.chdir(repo)
    namespace: dict = {}
    for number, block in enumerate(blocks("library.md", "python"), 1):
        exec(compile(block, f"docs/library.md block {number}", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "4 not_found" in printed and "3 model is not ready" in printed
