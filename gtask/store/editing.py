"""`gtask edit`: the user's editor on a copy; the result is validated and never thrown away."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gtask.core import schema, taskfile
from gtask.core.keys import NOT_FOR_AGENTS
from gtask.core.model import now_utc
from gtask.errors import Conflict, GtaskError, InvalidTask, Problem
from gtask.fsutil import create_exclusive, replace_checked
from gtask.store.store import Store

# What an agent moves only through protocol steps (claim, done, release, handoff) and a person's approval:
# `gtask set` refuses these to an agent (protocol.session.set_task), and so does `gtask edit`.


@dataclass
class EditOutcome:
    changed: bool
    kept_aside: Path | None = None


def edit_task(store: Store, task_id: str, run_editor: Callable[[Path], None],
              reopen: Callable[[list[Problem]], bool], as_agent: bool = False) -> EditOutcome:
    """Let the user edit a copy of the task file; write it back only when it validates.

    An invalid result is reopened while `reopen` says so, else kept aside next
    to the task as `<id>.md.rejected` and reported (exit 1). An agent's result
    that changes a protocol key is kept aside the same way and refused (exit 3).
    """
    task_id = store.checked_id(task_id)  # no links, no IDs that clash by case
    path = store.path_of(task_id)
    label = store.label(path)
    original = path.read_bytes()
    workdir = Path(tempfile.mkdtemp(prefix="gtask-edit-"))
    try:
        copy = workdir / path.name
        copy.write_bytes(original)
        while True:
            run_editor(copy)
            text = copy.read_bytes()
            if text == original:
                return EditOutcome(changed=False)
            problems = _validate(store, task_id, text, label)
            if not problems:
                break
            if not reopen(problems):
                aside = _keep_aside(path, text)
                raise InvalidTask(
                    f"the edited file does not validate; your text is kept in {store.label(aside)} "
                    f"and {label} is unchanged ({problems[0]})",
                    path=label,
                )
        changed = _protocol_changes(original, text, label) if as_agent else []
        if changed:
            aside = _keep_aside(path, text)
            raise Conflict(f"an agent may not change {', '.join(changed)} on {task_id} (claim, done, release and "
                           f"handoff change these, a person approves and moves lanes); {label} is unchanged and "
                           f"your text is kept in {store.label(aside)}", path=label)
        with store.lock():  # compare and write with no other gtask writer in between
            if not replace_checked(path, text, original):  # compared right before the rename
                aside = _keep_aside(path, text)
                raise Conflict(f"{label} changed while you were editing; your text is kept in {store.label(aside)}",
                               path=label)
        return EditOutcome(changed=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _validate(store: Store, task_id: str, raw: bytes, label: str) -> list[Problem]:
    try:
        tf = taskfile.parse(taskfile.decode(raw, label), label)
    except InvalidTask as exc:
        return [Problem("error", exc.message, exc.path, exc.line)]
    task, problems = schema.build_task(tf, task_id, store.project, label)
    errors = [p for p in problems if p.is_error]
    if task is not None and not errors:
        try:
            store.check_dependencies(task_id, task.depends_on)
        except GtaskError as exc:
            errors.append(Problem("error", exc.message, label, tf.line_of("depends_on")))
    return errors


def _protocol_changes(original: bytes, edited: bytes, label: str) -> list[str]:
    """The protocol keys whose value differs between two versions of a task file (added or removed counts).

    The edited file has validated; a file that was broken before is compared by its lines for those keys.
    """
    before, after = _front_matter(original, label), _front_matter(edited, label)
    return sorted(key for key in NOT_FOR_AGENTS if before.get(key, _ABSENT) != after.get(key, _ABSENT))


_ABSENT = object()


def _front_matter(raw: bytes, label: str) -> dict[str, object]:
    try:
        return dict(taskfile.parse(taskfile.decode(raw, label), label).data)
    except GtaskError:  # not parseable: each protocol key's top-level lines, as written
        lines = raw.decode("utf-8", "replace").splitlines()
        found: dict[str, object] = {}
        for key in NOT_FOR_AGENTS:
            written = [line.split(":", 1)[1].strip() for line in lines if line.split(":", 1)[0] == key]
            if written:
                found[key] = written[0] if len(written) == 1 else tuple(written)
        return found


def _keep_aside(path: Path, raw: bytes) -> Path:
    """Keep rejected text under a name no other rejection has: `<id>.md.rejected`, else stamped and numbered."""
    stamp = now_utc().strftime("%Y%m%dT%H%M%SZ")
    for number in range(1000):
        name = f"{path.name}.rejected" if number == 0 else f"{path.name}.{stamp}" + \
            (f"-{number}" if number > 1 else "") + ".rejected"
        aside = path.with_name(name)
        try:
            create_exclusive(aside, raw)  # the user's bytes exactly, even when they are not UTF-8
            return aside
        except FileExistsError:
            continue
    raise GtaskError(f"could not keep your text beside {path.name}: too many rejected copies; remove old "
                     f"{path.name}.*.rejected files")
