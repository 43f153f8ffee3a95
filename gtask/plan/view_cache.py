"""The whole printed answer of `gtask view`, remembered across the workspace's repositories.

A warm `view` reads one record and prints it. The record is trusted only by an
exact key over everything the answer is computed from, read from git's and the
file system's own files without a git process:

- the command: the repositories (after finding them), the options, the current
  folder, whether standard output and error are terminals and NO_COLOR;
- for every repository: its folder and git directory, HEAD, every ref under
  `refs/` (the integration branch's commit and the evidence of other branches,
  lease refs and tombstones), where its symbolic refs point (`origin/HEAD`),
  the shape of its history (gitfiles.history_shape: the shallow boundary,
  grafts, replace refs and the variables that switch them; they change what
  HEAD's history holds), the stat key of `.tasks/config.yaml` (the configured
  integration branch and project) and the kind of `.tasks` in the work tree;
- the clock: the answer holds only until the first live lease in it passes
  (on the integration branch or in the evidence elsewhere).

Git objects never change, so what the integration commit holds (tasks,
problems, gates) and what HEAD's history says (first-added times, for the
ranking) are covered by the refs and the history's shape. Work-tree task files
are not read by this view (as the per-repository evidence cache of `elsewhere`, it trusts refs for
a handoff's prerequisites). `--worktree` and `--html` are not remembered. A
repository whose refs only git can read (reftable), or a config file
edited in the last two seconds (a same-size edit in one clock tick keeps its
stat key), makes the answer not remembered.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gtask.gitio import gitfiles
from gtask.store.cache import RACY_SECONDS, cache_path, read_cache_text, stat_key
from gtask.version import __version__

if TYPE_CHECKING:
    from gtask.plan.workspace import Workspace

FORMAT = 2  # 2: the history's shape, not only whether the repository is shallow
KEEP = 6  # answers kept per workspace (one per combination of options, the newest)
Chunk = tuple[bool, str]  # (to standard error, text) in the order printed


class ViewCache:
    """The remembered answer of one command over one set of repositories, valid for one state of all of them."""

    def __init__(self, paths: list[Path], options: list[Any], use_cache: bool = True) -> None:
        states = [_repo_state(path) for path in paths]
        state = None if any(s is None for s in states) else hashlib.sha1(repr(states).encode()).hexdigest()
        git_dir = next((d for d in map(gitfiles.find_git_dir, paths) if d is not None), None) if state else None
        self.prefix = f"view-{hashlib.sha1(repr([str(p) for p in paths]).encode()).hexdigest()[:12]}"
        command = hashlib.sha1(repr([os.getcwd(), *options]).encode()).hexdigest()[:12]
        self.path = cache_path(git_dir, f"{self.prefix}-{command}", use_cache)  # one per command: only its own read
        self.stamp = {"format": FORMAT, "version": __version__, "state": state, "command": repr(options)}

    def lookup(self) -> list[Chunk] | None:
        """The printed answer, when it was remembered for this state and no lease in it has passed."""
        if self.path is None:
            return None
        whole = read_cache_text(self.path)
        head_line, _, text = (whole or "").partition("\n")
        try:
            head = json.loads(head_line)
        except ValueError:
            return None  # missing or of another shape: simply not used
        if not isinstance(head, dict) or any(head.get(k) != v for k, v in self.stamp.items()):
            return None
        until, parts = head.get("until"), head.get("parts")
        if until is not None and (not isinstance(until, (int, float)) or time.time() >= until):
            return None
        if not isinstance(parts, list) or not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], bool)
                                                  and isinstance(p[1], int) for p in parts) \
                or sum(p[1] for p in parts) != len(text):
            return None
        chunks, start = [], 0
        for to_err, length in parts:
            chunks.append((to_err, text[start:start + length]))
            start += length
        return chunks

    def remember(self, chunks: list[Chunk], until: float | None) -> None:
        """Keep this answer (a JSON line, then the text as printed), and only the newest few of this workspace's."""
        if self.path is None:
            return
        head = {**self.stamp, "until": until, "parts": [[to_err, len(text)] for to_err, text in chunks]}
        temp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(temp, "w", encoding="utf-8", newline="") as handle:
                handle.write(json.dumps(head) + "\n" + "".join(text for _, text in chunks))
            os.replace(temp, self.path)
        except (OSError, ValueError):
            temp.unlink(missing_ok=True)  # the cache is only an accelerator
            return
        try:
            kept = sorted(self.path.parent.glob(f"{self.prefix}-*.json"), key=lambda p: p.stat().st_mtime_ns)
            for old in kept[:-KEEP]:
                old.unlink(missing_ok=True)
        except OSError:
            pass  # another process pruned first: harmless


def until_of(workspace: Workspace, since: float) -> float | None:
    """When the answer may change by the clock alone: the first lease in the workspace to pass after `since`
    (when reading began: a lease that passed while it was read makes the answer good for no time at all)."""
    from gtask.core.model import parse_time

    if any(repo.signed_gates for repo in workspace.repos):
        return since  # signatures are judged by git's configuration and keys outside the repositories
    ends = [repo.elsewhere.until for repo in workspace.repos if repo.elsewhere.until is not None]
    for task in workspace.tasks:
        if task.lease_until:
            try:
                ends.append(parse_time(task.lease_until).timestamp())
            except ValueError:
                continue  # a lease that cannot be read counts as passed, whatever the time
    future = [end for end in ends if end is not None and end > since]
    return min(future) if future else None


def _repo_state(path: Path) -> tuple[Any, ...] | None:
    """What of one repository the answer depends on (None: only git could tell, or it is changing right now)."""
    folder = str(path)
    try:
        mode = os.stat(folder).st_mode
    except OSError as exc:
        return (folder, "unreadable", exc.errno)
    if not stat.S_ISDIR(mode):
        return (folder, "not a folder")
    dot_git = os.path.join(folder, ".git")
    try:
        git_dir = Path(dot_git) if os.path.isdir(dot_git) else gitfiles.find_git_dir(path)  # the common case first
    except OSError:
        return None
    if git_dir is None:
        return (folder, "no git")
    symbolic: dict[str, str] = {}  # `origin/HEAD` names the integration branch when none is configured
    refs = gitfiles.refs_of(git_dir, ("refs/",), symbolic)
    if refs is None:
        return None
    try:
        with open(os.path.join(git_dir, "HEAD"), encoding="utf-8", errors="replace") as handle:
            head = handle.read().strip()
    except OSError:
        return None
    try:
        config: os.stat_result | None = os.stat(os.path.join(folder, ".tasks", "config.yaml"))
    except FileNotFoundError:
        config = None
    except OSError:
        return None
    if config is not None and time.time() - config.st_mtime < RACY_SECONDS:
        return None
    try:
        tasks_kind: int | None = stat.S_IFMT(os.lstat(os.path.join(folder, ".tasks")).st_mode)
    except OSError:
        tasks_kind = None
    shape = gitfiles.history_shape(git_dir)  # under the same HEAD: another shallow boundary, grafts, replacements
    return (folder, str(git_dir), head, sorted(refs.items()), sorted(symbolic.items()), shape,
            stat_key(config) if config is not None else None, tasks_kind)
