"""A long history: warm commands on a repository of many commits, against the same tasks in one commit.

    python benchmarks/bench_history.py [--commits 50000] [--tasks 1000] [--runs 5] [--pythonpath OTHER_TREE]

The history is written with `git fast-import` (seconds, not minutes): the tasks are added spread over the
first commits, every tenth commit after that closes one with `Closes: ID` in its message, the rest change a
source file. Each command runs once untimed (warming the caches), then `--runs` times; medians are printed.
`--pythonpath` runs another copy of the sources (a before/after table).
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


def median_seconds(cwd: Path, args: list[str], runs: int, env: dict[str, str]) -> float:
    cmd = [sys.executable, "-m", "gtask", *args]
    warm = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)  # fills the caches
    if warm.returncode != 0:
        raise SystemExit(f"gtask {' '.join(args)} failed: {warm.stderr[-500:]}")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument("--tasks", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pythonpath", help="run the gtask sources in this folder instead (a before/after table)")
    args = parser.parse_args()
    env = {**os.environ, "NO_COLOR": "1", **({"PYTHONPATH": args.pythonpath} if args.pythonpath else {})}
    with tempfile.TemporaryDirectory() as tmp:
        long, flat = Path(tmp) / "long", Path(tmp) / "flat"
        start = time.perf_counter()
        write_history(long, args.commits, args.tasks)
        write_flat(flat, args.tasks)
        print(f"generated {args.commits} commits, {args.tasks} tasks in {time.perf_counter() - start:.1f} s",
              file=sys.stderr)
        early = subprocess.run(["git", "rev-parse", f"HEAD~{min(100, args.commits - 1)}"], cwd=long, check=True,
                               capture_output=True, text=True).stdout.strip()
        print(f"| command | {args.commits} commits (s) | 1 commit (s) |")
        print("|---|---:|---:|")
        for words in (["ready"], ["status"], ["log", "t00001"], ["reconcile", "--dry-run"],
                      ["events", "--since", early]):
            long_s = median_seconds(long, words, args.runs, env)
            flat_s = f"{median_seconds(flat, words, args.runs, env):.3f}" if words[0] != "events" else "-"
            print(f"| `gtask {' '.join(w if w != early else 'HEAD~100' for w in words)}` | {long_s:.3f} "
                  f"| {flat_s} |", flush=True)


if __name__ == "__main__":
    main()
