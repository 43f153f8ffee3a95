"""The short guide for agents that `gtask agents` prints and `init --agents-file` appends."""

from __future__ import annotations

from pathlib import Path

from gtask.fsutil import atomic_write

MARK = "<!-- gtask agent guide -->"

GUIDE = f"""{MARK}
## Tasks (gtask)

Tasks live in `.tasks/*.md`. Work through the CLI; set `GTASK_AGENT=<your name>`.

1. `gtask sync`, then `gtask next --claim --push --json` (no `--push` without a shared remote): claims the best
   task you may take; exit 3 means others won every race, run it again.
2. `gtask show ID` for steps and risks; `gtask attempt start ID`.
3. Work; commit your code with a line `Closes: ID` in the message.
4. `gtask attempt end ID --outcome success` (or `failed --reason test_fail`), then `gtask done ID --push`.
5. Stuck on something missing: `gtask handoff ID --needs "what is missing"` (files it as proposed, releases yours).
6. Need a new task: `gtask new "title"` (proposed; a person approves). Never edit `status` or claim keys by hand.
Exit codes: 0 ok, 1 error, 2 usage, 3 conflict (taken, lost race, cycle), 4 not found.
"""


def append_guide(path: Path) -> bool:
    """Append the guide to an instructions file (created if missing); False when it is already there."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if MARK in text:
        return False
    separator = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    atomic_write(path, text + separator + GUIDE)
    return True
