"""What other branches say about tasks, read from git objects without a checkout (design §3).

For every local and remote-tracking branch other than the current one, only the
task files that the branch changed since its merge base with the integration
branch are read. The whole scan costs a fixed handful of git processes,
however many branches there are.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gtask.core import schema, taskfile
from gtask.core.model import Task
from gtask.errors import GtaskError
from gtask.gitio import gitfiles
from gtask.gitio.git import ZERO, Git
from gtask.store.cache import cache_path, read_cache, write_cache
from gtask.store.store import Store


@dataclass
class RefVersion:
    """A task file as one branch has it (`task` is None when the branch deleted or broke it)."""

    ref: str  # short name: `agent/x` or `origin/agent/x`
    commit: str
    task_id: str
    task: Task | None
    problem: str | None = None

    def live_claim(self, now: datetime) -> bool:
        return self.task is not None and self.task.status == "in_progress" and self.task.has_live_claim(now)

    def to_json(self, now: datetime) -> dict[str, Any]:
        task = self.task
        return {
            "ref": self.ref, "commit": self.commit,
            "status": task.status if task else None,
            "state": _ref_state(self, now),
            "claimed_by": task.claimed_by if task else None,
            "lease_until": task.lease_until if task else None,
            "claim_branch": task.claim_branch if task else None,
            "problem": self.problem,
        }


def _ref_state(version: RefVersion, now: datetime) -> str:
    if version.task is None:
        return "invalid" if version.problem else "deleted"
    if version.task.status == "in_progress":
        return "claimed" if version.task.has_live_claim(now) else "stale"
    if version.task.status == "done":
        return "done-unmerged"
    return version.task.status


@dataclass
class BranchView:
    """The integration branch and every other branch's changed task files."""

    integration: str | None
    integration_commit: str | None
    current: str | None
    versions: dict[str, list[RefVersion]] = field(default_factory=dict)  # lower-case id -> versions
    shallow: bool = False
    git: Git | None = None
    folder: str = ""
    _integration_blobs: dict[str, str] | None = None

    @property
    def integration_blobs(self) -> dict[str, str]:
        """File name -> blob id of the task folder on the integration branch (read on first use)."""
        if self._integration_blobs is None:
            spec = f"{self.integration_commit}:{self.folder}"
            self._integration_blobs = self.git.trees([spec])[spec] if self.integration_commit and self.git else {}
        return self._integration_blobs

    def add(self, version: RefVersion) -> None:
        self.versions.setdefault(version.task_id.lower(), []).append(version)

    def of(self, task_id: str) -> list[RefVersion]:
        return self.versions.get(task_id.lower(), [])

    def live_claims(self, task_id: str, now: datetime) -> list[RefVersion]:
        return [v for v in self.of(task_id) if v.live_claim(now)]


def integration_branch(store: Store, git: Git) -> str | None:
    """The store's integration branch by the one rule of gitio.gitfiles.integration_branch."""
    return gitfiles.integration_branch(git.git_dir, store.config.integration_branch)


DIFFS_FORMAT = 1
_MIRRORED = re.compile(r"refs/gtask/(.+)/(claims|done)/([^/]+)")


def encode_ref_id(task_id: str) -> str:
    """A task ID as a ref name component: IDs git refuses there (`a..b`, `x.lock`, `v2.`) get their dots escaped."""
    if ".." in task_id or task_id.endswith((".", ".lock")):
        return task_id.replace(".", "%2E")  # '%' never occurs in an ID, so this cannot collide
    return task_id


def decode_ref_id(component: str) -> str:
    return component.replace("%2E", ".")


def _integration_ref(git: Git, refs: dict[str, str], integration: str | None) -> str | None:
    """The local integration branch, or its remote-tracking branch when the local one is behind it."""
    local = f"refs/heads/{integration}"
    tracking = any(ref.startswith("refs/remotes/") for ref in refs)  # else no remote's name is needed
    remote = f"refs/remotes/{git.default_remote() or 'origin'}/{integration}" if tracking else None
    if local in refs and remote in refs and refs[local] != refs[remote]:
        return remote if git.is_ancestor(refs[local], refs[remote]) else local
    return local if local in refs else (remote if remote in refs else None)


def _diffs(git: Git, pairs: list[tuple[str, str]], folder: str,
           use_cache: bool) -> dict[str, list[tuple[str, str, str]]]:
    """What each branch tip changed since its base, remembered by (tip, base): commits never change."""
    path = cache_path(git.git_dir, "branch-diffs", use_cache)
    stamp = {"format": DIFFS_FORMAT, "folder": folder, "shape": _shape(git, use_cache)}  # a replace ref swaps trees
    known = read_cache(path, stamp)
    diffs: dict[str, list[Any]] = {}  # (name, old blob, new blob) lists from the cache, triples from git
    if known is not None and isinstance(known.get("diffs"), dict):
        diffs = {k: v for k, v in known["diffs"].items()
                 if isinstance(v, list) and all(isinstance(c, list) and len(c) == 3 for c in v)}
    missing = [(tip, base) for tip, base in pairs if f"{tip}:{base}" not in diffs]
    for tip, changes in git.diff_trees(missing, folder).items():
        base = dict(missing)[tip]
        diffs[f"{tip}:{base}"] = changes
    result = {tip: [tuple(change) for change in diffs[f"{tip}:{base}"]] for tip, base in pairs}
    if missing or len(diffs) != len(pairs):
        write_cache(path, stamp, {"diffs": {f"{t}:{b}": result[t] for t, b in pairs}})
    return result


def _shape(git: Git, use_cache: bool) -> str:
    """The history's shape (shallow boundary, grafts, replace refs) for a cache key; not read without caches."""
    return gitfiles.history_shape(git.git_dir) if use_cache else ""


