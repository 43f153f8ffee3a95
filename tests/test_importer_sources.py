"""The importers' readers: Backlog.md folders, beads JSONL and Taskwarrior exports become neutral records."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path

import pytest

from gtask.importers import backlog_md, beads, taskwarrior
from gtask.importers.records import SourceBatch

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
BACKLOG = CORPORA / "backlog-md"
BEADS = CORPORA / "beads" / "issues.jsonl"
VALID_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")  # gtask IDs, as the importers write them: lower case
GTASK_STATUSES = {"proposed", "todo", "in_progress", "blocked", "done", "canceled"}

needs_backlog = pytest.mark.skipif(not BACKLOG.is_dir(), reason=f"Backlog.md corpus not found at {BACKLOG}")
needs_beads = pytest.mark.skipif(not BEADS.is_file(), reason=f"beads corpus not found at {BEADS}")


def task_files(folder: Path) -> list[Path]:
    """The Markdown files Backlog.md treats as tasks in one folder: everything but the readme."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.md") if p.name.lower() != "readme.md")


def front_matter(path: Path) -> str:
    """The raw front matter of a Backlog.md file (the test's own reading, independent of the importer)."""
    text = path.read_text("utf-8").replace("\r\n", "\n")
    return text.split("\n---", 1)[0] if text.startswith("---\n") else ""


def head_id(head: str) -> str:
    """The lower-cased `id:` of raw front matter."""
    match = re.search(r"(?m)^id:[ \t]*['\"]?([^'\"\s]+)", head)
    assert match, head[:200]
    return match.group(1).lower()


def listed(head: str, key: str) -> list[str]:
    """Items of `key` in raw front matter: a flow list, a block list, or one scalar."""
    match = re.search(rf"(?m)^{key}:[ \t]*(.*)$", head)
    if not match:
        return []
    value = match.group(1).strip()
    if value.startswith("["):
        return [item.strip() for item in value.strip("[]").split(",") if item.strip()]
    if value:
        return [value]
    items = []
    for line in head[match.end() + 1:].splitlines():
        if re.match(r"[ \t]*-[ \t]", line):
            items.append(line)
        elif not re.match(r"[ \t]{3,}\S", line):  # not the continuation of a folded item
            break
    return items


def links(batch: SourceBatch, *keys: str) -> int:
    """How many references the batch keeps under `keys` (a list counts its items, a string counts one)."""
    total = 0
    for task in batch.tasks:
        for key in keys:
            value = task.fields.get(key)
            total += len(value) if isinstance(value, list) else int(value is not None)
    return total


def dependency_links(batch: SourceBatch) -> int:
    """Dependencies kept anywhere, plus those dropped as listed twice (each reported in a note)."""
    duplicates = sum(1 for note in batch.notes if note.kind == "duplicate_dependency")
    return links(batch, "depends_on", "unresolved_depends_on", "self_depends_on") + duplicates


def check_batch(batch: SourceBatch) -> None:
    """What every batch must satisfy: unique valid IDs, known statuses, priorities 0-4, resolved links."""
    ids = [task.id for task in batch.tasks]
    assert len({i.lower() for i in ids}) == len(ids)
    assert all(VALID_ID.fullmatch(i) for i in ids), [i for i in ids if not VALID_ID.fullmatch(i)]
    every = set(ids)
    for task in batch.tasks:
        fields = task.fields
        assert list(fields)[:3] == ["title", "status", "priority"]
        assert fields["status"] in GTASK_STATUSES and fields["priority"] in range(5)
        assert "\n" not in str(fields["title"]) and str(fields["title"]).strip()
        assert fields["source"] == batch.source and fields["source_id"] == task.source_id
        depends_on = fields.get("depends_on", [])
        assert isinstance(depends_on, list) and set(depends_on) <= every and task.id not in depends_on
        assert fields.get("parent") is None or fields["parent"] in every
        assert "id" not in fields


# --- Backlog.md, on the real folder ------------------------------------------------------------


@pytest.fixture(scope="module")
def backlog_batch() -> SourceBatch:
    if not BACKLOG.is_dir():
        pytest.skip(f"Backlog.md corpus not found at {BACKLOG}")
    return backlog_md.read(BACKLOG)


