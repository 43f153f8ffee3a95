"""`gtask import --from SOURCE` and `gtask export`: real corpora land in one commit, checked, and idempotent."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import git as gitpython
import pytest
from conftest import Cli, git, task_text, write_task

from gtask.importers import backlog_md, beads
from gtask.store.store import Store

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
BACKLOG = CORPORA / "backlog-md"
BEADS = CORPORA / "beads" / "issues.jsonl"
needs_backlog = pytest.mark.skipif(not BACKLOG.is_dir(), reason=f"Backlog.md corpus not found at {BACKLOG}")
needs_beads = pytest.mark.skipif(not BEADS.is_file(), reason=f"beads corpus not found at {BEADS}")


def tree(repo: Path) -> dict[str, bytes]:
    """Every file of the work tree (outside .git), as bytes."""
    return {p.relative_to(repo).as_posix(): p.read_bytes() for p in sorted(repo.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(repo).parts}


def imported_once(cli: Cli, repo: Path, source: str, path: Path) -> dict[str, object]:
    """Import, check the one commit through GitPython, import again and see nothing change."""
    head = git(repo, "rev-parse", "HEAD")
    result = cli("import", "--from", source, str(path), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    commit = gitpython.Repo(repo).head.commit
    assert [p.hexsha for p in commit.parents] == [head]
    assert commit.message.splitlines()[0] == f"gtask: import {report['imported']} tasks from {source}"
    changed = set(commit.stats.files)
    assert changed == {f".tasks/{task_id}.md" for task_id in report["mapping"].values()}
    assert [line for line in git(repo, "status", "--porcelain").splitlines() if line.endswith(".md")] == []
    check = cli("check")
    assert check.exit_code == 0, check.stdout + check.stderr
    before = tree(repo)
    again = cli("import", "--from", source, str(path), "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["imported"] == 0
    assert json.loads(again.stdout)["mapping"] == report["mapping"]
    assert git(repo, "rev-parse", "HEAD") == commit.hexsha and tree(repo) == before
    return report


@needs_backlog
def test_backlog_corpus_imports_every_task_with_its_links(cli: Cli, repo: Path) -> None:
    batch = backlog_md.read(BACKLOG)
    report = imported_once(cli, repo, "backlog-md", BACKLOG)
    assert report["imported"] == len(batch.tasks) == len(report["mapping"])
    assert len(report["skipped"]) == len(batch.skipped)
    tasks = Store.open(repo).load().tasks
    for source_id, task_id in report["mapping"].items():
        assert tasks[task_id].extra["source_id"] == source_id
    for folder, wanted in (("completed", {"done", "canceled"}), ("drafts", {"proposed"})):
        ids = [folder_id(p) for p in sorted((BACKLOG / folder).glob("*.md")) if p.name.lower() != "readme.md"]
        assert ids and {tasks[report["mapping"][i]].status for i in ids} <= wanted
    assert sum(len(t.depends_on) for t in tasks.values()) == sum(len(t.fields.get("depends_on", []))
                                                                    for t in batch.tasks)
    assert sum(1 for t in tasks.values() if t.parent) == sum(1 for t in batch.tasks if t.fields.get("parent"))


def folder_id(path: Path) -> str:
    """The `id:` a Backlog.md file's front matter gives (the test's own reading)."""
    match = re.search(r"(?m)^id:[ \t]*['\"]?([^'\"\s]+)", path.read_text("utf-8"))
    assert match, path
    return match.group(1)


@needs_beads
def test_beads_corpus_imports_every_issue_with_its_links(cli: Cli, repo: Path) -> None:
    batch = beads.read(BEADS)
    report = imported_once(cli, repo, "beads", BEADS)
    assert report["imported"] == len(batch.tasks)
    ids = {json.loads(line)["id"] for line in BEADS.read_text("utf-8").splitlines() if line.strip()}
    assert set(report["mapping"]) | {s["source_id"] for s in report["skipped"]} == ids
    tasks = Store.open(repo).load().tasks
    closed = {json.loads(line)["id"] for line in BEADS.read_text("utf-8").splitlines()
              if line.strip() and json.loads(line).get("status") == "closed"}
    assert all(tasks[report["mapping"][i]].status == "done" for i in closed if i in report["mapping"])
    assert sum(len(t.depends_on) for t in tasks.values()) == sum(len(t.fields.get("depends_on", []))
                                                                    for t in batch.tasks)
    assert sum(1 for t in tasks.values() if t.parent) == sum(1 for t in batch.tasks if t.fields.get("parent"))


def beads_file(tmp_path: Path) -> Path:
    lines = [
        {"id": "bd-1", "title": "Epic", "status": "open", "issue_type": "epic", "priority": 1},
        {"id": "bd-2", "title": "Child", "status": "in_progress", "priority": 2,
         "dependencies": [{"issue_id": "bd-2", "depends_on_id": "bd-1", "type": "parent-child"}]},
        {"id": "bd-3", "title": "After child", "status": "closed", "closed_at": "2026-01-02T03:04:05Z",
         "dependencies": [{"issue_id": "bd-3", "depends_on_id": "bd-2", "type": "blocks"}]},
    ]
    path = tmp_path / "issues.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + '\n{"id": "bd-4", "title": "trunc\n', "utf-8")
    return path


def test_unreadable_line_is_reported_and_the_rest_imports(cli: Cli, repo: Path, tmp_path: Path) -> None:
    path = beads_file(tmp_path)
    result = cli("import", "--from", "beads", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["imported"] == 3 and report["mapping"] == {"bd-1": "bd-1", "bd-2": "bd-2", "bd-3": "bd-3"}
    assert [(s["path"], s["line"]) for s in report["skipped"]] == [(str(path), 4)]
    problem = json.loads(result.stderr.splitlines()[0])["problem"]
    assert (problem["path"], problem["line"]) == (str(path), 4)
    store = Store.open(repo)
    assert store.get("bd-2").parent == "bd-1" and store.get("bd-2").status == "in_progress"
    assert store.get("bd-3").depends_on == ["bd-2"] and store.get("bd-3").status == "done"


def test_strict_and_dry_run_write_nothing(cli: Cli, repo: Path, tmp_path: Path) -> None:
    path = beads_file(tmp_path)
    head, before = git(repo, "rev-parse", "HEAD"), tree(repo)
    strict = cli("import", "--from", "beads", str(path), "--strict")
    assert strict.exit_code == 1 and f"{path}:4" in strict.stderr
    dry = cli("import", "--from", "beads", str(path), "--dry-run", "--json")
    assert dry.exit_code == 0 and json.loads(dry.stdout)["imported"] == 3
    assert git(repo, "rev-parse", "HEAD") == head and tree(repo) == before
    assert cli("import", "--dry-run", str(path)).exit_code == 2  # --dry-run belongs to --from


def test_an_agent_imports_as_proposed(cli: Cli, repo: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GTASK_AGENT", "bot-1")
    result = cli("import", "--from", "beads", str(beads_file(tmp_path)))
    assert result.exit_code == 0, result.stderr
    store = Store.open(repo)
    assert {store.get(i).status for i in ("bd-1", "bd-2", "bd-3")} == {"proposed"}
    assert "Agent: bot-1" in git(repo, "log", "-1", "--format=%B")


def test_an_id_taken_by_another_task_gets_a_stable_suffix(cli: Cli, repo: Path, tmp_path: Path) -> None:
    write_task(repo, "bd-1", task_text("Mine, not the import's"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "mine")
    first = json.loads(cli("import", "--from", "beads", str(beads_file(tmp_path)), "--json").stdout)
    epic = first["mapping"]["bd-1"]
    assert epic.startswith("bd-1-") and Store.open(repo).get("bd-2").parent == epic
    assert Store.open(repo).get("bd-1").title == "Mine, not the import's"
    again = json.loads(cli("import", "--from", "beads", str(beads_file(tmp_path)), "--json").stdout)
    assert again["imported"] == 0 and again["mapping"] == first["mapping"]


@pytest.mark.skipif(shutil.which("task") is None, reason="the Taskwarrior binary `task` is not installed")
def test_a_real_taskwarrior_export_keeps_dependencies_and_completions(cli: Cli, repo: Path, tmp_path: Path) -> None:
    env = {**os.environ, "TASKDATA": str(tmp_path / "data"), "TASKRC": str(tmp_path / "taskrc"), "HOME": str(tmp_path)}
    (tmp_path / "taskrc").write_text("confirmation=off\nverbose=nothing\n")
    (tmp_path / "data").mkdir()

    def task(*args: str) -> str:
        proc = subprocess.run(["task", "rc.confirmation=off", *args], env=env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    task("add", "Write the report", "project:work")
    task("add", "Send the report")
    task("add", "Celebrate")
    task("2", "modify", "depends:1")
    task("3", "done")
    path = tmp_path / "export.json"
    path.write_text(task("export"), "utf-8")
    report = imported_once(cli, repo, "taskwarrior", path)
    tasks = {t.title: t for t in Store.open(repo).load().tasks.values()}
    assert report["imported"] == 3
    assert tasks["Send the report"].depends_on == [tasks["Write the report"].id]
    assert tasks["Celebrate"].status == "done" and tasks["Celebrate"].closed_at
    assert tasks["Write the report"].milestone == "work"


def test_export_then_import_into_an_empty_store_gives_the_same_tasks(cli: Cli, repo: Path, tmp_path: Path) -> None:
    cli("import", "--from", "beads", str(beads_file(tmp_path)))
    write_task(repo, "local", task_text("Local one", labels="[a, b]", depends_on="[bd-1]"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "local")
    exported = cli("export", "--format", "jsonl")
    assert exported.exit_code == 0, exported.stderr
    lines = exported.stdout.splitlines()
    assert len(lines) == 4 and all("body" in json.loads(line) for line in lines)
    listed = {t["id"]: t for t in json.loads(cli("list", "--json").stdout)}
    for line in lines:
        obj = json.loads(line)
        assert {k: v for k, v in obj.items() if k != "body"} == listed[obj["id"]]
    dump = tmp_path / "export.jsonl"
    dump.write_text(exported.stdout, "utf-8")
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    git(other, "commit", "-q", "--allow-empty", "-m", "init")
    back = Cli(other, cli.capsys)
    assert back("init", "--project", "demo").exit_code == 0
    assert back("import", "--from", "gtask-jsonl", str(dump)).exit_code == 0
    assert back("export").stdout == exported.stdout
    old, new = Store.open(repo), Store.open(other)
    for task_id in old.ids():
        assert new.get(task_id) == old.get(task_id)


def test_import_writes_the_bytes_store_create_writes(repo: Path) -> None:
    from gtask.protocol.import_sources import file_text

    store = Store.open(repo)
    store.create("Epic", {"status": "todo"}, task_id="epic")
    fields = {"status": "in_progress", "priority": 1, "labels": ["a: b", "@x"], "depends_on": ["epic"],
              "parent": "epic", "created": "2026-01-02T03:04:05+00:00", "source": "beads", "source_id": "bd-9",
              "metadata": {"nested": [1, {"x": None}]}, "unresolved_depends_on": ["bd-404"]}
    text = file_text(store, "bd-9", "Child: 'quoted' #1", fields, "Body\n\n## Notes\n\nmore\n")
    created = store.create("Child: 'quoted' #1", fields, task_id="bd-9", body="Body\n\n## Notes\n\nmore\n")
    assert (repo / ".tasks" / "bd-9.md").read_text("utf-8") == text
    assert store.get("bd-9") == created and created.parent == "epic"


def test_hostile_items_import_safely_and_check_stays_clean(cli: Cli, repo: Path, tmp_path: Path) -> None:
    """A self-parent is kept aside (not a refused batch), a traversing ID becomes a slug, nothing else is written."""
    source = tmp_path / "hostile.jsonl"
    source.write_text("\n".join(json.dumps(item) for item in (
        {"id": "../../outside", "title": "traverse", "status": "open"},
        {"id": "bd-1", "title": "self", "status": "open", "parent": "bd-1",
         "dependencies": [{"issue_id": "bd-1", "depends_on_id": "bd-1", "type": "blocks"}]},
    )) + "\n")
    result = cli("import", "--from", "beads", str(source), "--json")
    assert result.exit_code == 0, result.stderr
    mapping = json.loads(result.stdout)["mapping"]
    assert mapping["bd-1"] == "bd-1" and "/" not in mapping["../../outside"]
    assert not (tmp_path / "outside.md").exists() and not (repo.parent / "outside.md").exists()
    task = Store.open(repo).get("bd-1")
    assert task.parent is None and task.extra["self_parent"] == ["bd-1"]
    check = cli("check")
    assert check.exit_code == 0 and "did you mean" not in check.stdout + check.stderr
