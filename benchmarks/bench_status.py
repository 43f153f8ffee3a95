"""Time `gtask status` on 1,000 tasks and 50 branches that each changed a few tasks.

    python benchmarks/bench_status.py [--tasks 1000] [--branches 50] [--runs 5]

Each branch is made with real commits (claims and completions through the
git plumbing, as agents' branches would be); `status` runs as a real process.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import add_claim_branches, generate  # noqa: E402

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        ids = generate(root, args.tasks)
        add_claim_branches(root, ids, args.branches)
        time.sleep(2.1)  # let the task cache take the files
        subprocess.run([sys.executable, "-m", "gtask", "status", "--json"], cwd=root, capture_output=True, check=True)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "gtask", "status", "--json"], cwd=root, capture_output=True)
            times.append(time.perf_counter() - start)
            assert proc.returncode == 0, proc.stderr.decode()
        print(f"status: {args.tasks} tasks, {args.branches} branches: median {statistics.median(times):.3f} s, "
              f"min {min(times):.3f} s over {args.runs} runs")


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # time gtask as installed: bytecode written once, then read
    main()
