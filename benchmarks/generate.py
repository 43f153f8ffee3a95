"""Generate a realistic synthetic task store: `python benchmarks/generate.py DIR --tasks 10000`.

Tasks get titles, bodies, steps, labels, lanes and priorities; about a third
depend on one to three earlier tasks (chains and diamonds), a quarter are done,
a few are claimed. The folder becomes a git repository with one commit.
"""

from __future__ import annotations

import argparse
import random
import subprocess
from pathlib import Path

WORDS = ("api auth cache cart checkout db deploy docs export feed index login metrics order "
         "page payment queue refund report search session shipping stock token ui upload webhook").split()
LABELS = ("api", "web", "db", "infra", "security", "ux", "perf")
LANES = ("autonomous", "autonomous", "autonomous", "investigation", "decision", "triage")


def task_text(rng: random.Random, index: int, ids: list[str]) -> str:
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7))).capitalize()
    status = rng.choices(["todo", "done", "in_progress", "proposed", "canceled"], [60, 25, 5, 7, 3])[0]
    lines = ["---", f"title: {title} #{index}", f"status: {status}", f"priority: {rng.randint(0, 4)}"]
    if ids and rng.random() < 0.35:
        lines.append("depends_on:")
        lines += [f"  - {dep}" for dep in rng.sample(ids[-200:], min(len(ids[-200:]), rng.randint(1, 3)))]
    lines.append(f"trigger: Needed for the {rng.choice(WORDS)} release")
    lines.append("steps:")
    lines += [f"  - {rng.choice(WORDS).capitalize()} the {rng.choice(WORDS)}" for _ in range(rng.randint(1, 4))]
    lines.append("labels:")
    lines += [f"  - {label}" for label in rng.sample(LABELS, rng.randint(1, 2))]
    lines.append(f"lane: {rng.choice(LANES)}")
    if status == "in_progress":
        lines += ["claimed_by: agent-1", "claimed_at: 2026-11-22T08:00:00+00:00",
                  "lease_until: 2099-01-01T00:00:00+00:00", f"claim_branch: agent/t{index}"]
    lines += ["---", "## What", "", " ".join(rng.choice(WORDS) for _ in range(60)), "",
              "## Approach", "", " ".join(rng.choice(WORDS) for _ in range(40)), ""]
    return "\n".join(lines)


def generate(root: Path, count: int, seed: int = 7, project: str | None = None,
             foreign: list[str] | None = None) -> list[str]:
    """Write `count` tasks into `root/.tasks` and commit them; return the IDs.

    `foreign` lists `project:id` references that some tasks depend on (cross-repository edges).
    """
    rng = random.Random(seed)
    tasks_dir = root / ".tasks"
    tasks_dir.mkdir(parents=True, exist_ok=True)
    (tasks_dir / "config.yaml").write_text(f"project: {project or root.name}\n")
    ids: list[str] = []
    for index in range(count):
        task_id = f"task-{index:05d}"
        text = task_text(rng, index, ids)
        if foreign and rng.random() < 0.05:
            text = text.replace("\ntrigger:", f"\ndepends_on:\n  - {rng.choice(foreign)}\ntrigger:", 1) \
                if "depends_on:" not in text else text.replace("depends_on:\n", f"depends_on:\n  - {rng.choice(foreign)}\n", 1)
        (tasks_dir / f"{task_id}.md").write_text(text)
        ids.append(task_id)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "tasks"], cwd=root, check=True)
    return ids


def generate_workspace(root: Path, repos: int = 100, tasks: int = 100) -> list[Path]:
    """A folder of `repos` repositories of `tasks` tasks each, with cross-repository edges."""
    paths = []
    for number in range(repos):
        path = root / f"repo-{number:03d}"
        path.mkdir(parents=True)
        earlier = [f"repo-{n:03d}:task-{i:05d}" for n in range(max(0, number - 3), number) for i in range(0, tasks, 7)]
        generate(path, tasks, seed=number, foreign=earlier)
        paths.append(path)
    return paths


def add_claim_branches(root: Path, ids: list[str], branches: int, per_branch: int = 3, seed: int = 3) -> None:
    """Branches `agent/aN` that each claim a few tasks, as agents' branches would."""
    rng = random.Random(seed)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    for number in range(branches):
        subprocess.run(["git", "switch", "-q", "-c", f"agent/a{number}", "main"], cwd=root, check=True)
        for task_id in rng.sample(ids, per_branch):
            path = root / ".tasks" / f"{task_id}.md"
            path.write_text(path.read_text().replace("status: todo", "status: in_progress", 1).replace(
                "\n---\n", f"\nclaimed_by: agent-{number}\nlease_until: 2099-01-01T00:00:00+00:00\n---\n", 1))
        subprocess.run(["git", "add", "-A"], cwd=root, check=True)
        subprocess.run([*git, "commit", "-q", "-m", f"claims of agent {number}"], cwd=root, check=True)
    subprocess.run(["git", "switch", "-q", "main"], cwd=root, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tasks", type=int, default=10_000)
    args = parser.parse_args()
    generate(args.folder, args.tasks)
    print(f"{args.tasks} tasks in {args.folder}")


if __name__ == "__main__":
    main()
