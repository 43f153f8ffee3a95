"""Time the merge driver on two sides that each change a 30,000-item list, and check nothing is lost.

    python benchmarks/bench_merge.py [--items 30000] [--key labels] [--runs 5] [--tree NAME=PATH ...]

The base task file has N list items; ours removes every 7th and adds N new ones, theirs removes every 5th and
adds N others. Both sides also add numbers that Python thinks equal but YAML writes differently (ours `7.0`,
theirs `7`), which must stay two items. Each run times, as real processes:

- `driver`: `python -m gtask merge-driver --marker-size 7 %O %A %B %P`, exactly as git calls it;
- `git merge`: a real `git merge` in a repository set up with `gtask init --merge-driver`, as the tests do.

Every result is read back with PyYAML on its own and must hold every item kept by either side, each once.
`--tree NAME=PATH` (repeatable) runs another copy of the sources (a tree from before a change) with PYTHONPATH;
the trees are run interleaved (A B A B ...) so that a shared machine's load falls on both alike. Prints the
median wall time and the median CPU time of the process and everything it ran (getrusage of the children),
with the load average before and after.
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

import yaml

EXTRA = 50  # numbers added as `n.0` on ours and `n` on theirs


def sides(items: int) -> tuple[list[str], list[str], list[str]]:
    """The list's items, as YAML source text, in base, ours and theirs."""
    base = [f"b{i}" for i in range(items)]
    ours = [x for n, x in enumerate(base) if n % 7] + [f"o{i}" for i in range(items)] + \
        [f"{i}.0" for i in range(EXTRA)]
    theirs = [x for n, x in enumerate(base) if n % 5] + [f"t{i}" for i in range(items)] + \
        [f"{i}" for i in range(EXTRA)]
    return base, ours, theirs


def task_text(key: str, items: list[str]) -> str:
    return f"---\ntitle: Big list\nstatus: todo\n{key}:\n" + "".join(f"  - {x}\n" for x in items) + \
        "---\n## What\n\nA task with a long list.\n"


def exact_items(values: list[str]) -> list[tuple[str, str]]:
    """Items as YAML reads them, by type and value: `7` and `7.0` differ."""
    loaded = yaml.load("[" + ", ".join(values) + "]", Loader=yaml.CSafeLoader)
    return [(type(v).__name__, repr(v)) for v in loaded]


