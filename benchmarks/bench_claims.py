"""Claims per second through a local bare remote, with 1, 4, 8 and 16 racing clones.

    python benchmarks/bench_claims.py [--tasks 40] [--clones 1 4 8 16] [--pythonpath OTHER_TREE] [--compare OLD_TREE]

`--pythonpath` runs another copy of the sources (say, a tree from before a change); `--compare` runs this tree
and OLD_TREE alternately for each number of clones (A B A B: the machine's load hits both alike).

Each clone runs `gtask next --claim --push` in a loop (a real process per
call, as an agent would) until nothing is ready; every task is claimed exactly
once (checked on the remote: zero double claims, or the run fails). Reported:
wall time, claims per second, lost races (a `next` that lost every candidate it
tried and exited 3), lost pushes (claim commits the remote refused and that were
taken back, counted from the clones' reflogs), seconds per claim, and the load
average when the row ends.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOOP = r"""
import json, subprocess, sys
claims = lost = 0
while True:
    proc = subprocess.run([sys.executable, "-m", "gtask", "next", "--claim", "--push", "--agent", sys.argv[1],
                           "--json"], capture_output=True, text=True)
    if proc.returncode == 3:
        lost += 1
        subprocess.run([sys.executable, "-m", "gtask", "sync"], capture_output=True)
        continue
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    if json.loads(proc.stdout) is None:
        break
    claims += 1
print(claims, lost)
"""


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def setup(root: Path, tasks: int, clones: int) -> list[Path]:
    remote = root / "remote.git"
    git(root, "init", "-q", "--bare", "-b", "main", str(remote))
    seed = root / "seed"
    git(root, "clone", "-q", str(remote), str(seed))
    (seed / ".tasks").mkdir()
    (seed / ".tasks" / "config.yaml").write_text("project: bench\n")
    for i in range(tasks):
        (seed / ".tasks" / f"t{i:03d}.md").write_text(f"---\ntitle: Task {i}\nstatus: todo\npriority: {i % 5}\n---\n")
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "plan")
    git(seed, "push", "-q", "origin", "main")
    paths = []
    for n in range(clones):
        path = root / f"c{n}"
        git(root, "clone", "-q", str(remote), str(path))
        git(path, "config", "user.name", f"c{n}")
        git(path, "config", "user.email", f"c{n}@example.com")
        git(path, "switch", "-q", "-c", f"agent/c{n}")
        paths.append(path)
    return paths


def race(tasks: int, clones: int, pythonpath: str | None = None) -> tuple[float, int, int, int]:
    env = {**os.environ, **({"PYTHONPATH": pythonpath} if pythonpath else {})}
    with tempfile.TemporaryDirectory() as tmp:
        paths = setup(Path(tmp), tasks, clones)
        start = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", LOOP, f"c{n}"], cwd=path, stdout=subprocess.PIPE, text=True,
                                  env=env) for n, path in enumerate(paths)]
        results = [p.communicate()[0].split() for p in procs]
        seconds = time.perf_counter() - start
        claims = sum(int(r[0]) for r in results)
        lost = sum(int(r[1]) for r in results)
        assert claims == tasks, f"{claims} claims for {tasks} tasks"
        assert_single_claims(paths[0], tasks)
        return seconds, claims, lost, sum(claim_commits(path) for path in paths) - claims


def claim_commits(clone: Path) -> int:
    """Claim commits this clone made, kept or taken back after a refused push (each moved HEAD once)."""
    log = subprocess.run(["git", "reflog", "--format=%gs"], cwd=clone, check=True, capture_output=True,
                         text=True).stdout.splitlines()
    return sum(line.startswith("gtask: claim ") for line in log)


def assert_single_claims(clone: Path, tasks: int) -> None:
    """Zero double claims: the remote's history holds exactly one claim commit per task."""
    subprocess.run(["git", "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*"], cwd=clone, check=True)
    log = subprocess.run(["git", "log", "--all", "--format=%s"], cwd=clone, check=True, capture_output=True,
                         text=True).stdout.splitlines()
    claimed = [line for line in log if line.startswith("gtask: claim ")]
    assert len(claimed) == len(set(claimed)) == tasks, f"{len(claimed)} claim commits for {tasks} tasks"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--clones", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--pythonpath", help="run the gtask sources in this folder instead (a before/after table)")
    parser.add_argument("--compare", metavar="OLD_TREE", help="also run these sources, alternating with ours")
    args = parser.parse_args()
    trees = [("after", args.pythonpath), ("before", args.compare)] if args.compare else [("", args.pythonpath)]
    print("| tree | clones | tasks | seconds | claims/s | lost races | lost pushes | s per claim | double claims "
          "| load avg |")
    print("|------|-------:|------:|--------:|---------:|-----------:|------------:|------------:|--------------:"
          "|---------:|")
    for clones in args.clones:
        for name, path in (trees if clones % 2 else trees[::-1]):  # who goes first alternates
            seconds, claims, lost, pushes = race(args.tasks, clones, path)
            print(f"| {name} | {clones:>6} | {claims:>5} | {seconds:>7.2f} | {claims / seconds:>8.2f} | {lost:>10} "
                  f"| {pushes:>11} | {seconds / claims:>11.3f} | {0:>13} | {os.getloadavg()[0]:>8.1f} |", flush=True)


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # time gtask as installed: bytecode written once, then read
    main()
