"""A long history: warm commands on a repository of many commits, against the same tasks in one commit.

    python benchmarks/bench_history.py [--commits 50000] [--tasks 1000] [--runs 5] [--timeout 60]
                                       [--pythonpath OLD_TREE]

The history is written with `git fast-import` (seconds, not minutes): the tasks are added spread over the
first commits, every tenth commit after that closes one with `Closes: ID` in its message, the rest change a
source file. Five commands (`ready`, `status`, `log t00001`, `reconcile --dry-run`, `events --since HEAD~100`;
in the one-commit repository `--since HEAD`) run once untimed in each repository (warming the caches), then
`--runs` times; medians are printed. `--pythonpath OLD_TREE` also runs another copy of the sources, each tree
on its own copy of the repositories (their caches apart), interleaved run by run (A B A B): a before/after
table. A run longer than `--timeout` seconds is reported as not finished. Each cell: median wall seconds (median
CPU seconds of gtask and its git processes, which a loaded machine disturbs less).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]


def task_text(n: int) -> bytes:
    depends = f"depends_on: [t{n - 1:05d}]\n" if n % 3 == 2 else ""
    return f"---\ntitle: Task {n}\nstatus: todo\npriority: {n % 5}\n{depends}---\n\nBody of task {n}.\n".encode()


def blob(data: bytes) -> bytes:
    return b"data %d\n" % len(data) + data + b"\n"


def write_history(path: Path, commits: int, tasks: int) -> None:
    """One repository: `commits` commits on main, the `tasks` task files added over the first ones."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    parts: list[bytes] = []
    when = 1_600_000_000
    per_commit = max(1, tasks // max(1, min(commits, tasks)))
    added = 0
    for n in range(commits):
        when += 60
        message = f"change {n}\n".encode()
        files = []
        if added < tasks:
            for _ in range(per_commit if n < commits - 1 else tasks - added):
                if added < tasks:
                    files.append((f".tasks/t{added:05d}.md", task_text(added)))
                    added += 1
            if n == 0:
                files.append((".tasks/config.yaml", b"project: bench\n"))
        else:
            files.append(("src/app.txt", f"version {n}\n".encode()))
            if n % 10 == 0:
                message = f"fix {n}\n\nCloses: t{n % tasks:05d}\n".encode()
        parts.append(b"commit refs/heads/main\n")
        parts.append(b"committer bench <bench@example.com> %d +0000\n" % when)
        parts.append(blob(message)[:-1])
        for name, data in files:
            parts.append(b"M 100644 inline " + name.encode() + b"\n" + blob(data))
        parts.append(b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"".join(parts), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=path, check=True)


def write_flat(path: Path, tasks: int) -> None:
    """The same tasks in a repository of one commit."""
    (path / ".tasks").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    (path / ".tasks" / "config.yaml").write_text("project: bench\n")
    for n in range(tasks):
        (path / ".tasks" / f"t{n:05d}.md").write_bytes(task_text(n))
    subprocess.run([*GIT, "add", "-A"], cwd=path, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "tasks"], cwd=path, check=True)


COMMANDS = (["ready"], ["status"], ["log", "t00001"], ["reconcile", "--dry-run"], ["events", "--since", "EARLY"])


def one_run(cwd: Path, args: list[str], env: dict[str, str], timeout: float) -> tuple[float, float] | None:
    """Wall and CPU seconds (gtask and the git it ran) of one run of `gtask ARGS` (None: not within `timeout`)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "gtask", *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise SystemExit(f"gtask {' '.join(args)} failed in {cwd}: {done.stderr[-500:]}")
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def interleaved(sides: list[tuple[Path, dict[str, str], list[str]]], runs: int,
                timeout: float) -> list[tuple[float, float] | None]:
    """Medians per side (folder, environment, arguments): each runs once untimed (filling its caches), then
    A B A B ... `runs` times. A side that does not finish within `timeout` is not run again (None)."""
    times: list[list[tuple[float, float]]] = [[] for _ in sides]
    failed = [one_run(cwd, words, env, timeout) is None for cwd, env, words in sides]
    for _ in range(runs):
        for index, (cwd, env, words) in enumerate(sides):
            if not failed[index]:
                took = one_run(cwd, words, env, timeout)
                failed[index] = took is None
                times[index].append(took or (0.0, 0.0))
    return [None if failed[index] else (statistics.median(t[0] for t in times[index]),
                                        statistics.median(t[1] for t in times[index])) for index in range(len(sides))]


def cell(seconds: tuple[float, float] | None, timeout: float) -> str:
    return f"> {timeout:.0f} (did not finish)" if seconds is None else f"{seconds[0]:.3f} ({seconds[1]:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument("--tasks", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a run counts as not finished")
    parser.add_argument("--pythonpath", help="also run the gtask sources in this folder, interleaved (before/after)")
    args = parser.parse_args()
    env = {**os.environ, "NO_COLOR": "1"}
    trees = [("after", {**env, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})]
    if args.pythonpath:
        trees.append(("before", {**env, "PYTHONPATH": args.pythonpath}))
    with tempfile.TemporaryDirectory() as tmp:
        long, flat = Path(tmp) / "long", Path(tmp) / "flat"
        start = time.perf_counter()
        write_history(long, args.commits, args.tasks)
        write_flat(flat, args.tasks)
        print(f"generated {args.commits} commits, {args.tasks} tasks in {time.perf_counter() - start:.1f} s; "
              f"load average {os.getloadavg()[0]:.2f}", file=sys.stderr)
        columns = []  # (label, its own copy of the repository: one tree's caches never serve another, environment)
        for repo, name in ((long, f"{args.commits} commits"), (flat, "1 commit")):
            for label, tree_env in trees:
                copy = Path(tmp) / f"{repo.name}-{label}"
                shutil.copytree(repo, copy, symlinks=True)
                columns.append((f"{name} ({label})" if args.pythonpath else name, copy, tree_env))
        early = {repo.name: subprocess.run(["git", "rev-parse", f"HEAD~{min(100, depth - 1)}"], cwd=repo, check=True,
                                           capture_output=True, text=True).stdout.strip()
                 for repo, depth in ((long, args.commits), (flat, 1))}  # one commit: `--since HEAD`
        print(f"| command | {' | '.join(label for label, _, _ in columns)} |")
        print(f"|---|{'---:|' * len(columns)}")
        for words in COMMANDS:
            sides = [(copy, tree_env, [early[copy.name.split("-")[0]] if w == "EARLY" else w for w in words])
                     for _, copy, tree_env in columns]
            found = interleaved(sides, args.runs, args.timeout)
            label = " ".join("HEAD~100" if w == "EARLY" else w for w in words)
            print(f"| `gtask {label}` | {' | '.join(cell(s, args.timeout) for s in found)} |", flush=True)
        print(f"load average at the end {os.getloadavg()[0]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # time gtask as installed: bytecode written once, then read
    main()