@needs_backlog
def test_backlog_every_task_file_is_mapped(backlog_batch: SourceBatch) -> None:
    files = task_files(BACKLOG / "tasks") + task_files(BACKLOG / "completed") + task_files(BACKLOG / "drafts")
    unreadable = [s for s in backlog_batch.skipped if s.reason.startswith("unreadable")]
    assert unreadable == []
    assert len(backlog_batch.tasks) == len(files)
    imported = {task.source_id.lower() for task in backlog_batch.tasks}
    for path in files:
        assert head_id(front_matter(path)) in imported, path
    check_batch(backlog_batch)


@needs_backlog
def test_backlog_links_and_counts_match_the_source(backlog_batch: SourceBatch) -> None:
    files = task_files(BACKLOG / "tasks") + task_files(BACKLOG / "completed") + task_files(BACKLOG / "drafts")
    heads = [front_matter(path) for path in files]
    source_deps = sum(len(listed(head, "dependencies")) for head in heads)
    source_parents = sum(len(listed(head, "parent_task_id")) + len(listed(head, "parent")) for head in heads)
    assert dependency_links(backlog_batch) == source_deps
    assert links(backlog_batch, "parent", "unresolved_parents", "other_parents") == source_parents
    unresolved = links(backlog_batch, "unresolved_depends_on")
    assert unresolved == sum(1 for note in backlog_batch.notes if note.kind == "unresolved_dependency")


@needs_backlog
def test_backlog_done_archived_and_drafts(backlog_batch: SourceBatch) -> None:
    by_source = {task.source_id.lower(): task for task in backlog_batch.tasks}
    for folder in ("tasks", "completed"):
        for path in task_files(BACKLOG / folder):
            head = front_matter(path)
            source_id = head_id(head)
            if folder == "completed" or re.search(r"(?m)^status:[ \t]*['\"]?Done['\"]?[ \t]*$", head):
                assert by_source[source_id].fields["status"] == "done", path
    drafts = {head_id(front_matter(p)) for p in task_files(BACKLOG / "drafts")}
    assert all(by_source[d].fields["status"] == "proposed" for d in drafts)
    archived = task_files(BACKLOG / "archive" / "tasks") + task_files(BACKLOG / "archive" / "drafts")
    assert sorted(s.path for s in backlog_batch.skipped if s.reason == "archived") == sorted(map(str, archived))
    assert all(s.source_id for s in backlog_batch.skipped if s.reason == "archived")


@needs_backlog
def test_backlog_unquoted_at_signs_and_fields_are_kept(backlog_batch: SourceBatch) -> None:
    by_source = {task.source_id.lower(): task for task in backlog_batch.tasks}
    files = task_files(BACKLOG / "tasks") + task_files(BACKLOG / "completed") + task_files(BACKLOG / "drafts")
    for path in files:
        head = front_matter(path)
        task = by_source[head_id(head)]
        reporter = re.search(r"(?m)^reporter:[ \t]*['\"]?(@?[\w.-]+)", head)
        if reporter:
            assert task.fields["reporter"] == reporter.group(1), path
        for key in ("ordinal", "references", "modified_files", "type", "milestone"):
            if re.search(rf"(?m)^{key}:[ \t]*\S", head) and not re.search(rf"(?m)^{key}:[ \t]*\[\]", head):
                assert key in task.fields, (path, key)
        assert "<!-- SECTION:" not in task.body.split("```")[0]


@needs_backlog
def test_backlog_read_is_deterministic(backlog_batch: SourceBatch) -> None:
    assert asdict(backlog_md.read(BACKLOG)) == asdict(backlog_batch)


