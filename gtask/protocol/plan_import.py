"""A plan in one batch (design §7): many proposed tasks, checked as a whole, written in one commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from gtask.core import schema, taskfile
from gtask.core.ids import ID_PATTERN, Ref, id_problem, new_id
from gtask.core.keys import KNOWN_KEYS, WRITTEN_BY_GTASK
from gtask.core.model import Task
from gtask.core.planfile import Entry, InvalidPlan, parse_plan, read_source
from gtask.errors import Conflict, InvalidTask, Problem, UsageError
from gtask.fsutil import create_exclusive
from gtask.store.locking import locked
from gtask.store.store import Store, render_new

if TYPE_CHECKING:
    from gtask.protocol.session import Session

PLAN_KEYS = ("name", "id", "body")  # keys of a plan entry that are not front matter


@dataclass
class Planned:
    """A checked task of the batch: its ID and the text of its new file."""

    entry: Entry
    id: str
    text: str = ""
    depends_on: list[str] = field(default_factory=list)  # valid references, local names rewritten to IDs

    @property
    def key(self) -> str:
        """Its key in the name -> ID mapping: the local name, else `#<position>`."""
        return self.entry.name or f"#{self.entry.number}"


@dataclass
class Batch:
    """A plan that passed every check, ready to be written."""

    store: Store
    label: str
    tasks: list[Planned]
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [planned.id for planned in self.tasks]

    def mapping(self) -> dict[str, str]:
        return {planned.key: planned.id for planned in self.tasks}


@dataclass
class Imported:
    """What an import did: local name -> ID, the commit (None with --no-commit), and warnings."""

    tasks: dict[str, str]
    commit: str | None
    warnings: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"tasks": self.tasks, "commit": self.commit}


# -- checking --------------------------------------------------------------

class _Check:
    """Collects the problems of a batch, each naming the plan file and a line."""

    def __init__(self, store: Store, label: str) -> None:
        self.store = store
        self.label = label
        self.problems: list[Problem] = []
        self.folder_ids = {i.lower() for i in store.ids()}
        self.taken = self.folder_ids | store.ids_on_refs()

    def error(self, entry: Entry, key: str | None, message: str) -> None:
        line = entry.line_of(key) if key else entry.line
        self.problems.append(Problem("error", f"{entry.who}: {message}", self.label, line))


def check_plan(store: Store, entries: list[Entry], label: str) -> Batch:
    """Check a whole plan against the store; return the batch to write or raise InvalidPlan with every problem."""
    check = _Check(store, label)
    names = _names(check, entries)
    planned = _ids(check, entries)
    by_name = {name: planned[index] for name, index in names.items()}
    warnings: list[Problem] = []
    for item in planned:
        warnings += _build(check, item, by_name)
    _cycles(check, planned)
    if check.problems:
        raise InvalidPlan(sorted(check.problems, key=lambda p: p.line or 0), label)
    return Batch(store, label, planned, warnings)


def _names(check: _Check, entries: list[Entry]) -> dict[str, int]:
    """Validate local names (a nameless task with an `id` is named by it); map lower-case name -> entry index."""
    names: dict[str, int] = {}
    for index, entry in enumerate(entries):
        key = "name" if "name" in entry.data else "id"
        name = _text(entry.data.get(key))
        if name is None:
            if key == "name" and entry.data.get("name") is not None:
                check.error(entry, "name", "'name' must be a string")
            continue
        if not ID_PATTERN.fullmatch(name):
            if key == "name":
                check.error(entry, "name", f"name {name!r} is not valid: use letters, digits, '-', '_' and '.', "
                                           "starting with a letter or digit")
            continue
        first = names.get(name.lower())
        if first is None:
            entry.name = name
            names[name.lower()] = index
        elif key == "name" or "name" in entries[first].data:  # two equal IDs: _ids says so
            entry.name = name
            check.error(entry, key, f"{name!r} already names the task on line {entries[first].line}")
    return names


def _ids(check: _Check, entries: list[Entry]) -> list[Planned]:
    """Chosen IDs must be valid and free; the others are made from titles as `new` does, unique in the batch."""
    chosen: dict[str, Entry] = {}
    for entry in entries:
        task_id = _text(entry.data.get("id"))
        if "id" not in entry.data:
            continue
        problem = "'id' must be a string" if task_id is None else id_problem(task_id)
        if problem:
            check.error(entry, "id", problem)
        elif cast(str, task_id).lower() in chosen:  # a None ID has a problem
            first = chosen[cast(str, task_id).lower()]
            check.error(entry, "id", f"ID {task_id!r} is also chosen by the task on line {first.line}")
        elif cast(str, task_id).lower() in check.folder_ids:
            check.error(entry, "id", f"ID {task_id!r} is taken: a task file in "
                                     f"{check.store.label(check.store.tasks_dir)}/ has it")
        elif cast(str, task_id).lower() in check.taken:
            check.error(entry, "id", f"ID {task_id!r} is taken on another branch")
        else:
            chosen[cast(str, task_id).lower()] = entry

    def taken(candidate: str) -> bool:
        return candidate.lower() in check.taken or candidate.lower() in chosen

    planned = []
    for entry in entries:
        task_id = _text(entry.data.get("id"))
        if task_id is None or chosen.get(task_id.lower()) is not entry:
            task_id = new_id(_text(entry.data.get("title")) or "task", taken)
            chosen[task_id.lower()] = entry
        planned.append(Planned(entry, task_id))
    return planned


def _build(check: _Check, item: Planned, by_name: dict[str, Planned]) -> list[Problem]:
    """Turn one entry into a task (rules of the plan, references, the task schema), render its file; return warnings."""
    entry = item.entry
    _plan_rules(check, entry)
    fields = {key: value for key, value in entry.data.items() if key not in PLAN_KEYS}
    fields["status"] = "proposed"
    if isinstance(fields.get("depends_on"), list):
        fields["depends_on"] = _references(check, entry, fields["depends_on"], by_name)
        item.depends_on = [d for d in fields["depends_on"] if isinstance(d, str) and d.lower() != item.id.lower()]
    key_lines = {key: [line] for key, line in entry.key_lines.items()}
    tf = taskfile.TaskFile(check.label, [], 0, 0, fields, key_lines)
    task, found = schema.build_task(tf, item.id, check.store.project, check.label)
    found = [Problem(p.severity, f"{entry.who}: {p.message}", p.path, p.line or entry.line) for p in found]
    check.problems += [p for p in found if p.is_error]
    if task is not None:
        body = entry.data.get("body")
        item.text = _render(task, fields, body if isinstance(body, str) else "")
        _verify(check, item)
    return [p for p in found if not p.is_error]


def _plan_rules(check: _Check, entry: Entry) -> None:
    """What a plan may not ask for: another status, keys gtask writes, a bad body, an unknown lane."""
    data = entry.data
    status = data.get("status")
    if status not in (None, "proposed"):
        check.error(entry, "status", f"status {status!r} is not allowed: imported tasks land as proposed, "
                                     "and a person approves them with 'gtask approve'")
    for key in WRITTEN_BY_GTASK:
        if key in data:
            check.error(entry, key, f"{key!r} is written by gtask's own commands, not by a plan")
    if data.get("body") is not None and not isinstance(data["body"], str):
        check.error(entry, "body", "'body' must be a string of Markdown")
    lane, lanes = data.get("lane"), check.store.config.lanes
    if isinstance(lane, str) and lanes and lane not in lanes:
        check.error(entry, "lane", f"lane {lane!r} is not one of the configured lanes: {', '.join(lanes)}")


def _verify(check: _Check, item: Planned) -> None:
    """The rendered file must read back as a valid task (a guard: what was checked is what is written)."""
    label = check.store.label(check.store.path_of(item.id))
    try:
        task, found = schema.build_task(taskfile.parse(item.text, label), item.id, check.store.project, label)
    except InvalidTask as exc:
        task, found = None, [Problem("error", exc.message, label, exc.line)]
    if task is None:
        message = next(p.message for p in found if p.is_error)
        check.error(item.entry, None, f"cannot be written as a task file: {message}")


def _references(check: _Check, entry: Entry, items: list[Any], by_name: dict[str, Planned]) -> list[Any]:
    """Rewrite local names to the new IDs; existing refs stay as written; anything else is a problem."""
    store = check.store
    written = []
    for item in items:
        text = _text(item)
        if text is None:
            written.append(item)  # the schema says what is wrong with it
            continue
        if text.lower() in by_name:
            written.append(by_name[text.lower()].id)
            continue
        neither = f"depends on {text!r}, which is neither a name in this plan nor"
        try:
            ref = Ref.parse(text)
        except ValueError as exc:
            check.error(entry, "depends_on", f"{neither} a valid reference: {exc}")
            continue
        if ref.is_local(store.project) and not store.same_id(ref.id):
            check.error(entry, "depends_on", f"{neither} a task in {store.label(store.tasks_dir)}/")
            continue
        written.append(text)
    return written


def _render(task: Task, fields: dict[Any, Any], body: str) -> str:
    """The new file's text: front matter in the order `new` writes, then the body."""
    data = {**fields, "title": task.title}
    kept = {key: value for key, value in data.items() if value not in (None, [], "")}
    ordered = {key: kept[key] for key in KNOWN_KEYS if key in kept}
    ordered.update({key: value for key, value in kept.items() if key not in ordered})
    if body and not body.endswith("\n"):
        body += "\n"
    return render_new(ordered) + body