def check(text: str, key: str, expected: set[tuple[str, str]]) -> None:
    """The merged file holds every item kept by either side, each once, and nothing else."""
    front = text.split("---\n", 2)[1]
    got = [(type(v).__name__, repr(v)) for v in yaml.load(front, Loader=yaml.CSafeLoader)[key]]
    if len(got) != len(set(got)) or set(got) != expected:
        missing, extra = len(expected - set(got)), len(set(got) - expected)
        raise SystemExit(f"wrong merge: {missing} items lost, {extra} unexpected, {len(got) - len(set(got))} twice")


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess[bytes]]:
    """Wall and CPU seconds (user + system of the process and all it waited for) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc


class Tree:
    """One copy of gtask's sources, with its own repository for `git merge` and files for the driver."""

    def __init__(self, name: str, path: str | None, folder: Path, key: str, texts: tuple[str, str, str]) -> None:
        self.name = name
        self.env = {**os.environ, "NO_COLOR": "1", "GIT_CONFIG_NOSYSTEM": "1"}
        if path:
            self.env["PYTHONPATH"] = str(Path(path).resolve())
        self.env.update({"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "bench",
                         "GIT_COMMITTER_EMAIL": "b@x"})
        self.key, self.texts = key, texts
        self.repo = folder / "repo"
        self.repo.mkdir(parents=True)
        self.times: dict[str, list[tuple[float, float]]] = {"driver": [], "git merge": []}
        self._setup()

    def _setup(self) -> None:
        base, ours, theirs = self.texts
        git(self.repo, "init", "-q", "-b", "main", env=self.env)
        gtask = [sys.executable, "-m", "gtask"]
        subprocess.run([*gtask, "init", "--merge-driver"], cwd=self.repo, env=self.env, check=True,
                       capture_output=True)
        task = self.repo / ".tasks" / "big.md"
        for text, message in ((base, "base"), (theirs, "theirs"), (ours, "ours")):
            if message == "theirs":
                git(self.repo, "checkout", "-q", "-b", "theirs", env=self.env)
            if message == "ours":
                git(self.repo, "checkout", "-q", "main", env=self.env)
            task.write_text(text)
            git(self.repo, "add", "-A", env=self.env)
            git(self.repo, "commit", "-q", "-m", message, env=self.env)
        self.files = [self.repo.parent / name for name in ("base.md", "ours.md", "theirs.md")]
        for path, text in zip(self.files, self.texts, strict=True):
            path.write_text(text)

    def run_driver(self, expected: set[tuple[str, str]]) -> None:
        ours = self.repo.parent / "result.md"
        shutil.copyfile(self.files[1], ours)
        cmd = [sys.executable, "-m", "gtask", "merge-driver", "--marker-size", "7", str(self.files[0]), str(ours),
               str(self.files[2]), ".tasks/big.md"]
        wall, cpu, proc = timed(cmd, self.repo, self.env)
        if proc.returncode != 0 or proc.stderr:
            raise SystemExit(f"{self.name}: driver exit {proc.returncode}: {proc.stderr.decode()}")
        check(ours.read_text(), self.key, expected)
        self.times["driver"].append((wall, cpu))

    def run_git_merge(self, expected: set[tuple[str, str]]) -> None:
        git(self.repo, "reset", "-q", "--hard", "main", env=self.env)
        wall, cpu, proc = timed(["git", "merge", "--no-edit", "-q", "theirs"], self.repo, self.env)
        if proc.returncode != 0:
            raise SystemExit(f"{self.name}: git merge exit {proc.returncode}: {proc.stderr.decode()}")
        check((self.repo / ".tasks" / "big.md").read_text(), self.key, expected)
        git(self.repo, "reset", "-q", "--hard", "HEAD~1", env=self.env)  # back to ours for the next run
        self.times["git merge"].append((wall, cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=30000)
    parser.add_argument("--key", default="labels", help="the list key to merge (labels, depends_on, steps, ...)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                        help="also run the sources in PATH (PYTHONPATH), interleaved with this tree")
    args = parser.parse_args()
    base, ours, theirs = sides(args.items)
    in_base, in_theirs = set(base), set(theirs)
    kept = {x for x in ours if x in in_theirs or x not in in_base} | {x for x in theirs if x not in in_base}
    expected = set(exact_items(sorted(kept)))
    texts = (task_text(args.key, base), task_text(args.key, ours), task_text(args.key, theirs))
    specs = [("this tree", None)] + [tuple(spec.split("=", 1)) for spec in args.tree]  # type: ignore[misc]
    print(f"{args.items:,}-item `{args.key}` on each side; {len(expected):,} items expected after the merge")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="gtask-bench-merge-") as tmp:
        trees = [Tree(name, path, Path(tmp) / str(n), args.key, texts) for n, (name, path) in enumerate(specs)]
        for _ in range(args.runs):
            for tree in trees:
                tree.run_driver(expected)
                tree.run_git_merge(expected)
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'tree':<12} {'what':<10} {'wall median':>12} {'cpu median':>11} {'wall min':>9} {'cpu min':>8}")
    for tree in trees:
        for what, runs in tree.times.items():
            walls, cpus = [w for w, _ in runs], [c for _, c in runs]
            print(f"{tree.name:<12} {what:<10} {statistics.median(walls):>11.3f}s {statistics.median(cpus):>10.3f}s "
                  f"{min(walls):>8.3f}s {min(cpus):>7.3f}s")
    print(f"every run kept all {len(expected):,} items of both sides, each once")


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # time gtask as installed: bytecode written once, then read
    main()
