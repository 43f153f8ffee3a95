"""Read git's own files without starting a process: where the git directory is, what a ref points at.

Hot read paths (the cache, `gtask view` over many repositories) use this to
avoid a git process per repository. Anything it cannot answer exactly returns
None, and callers fall back to `gitops`, which runs git; every write goes
through `gitops`.
"""

from __future__ import annotations

import os
from pathlib import Path

_SHA_LENGTH = 40


def find_top(start: Path) -> Path | None:
    """The work-tree top at or above `start`: the folder holding `.git` (a folder, or a worktree's file)."""
    return next((folder for folder in (start, *start.parents) if (folder / ".git").exists()), None)


def find_git_dir(start: Path) -> Path | None:
    """Find the git directory above `start` (a `.git` folder, or where a worktree's `.git` file points)."""
    top = find_top(start)
    if top is None:
        return None
    dot_git = top / ".git"
    if dot_git.is_dir():
        return dot_git
    text = dot_git.read_text(errors="replace").strip()
    if not text.startswith("gitdir:"):
        return None
    target = Path(text[7:].strip())
    return target if target.is_absolute() else (top / target).resolve()


def common_dir(git_dir: Path) -> Path:
    """The directory shared by all worktrees (branches, packed refs, objects)."""
    pointer = git_dir / "commondir"
    if pointer.is_file():
        target = Path(pointer.read_text().strip())
        return target if target.is_absolute() else (git_dir / target).resolve()
    return git_dir


def read_ref(git_dir: Path, ref: str, depth: int = 0) -> str | None:
    """Resolve a ref (`HEAD`, `refs/heads/main`, symbolic ones too) to a commit id, or None."""
    if depth > 5:
        return None
    shared = common_dir(git_dir)
    for folder in ((git_dir, shared) if ref == "HEAD" else (shared,)):
        try:
            text = (folder / ref).read_text().strip()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            continue
        except OSError:
            return None
        if text.startswith("ref:"):
            return read_ref(git_dir, text[4:].strip(), depth + 1)
        return text if len(text) == _SHA_LENGTH else None
    return _packed_ref(shared, ref)


def symbolic_target(git_dir: Path, ref: str) -> str | None:
    """Where a symbolic ref (like `refs/remotes/origin/HEAD`) points, or None."""
    try:
        text = (common_dir(git_dir) / ref).read_text().strip()
    except OSError:
        return None
    return text[4:].strip() if text.startswith("ref:") else None


def integration_branch(git_dir: Path, configured: str | None) -> str | None:
    """The one rule: the configured branch, else the remote's HEAD, else main, else master, else the checked-out one."""
    if configured:
        return configured
    remote_head = symbolic_target(git_dir, "refs/remotes/origin/HEAD")
    if remote_head and remote_head.startswith("refs/remotes/origin/"):
        return remote_head[len("refs/remotes/origin/"):]
    for candidate in ("main", "master"):
        if read_ref(git_dir, f"refs/heads/{candidate}") or read_ref(git_dir, f"refs/remotes/origin/{candidate}"):
            return candidate
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        return None
    return head[len("ref: refs/heads/"):] if head.startswith("ref: refs/heads/") else None


def has_other_refs(git_dir: Path) -> bool:
    """Whether any branch, remote-tracking ref or gtask ref exists besides the branch checked out."""
    shared = common_dir(git_dir)
    if (shared / "reftable").exists():
        return True  # a ref format these readers do not parse: assume there are
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        return True
    current = head[len("ref: "):] if head.startswith("ref: ") else None
    found: set[str] = set()
    for prefix in ("refs/heads", "refs/remotes", "refs/gtask"):
        root = shared / prefix
        for path in root.rglob("*") if root.is_dir() else ():
            if path.is_file():
                found.add(path.relative_to(shared).as_posix())
    try:
        lines = (shared / "packed-refs").read_text().splitlines()
    except OSError:
        lines = []
    found.update(line.split(" ", 1)[1] for line in lines
                 if " refs/" in line and not line.startswith(("#", "^"))
                 and line.split(" ", 1)[1].startswith(("refs/heads/", "refs/remotes/", "refs/gtask/")))
    found.discard(current or "")
    return bool(found)


def _packed_ref(shared: Path, ref: str) -> str | None:
    try:
        lines = (shared / "packed-refs").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.endswith(f" {ref}") and not line.startswith(("#", "^")):
            sha = line.split(" ", 1)[0]
            return sha if len(sha) == _SHA_LENGTH else None
    return None


