"""A repository's `.tasks/` folder: find it, read tasks, write changes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, Literal, ParamSpec, TypeVar

from gtask.core.config import Config, default_project_name
from gtask.core.ids import Ref, id_problem, new_id
from gtask.core.model import Task, local_states, now_utc, own_state
from gtask.errors import Conflict, GitError, InvalidTask, NotFound, Problem, UsageError
from gtask.gitio.gitfiles import common_dir, find_git_dir, find_top
from gtask.store.listing import Listing

if TYPE_CHECKING:
    from gtask.core import taskfile
    from gtask.gitio.git import Git
    from gtask.store.cache import DependentsIndex
    from gtask.store.loading import Loaded

P = ParamSpec("P")
R = TypeVar("R")
TASKS_DIR = ".tasks"
CONFIG_NAME = "config.yaml"


def locked(step: Callable[Concatenate[Store, P], R]) -> Callable[Concatenate[Store, P], R]:
    """A Store method run under the clone's writer lock (as locking.locked, which a reader does not import)."""

    @wraps(step)
    def wrapper(store: Store, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with store.lock():
            return step(store, *args, **kwargs)

    return wrapper


class Store:
    """The task store of one repository (or a plain folder of task files, read-only)."""

    def __init__(self, tasks_dir: Path, root: Path, *, is_plain_folder: bool = False,
                 use_cache: bool = True) -> None:
        self.tasks_dir = tasks_dir
        self.root = root
        self.is_plain_folder = is_plain_folder
        self.use_cache = use_cache
        self._config: Config | None = None
        self._repository: Git | Literal[False] | None = False  # False: not looked for yet
        self._index: DependentsIndex | None = None
        self.notices: list[str] = []  # what the store did on its own (crash recovery); the CLI prints them
        self.notify: Callable[[str], None] = self.notices.append
        self._listing = Listing(tasks_dir)
        self._generation: str | Literal[False] | None = False  # the parse cache generation the folder is in

    # -- finding a store -------------------------------------------------

    @classmethod
    def open(cls, path: str | Path = ".", use_cache: bool = True) -> Store:
        """Find the store for `path`: its `.tasks/`, a parent's, or `path` itself as a folder of tasks."""
        start = Path(path).resolve()
        if not start.is_dir():
            raise NotFound(f"no such folder: {path}", path=str(path))
        if (start / TASKS_DIR).is_dir():
            return cls(start / TASKS_DIR, start, use_cache=use_cache)
        if start.name == TASKS_DIR:
            return cls(start, start.parent, use_cache=use_cache)
        if _looks_like_task_folder(start):
            return cls(start, start.parent, is_plain_folder=True, use_cache=use_cache)
        for parent in start.parents:
            if (parent / TASKS_DIR).is_dir():
                return cls(parent / TASKS_DIR, parent, use_cache=use_cache)
            if (parent / ".git").exists():
                break
        raise NotFound(f"no {TASKS_DIR}/ folder in {start} or above it; run 'gtask init' to create one")

    @classmethod
    def init(cls, path: str | Path = ".", project: str | None = None) -> tuple[Store, bool]:
        """Create `.tasks/` and `config.yaml` at the repository top; return the store and whether it was new."""
        root = Path(path).resolve()
        top = find_top(root) or root
        tasks_dir = top / TASKS_DIR
        created = not tasks_dir.exists()
        tasks_dir.mkdir(exist_ok=True)
        config_path = tasks_dir / CONFIG_NAME
        if not config_path.exists():
            from gtask.fsutil import create_exclusive

            name = project or default_project_name(top.name)
            text = (
                f"project: {name}\n"
                "# integration_branch: main   # default: the remote's HEAD, else main, else master\n"
                "lease: 2h\n"
                "lanes: [triage, decision, investigation, autonomous]\n"
            )
            create_exclusive(config_path, text)
            created = True
        store = cls(tasks_dir, top)
        if project and store.config.project != project:
            raise Conflict(f"this store is already project {store.config.project!r}", path=store.label(config_path))
        return store, created

    # -- paths and config ------------------------------------------------

    @property
    def config(self) -> Config:
        if self._config is None:
            path = self.tasks_dir / CONFIG_NAME
            default = self.root.name if not self.is_plain_folder else self.tasks_dir.name
            from gtask.store import config_cache

            self._config = config_cache.load(self.tasks_dir, path, default_project_name(default), self.label(path),
                                             self.use_cache)
        return self._config

    @property
    def project(self) -> str:
        return self.config.project

    def label(self, path: Path) -> str:
        """Show a path relative to the repository top, as users and JSON see it."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def path_of(self, task_id: str) -> Path:
        return self.tasks_dir / f"{task_id}.md"

    def file_names(self) -> list[str]:
        """List the names of the `.md` files in the store, sorted (re-read when the folder changes)."""
        return self._listing.names()

    def note_listing(self, stamp: int, names: list[str], clash_free: bool = False) -> None:
        """Remember the task file names listed when the folder had modification time `stamp` (ns)."""
        self._listing.note(stamp, names, clash_free)

    def ids(self) -> list[str]:
        """Return every task ID that has a file, valid or not."""
        return [name[:-3] for name in self.file_names()]

    def same_id(self, task_id: str) -> list[str]:
        """Every stored ID equal to `task_id` regardless of case."""
        return self._listing.same_id(task_id)

    def resolve_id(self, task_id: str) -> str:
        """Return the stored spelling of an ID, matched case-insensitively; raise NotFound."""
        problem = id_problem(task_id)
        if problem:
            if f"{task_id}.md" in self.file_names():
                raise InvalidTask(f"bad file name: {problem}", path=self.label(self.path_of(task_id)))
            raise NotFound(f"no task {task_id!r}: {problem}")
        exact = [task_id] if self.path_of(task_id).is_file() or self.path_of(task_id).is_symlink() else []
        matches = exact or self.same_id(task_id)
        if not matches:
            raise NotFound(f"no task {task_id!r} in {self.label(self.tasks_dir)}/")
        return matches[0]

    # -- reading ---------------------------------------------------------

    def checked_id(self, task_id: str) -> str:
        """Resolve an ID to a file that gtask may read and write: not a link, no clash by case."""
        task_id = self.resolve_id(task_id)
        path = self.path_of(task_id)
        label = self.label(path)
        if path.is_symlink():
            raise InvalidTask("is a symbolic link; gtask does not follow links in the task folder", path=label)
        clash = [i for i in self.same_id(task_id) if i != task_id]
        if clash:
            raise InvalidTask(f"ID clashes with {clash[0]!r}: IDs are unique regardless of case", path=label)
        return task_id

    def read_file(self, task_id: str) -> taskfile.TaskFile:
        """Read and parse one task's file (no other file is read)."""
        from gtask.core import taskfile

        path = self.path_of(self.checked_id(task_id))
        return taskfile.read(path, self.label(path))

    def check_file(self, task_id: str) -> tuple[Task | None, list[Problem]]:
        """Read one task file and return the task (None when it is invalid) with every problem found."""
        return self._build(self.read_file(task_id))

    def get(self, task_id: str) -> Task:
        """Return one valid task; raise NotFound or InvalidTask (with file and line, and how to repair it)."""
        tf = self.read_file(task_id)
        task, problems = self._build(tf)
        if task is None:
            error = next(p for p in problems if p.is_error)
            hint = repair_hint(tf, error.line) if tf.data else ""  # a field is wrong: `set` can repair it
            raise replace(error, message=error.message + hint).as_error()
        return task

    def load(self) -> Loaded:
        """Read every task file; broken ones become problems and do not stop the others.

        Tasks from `load()` carry no body (`body` is None); `get()` reads one task whole.
        """
        from gtask.store.loading import load_all

        return load_all(self)

    def _build(self, tf: taskfile.TaskFile) -> tuple[Task | None, list[Problem]]:
        from gtask.core import schema

        task_id = Path(tf.label).name[:-3]
        return schema.build_task(tf, task_id, self.project, tf.label)

    def states(self, tasks: dict[str, Task]) -> dict[str, str]:
        """Derive each task's state (design §2) from this repository's files."""
        return local_states(tasks, self.project, now_utc())

    def state_of(self, task: Task) -> str:
        """Derive one task's state, reading only its dependencies' files."""
        finished = True
        for text in task.depends_on:
            ref = Ref.parse(text)
            try:
                finished = finished and ref.is_local(self.project) and self.get(ref.id).is_finished
            except (NotFound, InvalidTask):
                finished = False
        return own_state(task, finished, now_utc())

    def dependents_of(self, task_id: str) -> list[Task]:
        """Find the tasks that depend on `task_id` (see _related)."""
        return self._related(task_id, "dependents", lambda task: task.depends_on)

    def children_of(self, task_id: str) -> list[Task]:
        """Find the tasks whose `parent` is `task_id` (see _related)."""
        return self._related(task_id, "children", lambda task: [task.parent] if task.parent else [])

    def _related(self, task_id: str, relation: str, refs_of: Callable[[Task], list[str]]) -> list[Task]:
        from gtask.store.cache import DependentsIndex
        from gtask.store.related import related

        if self._index is None:  # one index per store: read and checked once for dependents and children
            self._index = DependentsIndex.for_folder(self.tasks_dir, self.project, self.use_cache)
        return related(self, self._index, task_id, relation, refs_of)

    def generation(self) -> str | None:
        """The parse cache generation the folder is exactly in now (its snapshot matches), else None: checked
        once per store (listing the folder, so later lookups by ID need not)."""
        if self._generation is False:
            from gtask.store.loading import current_generation

            self._generation = current_generation(self)
        return self._generation

    # -- writing ---------------------------------------------------------

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold this clone's writer lock (see locking.py); settle a step that a killed writer left half done."""
        self._require_writable()
        git_dir = find_git_dir(self.tasks_dir)
        where = common_dir(git_dir) / "gtask" / "lock" if git_dir else self.tasks_dir / ".gtask.lock"
        from gtask.fsutil import remove_temp_files
        from gtask.store.locking import exclusive

        with exclusive(where) as first:
            if first and git_dir is not None and journal_path(git_dir).exists():
                from gtask.store.recovery import recover

                notice = recover(self.root, journal_path(git_dir))
                if notice:
                    self.notify(notice)
            if first:
                remove_temp_files(self.tasks_dir)
            yield

    def _require_writable(self) -> None:
        from gtask.core import taskfile

        if os.path.islink(self.tasks_dir):
            raise InvalidTask(taskfile.LINKED_FOLDER, path=self.label(self.tasks_dir))
        if self.is_plain_folder:
            raise UsageError(f"{self.label(self.tasks_dir)} is a plain folder of task files, open read-only")

    @locked
    def create(self, title: str, fields: dict[str, Any], task_id: str | None = None,
               taken: Callable[[str], bool] | None = None, body: str = "") -> Task:
        """Write a new task file; derive the ID from the title unless one is given."""
        self._require_writable()
        if task_id is None:
            task_id = self.new_task_id(title, taken)
        else:
            problem = id_problem(task_id)
            if problem:
                raise UsageError(problem)
            if task_id.lower() in self._taken_ids() or (taken and taken(task_id)):
                raise Conflict(f"task ID {task_id!r} is taken")
        data = {"title": title, **{k: v for k, v in fields.items() if v not in (None, [], "")}}
        if "status" not in data:
            data["status"] = "todo"
        from gtask.core.keys import KNOWN_KEYS
        from gtask.fsutil import create_exclusive

        ordered = {k: data[k] for k in KNOWN_KEYS if k in data}
        ordered.update({k: v for k, v in data.items() if k not in ordered})
        from gtask.core import taskfile

        text = render_new(ordered) + body
        path = self.path_of(task_id)
        tf = taskfile.parse(text, self.label(path))
        task, problems = self._build(tf)
        if task is None:
            raise next(p for p in problems if p.is_error).as_error()
        self.check_dependencies(task_id, task.depends_on)
        try:
            create_exclusive(path, text)
        except FileExistsError:
            raise Conflict(f"task ID {task_id!r} is taken", path=self.label(path)) from None
        return task

    def _taken_ids(self) -> set[str]:
        return {i.lower() for i in self.ids()} | self.ids_on_refs()

    def new_task_id(self, title: str, taken: Callable[[str], bool] | None = None) -> str:
        """Derive a free ID from a title: not in the folder nor on any branch (design §1)."""
        existing = self._taken_ids()
        return new_id(title, lambda c: c.lower() in existing or bool(taken and taken(c)))

    def repository(self) -> Git | None:
        """The git repository holding this store, found once; None for a plain folder or a folder outside git."""
        if self._repository is False:
            from gtask.gitio.git import Git

            self._repository = None if self.is_plain_folder else Git.discover(self.root)
        return self._repository

    def ids_on_refs(self) -> set[str]:
        """Lower-cased IDs that exist on any local or remote-tracking branch of the repository."""
        try:
            git = self.repository()
        except GitError:
            return set()  # no git installed: the folder is all there is
        if git is None:
            return set()
        try:
            folder = self.tasks_dir.resolve().relative_to(git.top.resolve()).as_posix()
        except ValueError:
            return set()
        names = git.tree_names(git.refs().values(), folder)
        return {n[:-3].lower() for n in names if n.endswith(".md")}

    @locked
    def update(self, task_id: str, changes: dict[str, Any]) -> Task:
        """Apply changes to one task by editing only the lines that must change."""
        return self.rewrite(task_id, lambda tf: changes)

    @locked
    def set_fields(self, task_id: str, assignments: list[str]) -> Task:
        """Apply `set` arguments (`KEY=VALUE`, `KEY+=ITEM`, `KEY-=ITEM`, `KEY=`) to one task."""
        from gtask.core.assignments import parse_assignments

        return self.rewrite(task_id, lambda tf: parse_assignments(assignments, tf.data))

    @locked
    def rewrite(self, task_id: str, changes_of: Callable[[taskfile.TaskFile], dict[str, Any]]) -> Task:
        """Apply the changes computed from the file's current text; a hand edit made meanwhile is re-applied on."""
        self._require_writable()
        from gtask.core import taskfile, writer  # only writers pay for their import
        from gtask.fsutil import rewrite

        path = self.path_of(self.checked_id(task_id))
        label = self.label(path)
        self.read_file(task_id)  # refuses what is not a regular text file (a FIFO would block the reads below)
        result: list[Task] = []

        def compute(raw: bytes | None) -> str | None:
            if raw is None:
                raise NotFound(f"the task file {label} was removed while gtask was writing it", path=label)
            tf = taskfile.parse(taskfile.decode(raw, label), label)
            before, invalid = self._build(tf)
            if before is None and not tf.data:  # no front matter to change: nothing to repair with `set`
                raise next(p for p in invalid if p.is_error).as_error()
            text = writer.apply_changes(tf, changes_of(tf))
            after, problems = self._build(taskfile.parse(text, label))
            if after is None and before is None:  # the file stays invalid: its own error, and how to repair it
                error = next(p for p in invalid if p.is_error)
                raise replace(error, message=error.message + repair_hint(tf, error.line)).as_error()
            if after is None:
                error = next(p for p in problems if p.is_error)
                raise UsageError(error.message, path=error.path, line=error.line)
            old_deps = before.depends_on if before is not None else []
            if after.depends_on != old_deps:
                self.check_dependencies(after.id, [d for d in after.depends_on if d not in old_deps])
            result[:] = [after]
            return text if text.encode("utf-8") != raw else None

        rewrite(path, label, compute)
        return result[0]

    def check_dependencies(self, task_id: str, refs: list[str]) -> None:
        """Refuse local dependencies that do not exist or that would close a cycle."""
        from gtask.store.related import check_dependencies

        check_dependencies(self, task_id, refs)

def repair_hint(tf: taskfile.TaskFile, line: int | None) -> str:
    """How to repair the field at `line` of a task file: `set` that key, or edit the file."""
    task_id = tf.label.rsplit("/", 1)[-1].removesuffix(".md")
    key = next((k for k, lines in tf.key_lines.items() if line in lines), None) if line else None
    if key is None:
        return f" (repair it with: gtask edit {task_id})"
    return f" (repair it with: gtask set {task_id} {key}=VALUE, or gtask edit {task_id})"


def journal_path(git_dir: Path) -> Path:
    """Where a protocol step records what it is changing (per worktree: files and index are)."""
    return git_dir / "gtask" / "journal.json"


def render_new(data: dict[str, Any]) -> str:
    """Render the text of a new task file."""
    from gtask.core import writer

    lines = ["---\n"]
    for key, value in data.items():
        lines.extend(writer.render_key(key, value, "\n", "  "))
    lines.append("---\n")
    return "".join(lines)


def _looks_like_task_folder(folder: Path) -> bool:
    """A folder named like `.tasks-example`, or one holding a config.yaml outside any repository top."""
    if (folder / ".git").exists():
        return False
    return folder.name.startswith(TASKS_DIR) or (folder / CONFIG_NAME).is_file()

