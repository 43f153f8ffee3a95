"""Import another tracker's tasks (Backlog.md, beads, Taskwarrior, a gtask JSONL export) in one commit.

The readers in gtask.importers only read; this module decides what lands: IDs that an earlier import of the same
item already wrote are reused and their files left alone (so a second import changes nothing, and edits made in
gtask since are kept), an ID taken by another task gets a stable suffix, an agent's import lands as `proposed`.
Files are rendered as Store.create renders them and checked through gtask's own reader before any is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gtask.core import schema, taskfile
from gtask.core.identity import acts_as_agent
from gtask.core.ids import Ref
from gtask.core.keys import CLAIM_KEYS, KNOWN_KEYS
from gtask.errors import Conflict, Problem, UsageError
from gtask.fsutil import create_exclusive
from gtask.importers.records import ImportedTask, Skipped, SourceBatch, stable_suffix
from gtask.store.locking import locked
from gtask.store.store import Store, render_new

SOURCES = ("backlog-md", "beads", "taskwarrior", "gtask-jsonl")


@dataclass
class SourceImport:
    """What an import did (or, with --dry-run, would do)."""

    source: str
    mapping: dict[str, str]  # source ID -> gtask ID, for every task of the source (new or already there)
    written: list[str]  # IDs whose files this run wrote
    skipped: list[Skipped]
    notes: list[Problem] = field(default_factory=list)
    commit: str | None = None
    dry_run: bool = False

    @property
    def imported(self) -> int:
        return len(self.written)

    def to_json(self) -> dict[str, Any]:
        return {"imported": self.imported, "mapping": self.mapping,
                "skipped": [{"path": s.path, "line": s.line, "source_id": s.source_id, "reason": s.reason}
                            for s in self.skipped],
                "unchanged": len(self.mapping) - self.imported, "commit": self.commit, "dry_run": self.dry_run}


def read_source(source: str, path: Path) -> SourceBatch:
    """Run the reader of `source` on `path` (a Backlog.md folder, or a file)."""
    if source not in SOURCES:
        raise UsageError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    if source == "backlog-md":
        from gtask.importers import backlog_md

        if not path.is_dir():
            raise UsageError(f"{path} is not a folder: --from backlog-md takes the backlog/ folder")
        if not any((path / sub).is_dir() for sub in ("tasks", "completed", "drafts")) and (path / "backlog").is_dir():
            path = path / "backlog"  # the project folder was given: Backlog.md keeps its tasks in backlog/
        return backlog_md.read(path)
    if path.is_dir():
        raise UsageError(f"{path} is a folder: --from {source} takes a file")
    if source == "beads":
        from gtask.importers import beads

        return beads.read(path)
    if source == "taskwarrior":
        from gtask.importers import taskwarrior

        return taskwarrior.read(path)
    from gtask.importers import gtask_jsonl

    return gtask_jsonl.read(path)


def _previous(store: Store, source: str) -> tuple[dict[str, str], dict[str, tuple[str | None, str | None]]]:
    """Earlier imports of this source: source ID -> gtask ID; and every ID -> its (source, source_id)."""
    by_source: dict[str, str] = {}
    origin: dict[str, tuple[str | None, str | None]] = {}
    for task in store.load().tasks.values():
        was_source, was_id = task.extra.get("source"), task.extra.get("source_id")
        origin[task.id.lower()] = (str(was_source) if was_source is not None else None,
                                   str(was_id) if was_id is not None else None)
        if was_source == source and was_id is not None:
            by_source[str(was_id).lower()] = task.id
    return by_source, origin


def plan_ids(store: Store, batch: SourceBatch) -> tuple[dict[str, str], set[str]]:
    """Map every record's reader ID to the ID it lands under; return that and the IDs already in place."""
    by_source, origin = _previous(store, batch.source)
    taken = {i.lower() for i in store.ids()} | store.ids_on_refs()
    final: dict[str, str] = {}
    present: set[str] = set()
    chosen: set[str] = set()
    for task in batch.tasks:
        if batch.source == "gtask-jsonl":
            here = task.id.lower() in origin
            target = store.same_id(task.id)[0] if here else task.id
        else:
            earlier = by_source.get(task.source_id.lower())
            here = earlier is not None
            target = earlier or task.id
            if not here and target.lower() in taken:  # another task has this ID: a suffix that stays the same
                length = 4
                while f"{task.id[:58]}-{stable_suffix(task.source_id, length)}".lower() in taken | chosen:
                    length += 1
                target = f"{task.id[:58]}-{stable_suffix(task.source_id, length)}"
        if here:
            present.add(target)
        chosen.add(target.lower())
        final[task.id] = target
    return final, present


