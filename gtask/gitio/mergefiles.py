"""The merge driver's git half: git's own line merge, the driver's files, and installing it."""

from __future__ import annotations

import shlex
import sys
import tempfile
from pathlib import Path
from typing import cast

from gtask.core.merge import DRIVER_NAME, LABELS, MergeResult, merge_texts
from gtask.core.taskfile import decode
from gtask.errors import GitError, GtaskError, InvalidTask
from gtask.fsutil import atomic_write
from gtask.gitio.git import Git


class GitLineMerge:
    """A line merge by `git merge-file`, with git's labels, marker size and conflict style."""

    def __init__(self, git: Git, marker_size: int = 7, style: str | None = None) -> None:
        self.git = git
        self.options = [f"--marker-size={marker_size}", "-L", LABELS[0], "-L", LABELS[1], "-L", LABELS[2]]
        if style in ("diff3", "zdiff3"):
            self.options.append(f"--{style}")

    def __call__(self, base: str, ours: str, theirs: str) -> tuple[str, bool]:
        with tempfile.TemporaryDirectory(prefix="gtask-merge-") as folder:
            paths = [Path(folder) / name for name in LABELS]
            for path, text in zip(paths, (ours, base, theirs), strict=False):
                path.write_bytes(text.encode("utf-8"))
            conflicted = self.files(*paths)
            return paths[0].read_bytes().decode("utf-8"), conflicted

    def files(self, ours: Path, base: Path, theirs: Path) -> bool:
        """Merge into `ours` in place; return whether conflicts were left."""
        result = self.git.run("merge-file", *self.options, str(ours), str(base), str(theirs), check=False)
        if not 0 <= result.returncode < 128:
            raise GitError(f"git merge-file failed: {result.stderr.strip() or result.returncode}")
        return result.returncode > 0


def merge_files(git: Git, base: Path, ours: Path, theirs: Path, label: str, marker_size: int = 7) -> MergeResult:
    """Do what git's merge driver must: merge into `ours`, never worse than git's own line merge."""
    style = git.config_get("merge.conflictStyle")
    line_merge = GitLineMerge(git, marker_size, style)
    try:
        original = ours.read_bytes()
    except OSError as exc:
        raise GitError(f"cannot read our side of {label} ({ours}): {exc.strerror}") from None
    try:
        texts = cast("tuple[str, str, str]", [decode(path.read_bytes(), label) for path in (base, ours, theirs)])
        result = merge_texts(*texts, line_merge, marker_size, diff3=style in ("diff3", "zdiff3"))
        ours.write_bytes(result.text.encode("utf-8"))
        return result
    except Exception as exc:
        ours.write_bytes(original)
        conflicted = line_merge.files(ours, base, theirs)
        why = exc.message if isinstance(exc, InvalidTask) else f"internal error: {type(exc).__name__}: {exc}"
        return MergeResult(ours.read_bytes().decode("utf-8", "replace"), ["file"] if conflicted else [], why)


# -- installing ---------------------------------------------------------------


def driver_command() -> str:
    """The driver command line for git config: this interpreter, so that it works without gtask on PATH."""
    python = shlex.quote(sys.executable) if sys.executable else "python3"
    return f"{python} -m gtask merge-driver --marker-size %L %O %A %B %P"


def install(git: Git, tasks_dir: Path) -> tuple[bool, str]:
    """Route the task files to the driver (.gitattributes at the top) and define it in the local git config.

    Returns whether `.gitattributes` gained the line, and the line.
    """
    try:
        folder = tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    except ValueError:
        folder = tasks_dir.name
    line = f"{folder}/*.md merge=gtask"
    path = git.top / ".gitattributes"
    if path.is_symlink():
        raise GtaskError(f".gitattributes is a symbolic link; add the line '{line}' to its target by hand "
                         "(nothing was changed)", path=".gitattributes")
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except UnicodeDecodeError as exc:
        raise GtaskError(f".gitattributes is not UTF-8 text (byte {exc.start}); convert it to UTF-8 or add the "
                         f"line '{line}' by hand (nothing was changed)", path=".gitattributes") from None
    except OSError as exc:
        raise GtaskError(f"cannot read .gitattributes: {exc.strerror or exc}", path=".gitattributes") from None
    added = line not in (existing.strip() for existing in text.splitlines())
    if added:
        atomic_write(path, text + ("\n" if text and not text.endswith("\n") else "") + line + "\n")
    git.run("config", "--local", "merge.gtask.name", DRIVER_NAME)
    git.run("config", "--local", "merge.gtask.driver", driver_command())
    return added, line
