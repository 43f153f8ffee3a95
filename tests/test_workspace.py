"""Many repositories as one workspace: reading at the integration branch, one graph, the view."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import git, make_repo, task_text
from gtask.cli.main import run


def cli_json(capsys, *args: str) -> tuple[int, object]:
    capsys.readouterr()
    code = run(list(args))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "code"
    root.mkdir()
    make_repo(root, "api", {"tokens": task_text("Tokens"), "auth": task_text("Auth", depends_on="[tokens]")})
    make_repo(root, "web", {"login": task_text("Login", depends_on="['api:auth']"), "css": task_text("CSS")})
    return root


def test_cross_repository_dependency_waits_for_the_integration_branch(workspace: Path, capsys) -> None:
    api = workspace / "api"
    ready = lambda: {t["project"] + ":" + t["id"] for t in cli_json(capsys, "ready", "--repo", str(workspace), "--json")[1]}
    assert ready() == {"api:tokens", "web:css"}
    for task_id in ("tokens", "auth"):  # done on a branch: not yet
        git(api, "switch", "-q", "-c", f"do-{task_id}") if task_id == "tokens" else None
        path = api / ".tasks" / f"{task_id}.md"
        path.write_text(path.read_text().replace("status: todo", "status: done"))
    git(api, "commit", "-q", "-am", "done on a branch\n\nCloses: tokens, auth")
    assert "web:login" not in ready()
    assert ready() == {"web:css"}  # main still says todo, but done on a branch takes it: checked out or not
    git(api, "switch", "-q", "main")
    assert ready() == {"web:css"}
    git(api, "merge", "-q", "do-tokens")  # now the integration branch has it
    assert ready() == {"web:login", "web:css"}


def test_view_groups_by_repository_and_state(workspace: Path, capsys) -> None:
    code, data = cli_json(capsys, "view", str(workspace), "--json")
    assert code == 0
    repos = {r["project"]: r for r in data["repos"]}
    assert repos["api"]["counts"] == {"ready": 1, "waiting": 1}
    assert repos["web"]["integration_branch"] == "main" and len(repos["web"]["commit"]) == 40
    assert data["across"] == [{"task": "web:login", "waits_on": "api:auth", "state": "waiting"}]
    capsys.readouterr()
    assert run(["view", str(workspace), "--all"]) == 0  # every task, as listed before the summary
    text = capsys.readouterr().out
    assert "web:login waits on api:auth" in text and "api  (" in text
    assert run(["view", str(workspace)]) == 0  # the summary names the wait under "needs a person"
    text = capsys.readouterr().out
    assert "web:login waits on api:auth" in text and "REPOSITORIES (2)" in text
    assert run(["view", str(workspace), "--format", "mermaid"]) == 0
    mermaid = capsys.readouterr().out
    assert 'subgraph p0["api"]' in mermaid and 'subgraph p1["web"]' in mermaid


def test_view_reads_git_objects_not_the_work_tree(workspace: Path, capsys) -> None:
    api = workspace / "api"
    (api / ".tasks" / "tokens.md").write_text("garbage, not a task")  # dirty work tree
    (api / ".tasks" / "extra.md").write_text(task_text("Only in the work tree"))
    _, data = cli_json(capsys, "view", str(workspace), "--json")
    api_tasks = {t["id"] for r in data["repos"] if r["project"] == "api" for t in r["tasks"]}
    assert api_tasks == {"tokens", "auth"}
    _, data = cli_json(capsys, "view", str(workspace), "--json", "--worktree")
    repo = next(r for r in data["repos"] if r["project"] == "api")
    assert {t["id"] for t in repo["tasks"]} == {"auth", "extra"} and repo["problems"]


def test_unreadable_repositories_are_reported_and_skipped(workspace: Path, tmp_path: Path, capsys) -> None:
    (workspace / "plain").mkdir()
    (workspace / "plain" / ".git").mkdir()  # looks like a repository, is not one
    make_repo(workspace, "broken", {"ok": task_text("Fine"), "bad": "---\ntitle: x\n---\n"})
    missing = tmp_path / "missing"
    code, data = cli_json(capsys, "view", str(workspace), str(missing), "--json")
    assert code == 0
    by_path = {Path(r["path"]).name: r for r in data["repos"]}
    assert by_path["missing"]["error"] == "no such folder"
    assert by_path["plain"]["error"]
    assert [t["id"] for t in by_path["broken"]["tasks"]] == ["ok"]
    assert by_path["broken"]["problems"][0]["path"] == ".tasks/bad.md"
    assert {t["id"] for t in by_path["web"]["tasks"]} == {"login", "css"}


def test_same_project_name_twice_is_an_error_naming_both(workspace: Path, capsys) -> None:
    make_repo(workspace, "api-copy", {"x": task_text("X")}, project="api")
    capsys.readouterr()
    assert run(["view", str(workspace)]) == 2
    err = capsys.readouterr().err
    assert "api-copy" in err and str(workspace / "api") in err


def test_workspace_file_with_globs_and_environment(workspace: Path, tmp_path: Path, capsys,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "gtask-workspace.yaml"
    spec.write_text(f"repos:\n  - code/api\n  - {workspace}/w*\n")
    _, data = cli_json(capsys, "view", "--workspace", str(spec), "--json")
    assert [r["project"] for r in data["repos"]] == ["api", "web"]
    monkeypatch.setenv("GTASK_WORKSPACE", str(spec))
    monkeypatch.chdir(tmp_path)
    _, data = cli_json(capsys, "view", "--json")
    assert [r["project"] for r in data["repos"]] == ["api", "web"]


def test_workspace_order_next_graph_and_check(workspace: Path, capsys) -> None:
    _, data = cli_json(capsys, "order", "--repo", str(workspace), "--json")
    assert [[t["ref"] for t in wave] for wave in data["waves"]] == [["api:tokens", "web:css"], ["api:auth"], ["web:login"]]
    _, best = cli_json(capsys, "next", "--repo", str(workspace), "--json")
    assert (best["project"], best["id"]) == ("api", "tokens")
    _, graph = cli_json(capsys, "graph", "--repo", str(workspace), "--json")
    assert {"from": "api:auth", "to": "web:login"} in graph["edges"]
    assert run(["check", "--repo", str(workspace)]) == 0
    web = workspace / "web"
    (web / ".tasks" / "login.md").write_text(task_text("Login", depends_on="['api:nope', 'elsewhere:x']"))
    git(web, "commit", "-q", "-am", "dangling")
    capsys.readouterr()
    assert run(["check", "--repo", str(workspace), "--json"]) == 1
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert [(p["path"], p["message"]) for p in problems] == [
        (f"{web}/.tasks/login.md", "depends on 'api:nope', which does not exist")]


def test_integration_cache_sees_a_moved_branch_and_a_deleted_cache(workspace: Path, capsys) -> None:
    api = workspace / "api"
    first = cli_json(capsys, "view", str(workspace), "--json")[1]
    cache = next((api / ".git" / "gtask" / "cache").glob("integration-*.json"))
    path = api / ".tasks" / "tokens.md"
    path.write_text(path.read_text().replace("Tokens", "Tokens v2"))
    git(api, "commit", "-q", "-am", "rename")
    second = cli_json(capsys, "view", str(workspace), "--json")[1]
    titles = {t["id"]: t["title"] for r in second["repos"] for t in r["tasks"]}
    assert titles["tokens"] == "Tokens v2"
    os.remove(cache)
    assert cli_json(capsys, "view", str(workspace), "--json")[1] == second
    assert cli_json(capsys, "--no-cache", "view", str(workspace), "--json")[1] == second
    assert first != second


def test_no_progress_output_when_piped(workspace: Path, tmp_path: Path) -> None:
    from conftest import run_process

    result = run_process(tmp_path, "view", str(workspace), "--json")
    assert result.returncode == 0 and result.stderr == ""


def test_relative_repositories_are_taken_from_the_C_folder(workspace: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(workspace.parent.parent)  # anywhere else
    code, data = cli_json(capsys, "-C", str(workspace), "view", "api", "web", "--json")
    assert code == 0 and sorted(r["project"] for r in data["repos"]) == ["api", "web"]
