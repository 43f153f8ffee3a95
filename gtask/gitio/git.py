"""Every call to git goes through this module, as argv lists, never a shell string.

Git's failures become GitError sentences that say what to do.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from gtask.errors import Conflict, GitError
from gtask.faults import checkpoint

if TYPE_CHECKING:
    from datetime import datetime

T = TypeVar("T")
ZERO = "0" * 40
_LOCK_WAIT_SECONDS = 5.0
_HINTS = (
    (re.compile(r"index\.lock': File exists"),
     "another git process holds the index lock ({path}); gtask waited, but it is still held: "
     "wait for that process to finish, or remove the lock file if no git process is running"),
    (re.compile(r"Please tell me who you are|empty ident name"),
     "git does not know who you are; run: git config user.name 'Your Name' && "
     "git config user.email you@example.com"),
    (re.compile(r"not a git repository", re.I), "this is not a git repository (run 'git init' first)"),
    (re.compile(r"cannot lock ref"), "another process is updating the same branch; try again"),
)


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def _explain(args: list[str], stderr: str) -> str:
    for pattern, hint in _HINTS:
        match = pattern.search(stderr)
        if match:
            lock = re.search(r"Unable to create '([^']+)'", stderr)
            return hint.format(path=lock.group(1) if lock else "index.lock")
    detail = stderr.strip().splitlines()[-1] if stderr.strip() else "no message"
    return f"git {args[0]} failed: {detail}"


class Git:
    """One repository (or worktree) as seen by the `git` command."""

    def __init__(self, top: Path, git_dir: Path, common_dir: Path) -> None:
        self.top = top
        self.git_dir = git_dir
        self.common_dir = common_dir
        self._memo: dict[str, object] = {}  # facts that do not change while one command runs

    def _remember(self, key: str, compute: Callable[[], T]) -> T:
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])

    @classmethod
    def discover(cls, path: Path) -> Git | None:
        """Return the repository containing `path`, or None outside any repository."""
        try:
            out = subprocess.run(
                ["git", "rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir"],
                cwd=path, capture_output=True, text=True, check=False,
            )
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH") from None
        if out.returncode != 0:
            return None
        top, git_dir, common = out.stdout.splitlines()[:3]
        common_path = Path(common) if os.path.isabs(common) else (Path(path) / common).resolve()
        return cls(Path(top), Path(git_dir), common_path)

    # -- running ---------------------------------------------------------

    def run(self, *args: str, input: str | None = None, env: dict[str, str] | None = None,
            check: bool = True) -> Result:
        """Run git in the repository; raise GitError with a useful sentence on failure."""
        argv = ["git", *args]
        full_env = {**os.environ, "GIT_LITERAL_PATHSPECS": "1", **(env or {})}
        deadline = time.monotonic() + float(os.environ.get("GTASK_LOCK_WAIT", _LOCK_WAIT_SECONDS))
        while True:
            proc = subprocess.run(argv, cwd=self.top, input=input, capture_output=True, text=True,
                                  env=full_env, check=False, encoding="utf-8", errors="surrogateescape")
            locked = proc.returncode != 0 and "index.lock': File exists" in proc.stderr
            if not locked or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if check and proc.returncode != 0:
            raise GitError(_explain(list(args), proc.stderr))
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def out(self, *args: str, **kwargs: Any) -> str:
        return self.run(*args, **kwargs).stdout.strip()

    # -- refs ------------------------------------------------------------

    def rev_parse(self, rev: str) -> str | None:
        result = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        return result.stdout.strip() or None

    def head_commit(self) -> str | None:
        return self.rev_parse("HEAD")

    def current_branch(self) -> str | None:
        """Return the checked-out branch name; None on a detached HEAD."""
        return self._remember("branch", lambda: self.run("symbolic-ref", "--quiet", "--short", "HEAD",
                                                         check=False).stdout.strip() or None)

    def config_get(self, key: str) -> str | None:
        result = self.run("config", "--get", key, check=False)
        return result.stdout.strip() or None

    def author_name(self) -> str | None:
        """The name git would write as author (environment and config, as git resolves it)."""
        result = self.run("var", "GIT_AUTHOR_IDENT", check=False)
        if result.returncode != 0:
            return None
        name = result.stdout.rsplit("<", 1)[0].strip()
        return name or None

    def refs(self, patterns: Iterable[str] = ("refs/heads", "refs/remotes")) -> dict[str, str]:
        """Map ref names to the commits they point at."""
        out = self.out("for-each-ref", "--format=%(refname) %(objectname) %(objecttype)", *patterns)
        refs = {}
        for line in out.splitlines():
            name, sha, kind = line.split(" ")
            if kind == "commit" and not (name.startswith("refs/remotes/") and name.endswith("/HEAD")):  # a task: HEAD
                refs[name] = sha
        return refs

    def cat_file(self, specs: Iterable[str]) -> dict[str, tuple[str, bytes] | None]:
        """Read many objects (`rev:path`, shas) in one git process; missing ones map to None."""
        wanted = list(dict.fromkeys(specs))
        if not wanted:
            return {}
        proc = subprocess.run(["git", "--literal-pathspecs", "cat-file", "--batch"], cwd=self.top, capture_output=True,
                              input="\n".join(wanted).encode("utf-8", "surrogateescape") + b"\n", check=False)
        if proc.returncode != 0:
            raise GitError(_explain(["cat-file"], proc.stderr.decode("utf-8", "replace")))
        found: dict[str, tuple[str, bytes] | None] = {}
        data, pos = proc.stdout, 0
        for spec in wanted:
            end = data.index(b"\n", pos)
            header = data[pos:end].split(b" ")
            pos = end + 1
            if len(header) != 3 or header[-1] in (b"missing", b"ambiguous"):
                found[spec] = None
                continue
            size = int(header[2])
            found[spec] = (header[1].decode(), data[pos : pos + size])
            pos += size + 1
        return found

    def trees(self, specs: Iterable[str]) -> dict[str, dict[str, str]]:
        """List the trees `rev:folder` as {name: blob sha} of regular files; a missing folder lists as empty."""
        return {spec: {name: sha for name, (mode, sha) in entries.items() if mode in REGULAR_MODES}
                for spec, entries in self.tree_listings(specs).items()}

    def tree_listings(self, specs: Iterable[str]) -> dict[str, dict[str, tuple[str, str]]]:
        """List the trees `rev:folder` as {name: (mode, sha)}, links and subfolders included."""
        result = {}
        for spec, obj in self.cat_file(specs).items():
            result[spec] = {name: (mode, sha) for name, sha, mode in _tree_entries(obj[1])} \
                if obj and obj[0] == "tree" else {}
        return result

    def tree_names(self, revs: Iterable[str], folder: str) -> set[str]:
        """Return the names in `folder` at each of `revs` (one git process for all)."""
        names: set[str] = set()
        for entries in self.trees(f"{rev}:{folder}" for rev in revs).values():
            names.update(entries)
        return names

    def diff_trees(self, pairs: list[tuple[str, str]], folder: str) -> dict[str, list[tuple[str, str, str]]]:
        """For each (tip, base), the files under `folder` that differ: (name, base blob, tip blob).

        One `git diff-tree --stdin` for all pairs; a blob id of zeros means absent.
        """
        wanted = list(dict.fromkeys(pairs))
        if not wanted:
            return {}
        text = "".join(f"{tip} {base}\n" for tip, base in wanted)
        out = self.run("diff-tree", "--stdin", "-r", "--no-renames", "--raw", "--no-abbrev", "--", folder,
                       input=text).stdout
        result: dict[str, list[tuple[str, str, str]]] = {tip: [] for tip, _ in wanted}
        current = None
        for line in out.splitlines():
            if line.startswith(":"):
                meta, path = line.split("\t", 1)
                _, new_mode, old, new, _ = meta.split(" ")
                if new_mode not in (*REGULAR_MODES, "000000"):
                    new = ZERO  # a link or folder is not a task file
                if current is not None:
                    result[current].append((path.rsplit("/", 1)[-1], old, new))
            elif line.strip():
                current = line.split()[0]
        return result

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self.run("merge-base", "--is-ancestor", ancestor, descendant, check=False).returncode == 0

    def merge_base(self, a: str, b: str) -> str | None:
        return self.run("merge-base", a, b, check=False).stdout.strip() or None

    def fork_points(self, tips: list[str], base: str) -> dict[str, str | None]:
        """For each tip, the commit it forked from `base` at (its merge base), in one walk.

        Tips already contained in `base` map to themselves. A tip whose unmerged
        history meets `base` at several commits falls back to `git merge-base`.
        """
        if not tips:
            return {}
        out = self.out("rev-list", "--parents", "--boundary", *sorted(set(tips)), f"^{base}")
        parents: dict[str, list[str]] = {}
        boundary: set[str] = set()
        for line in out.splitlines():
            fields = line.split()
            if fields[0].startswith("-"):
                boundary.add(fields[0][1:])
            else:
                parents[fields[0]] = fields[1:]
        result: dict[str, str | None] = {}
        for tip in tips:
            if tip not in parents:
                result[tip] = tip  # already merged: nothing of its own
                continue
            met, stack, seen = set(), [tip], {tip}
            while stack:
                for parent in parents.get(stack.pop(), []):
                    if parent in boundary:
                        met.add(parent)
                    elif parent in parents and parent not in seen:
                        seen.add(parent)
                        stack.append(parent)
            result[tip] = met.pop() if len(met) == 1 else (self.merge_base(tip, base) if met else None)
        return result

    def is_shallow(self) -> bool:
        return self._remember("shallow", lambda: self.out("rev-parse", "--is-shallow-repository") == "true")

    def log_records(self, *args: str) -> list[list[str]]:
        """Run `git log` with a format of NUL-terminated fields; return one field list per commit.

        Records are split on a \x01 that this method puts first in the format, so
        what git prints after the format (`--raw` lines) ends up as the last field.
        """
        args = tuple(a.replace("--format=", "--format=%x01", 1) if a.startswith("--format=") else a for a in args)
        out = self.run("log", *args, check=False).stdout
        return [record.split("\0") for record in out.split("\x01")[1:]]

    # -- remotes ---------------------------------------------------------

    def remotes(self) -> list[str]:
        return self._remember("remotes", lambda: self.out("remote").split())

    def commit_time(self, commit: str) -> datetime | None:
        """When a commit was made (committer time, aware), or None."""
        from datetime import datetime

        text = self.run("log", "-1", "--format=%cI", commit, check=False).stdout.strip()
        return datetime.fromisoformat(text) if text else None

    def default_remote(self) -> str | None:
        """The current branch's upstream remote, else `origin`, else the only remote."""
        return self._remember("default-remote", self._default_remote)

    def _default_remote(self) -> str | None:
        branch = self.current_branch()
        upstream = self.config_get(f"branch.{branch}.remote") if branch else None
        remotes = self.remotes()
        if upstream and upstream in remotes:
            return upstream
        if "origin" in remotes:
            return "origin"
        return remotes[0] if len(remotes) == 1 else None

    def push(self, remote: str, refspecs: list[str], leases: dict[str, str] | None = None) -> PushResult:
        """`git push --atomic --porcelain` with compare-and-swap leases ({ref: expected sha or ''})."""
        args = ["push", "--atomic", "--porcelain", "--no-verify"]
        args += [f"--force-with-lease={ref}:{old}" for ref, old in (leases or {}).items()]
        result = self.run(*args, remote, *refspecs, check=False)
        return PushResult.parse(result)

    def fetch(self, remote: str, refspecs: list[str], prune: bool = True) -> None:
        args = ["fetch", "--quiet", "--no-tags"] + (["--prune"] if prune else []) + [remote, *refspecs]
        result = self.run(*args, check=False)
        if result.returncode != 0:
            raise GitError(remote_failure(remote, result.stderr))

    def update_ref(self, ref: str, new: str | None, old: str | None = None) -> bool:
        """Set (or delete, with `new` None) a local ref, optionally only if it still has `old`."""
        if new is None:
            args = ["update-ref", "-d", ref] + ([old] if old else [])
        else:
            args = ["update-ref", ref, new] + ([old] if old is not None else [])
        return self.run(*args, check=False).returncode == 0

    def first_added(self, folder: str, revisions: str = "HEAD") -> dict[str, float]:
        """Map each file name ever added under `folder` (in `revisions`, a commit or `OLD..NEW`) to its first add."""
        out = self.run("log", "--full-history", "--diff-filter=A", "--format=%x00%ct", "--name-only", "--no-renames",
                       revisions, "--", folder, check=False).stdout  # every parent: OLD..NEW reads merge exactly
        added: dict[str, float] = {}
        stamp = 0.0
        for line in out.splitlines():
            if line.startswith("\0"):
                stamp = float(line[1:])
            elif line:
                name = line.rsplit("/", 1)[-1]
                # the earliest time wins (not the last line): so merging a later `OLD..NEW` read is exact
                added[name] = min(stamp, added.get(name, stamp))
        return added

    # -- state of files --------------------------------------------------

    def path_is_dirty(self, rel_path: str) -> bool:
        """Tell whether a path differs between HEAD, the index and the work tree."""
        out = self.run("status", "--porcelain=v1", "-z", "--untracked-files=no", "--", rel_path).stdout
        return bool(out.strip("\0"))

    # -- committing only our files ----------------------------------------

    def commit_paths(self, paths: list[str], message: str, sign: bool | None = None) -> str:
        """Commit `paths` on HEAD (signed as `sign`, else commit.gpgsign, says), leaving all other work alone."""
        sign = self.out("config", "--type=bool", "commit.gpgsign", check=False) == "true" if sign is None else sign
        parent = self.head_commit()
        fd, temp_index = tempfile.mkstemp(prefix="gtask-index-", dir=self.git_dir)
        os.close(fd)
        os.unlink(temp_index)
        env = {"GIT_INDEX_FILE": temp_index}
        try:
            self.run("read-tree", parent or "--empty", env=env)
            present = [p for p in paths if (self.top / p).exists()]
            gone = [p for p in paths if p not in present]
            if present:
                self.run("update-index", "--add", "--", *present, env=env)
            if gone:
                self.run("update-index", "--force-remove", "--", *gone, env=env)
            tree = self.out("write-tree", env=env)
        finally:
            if os.path.exists(temp_index):
                os.unlink(temp_index)
        parents = ["-p", parent] if parent else []
        made = self.run("commit-tree", *(["-S"] if sign else []), tree, *parents, input=message, check=False)
        if made.returncode != 0:  # e.g. a signing key that is missing: nothing was committed
            raise GitError(_SIGN_FAILED + made.stderr.strip()[-200:] if sign else _explain(["commit"], made.stderr))
        commit = made.stdout.strip()
        checkpoint("commit-made")
        result = self.run("update-ref", "-m", message.splitlines()[0], "HEAD", commit, parent or ZERO, check=False)
        if result.returncode != 0:
            raise Conflict("the branch moved while gtask was committing; nothing was committed, try again")
        checkpoint("ref-moved")
        try:
            if present:
                self.run("update-index", "--add", "--", *present)
            if gone:
                self.run("update-index", "--force-remove", "--", *gone)
        except GitError:
            self.move_head_back(commit, parent)  # no commit without its index entries: all or nothing
            raise
        return commit

    def move_head_back(self, commit: str, parent: str | None) -> None:
        """Take back a commit we just made on HEAD (compare-and-swap: only if HEAD is still it)."""
        if parent:
            self.run("update-ref", "HEAD", parent, commit, check=False)
        else:
            self.run("update-ref", "-d", "HEAD", commit, check=False)


