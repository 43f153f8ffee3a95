"""Many repositories as one workspace (design §5): read each at its integration branch (found by plan.repos).

By default each repository is read from git objects at the tip of its
integration branch (no checkout: dirty or checked-out-elsewhere work trees do
not matter); `worktree=True` reads the working files instead. A repository
that cannot be read is reported and skipped; the rest still show.

The read of one repository is cached in its own git directory, keyed by the
integration branch's commit: an unchanged repository costs no git process.
What other branches say (plan.elsewhere) counts the checked-out branch too,
since the tasks read are the integration branch's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from gtask.core import schema, taskfile
from gtask.core.config import DEFAULT_AGENT_LANES, Config, Milestone, default_project_name, parse_config
from gtask.core.graph import Node, TaskGraph
from gtask.core.model import Task
from gtask.errors import GtaskError, InvalidTask, NotFound, Problem, UsageError
from gtask.gitio import gitfiles
from gtask.plan.elsewhere import Elsewhere
from gtask.plan.elsewhere import gather as gather_elsewhere
from gtask.plan.repos import WORKSPACE_FILE, workspace_paths
from gtask.store.cache import KEPT_LINES, cache_enabled, cache_path, read_cache, write_cache
from gtask.store.store import CONFIG_NAME, TASKS_DIR, Store
from gtask.version import __version__

if TYPE_CHECKING:
    from gtask.gitio.git import Git

__all__ = ["WORKSPACE_FILE", "Repo", "Workspace", "load", "read_repo", "workspace_paths"]
CACHE_FORMAT = 5  # 3: holds check gate signatures and ancestry; 4: only the checked keys' lines; 5: more of them
_TASK_FIELDS = tuple(f.name for f in fields(Task) if f.name not in ("body", "lines"))
_FIELD_NAMES = [f.name for f in fields(Task)]
assert _FIELD_NAMES[-2:] == ["body", "lines"]  # a cached row is every other field, in order, then the lines
_new_task: Callable[..., Task] = Task  # filled positionally from a cached row (its length is checked first)


@dataclass
class Repo:
    """One repository as read for the workspace."""

    path: Path
    project: str | None = None
    branch: str | None = None
    commit: str | None = None
    tasks: list[Task] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None  # the repository could not be read at all
    agent_lanes: tuple[str, ...] = DEFAULT_AGENT_LANES
    held: dict[str, list[str]] = field(default_factory=dict)  # task ID -> gates that hold it back
    # gate results were checked by `git verify-commit`, whose answer depends on git's configuration and files
    # outside the repository (revoked keys): such a read is not remembered
    signed_gates: bool = False
    elsewhere: Elsewhere = field(default_factory=Elsewhere)  # taken on other refs, pushed handoffs (the resolver's)

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "project": self.project, "integration_branch": self.branch,
                "commit": self.commit, "error": self.error, "problems": [p.to_json() for p in self.problems]}


# -- reading one repository ----------------------------------------------------


def read_repo(path: Path, worktree: bool = False, use_cache: bool = True) -> Repo:
    """Read a repository's tasks; problems of the repository itself go into `error`."""
    repo = Repo(path)
    try:
        if not path.exists():
            raise NotFound("no such folder")
        if not path.is_dir():
            raise UsageError("not a folder: name the repository's folder")
        if worktree:
            _read_worktree(repo, use_cache)
        else:
            _read_integration(repo, use_cache)
        integration = _integration_commit(repo.path) if worktree else repo.commit
        repo.elsewhere = gather_elsewhere(repo.path, repo.tasks, integration, use_cache, checked_out=not worktree)
    except GtaskError as exc:
        repo.error = str(exc)  # with the file and line, where there is one
    return repo


def _read_worktree(repo: Repo, use_cache: bool) -> None:
    store = Store.open(repo.path, use_cache=use_cache)
    loaded = store.load()
    repo.project, repo.agent_lanes = store.project, store.config.agent_lanes
    repo.tasks = list(loaded.tasks.values())
    repo.problems = loaded.problems
    from gtask.gitio.git import Git
    from gtask.gitstate.holds import may_hold

    git = Git.discover(repo.path) if may_hold(store) else None  # gates come from the integration branch (design §2)
    head = git.head_commit() if git else None
    if head:
        assert git is not None  # head came from it
        from gtask.gitstate.branches import integration_commit
        from gtask.gitstate.holds import integration_milestones, tasks_folder

        integration = integration_commit(store, git)
        repo.held = _held(repo.tasks, integration_milestones(store, git, integration), git, head, integration,
                          tasks_folder(store, git))