def _fork_points(git: Git, tips: list[str], base: str, use_cache: bool) -> dict[str, str | None]:
    """`git.fork_points`, remembered by (tip, base): commits never change, so a warm scan walks no history."""
    path = cache_path(git.git_dir, "fork-points", use_cache)
    stamp = {"format": 1, "base": base, "shape": _shape(git, use_cache)}  # merge bases move with the history's shape
    known = read_cache(path, stamp)
    forks = known.get("forks") if known else None
    if isinstance(forks, dict) and all(tip in forks and isinstance(forks[tip], (str, type(None))) for tip in tips):
        return {tip: forks[tip] for tip in tips}
    found = git.fork_points(tips, base)
    write_cache(path, stamp, {"forks": found})
    return found


def _tree(git: Git, commit: str, folder: str) -> dict[str, str]:
    return git.trees([f"{commit}:{folder}"])[f"{commit}:{folder}"]


def _short(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/remotes/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


def integration_commit(store: Store, git: Git) -> str | None:
    """The integration branch's tip (local, or remote-tracking when that is ahead), without reading other branches."""
    refs = git.refs(["refs/heads", "refs/remotes"])
    ref = _integration_ref(git, refs, integration_branch(store, git))
    return refs.get(ref) if ref else None


def scan(store: Store, git: Git) -> BranchView:
    """Read what every other branch says about the tasks it changed."""
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    integration = integration_branch(store, git)
    known, current = gitfiles.current_branch(git.git_dir)  # git's own files: no process when they tell
    current = current if known else git.current_branch()
    refs = git.refs(["refs/heads", "refs/remotes"])
    integ_ref = _integration_ref(git, refs, integration)
    integ_commit = refs.get(integ_ref) if integ_ref else None
    view = BranchView(integration, integ_commit, current, shallow=git.is_shallow(), git=git, folder=folder)
    others = {r: sha for r, sha in refs.items() if r != integ_ref and r != f"refs/heads/{current}"}
    forks = _fork_points(git, list(set(others.values())), integ_commit, store.use_cache) if integ_commit else {}
    pairs = [(sha, forks.get(sha) or "") for sha in set(others.values()) if forks.get(sha) != sha]
    with_base = _diffs(git, [(tip, base) for tip, base in pairs if base], folder, store.use_cache)
    without_base = {tip: [(name, ZERO, blob) for name, blob in _tree(git, tip, folder).items()]
                    for tip, base in pairs if not base}  # no common history: everything it has is new
    changed = {**with_base, **without_base}
    wanted: list[tuple[str, str, str, str | None]] = []  # ref, commit, name, blob
    blob: str | None
    for ref, sha in sorted(others.items()):
        for name, _, blob in changed.get(sha, []):
            if name.endswith(".md"):
                wanted.append((ref, sha, name, None if blob == ZERO else blob))
    # refs/gtask/<remote>/{claims,done}/<id>, fetched by sync (no process when git's files show none)
    leases = git.refs(["refs/gtask"]) if gitfiles.may_have_refs(git.git_dir, "refs/gtask") else {}
    lease_specs = {ref: f"{sha}:{folder}/{decode_ref_id(ref.rsplit('/', 1)[1])}.md" for ref, sha in leases.items()}
    blobs = git.cat_file([blob for *_, blob in wanted if blob] + list(lease_specs.values()))
    for ref, sha, name, blob in wanted:
        task, problem = parse_blob(store, folder, name, blobs.get(blob) if blob else None)
        view.add(RefVersion(_short(ref), sha, name[:-3], task, problem))
    for ref, spec in lease_specs.items():
        match = _MIRRORED.fullmatch(ref)
        if match is None:
            continue  # not a mirrored lease or tombstone (say, one pushed straight into this repository)
        remote, kind, ref_id = match.groups()
        name = f"{decode_ref_id(ref_id)}.md"
        task, problem = parse_blob(store, folder, name, blobs.get(spec))
        view.add(RefVersion(f"{'lease' if kind == 'claims' else 'done'}@{remote}", leases[ref], name[:-3], task,
                            problem))
    return view


def parse_blob(store: Store, folder: str, name: str, obj: tuple[str, bytes] | None) -> tuple[Task | None, str | None]:
    """A task file as a git object holds it: the task (None when absent or broken) and its first error."""
    if obj is None:
        return None, None
    label = f"{folder}/{name}"
    try:
        tf = taskfile.parse(taskfile.decode(obj[1], label), label)
    except GtaskError as exc:
        return None, exc.message
    task, problems = schema.build_task(tf, name[:-3], store.project, label)
    errors = [p.message for p in problems if p.is_error]
    return task, (errors[0] if errors else None)


def integration_versions(store: Store, git: Git, view: BranchView, tasks: list[Task]) -> dict[str, Task]:
    """Return these tasks as the integration branch has them, by ID.

    A work-tree file whose git blob id equals the integration branch's is not
    read from git: the work tree's task is the answer.
    """
    folder = store.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
    result: dict[str, Task] = {}
    differing: dict[str, str] = {}
    task: Task | None
    for task in tasks:
        sha = view.integration_blobs.get(f"{task.id}.md")
        if sha is None:
            continue
        try:
            data = store.path_of(task.id).read_bytes()
        except OSError:
            data = b""
        if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == sha:
            result[task.id] = task
        else:
            differing[task.id] = sha
    objects = git.cat_file(differing.values())
    for task_id, sha in differing.items():
        task, _ = parse_blob(store, folder, f"{task_id}.md", objects.get(sha))
        if task is not None:
            result[task_id] = task
    return result