# --- Backlog.md, hand-made folders ------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_backlog_tolerant_front_matter_and_sections(tmp_path: Path) -> None:
    folder = tmp_path / "backlog"
    write(folder / "config.yml", 'statuses: ["Open", "Doing", "Review", "Closed"]\n')
    write(folder / "tasks" / "readme.md", "# Tasks\n\nNot a task.\n")
    write(folder / "tasks" / "task-1 - First.md",
          "---\nid: TASK-1\ntitle: First: the one\nstatus: Doing\nreporter: @alice\nassignee: [@bob, @carol]\n"
          "created_date: 2025-06-08\nlabels: [cli, 2026]\npriority: high\nordinal: 1000\n---\n\n"
          "## Description\n\n<!-- SECTION:DESCRIPTION:BEGIN -->\nDo it.\n\n## Not a section\n"
          "<!-- SECTION:DESCRIPTION:END -->\n\n## Acceptance Criteria\n<!-- AC:BEGIN -->\n"
          "- [ ] #1 works\n- [x] #2 tested\n<!-- AC:END -->\n\n## Implementation Notes\n\nDone so.\n")
    write(folder / "tasks" / "task-2 - Second.md",
          "---\nid: task-2\ntitle: 'Second'\nstatus: Review\ndependencies: [1, task-9]\nparent_task_id: task-1\n"
          "---\n\n## Description\n\nOld style.\n\n## Acceptance Criteria (Optional)\n\n- [ ] old box\n")
    write(folder / "tasks" / "task-3 - Third.md", "---\nid: task-3\ntitle: Third\nstatus: Open\n")
    write(folder / "completed" / "task-4 - Fourth.md",
          "---\nid: task-4\ntitle: Fourth\nstatus: Closed\ncompleted_date: '2025-06-09 10:30'\n---\nx\n")
    write(folder / "drafts" / "draft-1 - Idea.md", "---\nid: draft-1\ntitle: Idea\nstatus: Open\n---\n")
    write(folder / "archive" / "tasks" / "task-5 - Old.md", "---\nid: task-5\ntitle: Old\nstatus: Open\n---\n")
    write(folder / "decisions" / "decision-1 - D.md", "---\nid: decision-1\ntitle: D\n---\n")
    (folder / "tasks" / "task-6 - Bad.md").write_bytes(b"---\nid: task-6\ntitle: \xff\n---\n")
    write(folder / "tasks" / "task-7 - Broken.md", "---\nid: task-7\ntitle: [unclosed\nstatus: Open\n---\n")

    batch = backlog_md.read(folder)
    check_batch(batch)
    tasks = {task.id: task for task in batch.tasks}
    assert sorted(tasks) == ["draft-1", "task-1", "task-2", "task-4"]
    first = tasks["task-1"]
    assert first.fields["title"] == "First: the one"
    assert first.fields["status"] == "in_progress" and first.fields["priority"] == 1
    assert first.fields["source_status"] == "Doing"
    assert first.fields["reporter"] == "@alice" and first.fields["assignee"] == "bob"
    assert first.fields["assignees"] == ["bob", "carol"] and first.fields["labels"] == ["cli", "2026"]
    assert first.fields["created"] == "2025-06-08" and first.fields["ordinal"] == 1000
    assert first.body == ("Do it.\n\n## Not a section\n\n## Acceptance criteria\n\n- [ ] works\n- [x] tested\n\n"
                          "## Notes\n\nDone so.\n")
    second = tasks["task-2"]
    assert second.fields["status"] == "in_progress" and second.fields["source_status"] == "Review"
    assert second.fields["depends_on"] == ["task-1"] and second.fields["unresolved_depends_on"] == ["task-9"]
    assert second.fields["parent"] == "task-1"
    assert second.body == "Old style.\n\n## Acceptance criteria\n\n- [ ] old box\n"
    assert tasks["task-4"].fields["status"] == "done"
    assert tasks["task-4"].fields["closed_at"] == "2025-06-09T10:30:00+00:00"
    assert tasks["draft-1"].fields["status"] == "proposed" and tasks["draft-1"].fields["source_status"] == "Open"
    skipped = {Path(s.path).relative_to(folder).as_posix(): s for s in batch.skipped}
    assert skipped["archive/tasks/task-5 - Old.md"].reason == "archived"
    assert skipped["archive/tasks/task-5 - Old.md"].source_id == "task-5"
    assert skipped["tasks/task-3 - Third.md"].reason == "unreadable: front matter not closed"
    assert skipped["tasks/task-6 - Bad.md"].reason == "unreadable: not UTF-8"
    assert skipped["tasks/task-6 - Bad.md"].line == 3
    assert skipped["tasks/task-7 - Broken.md"].reason.startswith("unreadable: front matter is not YAML")
    assert skipped["tasks/task-7 - Broken.md"].line is not None
    assert len(batch.skipped) == 4  # the readme and the decision are passed over, not skipped
    assert [n.kind for n in batch.notes] == ["unresolved_dependency"]


