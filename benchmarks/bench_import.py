"""Importing a real backlog: seconds, CPU and fsyncs for `gtask import --from SOURCE PATH` into a fresh repository.

    python benchmarks/bench_import.py [--runs 3] [--compare OLD_TREE] [--corpora ../shared/corpora]

Imports the two corpora (Backlog.md's `backlog/` folder, beads' `issues.jsonl`)
each into a new git repository, one commit each, as a user would. With
`--compare` the same imports run from OLD_TREE too, alternating (A B A B), and
medians are quoted. fsyncs are counted by wrapping `os.fsync` in the measured
process; the load average is printed with each row (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCES = (("backlog-md", "backlog-md"), ("beads", "beads/issues.jsonl"))
COUNTING = r"""
import atexit, os, runpy, sys
calls = [0]
real = os.fsync
def fsync(fd):
    calls[0] += 1
    return real(fd)
os.fsync = fsync
atexit.register(lambda: sys.stderr.write(f"\nfsyncs {calls[0]}\n"))
sys.argv = ["gtask", *sys.argv[1:]]
runpy.run_module("gtask", run_name="__main__")
"""


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def one_import(source: str, path: Path, pythonpath: str | None) -> tuple[float, float, int]:
    """Seconds, CPU seconds (gtask and its git processes) and fsyncs of one import into a new repository."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "user.name", "Bench")
        git(repo, "config", "user.email", "bench@example.com")
        env = {**os.environ, **({"PYTHONPATH": pythonpath} if pythonpath else {})}
        subprocess.run([sys.executable, "-m", "gtask", "init", "--project", "bench"], cwd=repo, env=env, check=True,
                       capture_output=True)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "init")
        before = os.times()
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", COUNTING, "import", "--from", source, str(path)], cwd=repo,
                              env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        after = os.times()
        if proc.returncode != 0:
            sys.exit(f"import --from {source} failed: {proc.stderr}")
        fsyncs = int(proc.stderr.rsplit("fsyncs ", 1)[1])
        cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
        return seconds, cpu, fsyncs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", metavar="OLD_TREE", help="also run these sources, alternating with ours")
    parser.add_argument("--corpora", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpora"))
    args = parser.parse_args()
    trees = [("after", None), ("before", args.compare)] if args.compare else [("", None)]
    print("| source | tree | seconds (median) | CPU s (median) | fsyncs | load avg |")
    print("|--------|------|-----------------:|---------------:|-------:|---------:|")
    for source, rel in SOURCES:
        runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name, _ in trees}
        for n in range(args.runs):
            for name, tree in (trees if n % 2 == 0 else trees[::-1]):
                runs[name].append(one_import(source, Path(args.corpora) / rel, tree))
        for name, _ in trees:
            seconds = statistics.median(r[0] for r in runs[name])
            cpu = statistics.median(r[1] for r in runs[name])
            print(f"| {source} | {name} | {seconds:.2f} | {cpu:.2f} | {runs[name][0][2]} "
                  f"| {os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # time gtask as installed: bytecode written once, then read
    main()
