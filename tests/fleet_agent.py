"""One agent of a fleet, as a program: `python fleet_agent.py CLONE NAME LOG DEADLINE`.

The loop an agent runs against a shared remote: sync, claim the best ready task
with --push, do the work (a file), `done --push`, land the branch on main
(fetch, rebase, push; again when main moved), until nothing is ready and no
lease is held anywhere. Each successful claim is appended to LOG as a JSON line.
Used by tests/test_fleet.py; kept out of pytest's collection by its name.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True)


def gtask(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(cwd, sys.executable, "-m", "gtask", *args)


def land(clone: Path) -> None:
    """Put this branch on main: rebase on the newest main and push, until the push is accepted."""
    for _ in range(200):
        run(clone, "git", "fetch", "-q", "origin", "main")
        rebase = run(clone, "git", "rebase", "-q", "origin/main")
        if rebase.returncode != 0:
            raise SystemExit(f"rebase failed: {rebase.stderr}")
        if run(clone, "git", "push", "-q", "origin", "HEAD:main").returncode == 0:
            return
        time.sleep(0.05)
    raise SystemExit("could not land on main")


def main() -> None:
    clone, name, log, deadline = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), float(sys.argv[4])
    number = idle = 0
    while time.time() < deadline:
        run(clone, "git", "fetch", "-q", "origin", "main")
        run(clone, "git", "switch", "-q", "-C", f"agent/{name}/{number}", "origin/main")
        gtask(clone, "sync")
        picked = gtask(clone, "next", "--claim", "--push", "--agent", name, "--json")
        if picked.returncode == 3:
            continue  # every candidate was taken by others: look again
        if picked.returncode != 0:
            raise SystemExit(f"next --claim failed: {picked.stderr}")
        outcome = json.loads(picked.stdout)
        if outcome is None:
            leases = run(clone, "git", "ls-remote", "origin", "refs/gtask/claims/*").stdout.strip()
            idle = 0 if leases else idle + 1
            if idle >= 3:
                return  # nothing ready and nobody working: the plan is finished
            time.sleep(0.2)
            continue
        task_id = outcome["task"]["id"]
        with log.open("a") as handle:
            handle.write(json.dumps({"agent": name, "task": task_id, "commit": outcome["commit"]}) + "\n")
        (clone / "work").mkdir(exist_ok=True)
        (clone / "work" / f"{task_id}.txt").write_text(f"{task_id} by {name}\n")
        run(clone, "git", "add", "work")
        run(clone, "git", "commit", "-q", "-m", f"Work on {task_id}")
        finished = gtask(clone, "done", task_id, "--push", "--agent", name, "--json")
        if finished.returncode != 0:
            raise SystemExit(f"done --push failed for {task_id}: {finished.stderr}")
        land(clone)
        number += 1


if __name__ == "__main__":
    main()
