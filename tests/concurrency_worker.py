"""One of many processes that work in the same work tree at once (driven by test_concurrency.py).

Usage: concurrency_worker.py REPO AGENT ROUNDS SEED LOG
Each round: claim the best task, record an attempt, then release or complete it.
Every command's outcome goes to LOG as one JSON line.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import sys

from gtask.cli.main import run


def gtask(repo: str, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = run(["-C", repo, *args])
    return code, out.getvalue()


def main() -> None:
    repo, agent, rounds, seed, log_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    rng = random.Random(seed)
    with open(log_path, "a", encoding="utf-8") as log:
        def record(action: str, task: str | None, code: int) -> None:
            log.write(json.dumps({"agent": agent, "action": action, "task": task, "exit": code}) + "\n")
            log.flush()

        for _ in range(rounds):
            code, out = gtask(repo, "next", "--claim", "--agent", agent, "--tries", "20", "--json")
            claimed = json.loads(out)["task"]["id"] if code == 0 and out.strip() not in ("", "null") else None
            record("claim", claimed, code)
            if claimed is None:
                continue
            record("attempt-start", claimed, gtask(repo, "attempt", "start", claimed, "--agent", agent)[0])
            outcome = "success" if rng.random() < 0.5 else "failed"
            code = gtask(repo, "attempt", "end", claimed, "--agent", agent, "--outcome", outcome, "--tokens", "10")[0]
            record("attempt-end", claimed, code)
            action = "done" if outcome == "success" else "release"
            record(action, claimed, gtask(repo, action, claimed, "--agent", agent)[0])


if __name__ == "__main__":
    main()
