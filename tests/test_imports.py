"""Heavy imports are deferred: `--help` and `show` load neither networkx nor git code."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import task_text, write_task

HEAVY = ("networkx", "git", "gtask.gitio.git", "gtask.core.graph")


def imported_modules(cwd: Path, *args: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "gtask", *args], cwd=cwd,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    return modules


@pytest.mark.parametrize("args", [("--help",), ("show", "a"), ("show", "a", "--json")])
def test_light_commands_do_not_import_heavy_modules(repo: Path, args: tuple[str, ...]) -> None:
    """Once per integration commit, git is asked whether its config orders milestones (gates come from there,
    design §2); every later run reads that answer from the cache."""
    write_task(repo, "a", task_text("A"))
    imported_modules(repo, *args)
    modules = imported_modules(repo, *args)
    assert "gtask.store.store" in modules or args == ("--help",)
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_warm_listings_parse_nothing(repo: Path) -> None:
    """A warm `ready`, `list` or `next` reads remembered answers: no YAML, no task file parser, no hashing."""
    for number in range(3):
        write_task(repo, f"t{number}", task_text(f"Task {number}", depends_on="[t0]" if number else "[]"))
    old = 1_600_000_000_000_000_000
    for path in (repo / ".tasks").iterdir():
        os.utime(path, ns=(old, old))
    time.sleep(2.1)  # change times settle: the folder's snapshot may be written
    for command in (("ready",), ("list",), ("next",)):
        imported_modules(repo, *command)  # warms the caches
        modules = imported_modules(repo, *command)
        unused = {"yaml", "gtask.core.taskfile", "gtask.store.parsing", "gtask.core.schema", "hashlib"}
        assert not modules & unused, (command, sorted(modules & unused))