_SIGN_FAILED = "git could not sign the commit (check user.signingkey and gpg.format); nothing was committed: "
_TREE_ENTRY = re.compile(rb"([0-7]+) ([^\0]*)\0(.{20})", re.S)
REGULAR_MODES = ("100644", "100755")


_REMOTE_HINTS = (
    (re.compile(r"does not appear to be a git repository|Could not read from remote|unable to access|"
                r"Could not resolve host|Connection refused|Connection timed out", re.I),
     "cannot reach the remote {remote!r}: check the URL and your network (git: {detail})"),
    (re.compile(r"Authentication failed|Permission denied|could not read Username|403", re.I),
     "the remote {remote!r} refused the credentials: check your access (git: {detail})"),
)


def remote_failure(remote: str, stderr: str) -> str:
    """Turn git's transport failure into a sentence that says what to do."""
    detail = " ".join(line.strip() for line in stderr.strip().splitlines()[-2:]) or "no message"
    for pattern, hint in _REMOTE_HINTS:
        if pattern.search(stderr):
            return hint.format(remote=remote, detail=detail)
    return f"git push/fetch to {remote!r} failed: {detail}"


@dataclass
class PushResult:
    """What the remote did with each ref of a push."""

    ok: bool
    refs: dict[str, tuple[str, str]]  # destination ref -> (flag, summary)
    stderr: str

    @classmethod
    def parse(cls, result: Result) -> PushResult:
        refs = {}
        for line in result.stdout.splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and ":" in parts[1]:
                refs[parts[1].rsplit(":", 1)[1]] = (parts[0], parts[2])
        return cls(result.returncode == 0, refs, result.stderr)

    def rejected_because_taken(self, ref: str) -> bool:
        """The ref was refused because it exists, moved, or another push held its lock: another agent won."""
        flag, summary = self.refs.get(ref, ("", ""))
        if flag != "!":
            return False
        if "stale info" in summary or "fetch first" in summary:
            return True  # our compare-and-swap failed against what the remote advertised
        # a push that passed that check together with ours: the remote's own transaction refused it
        return f"cannot lock ref '{ref}'" in self.stderr

    def explain(self, remote: str) -> str:
        refused = {r: v for r, v in self.refs.items() if v[0] == "!"}
        causes = {r: v for r, v in refused.items() if "atomic" not in v[1]} or refused
        for ref, (flag, summary) in causes.items():
            if flag == "!":
                if "remote rejected" in summary:
                    return (f"the remote {remote!r} rejected {ref}: {summary}; if the host refuses refs outside "
                            "refs/heads and refs/tags, claims cannot use --push there (see docs/fleet.md)")
                if "non-fast-forward" in summary:
                    return f"the remote branch {ref} has commits you do not have; fetch and merge it, then try again"
                return f"the remote {remote!r} refused {ref}: {summary}"
        return remote_failure(remote, self.stderr)


def _tree_entries(raw: bytes) -> Iterable[tuple[str, str, str]]:
    """Parse a raw tree object into (name, object sha, mode) triples (SHA-1 repositories)."""
    for match in _TREE_ENTRY.finditer(raw):
        yield match.group(2).decode("utf-8", "surrogateescape"), match.group(3).hex(), match.group(1).decode()