def test_backlog_duplicate_ids_and_parent_cycles_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "backlog"
    write(folder / "tasks" / "task-1 - A.md", "---\nid: task-1\ntitle: A\nstatus: To Do\nparent_task_id: task-2\n---\n")
    write(folder / "tasks" / "task-2 - B.md", "---\nid: task-2\ntitle: B\nstatus: To Do\nparent_task_id: task-1\n---\n")
    write(folder / "completed" / "task-1 - A again.md", "---\nid: TASK-1\ntitle: A again\nstatus: Done\n---\n")
    write(folder / "tasks" / "task-3 - C.md", "---\nid: task-3\ntitle: C\nstatus: To Do\nparent_task_id: task-3\n---\n")
    batch = backlog_md.read(folder)
    check_batch(batch)
    assert len(batch.tasks) == 4
    kinds = sorted(note.kind for note in batch.notes)
    assert kinds == ["duplicate_id", "parent_cycle", "self_parent"]
    renamed = next(t for t in batch.tasks if t.fields["title"] == "A again")
    assert renamed.id.startswith("task-1-") and renamed.fields["source_id"] == "TASK-1"
    assert asdict(backlog_md.read(folder)) == asdict(batch)
    moved = shutil.copytree(folder, tmp_path / "elsewhere" / "backlog")
    assert [asdict(t) for t in backlog_md.read(moved).tasks] == [asdict(t) for t in batch.tasks]


# --- beads ------------------------------------------------------------------------------------


def beads_lines() -> list[str]:
    return BEADS.read_text("utf-8").splitlines()


@needs_beads
def test_beads_corpus_maps_every_issue() -> None:
    rows = [json.loads(line) for line in beads_lines() if line.strip()]
    batch = beads.read(BEADS)
    check_batch(batch)
    gone = [row for row in rows if row.get("status") in ("tombstone", "deleted")]
    assert len(batch.tasks) == len(rows) - len(gone)
    assert sorted(s.source_id or "" for s in batch.skipped) == sorted(row["id"] for row in gone)
    by_source = {task.source_id: task for task in batch.tasks}
    for row in rows:
        if row in gone:
            continue
        task = by_source[row["id"]]
        assert task.id == row["id"].lower()
        if row["status"] == "closed":
            assert task.fields["status"] == "done" and task.fields["closed_at"]
        assert task.fields["priority"] == row.get("priority", 2)
    live = [row for row in rows if row not in gone]
    blocks = sum(1 for row in live for d in row.get("dependencies") or [] if d["type"] == "blocks")
    parents = sum(len({d["depends_on_id"] for d in row.get("dependencies") or [] if d["type"] == "parent-child"}
                      | ({row["parent"]} if row.get("parent") else set())) for row in live)
    assert dependency_links(batch) == blocks
    assert links(batch, "parent", "unresolved_parents", "other_parents") == parents
    assert asdict(beads.read(BEADS)) == asdict(batch)


