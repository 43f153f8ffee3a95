"""The parse cache is disposable and never wrong: results always match --no-cache."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from conftest import Cli, task_text, write_task

OLD = 1_600_000_000_000_000_000  # 2020: old enough to be cached (not "racily clean")


def age(path: Path, ns: int = OLD) -> None:
    os.utime(path, ns=(ns, ns))


def listing(cli: Cli, *extra: str) -> list[dict]:
    result = cli(*extra, "list", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def cache_files(repo: Path) -> list[Path]:
    return sorted((repo / ".git" / "gtask" / "cache").glob("tasks-*.json"))


def assert_matches_no_cache(cli: Cli) -> list[dict]:
    cached = listing(cli)
    assert cached == listing(cli, "--no-cache")
    return cached


def make_tasks(repo: Path, count: int = 5) -> list[Path]:
    paths = [write_task(repo, f"t{i}", task_text(f"Task {i}")) for i in range(count)]
    for path in paths:
        age(path)
    return paths


def test_cache_is_written_inside_the_git_directory(cli: Cli, repo: Path) -> None:
    make_tasks(repo)
    assert_matches_no_cache(cli)
    files = cache_files(repo)
    assert len(files) == 1
    assert len(json.loads(files[0].read_text())["entries"]) == 5


def test_same_size_same_mtime_edit_is_seen(cli: Cli, repo: Path) -> None:
    paths = make_tasks(repo)
    assert_matches_no_cache(cli)
    stat = paths[0].stat()
    paths[0].write_text(task_text("Task X"))  # "Task 0" -> "Task X": same size
    age(paths[0], stat.st_mtime_ns)
    assert paths[0].stat().st_size == stat.st_size and paths[0].stat().st_mtime_ns == stat.st_mtime_ns
    titles = {t["id"]: t["title"] for t in assert_matches_no_cache(cli)}
    assert titles["t0"] == "Task X"


def test_recently_modified_files_are_never_cached(cli: Cli, repo: Path) -> None:
    write_task(repo, "fresh", task_text("Fresh"))
    assert_matches_no_cache(cli)
    entries = json.loads(cache_files(repo)[0].read_text())["entries"] if cache_files(repo) else {}
    assert "fresh.md" not in entries


def test_deleted_and_added_files(cli: Cli, repo: Path) -> None:
    paths = make_tasks(repo)
    assert_matches_no_cache(cli)
    paths[1].unlink()
    age(write_task(repo, "new-one", task_text("New")))
    ids = [t["id"] for t in assert_matches_no_cache(cli)]
    assert "t1" not in ids and "new-one" in ids


def test_broken_file_problems_are_cached_correctly(cli: Cli, repo: Path) -> None:
    make_tasks(repo)
    age(write_task(repo, "broken", "---\ntitle: B\n---\n"))
    first = cli("list")
    second = cli("list")
    assert "broken.md" in first.stderr and first.stderr == second.stderr
    assert cli("check").exit_code == 1


def test_deleted_or_corrupt_cache_is_harmless(cli: Cli, repo: Path) -> None:
    make_tasks(repo)
    expected = assert_matches_no_cache(cli)
    shutil.rmtree(repo / ".git" / "gtask")
    assert listing(cli) == expected
    cache_files(repo)[0].write_text("{not json")
    assert listing(cli) == expected
    cache_files(repo)[0].write_text(json.dumps({"format": 2, "salt": "x", "entries": {"t0.md": "garbage"}}))
    assert listing(cli) == expected


def test_project_rename_invalidates(cli: Cli, repo: Path) -> None:
    make_tasks(repo)
    assert_matches_no_cache(cli)
    config = repo / ".tasks" / "config.yaml"
    config.write_text(config.read_text().replace("project: demo", "project: renamed"))
    assert {t["project"] for t in assert_matches_no_cache(cli)} == {"renamed"}


def test_no_cache_writes_nothing(cli: Cli, repo: Path) -> None:
    make_tasks(repo)
    listing(cli, "--no-cache")
    assert not (repo / ".git" / "gtask").exists()


def test_dependents_index_matches_no_cache(cli: Cli, repo: Path) -> None:
    make_tasks(repo)
    age(write_task(repo, "needs-t0", task_text("Needs", depends_on="[t0]")))
    listing(cli)  # writes the cache and the dependents index
    show = lambda *extra: json.loads(cli(*extra, "show", "t0", "--json").stdout)["dependents"]
    assert [d["id"] for d in show()] == ["needs-t0"] == [d["id"] for d in show("--no-cache")]
    stat = (repo / ".tasks" / "t1.md").stat()
    (repo / ".tasks" / "t1.md").write_text(task_text("Task 1", depends_on="[t0]"))  # a new dependent, unseen by the index
    age(repo / ".tasks" / "t1.md", stat.st_mtime_ns)
    assert [d["id"] for d in show()] == ["needs-t0", "t1"] == [d["id"] for d in show("--no-cache")]