def _rewrite(task: ImportedTask, final: dict[str, str]) -> dict[str, Any]:
    """The record's fields with its references (depends_on, parent) following the final IDs."""
    fields: dict[str, Any] = dict(task.fields)

    def follow(text: str) -> str:
        ref = Ref.parse(text)
        return final.get(ref.id, text) if ref.project is None else text

    if isinstance(fields.get("depends_on"), list):
        fields["depends_on"] = [follow(str(d)) for d in fields["depends_on"]]
    if isinstance(fields.get("parent"), str):
        fields["parent"] = follow(fields["parent"])
    return fields


def _order(tasks: list[ImportedTask], final: dict[str, str]) -> tuple[list[ImportedTask], list[ImportedTask]]:
    """Dependencies before their dependents; the second list holds the tasks on or behind a dependency cycle,
    which are set aside (`check` would refuse the cycle)."""
    ids = {final[t.id].lower(): t for t in tasks}
    waiting: dict[str, set[str]] = {}
    for task in tasks:
        deps = task.fields.get("depends_on")
        deps = deps if isinstance(deps, list) else []
        own = final[task.id].lower()
        waiting[own] = {final.get(str(d), str(d)).lower() for d in deps if final.get(str(d), "").lower() in ids}
    ordered: list[ImportedTask] = []
    done: set[str] = set()
    ready = [t for t in tasks if not waiting[final[t.id].lower()]]
    dependents: dict[str, list[str]] = {}
    for own, deps in waiting.items():
        for dep in deps:
            dependents.setdefault(dep, []).append(own)
    while ready:
        task = ready.pop(0)
        own = final[task.id].lower()
        ordered.append(task)
        done.add(own)
        for nxt in dependents.get(own, []):
            waiting[nxt].discard(own)
            if not waiting[nxt] and nxt not in done:
                ready.append(ids[nxt])
    return ordered, [t for t in tasks if final[t.id].lower() not in done]


@dataclass
class _Prepared:
    batch: SourceBatch
    final: dict[str, str]
    present: set[str]
    to_write: list[ImportedTask]
    skipped: list[Skipped]


def prepare(store: Store, batch: SourceBatch, as_agent: bool, label: str = "") -> _Prepared:
    """Choose IDs, order the writes, and set aside tasks on a dependency cycle (listed under skipped)."""
    final, present = plan_ids(store, batch)
    ordered, cyclic = _order(batch.tasks, final)
    skipped = list(batch.skipped)
    for task in cyclic:
        skipped.append(Skipped(label, None, task.source_id, "on a dependency cycle"))
    cyclic_ids = {t.id for t in cyclic}
    for task in batch.tasks:  # a dependency on a set-aside task cannot be kept as a dependency either
        deps = task.fields.get("depends_on")
        if isinstance(deps, list) and any(d in cyclic_ids for d in deps) and task not in cyclic:
            task.fields["depends_on"] = [d for d in deps if d not in cyclic_ids]
            earlier = task.fields.get("unresolved_depends_on")
            task.fields["unresolved_depends_on"] = [*(earlier if isinstance(earlier, list) else []),
                                                    *(d for d in deps if d in cyclic_ids)]
    to_write = []
    for task in ordered:
        if final[task.id] in present:
            continue
        if as_agent:  # a proposal, carrying nobody's claim or completion
            task.fields["status"] = "proposed"
            for key in (*CLAIM_KEYS, "closed_at", "closed_by"):
                task.fields.pop(key, None)
        to_write.append(task)
    return _Prepared(batch, final, present, to_write, skipped)


