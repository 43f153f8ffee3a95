"""Relations between tasks: who names a task in `depends_on` or as `parent` (from the dependents index while the
folder is in the generation it was made from, else by reading only the files that mention the task's ID), and
which new dependencies may be added."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gtask.core.ids import Ref
from gtask.core.model import Task
from gtask.errors import Conflict, InvalidTask, NotFound

if TYPE_CHECKING:  # only types: a command does not pay for building a Protocol class
    from gtask.store.cache import DependentsIndex
    from gtask.store.loading import Loaded

    class Store(Protocol):
        """What relations need of a store (the Store class has it; this module does not import it)."""

        tasks_dir: Path

        @property
        def project(self) -> str: ...

        def label(self, path: Path) -> str: ...

        def generation(self) -> str | None: ...

        def file_names(self) -> list[str]: ...

        def ids(self) -> list[str]: ...

        def get(self, task_id: str) -> Task: ...

        def load(self) -> Loaded: ...


def related(store: Store, index: DependentsIndex, task_id: str, relation: str,
            refs_of: Callable[[Task], list[str]]) -> list[Task]:
    """Tasks that name `task_id` in `refs_of` (`relation` is the index's name for it), read whole."""
    indexed = index.lookup(store.generation(), task_id, store.project, relation)
    if indexed is not None:
        found = []
        for dependent in sorted(indexed):
            try:
                found.append(store.get(dependent))
            except (InvalidTask, NotFound):
                continue
        return found
    needle = task_id.lower().encode()
    found = []
    for name in store.file_names():
        path = store.tasks_dir / name
        if name[:-3].lower() == task_id.lower() or path.is_symlink():
            continue
        try:
            if needle not in path.read_bytes().lower():
                continue
            task = store.get(name[:-3])
        except (OSError, InvalidTask, NotFound):
            continue
        refs = [Ref.parse(d) for d in refs_of(task)]
        if any(r.is_local(store.project) and r.id.lower() == task_id.lower() for r in refs):
            found.append(task)
    return found


def check_dependencies(store: Store, task_id: str, refs: list[str]) -> None:
    """Refuse local dependencies that do not exist or that would close a cycle."""
    local = [Ref.parse(r).id for r in refs if Ref.parse(r).is_local(store.project)]
    if not local:
        return
    existing = {i.lower(): i for i in store.ids()}
    for dep in local:
        if dep.lower() not in existing:
            raise NotFound(f"no task {dep!r} to depend on in {store.label(store.tasks_dir)}/")
    from gtask.core.graph import cycle_through

    loaded = store.load()
    cycle = cycle_through(loaded.tasks, task_id, [existing[d.lower()] for d in local], store.project)
    if cycle:
        raise Conflict(f"this dependency would create a cycle: {' -> '.join(cycle)}")
