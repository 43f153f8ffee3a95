"""Settle a protocol step whose process died: wholly done or not done at all (see locking.py).

Only what the step itself wrote is undone: a file is restored only while it
holds bytes the step wrote (the journal has their hashes), and an index entry
is brought up to date only while it is still as the step found it. Anything a
person changed after the crash is left exactly as they left it, and named.
"""

from __future__ import annotations

from pathlib import Path

from gtask.fsutil import digest, read_or_none, replace_checked
from gtask.gitio.git import Git
from gtask.store.locking import read_journal


def recover(root: Path, journal: Path) -> str | None:
    """Settle the journal's step and say what was done; called with the writer lock held (its writer is dead).

    The journal is deleted only once the step is settled: a failing write
    (a full disk) raises and leaves it for the next writer.
    """
    found = read_journal(journal)
    git = Git.discover(root)
    if found is None or git is None:
        journal.unlink(missing_ok=True)
        return None
    parent, files, wrote = found
    head = git.head_commit()
    landed = head != parent
    left: list[str] = []
    for rel, old in files.items():
        target = git.top / rel
        now = read_or_none(target)
        mine = now is not None and (wrote is None or digest(now) in wrote.get(rel, []))
        if landed:
            if head and not mine and not _same_as(git, head, rel, now):
                left.append(rel)  # changed by hand since: theirs to keep
            if head:
                _settle_index(git, parent, head, rel)
        elif now != old:
            if not mine:
                left.append(rel)
            elif old is None:
                target.unlink()
            elif not replace_checked(target, old, now):
                left.append(rel)  # changed by hand this very moment: leave it
    journal.unlink(missing_ok=True)
    what = ("finished it" if landed else "put back the files it had written") if len(left) < len(files) else \
        "nothing of it was left to undo"
    notice = f"a gtask process was killed mid-step; {what} ({', '.join(files)})"
    if left:
        notice += (f"; left {', '.join(left)} as changed by hand after the crash: look at them with "
                   f"'git diff' and 'git diff --cached'")
    return notice


def _same_as(git: Git, head: str, rel: str, now: bytes | None) -> bool:
    """Whether the work-tree file is what HEAD holds, through git's own filters (autocrlf, attributes)."""
    blob = _blob(git, f"{head}:{rel}")
    if now is None or blob is None:
        return now is None and blob is None
    result = git.run("hash-object", f"--path={rel}", "--stdin", input=now.decode("utf-8", "surrogateescape"),
                     check=False)
    return result.returncode == 0 and result.stdout.strip() == blob


def _blob(git: Git, spec: str) -> str | None:
    result = git.run("rev-parse", "-q", "--verify", spec, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def _settle_index(git: Git, parent: str | None, head: str, rel: str) -> None:
    """Give a file's index entry the landed commit's blob, only if it is still the entry from before the step."""
    listed = git.run("ls-files", "-s", "--", rel, check=False).stdout.split()
    entry = listed[1] if len(listed) >= 2 else None
    if entry == _blob(git, f"{head}:{rel}"):
        return
    if entry == (_blob(git, f"{parent}:{rel}") if parent else None):
        git.run("reset", "-q", head, "--", rel, check=False)