def file_text(store: Store, task_id: str, title: str, fields: dict[str, Any], body: str) -> str:
    """The text Store.create writes for these fields, checked through gtask's own reader.

    Store.create re-reads the whole folder and every branch for each file (to refuse cycles and taken IDs);
    for a batch that is done once, by plan_ids and _order, so a 700-task import takes seconds, not a minute.
    """
    data = {"title": title, **{k: v for k, v in fields.items() if v not in (None, [], "")}}
    data.setdefault("status", "todo")
    ordered = {k: data[k] for k in KNOWN_KEYS if k in data}
    ordered.update({k: v for k, v in data.items() if k not in ordered})
    text = render_new(ordered) + body
    label = store.label(store.path_of(task_id))
    task, problems = schema.build_task(taskfile.parse(text, label), task_id, store.project, label)
    if task is None:
        raise next(p for p in problems if p.is_error).as_error()
    return text


def _texts(store: Store, prep: _Prepared) -> dict[str, str]:
    """The file of each task to write, by final ID, dependencies first."""
    texts = {}
    for task in prep.to_write:
        fields = _rewrite(task, prep.final)
        title = str(fields.pop("title"))
        texts[prep.final[task.id]] = file_text(store, prep.final[task.id], title, fields, task.body)
    return texts


def _write(store: Store, texts: dict[str, str]) -> list[str]:
    """Create the files in order; on any failure remove the ones this run created."""
    written: list[str] = []
    try:
        for task_id, text in texts.items():
            try:
                create_exclusive(store.path_of(task_id), text)
            except FileExistsError:
                raise Conflict(f"task ID {task_id!r} was taken while importing; nothing was written",
                               path=store.label(store.path_of(task_id))) from None
            written.append(task_id)
    except BaseException:
        for task_id in written:
            store.path_of(task_id).unlink(missing_ok=True)
        raise
    return written


def skipped_problems(skipped: list[Skipped]) -> list[Problem]:
    """Skipped items as problems to print: unreadable ones as errors (file and line), the rest as warnings."""
    return [Problem("error" if s.reason.startswith("unreadable") else "warning",
                    f"skipped{f' {s.source_id}' if s.source_id else ''}: {s.reason}", s.path, s.line)
            for s in skipped]


@locked
def import_from(store: Store, source: str, path: Path, *, dry_run: bool = False, strict: bool = False,
                agent: str | None = None, commit: bool = True) -> SourceImport:
    """Read a source, then write its new tasks and commit exactly them: `gtask: import N tasks from <source>`."""
    from gtask.protocol.session import Session

    if store.is_plain_folder:
        raise UsageError(f"{store.label(store.tasks_dir)} is a plain folder of task files, open read-only")
    session = Session.open(store, agent) if commit and not dry_run else None
    batch = read_source(source, path)
    prep = prepare(store, batch, acts_as_agent(agent), str(path))
    cyclic = {s.source_id for s in prep.skipped if s.reason == "on a dependency cycle"}
    mapping = {t.source_id: prep.final[t.id] for t in batch.tasks if t.source_id not in cyclic}
    notes = [Problem("warning", f"{n.source_id}: {n.message}", str(path), None) for n in batch.notes]
    result = SourceImport(source, mapping, [prep.final[t.id] for t in prep.to_write], prep.skipped, notes,
                          dry_run=dry_run)
    if strict and prep.skipped:
        result.written = []  # --strict: nothing is written when anything was skipped
        return result
    if dry_run or not prep.to_write:
        return result
    texts = _texts(store, prep)
    if session is None:
        result.written = _write(store, texts)
        return result
    count = len(prep.to_write)
    subject = f"{count} task{'s' if count != 1 else ''} from {source}"
    ids = [prep.final[t.id] for t in prep.to_write]
    planned = {task_id: text.encode() for task_id, text in texts.items()}  # journaled at once, not file by file
    done = session.change_and_commit("import", subject, lambda: _write(store, texts), touched=ids, planned=planned)
    result.commit = done.commit
    return result