def _read_integration(repo: Repo, use_cache: bool) -> None:
    git_dir = gitfiles.find_git_dir(repo.path)
    if git_dir is None:
        raise UsageError("not a git repository (use --worktree to read plain folders)")
    branch = _integration_branch(repo.path, git_dir)
    if branch is None:
        raise NotFound("no integration branch: configure integration_branch or create main")
    commit = gitfiles.read_ref(git_dir, f"refs/heads/{branch}") or \
        gitfiles.read_ref(git_dir, f"refs/remotes/origin/{branch}") or _rev_parse(repo.path, branch)
    if commit is None:
        raise NotFound(f"no commits on the integration branch {branch!r}")
    repo.branch, repo.commit = branch, commit
    from hashlib import sha1

    key = sha1(str(repo.path.resolve()).encode()).hexdigest()[:16]  # one cache per repository folder
    path = cache_path(git_dir, f"integration-{key}", use_cache)
    stamp = {"format": CACHE_FORMAT, "version": __version__, "branch": repo.branch, "commit": repo.commit,
             "folder": repo.path.name, "shape": gitfiles.history_shape(git_dir)}  # replace refs change a commit
    if _read_cache(repo, read_cache(path, stamp)):
        return
    _read_objects(repo)
    if repo.signed_gates:
        return
    write_cache(path, stamp, {
        "project": repo.project, "agent_lanes": list(repo.agent_lanes), "held": repo.held,
        "tasks": [[*(getattr(t, f) for f in _TASK_FIELDS), [t.lines.get(k) for k in KEPT_LINES]] for t in repo.tasks],
        "problems": [[p.severity, p.message, p.path, p.line] for p in repo.problems],
    })


def _integration_branch(path: Path, git_dir: Path) -> str | None:
    """The repository's integration branch, its config read from the work tree (a workspace reads no store)."""
    config_path = path / TASKS_DIR / CONFIG_NAME
    configured = None
    if config_path.is_file():
        try:
            text = taskfile.read_text(config_path, str(config_path))
            if "integration_branch" in text or "\\" in text:  # else the key is absent: YAML spells it out or escapes
                configured = parse_config(text.encode("utf-8"), "x", str(config_path)).integration_branch
        except GtaskError:
            configured = None
    return gitfiles.integration_branch(git_dir, configured)


def _integration_commit(path: Path) -> str | None:
    """The integration branch's commit read from git's files (None when that needs git)."""
    git_dir = gitfiles.find_git_dir(path)
    branch = _integration_branch(path, git_dir) if git_dir is not None else None
    if git_dir is None or branch is None:
        return None
    return gitfiles.read_ref(git_dir, f"refs/heads/{branch}") or \
        gitfiles.read_ref(git_dir, f"refs/remotes/origin/{branch}")


def _rev_parse(path: Path, branch: str) -> str | None:
    from gtask.gitio.git import Git

    git = Git.discover(path)
    return git.rev_parse(branch) if git else None


def _read_objects(repo: Repo) -> None:
    """Read `.tasks/` at the commit: one tree read and one batch of blobs."""
    from gtask.gitio.git import REGULAR_MODES, Git

    git = Git.discover(repo.path)
    assert git is not None and repo.commit is not None  # _read_integration found both
    folder = repo.path.resolve().relative_to(git.top.resolve()).as_posix()
    tasks_folder = TASKS_DIR if folder == "." else f"{folder}/{TASKS_DIR}"
    listing = git.tree_listings([f"{repo.commit}:{tasks_folder}"])[f"{repo.commit}:{tasks_folder}"]
    if not listing:
        raise NotFound(f"no {TASKS_DIR}/ folder on {repo.branch}")
    entries = {name: sha for name, (mode, sha) in listing.items() if mode in REGULAR_MODES}
    for name, (mode, _) in sorted(listing.items()):
        if name.endswith(".md") and mode not in REGULAR_MODES:
            kind = "is a symbolic link; gtask does not follow links" if mode == "120000" else "is not a regular file"
            repo.problems.append(Problem("error", kind, f"{TASKS_DIR}/{name}"))
    objects = cast("dict[str | None, tuple[str, bytes] | None]", git.cat_file(entries.values()))  # get(None): None
    config = _config_from(objects.get(entries.get(CONFIG_NAME)), repo.path.name, f"{TASKS_DIR}/{CONFIG_NAME}")
    repo.project, repo.agent_lanes = config.project, config.agent_lanes
    for name, sha in sorted(entries.items()):
        if not name.endswith(".md") or name.startswith("."):
            continue
        label = f"{TASKS_DIR}/{name}"
        task, problems = _parse(objects.get(sha), name[:-3], config.project, label)
        repo.problems += problems
        if task is not None:
            repo.tasks.append(task)
    if any(m.after for m in config.milestones.values()):
        repo.held = _held(repo.tasks, config.milestones, git, repo.commit, repo.commit, tasks_folder)
        repo.signed_gates = config.gate_signers is not None


def _held(tasks: list[Task], milestones: dict[str, Milestone], git: Git, commit: str, integration: str | None,
          folder: str) -> dict[str, list[str]]:
    """Tasks whose milestone comes after a gate that has not passed as of `commit` (signed and merged, as in a repo)."""
    from gtask.gitstate.holds import holds_at

    return holds_at(git, folder, commit, integration, tasks, milestones)