@needs_beads
def test_beads_truncated_line_and_tombstones_are_skipped(tmp_path: Path) -> None:
    lines = beads_lines()
    cut = len(lines) // 2
    lines[cut] = lines[cut][: len(lines[cut]) // 2]
    tomb = [n for n in range(len(lines)) if n != cut][:3]
    for n in tomb:
        row = json.loads(lines[n])
        row.update(status="tombstone", deleted_at="2026-01-01T00:00:00Z", deleted_by="x", original_type="task")
        lines[n] = json.dumps(row)
    copy = write(tmp_path / "issues.jsonl", "\n".join(lines) + "\n")
    batch = beads.read(copy)
    broken = [s for s in batch.skipped if s.reason.startswith("unreadable")]
    assert [(s.path, s.line) for s in broken] == [(str(copy), cut + 1)]
    assert sorted(s.line or 0 for s in batch.skipped if s.reason == "tombstone") == [n + 1 for n in tomb]
    assert len(batch.tasks) == len(lines) - 1 - len(tomb)


def test_beads_statuses_links_and_sections(tmp_path: Path) -> None:
    issues = [
        {"id": "bd-a", "title": "A", "status": "blocked", "priority": 0, "issue_type": "bug",
         "design": "Use a queue.", "acceptance_criteria": "It works.", "notes": "Hm.",
         "comments": [{"id": 1, "issue_id": "bd-a", "author": "ann", "text": "First!",
                       "created_at": "2026-01-02T03:04:05.123456789-07:00"}],
         "dependencies": [{"issue_id": "bd-a", "depends_on_id": "bd-b", "type": "blocks"},
                          {"issue_id": "bd-a", "depends_on_id": "bd-zz", "type": "blocks"},
                          {"issue_id": "bd-a", "depends_on_id": "bd-c", "type": "parent-child"},
                          {"issue_id": "bd-a", "depends_on_id": "bd-b", "type": "related"}],
         "external_ref": "gh-12", "dependency_count": 3, "comment_count": 1},
        {"id": "bd-b", "title": "B", "status": "in_progress", "assignee": "bob", "priority": 2},
        {"id": "bd-c", "title": "C\nwith more", "status": "deferred", "dependencies": [
            {"issue_id": "bd-c", "depends_on_id": "bd-c", "type": "parent-child"}]},
        {"id": "bd-d", "title": "D", "status": "tombstone", "deleted_at": "2026-01-01T00:00:00Z"},
        {"id": "bd-e", "title": "E", "status": "closed", "closed_at": "2026-01-01T00:00:00Z"},
    ]
    path = write(tmp_path / "issues.jsonl", "".join(json.dumps(i) + "\n" for i in issues))
    batch = beads.read(path)
    check_batch(batch)
    tasks = {task.id: task for task in batch.tasks}
    a = tasks["bd-a"].fields
    assert a["status"] == "todo" and a["source_status"] == "blocked" and a["priority"] == 0
    assert a["depends_on"] == ["bd-b"] and a["unresolved_depends_on"] == ["bd-zz"] and a["parent"] == "bd-c"
    assert a["related"] == ["bd-b"] and a["external_ref"] == "gh-12" and a["issue_type"] == "bug"
    assert "dependency_count" not in a and "comment_count" not in a
    assert tasks["bd-a"].body == ("## Design\n\nUse a queue.\n\n## Acceptance criteria\n\nIt works.\n\n"
                                  "## Notes\n\nHm.\n\n## Comments\n\n**ann** (2026-01-02T03:04:05-07:00):\n\nFirst!\n")
    assert tasks["bd-b"].fields["status"] == "in_progress" and tasks["bd-b"].fields["assignee"] == "bob"
    c = tasks["bd-c"]
    assert c.fields["title"] == "C" and c.body == "with more\n"
    assert c.fields["status"] == "proposed" and c.fields["source_status"] == "deferred"
    assert tasks["bd-e"].fields["closed_at"] == "2026-01-01T00:00:00+00:00"
    assert [(s.source_id, s.reason, s.line) for s in batch.skipped] == [("bd-d", "tombstone", 4)]
    assert sorted(n.kind for n in batch.notes) == ["self_parent", "unresolved_dependency"]


# --- Taskwarrior ------------------------------------------------------------------------------

U1, U2, U3, U4, U5 = (f"{n}0000000-0000-4000-8000-00000000000{n}" for n in range(1, 6))
EXPORT = [
    {"id": 1, "uuid": U1, "description": "Buy milk", "status": "pending", "entry": "20260101T120000Z",
     "modified": "20260102T080000Z", "project": "home.shop", "tags": ["errand"], "priority": "H",
     "due": "20260105T000000Z", "urgency": 9.1, "estimate": "2h",
     "annotations": [{"entry": "20260101T130000Z", "description": "whole milk"}]},
    {"id": 2, "uuid": U2, "description": "Drink milk", "status": "pending", "depends": f"{U1},{U5}",
     "entry": "20260101T120000Z", "start": "20260103T090000Z"},
    {"id": 0, "uuid": U3, "description": "Old thing", "status": "completed", "entry": "20251201T000000Z",
     "end": "20251202T000000Z", "priority": "L", "depends": [U1]},
    {"id": 3, "uuid": U4, "description": "Later", "status": "waiting", "wait": "20270101T000000Z",
     "entry": "20260101T120000Z"},
    {"id": 0, "uuid": "99999999-0000-4000-8000-000000000000", "description": "Gone", "status": "deleted",
     "entry": "20260101T120000Z", "end": "20260101T130000Z"},
]


def test_taskwarrior_export_array(tmp_path: Path) -> None:
    path = write(tmp_path / "export.json", json.dumps(EXPORT, indent=2))
    batch = taskwarrior.read(path)
    check_batch(batch)
    tasks = {task.source_id: task for task in batch.tasks}
    milk = tasks[U1]
    assert re.fullmatch(r"buy-milk-[0-9a-f]{4}", milk.id)
    assert milk.fields["priority"] == 1 and milk.fields["milestone"] == "home.shop"
    assert milk.fields["labels"] == ["errand"] and milk.fields["status"] == "todo"
    assert milk.fields["created"] == "2026-01-01T12:00:00+00:00" and milk.fields["due"] == "2026-01-05T00:00:00+00:00"
    assert milk.fields["estimate"] == "2h" and milk.fields["taskwarrior_id"] == 1 and "urgency" not in milk.fields
    assert milk.body == "## Annotations\n\n- 2026-01-01T13:00:00+00:00: whole milk\n"
    drink = tasks[U2]
    assert drink.fields["status"] == "in_progress" and drink.fields["priority"] == 2
    assert drink.fields["depends_on"] == [milk.id] and drink.fields["unresolved_depends_on"] == [U5]
    old = tasks[U3]
    assert old.fields["status"] == "done" and old.fields["closed_at"] == "2025-12-02T00:00:00+00:00"
    assert old.fields["priority"] == 3 and old.fields["depends_on"] == [milk.id]
    later = tasks[U4]
    assert later.fields["status"] == "todo" and later.fields["wait"] == "2027-01-01T00:00:00+00:00"
    assert later.fields["source_status"] == "waiting"
    assert [(s.reason, s.line) for s in batch.skipped] == [("deleted", None)]
    assert asdict(taskwarrior.read(path)) == asdict(batch)


def test_taskwarrior_old_line_format_with_a_broken_line(tmp_path: Path) -> None:
    lines = [json.dumps(task) + "," for task in EXPORT[:3]]
    lines.insert(1, '{"uuid": "cut off')
    path = write(tmp_path / "export.txt", "\n".join(lines) + "\n")
    batch = taskwarrior.read(path)
    assert len(batch.tasks) == 3
    assert [(s.line, s.reason.split(":")[0]) for s in batch.skipped] == [(2, "unreadable")]
    assert {t.fields["title"] for t in batch.tasks} == {"Buy milk", "Drink milk", "Old thing"}


@pytest.mark.skipif(shutil.which("task") is None, reason="the Taskwarrior binary `task` is not installed")
def test_taskwarrior_real_export(tmp_path: Path) -> None:
    env = {**os.environ, "TASKDATA": str(tmp_path / "data"), "TASKRC": str(tmp_path / "taskrc"),
           "HOME": str(tmp_path)}
    (tmp_path / "taskrc").write_text("confirmation=off\nverbose=nothing\n")
    (tmp_path / "data").mkdir()

    def task(*args: str) -> str:
        proc = subprocess.run(["task", "rc.confirmation=off", *args], env=env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    task("add", "Write the report", "project:work", "+writing", "priority:H")
    task("add", "Send the report", "+mail")
    task("add", "Celebrate")
    task("2", "modify", "depends:1")
    task("1", "annotate", "first draft is in docs/")
    task("3", "done")
    path = write(tmp_path / "export.json", task("export"))
    batch = taskwarrior.read(path)
    check_batch(batch)
    titles = {t.fields["title"]: t for t in batch.tasks}
    assert set(titles) == {"Write the report", "Send the report", "Celebrate"}
    assert titles["Send the report"].fields["depends_on"] == [titles["Write the report"].id]
    assert titles["Celebrate"].fields["status"] == "done" and titles["Celebrate"].fields["closed_at"]
    assert titles["Write the report"].fields["milestone"] == "work"
    assert titles["Write the report"].fields["priority"] == 1
    assert "first draft is in docs/" in titles["Write the report"].body
