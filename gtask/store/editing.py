"""`gtask edit`: the user's editor on a copy; the result is validated and never thrown away."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gtask.core import schema, taskfile
from gtask.core.model import now_utc
from gtask.errors import Conflict, GtaskError, InvalidTask, Problem
from gtask.fsutil import create_exclusive, replace_checked
from gtask.store.store import Store


@dataclass
class EditOutcome:
    changed: bool
    kept_aside: Path | None = None


def edit_task(store: Store, task_id: str, run_editor: Callable[[Path], None],
              reopen: Callable[[list[Problem]], bool]) -> EditOutcome:
    """Let the user edit a copy of the task file; write it back only when it validates.

    An invalid result is reopened while `reopen` says so, else kept aside next
    to the task as `<id>.md.rejected` and reported (exit 1).
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