def _cycles(check: _Check, planned: list[Planned]) -> None:
    """A cycle among the new tasks, or through existing ones, is a problem showing its path."""
    from gtask.core.graph import TaskGraph

    project = check.store.project
    new = {item.id.lower(): item for item in planned}
    tasks = [Task(id=item.id, title=item.id, status="proposed", project=project, depends_on=item.depends_on)
             for item in planned]
    if any(Ref.parse(d).is_local(project) and Ref.parse(d).id.lower() not in new
           for item in planned for d in item.depends_on):
        tasks += [t for t in check.store.load().tasks.values() if t.id.lower() not in new]
    graph = TaskGraph(tasks)

    def label(node: tuple[str, str]) -> str:
        item = new.get(node[1].lower()) if node[0] == project else None
        return (item.entry.name or item.id) if item else graph.label(node, project)

    for cycle in graph.cycles():
        first = next((new[n[1].lower()] for n in cycle if n[0] == project and n[1].lower() in new), None)
        if first is not None:  # a cycle of old tasks alone is for `gtask check` to report
            check.error(first.entry, "depends_on", f"dependency cycle: {' -> '.join(map(label, cycle))}")


def _text(value: Any) -> str | None:
    """A string, or a number written where a string is meant; None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


# -- writing ---------------------------------------------------------------

def write_files(batch: Batch) -> list[str]:
    """Create every file of the batch, or none: a file that appeared meanwhile is a conflict."""
    store = batch.store
    for task_id in batch.ids:
        if store.same_id(task_id) or store.path_of(task_id).exists():
            raise Conflict(f"task ID {task_id!r} was taken while importing; nothing was written",
                           path=store.label(store.path_of(task_id)))
    written: list[str] = []
    try:
        for planned in batch.tasks:
            path = store.path_of(planned.id)
            try:
                create_exclusive(path, planned.text)
            except FileExistsError:
                raise Conflict(f"task ID {planned.id!r} was taken while importing; nothing was written",
                               path=store.label(path)) from None
            written.append(planned.id)
    except BaseException:
        for task_id in written:
            store.path_of(task_id).unlink(missing_ok=True)
        raise
    return written


def land(batch: Batch, session: Session | None) -> Imported:
    """Write the batch; with a protocol session, commit exactly its files in one commit."""
    if session is None:
        write_files(batch)
        return Imported(batch.mapping(), None, batch.warnings)
    count = len(batch.tasks)
    subject = f"{count} task{'s' if count != 1 else ''}"
    trailers: list[tuple[str, str]] = []  # change() adds Approval-Rule before the message is built

    def change() -> list[str]:
        written = write_files(batch)
        session.approve_by_rules(written, trailers)
        return written

    done = session.change_and_commit("import", subject, change, trailers=trailers, touched=batch.ids)
    return Imported(batch.mapping(), done.commit, batch.warnings)


def open_session(store: Store, agent: str | None) -> Session:
    """The protocol session that commits the batch; a folder outside git needs --no-commit."""
    from gtask.protocol.session import Session

    if store.repository() is None:
        raise UsageError(f"{store.root} is not inside a git repository: run 'git init', "
                         "or pass --no-commit to only write the files")
    return Session.open(store, agent)


@locked
def import_plan(store: Store, text: str, label: str, commit: bool = True, agent: str | None = None) -> Imported:
    """Check a plan as a whole, then write its tasks as proposed (and commit them, one commit)."""
    if store.is_plain_folder:
        raise UsageError(f"{store.label(store.tasks_dir)} is a plain folder of task files, open read-only")
    session = open_session(store, agent) if commit else None
    batch = check_plan(store, parse_plan(text, label), label)
    return land(batch, session)


def import_source(store: Store, source: str, base: Path, commit: bool = True,
                  agent: str | None = None) -> Imported:
    """Import the plan in a file (or `-` for standard input)."""
    text, label = read_source(source, base)
    return import_plan(store, text, label, commit, agent)

