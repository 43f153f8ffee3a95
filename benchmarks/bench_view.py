"""`gtask view` over a workspace of many repositories, warm: `python benchmarks/bench_view.py`.

    python benchmarks/bench_view.py [--repos 100] [--tasks 100] [--runs 9] [--branches 0]
                                    [--dir FOLDER] [--pythonpath OTHER_TREE]

Builds the workspace of `benchmarks/run.py` (`--repos` repositories of `--tasks` tasks, with edges across
repositories) in FOLDER (kept, and reused when it already holds one) or a temporary folder; `--branches N`
gives the first N repositories an agent's claim branch. Each command runs once untimed (warming the caches),
then `--runs` times; medians of wall and CPU time are printed. The last row moves a ref in one repository
before each run (created at, or deleted from, its integration commit): the remembered whole answer is not
valid, every repository's own remembered read is (what a warm `view` costs after one repository changed).
With `--pythonpath`, another copy of the sources runs interleaved with this one (A B A B ...), so that a
loaded machine slows both alike, on its own copy of the workspace (two versions of gtask would overwrite each
other's caches), and the ratios are printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import add_claim_branches, generate_workspace

COMMANDS = (["view", "DIR"], ["view", "DIR", "--json"], ["view", "DIR", "--all"], ["view", "DIR", "(a ref moved)"])
TOUCHED = "(a ref moved)"


def move_a_ref(root: Path) -> None:
    """Create or delete a branch at the first repository's integration commit (changes no task's state)."""
    repo = root / "repo-000"
    exists = subprocess.run(["git", "rev-parse", "-q", "--verify", "refs/heads/bench-moved"], cwd=repo,
                            capture_output=True).returncode == 0
    args = ["-d", "refs/heads/bench-moved"] if exists else ["refs/heads/bench-moved", "main"]
    subprocess.run(["git", "update-ref", *args], cwd=repo, check=True)


def build(root: Path, repos: int, tasks: int, branches: int) -> None:
    """The workspace, unless `root` already holds one."""
    if (root / "repo-000").is_dir():
        return
    paths = generate_workspace(root, repos, tasks)
    for path in paths[:branches]:
        ids = sorted(p.stem for p in (path / ".tasks").glob("*.md"))
        add_claim_branches(path, ids, 1, per_branch=2)
    time.sleep(2.1)  # files edited in the last 2 s are never cached (racy-clean rule)


def run_once(root: Path, args: list[str], pythonpath: str | None) -> tuple[float, float]:
    """Run gtask once; return wall seconds and CPU seconds (user + system: less sensitive to a loaded machine)."""
    if TOUCHED in args:
        move_a_ref(root)
        args = [a for a in args if a != TOUCHED]
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(Path(tempfile.gettempdir()) / "gtask-bench-pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's Python reads compiled modules: so does the benchmark
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "gtask", *[str(root) if a == "DIR" else a for a in args]],
                            cwd=root, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"gtask {' '.join(args)} failed")
    return seconds, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--branches", type=int, default=0, help="repositories given a claim branch")
    parser.add_argument("--dir", type=Path, help="build (or reuse) the workspace here")
    parser.add_argument("--pythonpath", help="another tree of gtask's sources to run interleaved")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = (args.dir or Path(tmp) / "workspace").resolve()
        build(root, args.repos, args.tasks, args.branches)
        sides = [("this", None)] + ([("other", args.pythonpath)] if args.pythonpath else [])
        roots = {"this": root, "other": root.with_name(f"{root.name}-other")}
        if args.pythonpath and not roots["other"].is_dir():  # its own copy: the two would overwrite each other's caches
            shutil.copytree(root, roots["other"], symlinks=True)
        print(f"{args.repos} repositories x {args.tasks} tasks, {args.branches} with a claim branch; "
              f"warm, median of {args.runs} runs, seconds; load average {os.getloadavg()[0]:.2f}")
        heads = [f"{name} {kind}" for name, _ in sides for kind in ("wall", "cpu")]
        print("| command | " + " | ".join(heads) + (" | ratio wall | ratio cpu |" if len(sides) > 1 else " |"))
        for command in COMMANDS:
            times: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in sides}
            for name, path in sides:
                run_once(roots[name], command, path)  # warm the caches
            for _ in range(args.runs):
                for name, path in sides:
                    times[name].append(run_once(roots[name], command, path))
            medians = [statistics.median(t[i] for t in times[name]) for name, _ in sides for i in (0, 1)]
            cells = " | ".join(f"{m:.3f}" for m in medians)
            ratio = f" | {medians[2] / medians[0]:.2f}x | {medians[3] / medians[1]:.2f}x" if len(sides) > 1 else ""
            print(f"| {' '.join(command)} | {cells}{ratio} |")
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # time gtask as installed: bytecode written once, then read
    main()
