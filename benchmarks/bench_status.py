"""Time `gtask status` on 1,000 tasks and 50 branches that each changed a few tasks.

    python benchmarks/bench_status.py [--tasks 1000] [--branches 50] [--runs 5]

Each branch is made with real commits (claims and completions through the
git plumbing, as agents' branches would be); `status` runs as a real process.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402

GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]


def make_branches(root: Path, ids: list[str], count: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    for number in range(count):
        subprocess.run(["git", "switch", "-q", "-c", f"agent/a{number}", "main"], cwd=root, check=True)
        for task_id in rng.sample(ids, 3):
            path = root / ".tasks" / f"{task_id}.md"
            text = path.read_text()
            text = text.replace("status: todo", "status: in_progress", 1).replace(
                "\n---\n", f"\nclaimed_by: agent-{number}\nlease_until: 2099-01-01T00:00:00+00:00\n---\n", 1)
            path.write_text(text)
        subprocess.run(["git", "add", "-A"], cwd=root, check=True)
        subprocess.run([*GIT, "commit", "-q", "-m", f"claims of agent {number}"], cwd=root, check=True)
    subprocess.run(["git", "switch", "-q", "main"], cwd=root, check=True)


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
        make_branches(root, ids, args.branches)
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
    main()