def _config_from(obj: tuple[str, bytes] | None, folder_name: str, label: str) -> Config:
    if obj is None:
        return Config(project=default_project_name(folder_name))
    return parse_config(obj[1], default_project_name(folder_name), label)


def _parse(obj: tuple[str, bytes] | None, task_id: str, project: str, label: str) -> tuple[Task | None, list[Problem]]:
    from gtask.core.ids import id_problem

    problem = id_problem(task_id)
    if problem:
        return None, [Problem("error", f"bad file name: {problem}", label)]
    if obj is None or obj[0] != "blob":
        return None, [Problem("error", "is not a regular file", label)]
    if len(obj[1]) > taskfile.MAX_BYTES:
        return None, [Problem("error", "file is over 1 MiB", label)]
    try:
        tf = taskfile.parse(taskfile.decode(obj[1], label), label)
    except InvalidTask as exc:
        return None, [Problem("error", exc.message, exc.path, exc.line)]
    task, problems = schema.build_task(tf, task_id, project, label)
    if task is not None:
        task.body = None
    return task, problems


def _read_cache(repo: Repo, data: dict[str, Any] | None) -> bool:
    if data is None:
        return False
    try:
        tasks = [_cached_task(row) for row in data["tasks"]]
        problems = [Problem(*p) for p in data["problems"]]
        if not isinstance(data["project"], str) or not all(isinstance(lane, str) for lane in data["agent_lanes"]):
            return False
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return False  # a cache of another shape is simply not used
    repo.project, repo.tasks, repo.problems = data["project"], tasks, problems
    repo.agent_lanes = tuple(data["agent_lanes"])
    repo.held = {str(k): [str(g) for g in v] for k, v in data["held"].items()}
    return True


def _cached_task(row: list[Any]) -> Task:
    if not isinstance(row, list) or len(row) != len(_TASK_FIELDS) + 1 or len(row[-1]) != len(KEPT_LINES):
        raise ValueError("cache row of another shape")
    lines = dict(zip(KEPT_LINES, row[-1], strict=True))  # a key without a line maps to None, as if absent
    task = _new_task(*row[:-1], None, lines)  # positional: five times faster than by keyword
    if not (isinstance(task.id, str) and isinstance(task.title, str) and isinstance(task.status, str)
            and isinstance(task.project, str)):
        raise ValueError("cache row of another shape")
    return task


# -- the workspace -------------------------------------------------------------


@dataclass
class Workspace:
    repos: list[Repo]
    use_cache: bool = True  # False with --no-cache or GTASK_NO_CACHE: what is read for it later reads no cache either

    @property
    def tasks(self) -> list[Task]:
        return [task for repo in self.repos if repo.error is None for task in repo.tasks]

    @property
    def held(self) -> dict[Node, list[str]]:
        """What the gates hold back, over every readable repository: node -> the gates it waits for."""
        return {(cast(str, repo.project), task_id): gates for repo in self.repos if repo.error is None
                for task_id, gates in repo.held.items()}

    def graph(self, added: dict[Node, float] | None = None) -> TaskGraph:
        """One graph over every readable repository, its evidence applied as the resolver's `graph_inputs` does."""
        tasks: list[Task] = []
        taken: set[Node] = set()
        for repo in self.repos:
            found = repo.elsewhere
            if repo.error is None and not found.taken and not found.handoffs:
                tasks += repo.tasks  # nothing elsewhere (most repositories): the tasks as they are
                continue
            for task in repo.tasks if repo.error is None else ():
                extra = found.handoffs.get(task.id.lower())
                tasks.append(replace(task, depends_on=[*task.depends_on, *extra]) if extra else task)
                if task.id.lower() in found.taken:
                    taken.add((task.project, task.id))
        return TaskGraph(tasks, added=added, claimed_elsewhere=taken, held=self.held)

    def repo_errors(self) -> list[Problem]:
        """Repositories that could not be read at all, as problems."""
        return [Problem("error", f"repository skipped: {repo.error}", str(repo.path)) for repo in self.repos
                if repo.error]

    @property
    def problems(self) -> list[Problem]:
        """Every repository's file problems, with paths that say which repository."""
        return [Problem(p.severity, p.message, f"{repo.path}/{p.path}" if p.path else str(repo.path), p.line)
                for repo in self.repos for p in repo.problems]


def load(paths: list[Path], worktree: bool = False, use_cache: bool = True,
         progress: Callable[[int, int], None] | None = None) -> Workspace:
    """Read every repository; refuse two repositories with one project name."""
    use_cache = cache_enabled(use_cache)
    repos = []
    for number, path in enumerate(paths, 1):
        repos.append(read_repo(path, worktree, use_cache))
        if progress:
            progress(number, len(paths))
    owners: dict[str | None, Repo] = {}
    for repo in repos:
        if repo.error is None and repo.project in owners:
            raise UsageError(f"two repositories have the project name {repo.project!r}: "
                             f"{owners[repo.project].path} and {repo.path}; set 'project:' in one's .tasks/config.yaml")
        if repo.error is None:
            owners[repo.project] = repo
    return Workspace(repos, use_cache)