def current_branch(git_dir: Path) -> tuple[bool, str | None]:
    """(known, branch): the checked-out branch read from HEAD, None when detached; known is False when only
    git can tell (a ref format these readers do not parse, an unreadable HEAD)."""
    if (common_dir(git_dir) / "reftable").exists():
        return False, None
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        return False, None
    if head.startswith("ref: refs/heads/"):
        return True, head[len("ref: refs/heads/"):]
    return (True, None) if len(head) == _SHA_LENGTH else (False, None)


def may_have_refs(git_dir: Path, prefix: str) -> bool:
    """Whether any ref under `prefix` (`refs/gtask`) may exist: False only when git's files show none."""
    shared = common_dir(git_dir)
    if (shared / "reftable").exists():
        return True
    root = shared / prefix
    if root.is_dir() and any(path.is_file() for path in root.rglob("*")):
        return True
    try:
        text = (shared / "packed-refs").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return f" {prefix}/" in text


_SHAPE_ENV = ("GIT_NO_REPLACE_OBJECTS", "GIT_REPLACE_REF_BASE", "GIT_GRAFT_FILE")


def history_shape(git_dir: Path) -> str:
    """What besides the refs' tips decides what a walk of history finds, as a short digest ("" when none of it
    is there): the shallow boundary (`fetch --deepen`/`--unshallow` move it), grafts, replace refs, and the
    variables that switch those. A cache of history keyed by tips is keyed by this too."""
    shared = common_dir(git_dir)
    parts: list[bytes] = []
    for name in ("shallow", "info/grafts"):
        try:
            parts.append((shared / name).read_bytes())
        except FileNotFoundError:
            parts.append(b"")
        except OSError:
            parts.append(b"unreadable")
    replaced = refs_of(git_dir, ("refs/replace/",))
    parts += [b"unreadable"] if replaced is None else [f"{ref} {sha}".encode() for ref, sha in sorted(replaced.items())]
    parts += [os.environ.get(name, "").encode() for name in _SHAPE_ENV]
    parts += [_replace_settings(path) for path in (shared / "config", *_global_configs())]
    if not any(parts):
        return ""
    import hashlib

    return hashlib.sha1(b"\0".join(parts)).hexdigest()[:16]


def _global_configs() -> list[Path]:
    """The user's and the system's git configuration files (where `core.useReplaceRefs` may be set too)."""
    home = os.environ.get("HOME", "")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return [Path(os.environ.get("GIT_CONFIG_GLOBAL") or os.path.join(home, ".gitconfig")),
            Path(xdg) / "git" / "config", Path(os.environ.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig")]


def _replace_settings(path: Path) -> bytes:
    """The lines of a git configuration file that could switch replace refs or grafts (`useReplaceRefs`,
    `replaceRefBase`) or bring in another file (`include`); the rest of it (user.name, remotes) does not change
    history and does not invalidate what was read from it."""
    try:
        text = path.read_bytes().lower()
    except OSError:
        return b""
    return b"\n".join(line.strip() for line in text.splitlines() if b"replace" in line or b"graft" in line
                      or b"include" in line or b"path" in line)


_OTHER_REFS = ("refs/heads/", "refs/remotes/", "refs/gtask/")


def refs_of(git_dir: Path, prefixes: tuple[str, ...] = _OTHER_REFS,
            symbolic: dict[str, str] | None = None) -> dict[str, str] | None:
    """Every branch, remote-tracking ref and gtask ref (or every ref under `prefixes`) with its commit, from git's
    files; None when unreadable. Symbolic refs (`origin/HEAD`) go into `symbolic` when given."""
    shared = common_dir(git_dir)
    if (shared / "reftable").exists():
        return None  # a ref format this reader does not parse
    found: dict[str, str] = {}
    try:
        lines = (shared / "packed-refs").read_text().splitlines()
    except FileNotFoundError:
        lines = []
    except OSError:
        return None
    for line in lines:
        sha, _, ref = line.partition(" ")
        if ref.startswith(prefixes) and not line.startswith(("#", "^")):
            found[ref] = sha
    for prefix in prefixes:
        if not _loose(os.path.join(shared, prefix), prefix, found, symbolic):
            return None
    return found


def _loose(folder: str, prefix: str, found: dict[str, str], symbolic: dict[str, str] | None = None) -> bool:
    """Add the loose refs under `folder` (named `prefix`...); False when one cannot be read."""
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if not _loose(entry.path, f"{prefix}{entry.name}/", found, symbolic):
                return False
        elif not entry.name.endswith(".lock"):
            try:
                with open(entry.path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read().strip()
            except OSError:
                return False
            if not text.startswith("ref:"):  # a symbolic ref (origin/HEAD) names a ref listed itself
                found[f"{prefix}{entry.name}"] = text
            elif symbolic is not None:
                symbolic[f"{prefix}{entry.name}"] = text
    return True
