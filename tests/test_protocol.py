"""The git protocol in one clone: claim, release, done, handoff, status, log, reconcile (real git)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import Cli, git, task_text, write_task


def commit_all(repo: Path, message: str = "tasks") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def tasks(repo: Path) -> Path:
    write_task(repo, "model", task_text("Define the model", priority="1"))
    write_task(repo, "store", task_text("Store tasks", depends_on="[model]"))
    write_task(repo, "api", task_text("API"))
    write_task(repo, "web", task_text("Web", depends_on="[api]"))
    commit_all(repo)
    return repo


def test_two_agents_merge_and_squash_then_reconcile(cli: Cli, tasks: Path) -> None:
    repo = tasks
    git(repo, "switch", "-q", "-c", "agent/codex")
    assert cli("claim", "model", "--agent", "codex").exit_code == 0
    (repo / "model.py").write_text("model\n")
    git(repo, "add", "model.py")
    git(repo, "commit", "-q", "-m", "Implement the model\n\nCloses: model")
    codex_commit = git(repo, "rev-parse", "HEAD")
    git(repo, "switch", "-q", "main")
    git(repo, "switch", "-q", "-c", "agent/claude")
    assert cli("claim", "api", "--agent", "claude").exit_code == 0
    (repo / "api.py").write_text("api\n")
    git(repo, "add", "api.py")
    git(repo, "commit", "-q", "-m", "Build the API\n\nFixes: api")
    git(repo, "switch", "-q", "main")

    status = {t["id"]: t for t in json.loads(cli("status", "--json").stdout)["tasks"]}
    assert status["model"]["state"] == "claimed"
    assert [(v["ref"], v["claimed_by"], v["state"]) for v in status["model"]["elsewhere"]] == [
        ("agent/codex", "codex", "claimed")]
    assert status["api"]["elsewhere"][0]["claimed_by"] == "claude"
    assert status["store"]["elsewhere"] == []
    human = cli("status").stdout
    assert "claimed on agent/codex by codex until" in human

    git(repo, "merge", "-q", "--no-ff", "agent/codex", "-m", "Merge agent/codex")
    git(repo, "merge", "-q", "--squash", "agent/claude")
    git(repo, "commit", "-q", "-m", "API (#7)\n\n* Build the API\n\nFixes: api")
    squash_commit = git(repo, "rev-parse", "HEAD")

    dry = json.loads(cli("reconcile", "--dry-run", "--json").stdout)
    assert {c["id"]: c["commit"] for c in dry["closed"]} == {"model": codex_commit, "api": squash_commit}
    assert git(repo, "rev-parse", "HEAD") == squash_commit  # dry run changed nothing

    result = cli("reconcile", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [".tasks/api.md", ".tasks/model.md"]
    model = json.loads(cli("show", "model", "--json").stdout)
    api = json.loads(cli("show", "api", "--json").stdout)
    assert (model["status"], model["closed_by"], model["claimed_by"]) == ("done", codex_commit, None)
    assert (api["status"], api["closed_by"]) == ("done", squash_commit)
    assert report["commit"] == git(repo, "rev-parse", "HEAD")
    states = {t["id"]: t["state"] for t in json.loads(cli("status", "--json").stdout)["tasks"]}
    assert states["model"] == "landed" and states["api"] == "landed" and states["store"] == "ready"

    story = json.loads(cli("log", "model", "--json").stdout)
    assert [e["action"] for e in story] == ["create", "claim", "closes", "reconcile"]
    assert story[1]["agent"] == "codex" and story[1]["changes"]["status"] == ["todo", "in_progress"]
    assert story[2]["commit"] == codex_commit
    assert story[3]["changes"]["status"] == ["in_progress", "done"]


def test_claim_leaves_staged_and_unstaged_work_exactly(cli: Cli, tasks: Path) -> None:
    repo = tasks
    (repo / "README.md").write_text("demo\nunstaged\n")
    (repo / "new.txt").write_text("staged new file\n")
    git(repo, "add", "new.txt")
    (repo / "new.txt").write_text("staged new file\nplus unstaged\n")
    write_task(repo, "api", task_text("API", trigger="unrelated"))  # another task file, dirty
    before = (git(repo, "diff"), git(repo, "diff", "--cached"), git(repo, "status", "--porcelain"))
    git(repo, "switch", "-q", "-c", "work")
    assert cli("claim", "model").exit_code == 0
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == ".tasks/model.md"
    assert (git(repo, "diff"), git(repo, "diff", "--cached"), git(repo, "status", "--porcelain")) == before


def test_claim_subject_and_trailers(cli: Cli, tasks: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(tasks, "switch", "-q", "-c", "work")
    monkeypatch.setenv("GTASK_AGENT", "env-agent")
    assert cli("claim", "model").exit_code == 0
    message = git(tasks, "log", "-1", "--format=%B")
    assert message.splitlines()[0] == "gtask: claim model"
    assert "Task: model\nTask-Action: claim\nAgent: env-agent" in message
    task = json.loads(cli("show", "model", "--json").stdout)
    assert task["claimed_by"] == "env-agent" and task["claim_branch"] == "work" and task["state"] == "claimed"


def test_claim_refuses_a_task_claimed_on_another_branch(cli: Cli, tasks: Path) -> None:
    git(tasks, "switch", "-q", "-c", "agent/a")
    assert cli("claim", "model", "--agent", "alice").exit_code == 0
    git(tasks, "switch", "-q", "main")
    git(tasks, "switch", "-q", "-c", "agent/b")
    head = git(tasks, "rev-parse", "HEAD")
    result = cli("claim", "model", "--agent", "bob")
    assert result.exit_code == 3
    assert "claimed by alice on agent/a until" in result.stderr
    assert git(tasks, "rev-parse", "HEAD") == head
    assert [t["id"] for t in json.loads(cli("ready", "--json").stdout)] == ["api"]  # claimed on any ref: not ready
    assert json.loads(cli("next", "--json").stdout)["id"] == "api"


def test_claim_refuses_not_ready_unless_forced(cli: Cli, tasks: Path) -> None:
    git(tasks, "switch", "-q", "-c", "work")
    result = cli("claim", "store")
    assert result.exit_code == 3 and "not ready (state waiting; it waits on model)" in result.stderr
    assert cli("claim", "store", "--force").exit_code == 0


def test_stale_claim_is_taken_over(cli: Cli, tasks: Path) -> None:
    git(tasks, "switch", "-q", "-c", "work")
    write_task(tasks, "api", task_text("API", "in_progress", claimed_by="ghost",
                                       claimed_at="2020-01-01T00:00:00+00:00",
                                       lease_until="2020-01-01T02:00:00+00:00", claim_branch="old"))
    commit_all(tasks, "stale claim")
    result = cli("claim", "api", "--agent", "fresh", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["took_over_from"] == "ghost"
    assert "Took over from ghost" in git(tasks, "log", "-1", "--format=%B")


def test_live_claim_held_by_someone_else_in_this_branch(cli: Cli, tasks: Path) -> None:
    git(tasks, "switch", "-q", "-c", "work")
    assert cli("claim", "api", "--agent", "alice").exit_code == 0
    assert cli("claim", "api", "--agent", "bob").exit_code == 3
    assert cli("claim", "api", "--agent", "alice", "--lease", "4h").exit_code == 0  # renew own claim
    assert cli("release", "api", "--agent", "bob").exit_code == 3
    assert cli("done", "api", "--agent", "bob").exit_code == 3
    assert cli("release", "api", "--agent", "alice", "--note", "blocked on review").exit_code == 0
    assert "blocked on review" in git(tasks, "log", "-1", "--format=%B")
    assert json.loads(cli("show", "api", "--json").stdout)["status"] == "todo"


def test_done_carries_closes_and_prints_what_became_ready(cli: Cli, tasks: Path) -> None:
    git(tasks, "switch", "-q", "-c", "work")
    cli("claim", "model")
    result = cli("done", "model")
    assert result.exit_code == 0
    assert "now ready: store" in result.stdout
    message = git(tasks, "log", "-1", "--format=%B")
    assert "Closes: model" in message and "Task-Action: done" in message
    task = json.loads(cli("show", "model", "--json").stdout)
    assert task["status"] == "done" and task["closed_at"] and task["claimed_by"] is None
    assert json.loads(cli("status", "--json").stdout)["tasks"][1]["state"] == "done-unmerged"


def test_handoff_files_a_prerequisite_in_one_commit(cli: Cli, tasks: Path) -> None:
    git(tasks, "switch", "-q", "-c", "work")
    cli("claim", "api")
    result = cli("handoff", "api", "--needs", "Decide the auth scheme", "--json")
    assert result.exit_code == 0, result.stderr
    outcome = json.loads(result.stdout)
    prereq = outcome["prerequisite"]["id"]
    assert prereq == "decide-the-auth-scheme"
    assert sorted(git(tasks, "show", "--name-only", "--format=", "HEAD").split()) == [
        ".tasks/api.md", ".tasks/decide-the-auth-scheme.md"]
    api = json.loads(cli("show", "api", "--json").stdout)
    assert api["depends_on"] == [prereq] and api["status"] == "todo" and api["claimed_by"] is None
    assert "Needs: decide-the-auth-scheme" in git(tasks, "log", "-1", "--format=%B")
    cli("claim", "web", "--force")
    assert cli("handoff", "web", "--needs-id", "model").exit_code == 0
    assert json.loads(cli("show", "web", "--json").stdout)["depends_on"] == ["api", "model"]
    assert cli("handoff", "model", "--needs-id", "web").exit_code == 3  # would close a cycle


def test_dirty_task_file_is_refused_and_untouched(cli: Cli, tasks: Path) -> None:
    git(tasks, "switch", "-q", "-c", "work")
    path = tasks / ".tasks" / "model.md"
    path.write_text(path.read_text() + "\nmy notes\n")
    before = path.read_bytes()
    head = git(tasks, "rev-parse", "HEAD")
    for args in (["claim", "model"], ["done", "model"], ["release", "model"]):
        result = cli(*args)
        assert result.exit_code == 1 and "uncommitted changes" in result.stderr
    assert path.read_bytes() == before and git(tasks, "rev-parse", "HEAD") == head


def test_prose_closes_nothing(cli: Cli, tasks: Path) -> None:
    git(tasks, "commit", "-q", "--allow-empty", "-m", "Tidy up\n\nthis closes #12 and fixes the build; closes: model")
    git(tasks, "commit", "-q", "--allow-empty", "-m", "Refs: api\nSee-also: closes: web")
    report = json.loads(cli("reconcile", "--dry-run", "--json").stdout)
    assert report["closed"] == []


def test_closing_line_variants() -> None:
    from gtask.gitstate.evidence import closed_refs

    message = "Squash\n\n* one\n\nCloses: a, b\n  fixes: other:c\nRESOLVES: d e\nCloses: #12\n"
    assert [str(r) for r in closed_refs(message)] == ["a", "b", "other:c", "d", "e"]


def test_reconcile_off_the_integration_branch_is_refused(cli: Cli, tasks: Path) -> None:
    git(tasks, "switch", "-q", "-c", "work")
    result = cli("reconcile")
    assert result.exit_code == 2 and "integration branch 'main'" in result.stderr


def test_reconcile_lists_unverified_done_tasks(cli: Cli, tasks: Path) -> None:
    write_task(tasks, "api", task_text("API", "done"))
    commit_all(tasks, "marked done by hand")
    report = json.loads(cli("reconcile", "--json").stdout)
    assert report["unverified"] == ["api"] and report["commit"] is None
    assert {t["id"]: t["state"] for t in json.loads(cli("status", "--json").stdout)["tasks"]}["api"] == "unverified"


def test_detached_head_claim_is_refused(cli: Cli, tasks: Path) -> None:
    git(tasks, "switch", "-q", "--detach")
    result = cli("claim", "model")
    assert result.exit_code == 2 and "a claim needs a branch" in result.stderr


def test_works_in_a_worktree(cli: Cli, tasks: Path, tmp_path: Path, capsys) -> None:
    from gtask.cli.main import run

    tree = tmp_path / "tree"
    git(tasks, "worktree", "add", "-q", "-b", "agent/wt", str(tree))
    assert run(["-C", str(tree), "claim", "model", "--agent", "wt"]) == 0
    assert git(tree, "log", "-1", "--format=%s") == "gtask: claim model"
    assert git(tasks, "status", "--porcelain") == ""
    status = {t["id"]: t for t in json.loads(cli("status", "--json").stdout)["tasks"]}
    assert status["model"]["elsewhere"][0]["ref"] == "agent/wt"


def test_repository_without_commits(tmp_path: Path, capsys) -> None:
    from gtask.cli.main import run

    git(tmp_path, "init", "-q", "-b", "main")
    assert run(["-C", str(tmp_path), "init"]) == 0
    assert run(["-C", str(tmp_path), "new", "First", "--commit"]) == 0
    capsys.readouterr()
    assert run(["-C", str(tmp_path), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tasks"][0]["id"] == "first"
    assert run(["-C", str(tmp_path), "claim", "first"]) == 0


def test_shallow_clone_warns(tasks: Path, tmp_path: Path, capsys) -> None:
    from gtask.cli.main import run

    for i in range(3):
        git(tasks, "commit", "-q", "--allow-empty", "-m", f"c{i}")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{tasks}", str(clone))
    assert run(["-C", str(clone), "status"]) == 0
    assert "shallow clone" in capsys.readouterr().err


def test_index_lock_waits_then_explains(cli: Cli, tasks: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(tasks, "switch", "-q", "-c", "work")
    monkeypatch.setenv("GTASK_LOCK_WAIT", "0.3")
    lock = tasks / ".git" / "index.lock"
    lock.write_text("")
    path = tasks / ".tasks" / "model.md"
    before = path.read_bytes()
    head = git(tasks, "rev-parse", "HEAD")
    result = cli("claim", "model")
    lock.unlink()
    assert result.exit_code == 1
    assert "another git process holds the index lock" in result.stderr
    assert path.read_bytes() == before and git(tasks, "rev-parse", "HEAD") == head
    assert git(tasks, "status", "--porcelain") == ""


def test_missing_git_is_a_sentence_not_a_traceback(tasks: Path) -> None:
    import sys

    env = {"PATH": "/nonexistent", "HOME": str(tasks)}
    proc = subprocess.run([sys.executable, "-m", "gtask", "-C", str(tasks), "status"], capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 1
    assert "git is not installed" in proc.stderr and "Traceback" not in proc.stderr
    listing = subprocess.run([sys.executable, "-m", "gtask", "-C", str(tasks), "list"], capture_output=True,
                             text=True, env=env)
    assert listing.returncode == 0 and "model" in listing.stdout
