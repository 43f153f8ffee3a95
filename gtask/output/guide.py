"""The short guide for agents that `gtask agents` prints and `init --agents-file` appends."""

from __future__ import annotations

from pathlib import Path

from gtask.fsutil import atomic_write

MARK = "<!-- gtask agent guide -->"

GUIDE = f"""{MARK}
## Tasks (gtask)

Tasks live in `.tasks/*.md`; use the CLI. Set `GTASK_AGENT=<your name>`.

1. `gtask sync`, then `gtask next --claim --push --json` (no `--push` without a remote). The task's `body`,
   `steps` and `risks` are your spec (no `show` needed). Exit 3: others won every race, run it again.
2. `gtask attempt start ID`; work; commit your code with a line `Closes: ID` in the message.
3. `gtask attempt end ID --outcome success` (or `failed --reason test_fail`), then `gtask done ID --push`.
4. Missing something: `gtask handoff ID --needs "what is missing"` (files it, releases yours).
5. New work: `gtask new "title"` (a person approves). Never edit `status` or claim keys by hand.
Exit codes: 0 ok, 1 error, 2 usage, 3 conflict (taken, lost race, cycle), 4 not found.
"""


def append_guide(path: Path, root: Path | None = None) -> bool:
    """Append the guide to an instructions file (created if missing); False when it is already there.

    A symbolic link is written through (the link stays a link) when it points to a regular file inside
    `root`; a link out of it, or to anything else, is refused. The file must be UTF-8 text.
    """
    from gtask.errors import GtaskError

    label = path.name
    if path.is_symlink():
        target = path.resolve()
        inside = root is None or target.is_relative_to(root.resolve())
        if not inside or not target.is_file():
            where = "not a file" if inside else "outside the repository"
            raise GtaskError(f"{label} is a symbolic link to {target}, {where}; gtask writes only through a link "
                             "to a file in the repository (nothing was changed)", path=label)
        path = target
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except UnicodeDecodeError as exc:
        raise GtaskError(f"{label} is not UTF-8 text (byte {exc.start}); convert it to UTF-8 first "
                         "(nothing was changed)", path=label) from None
    except OSError as exc:
        raise GtaskError(f"cannot read {label}: {exc.strerror or exc}", path=label) from None
    if MARK in text:
        return False
    separator = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    atomic_write(path, text + separator + GUIDE)
    return True
