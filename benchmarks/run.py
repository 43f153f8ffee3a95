"""Time gtask commands on generated stores and print a table: `python benchmarks/run.py`.

Each command runs as a real process (`python -m gtask`), as a user would run it;
the median of several runs is shown, and peak memory (max RSS) of the slowest.
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
from generate import add_claim_branches, generate, generate_workspace  # noqa: E402

LAST_CPU: list[float] = []


def run_once(cwd: Path, args: list[str]) -> tuple[float, float]:
    """Run gtask once; return wall seconds and its own peak RSS in MB (see LAST_CPU for its CPU seconds)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "gtask", *args], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    LAST_CPU.append(usage.ru_utime + usage.ru_stime)  # its own and its worker processes' CPU: steadier under load
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 and not (proc.returncode == 1 and args[0] == "check"):
        raise SystemExit(f"gtask {' '.join(args)} failed: {proc.stderr.read().decode()[-500:]}")
    proc.stderr.close()
    return seconds, usage.ru_maxrss / 1024


def time_command(cwd: Path, args: list[str], runs: int, cold: bool) -> tuple[float, float]:
    """Median wall time and peak RSS over `runs` runs, with the cache deleted first when `cold`."""
    LAST_CPU.clear()
    times, peaks = [], []
    for _ in range(runs):
        if cold:
            shutil.rmtree(cwd / ".git" / "gtask", ignore_errors=True)
        seconds, peak = run_once(cwd, args)
        times.append(seconds)
        peaks.append(peak)
    return statistics.median(times), max(peaks)


def load_average() -> str:
    """The 1-minute load average (what else the machine was doing: say it with every number)."""
    return f"{os.getloadavg()[0]:.1f}"


def growth_table(sizes: list[int], runs: int, branches: int) -> None:
    """Warm and cold `ready` (and warm `list`, `show`) as the store grows; peak memory of each process."""
    print(f"growth: median of {runs} runs, seconds; cold = caches deleted first; MB = peak RSS (wait4); "
          "cpu = median CPU seconds of the process and its workers")
    print("| tasks | ready warm | ready cold | cold cpu | list warm | show warm | peak MB warm | peak MB cold | load |")
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    base: float | None = None
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "bench"
            root.mkdir()
            ids = generate(root, size)
            add_claim_branches(root, ids, branches)
            time.sleep(2.1)  # files edited in the last 2 s are never cached (racy-clean rule)
            cold, cold_mb = time_command(root, ["ready"], runs, cold=True)
            cold_cpu = statistics.median(LAST_CPU)
            run_once(root, ["ready"])  # prime the caches
            run_once(root, ["list"])
            warm, warm_mb = time_command(root, ["ready"], runs, cold=False)
            listing, _ = time_command(root, ["list"], runs, cold=False)
            shown, _ = time_command(root, ["show", ids[len(ids) // 2]], runs, cold=False)
            base = base or warm
            print(f"| {size:,} | {warm:.3f} ({warm / base:.1f}x) | {cold:.3f} | {cold_cpu:.2f} | {listing:.3f} "
                  f"| {shown:.3f} | {warm_mb:.0f} | {cold_mb:.0f} | {load_average()} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repos", type=int, default=100, help="repositories in the workspace benchmark")
    parser.add_argument("--repo-tasks", type=int, default=100, help="tasks per workspace repository")
    parser.add_argument("--branches", type=int, default=20, help="claim branches in the large repository")
    parser.add_argument("--growth", type=int, nargs="+", metavar="N",
                        help="only the growth table, for these store sizes (e.g. --growth 1000 10000 100000)")
    args = parser.parse_args()
    if args.growth:
        growth_table(args.growth, args.runs, args.branches)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bench"
        root.mkdir()
        ids = generate(root, args.tasks)
        add_claim_branches(root, ids, args.branches)
        time.sleep(2.1)  # files edited in the last 2 s are never cached (racy-clean rule)
        commands = [
            ["--help"], ["show", ids[len(ids) // 2]], ["list", "--json"], ["ready"], ["next", "--json"],
            ["blocked", "--json"], ["order", "--json"], ["check"], ["status", "--json"],
        ]
        print(f"{args.tasks} tasks, median of {args.runs} runs, seconds; cold = cache deleted first; "
              f"load average {load_average()}")
        print(f"| {'command':<22} | {'cold':>6} | {'warm':>6} | {'peak MB':>7} |")
        print(f"|{'-' * 24}|{'-' * 8}|{'-' * 8}|{'-' * 9}|")
        for command in commands:
            cold, peak_cold = time_command(root, command, args.runs, cold=True)
            run_once(root, ["list"])  # prime the cache
            warm, peak_warm = time_command(root, command, args.runs, cold=False)
            name = " ".join(command)
            print(f"| {name:<22} | {cold:>6.3f} | {warm:>6.3f} | {max(peak_cold, peak_warm):>7.0f} |")
        workspace_table(Path(tmp) / "workspace", args)


def workspace_table(root: Path, args: argparse.Namespace) -> None:
    """Time `view` and workspace planning over many repositories, cold (caches deleted) and warm."""
    repos = generate_workspace(root, args.repos, args.repo_tasks)
    time.sleep(2.1)
    print()
    print(f"workspace: {args.repos} repositories x {args.repo_tasks} tasks, median of {args.runs} runs")
    print(f"| {'command':<22} | {'cold':>6} | {'warm':>6} | {'peak MB':>7} |")
    print(f"|{'-' * 24}|{'-' * 8}|{'-' * 8}|{'-' * 9}|")
    for command in (["view", str(root)], ["view", str(root), "--json"], ["ready", "--repo", str(root), "--json"]):
        colds, peaks = [], []
        for _ in range(args.runs):
            for repo in repos:
                shutil.rmtree(repo / ".git" / "gtask", ignore_errors=True)
            seconds, peak = run_once(root, command)
            colds.append(seconds)
            peaks.append(peak)
        warm, peak_warm = time_command(root, command, args.runs, cold=False)
        name = " ".join(c if c != str(root) else "DIR" for c in command)
        print(f"| {name:<22} | {statistics.median(colds):>6.3f} | {warm:>6.3f} | {max(peaks + [peak_warm]):>7.0f} |")


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # time gtask as installed: bytecode written once, then read
    main()
