"""Adversarial tests: claims across clones, many repositories, the parse cache, other branches.

Real git repositories (bare remotes, clones, worktrees), the real CLI in-process
(`gtask.cli.run`). A command that raises anything but a GtaskError fails the test
with its traceback: every failure must be a sentence with an exit code (design §4).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import git, task_text
from gtask import __version__
from gtask.cli.main import run
from test_fleet import clone, make_remote

OLD = 1_600_000_000_000_000_000  # 2020: old enough to be cached (not "racily clean")


@dataclass
class Out:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def gt(capsys: pytest.CaptureFixture[str]):
    """Run gtask in-process in a folder: gt(folder, *args) -> Out."""

    def call(cwd: Path, *args: str) -> Out:
        capsys.readouterr()
        code = run(["-C", str(cwd), *args])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return Out(code, captured.out, captured.err)

    return call


def agent_clone(tmp_path: Path, remote: Path, name: str) -> Path:
    path = clone(tmp_path, remote, name)
    git(path, "switch", "-q", "-c", f"agent/{name}")
    return path


def remote_refs(path: Path, pattern: str = "refs/gtask/*") -> dict[str, str]:
    out = git(path, "ls-remote", "origin", pattern)
    return {line.split()[1]: line.split()[0] for line in out.splitlines() if line.strip()}


def state_of(path: Path) -> tuple[str, str, str, str]:
    """HEAD, the index, the work tree (incl. untracked) and the branch: all must survive a refused command."""
    return (git(path, "rev-parse", "HEAD"), git(path, "diff", "--cached"), git(path, "status", "--porcelain"),
            git(path, "symbolic-ref", "-q", "HEAD"))


def status_of(path: Path, task_id: str) -> str:
    text = (path / ".tasks" / f"{task_id}.md").read_text()
    return next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("status:"))


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return make_remote(tmp_path, {"one": [], "two": [], "three": ["one"]})


def land_on_main(path: Path, branch: str) -> None:
    """Merge a pushed agent branch into the remote's main (as a merge request would)."""
    git(path, "fetch", "-q", "origin")
    git(path, "switch", "-q", "main")
    git(path, "merge", "-q", "--no-edit", f"origin/{branch}")
    git(path, "push", "-q", "origin", "main")


def reopen_on_main(path: Path, task_id: str) -> None:
    """Put a landed task back to todo on main, as a person would (no gtask, no closing line)."""
    git(path, "switch", "-q", "main")
    git(path, "pull", "-q", "--ff-only", "origin", "main")
    file = path / ".tasks" / f"{task_id}.md"
    lines = [line for line in file.read_text().splitlines(keepends=True)
             if not line.startswith(("closed_at:", "closed_by:"))]
    file.write_text("".join(lines).replace("status: done", "status: todo"))
    git(path, "commit", "-q", "-am", f"reopen {task_id}: the fix did not hold")
    git(path, "push", "-q", "origin", "main")


# == claims across clones =====================================================


def test_claim_push_when_the_remote_branch_was_force_pushed_is_refused_and_undone(tmp_path: Path, remote: Path,
                                                                                gt) -> None:
    a = agent_clone(tmp_path, remote, "a")
    assert gt(a, "claim", "one", "--push", "--agent", "alice").code == 0
    other = clone(tmp_path, remote, "other")  # someone rewrites agent/a on the remote
    (other / "NOTES").write_text("rewritten\n")
    git(other, "add", "NOTES")
    git(other, "commit", "-q", "-m", "rewrite")
    git(other, "push", "-q", "--force", "origin", "HEAD:refs/heads/agent/a")
    before, refs = state_of(a), remote_refs(a, "refs/*")
    result = gt(a, "claim", "two", "--push", "--agent", "alice")
    assert result.code == 1, result.err
    assert "agent/a" in result.err
    assert state_of(a) == before and status_of(a, "two") == "todo"
    assert remote_refs(a, "refs/*") == refs  # atomic: nothing of the push landed


def test_done_push_after_the_lease_ref_was_deleted_by_hand(tmp_path: Path, remote: Path, gt) -> None:
    a = agent_clone(tmp_path, remote, "a")
    assert gt(a, "claim", "one", "--push", "--agent", "alice").code == 0
    git(a, "push", "-q", "origin", "--delete", "refs/gtask/claims/one")
    result = gt(a, "done", "one", "--push", "--agent", "alice")
    assert result.code == 0, result.err
    refs = remote_refs(a)
    assert refs == {"refs/gtask/done/one": git(a, "rev-parse", "HEAD")}
    assert remote_refs(a, "refs/heads/agent/a")["refs/heads/agent/a"] == git(a, "rev-parse", "HEAD")


def test_release_push_of_a_claim_that_was_never_pushed(tmp_path: Path, remote: Path, gt) -> None:
    a = agent_clone(tmp_path, remote, "a")
    assert gt(a, "claim", "two", "--agent", "alice").code == 0  # local only
    result = gt(a, "release", "two", "--push", "--agent", "alice")
    assert result.code == 0, result.err
    assert remote_refs(a) == {}
    assert remote_refs(a, "refs/heads/agent/a")["refs/heads/agent/a"] == git(a, "rev-parse", "HEAD")
    assert status_of(a, "two") == "todo"


def test_claim_push_to_a_remote_that_does_not_exist_touches_nothing(tmp_path: Path, remote: Path, gt) -> None:
    a = agent_clone(tmp_path, remote, "a")
    before = state_of(a)
    result = gt(a, "claim", "one", "--push", "nosuch", "--agent", "alice")
    assert result.code in (1, 2), result.err
    assert "nosuch" in result.err
    assert state_of(a) == before and status_of(a, "one") == "todo"
    assert remote_refs(a) == {}
    assert git(a, "for-each-ref", "refs/gtask") == ""


def test_renew_push_after_the_lease_was_taken_over(tmp_path: Path, remote: Path, gt) -> None:
    a, b = agent_clone(tmp_path, remote, "a"), agent_clone(tmp_path, remote, "b")
    assert gt(a, "claim", "two", "--push", "--agent", "alice", "--lease", "10m").code == 0
    assert gt(b, "claim", "two", "--push", "--force", "--agent", "bob").code == 0
    bob_lease = remote_refs(b)["refs/gtask/claims/two"]
    before = state_of(a)
    result = gt(a, "renew", "two", "--push", "--agent", "alice", "--lease", "2h")
    assert result.code == 3, result.err
    assert "bob" in result.err
    assert state_of(a) == before
    assert remote_refs(a)["refs/gtask/claims/two"] == bob_lease


@pytest.mark.parametrize("task_id", ["fix_1.2", "v2.0-beta", "notes.lock", "a..b", "v2."])
def test_claim_and_done_push_for_every_valid_id(tmp_path: Path, task_id: str, gt) -> None:
    """design §1: letters, digits, '-', '_', '.' are valid in IDs; each must work with --push."""
    remote = make_remote(tmp_path, {task_id: []})
    a = agent_clone(tmp_path, remote, "a")
    assert gt(a, "check").code == 0
    claimed = gt(a, "claim", task_id, "--push", "--agent", "alice")
    assert claimed.code == 0, claimed.err
    from gtask.gitstate.branches import encode_ref_id  # `notes.lock`, `a..b`, `v2.` are escaped in ref names

    assert remote_refs(a) == {f"refs/gtask/claims/{encode_ref_id(task_id)}": git(a, "rev-parse", "HEAD")}
    done = gt(a, "done", task_id, "--push", "--agent", "alice")
    assert done.code == 0, done.err
    assert remote_refs(a) == {f"refs/gtask/done/{encode_ref_id(task_id)}": git(a, "rev-parse", "HEAD")}


def test_two_remotes_keep_their_leases_apart(tmp_path: Path, remote: Path, gt) -> None:
    backup = tmp_path / "backup.git"
    git(tmp_path, "clone", "-q", "--bare", str(remote), str(backup))
    a, b = agent_clone(tmp_path, remote, "a"), agent_clone(tmp_path, remote, "b")
    for path in (a, b):
        git(path, "remote", "add", "backup", str(backup))
    assert gt(a, "claim", "one", "--push", "backup", "--agent", "alice").code == 0
    assert remote_refs(a) == {}  # origin untouched
    assert "refs/gtask/claims/one" in git(a, "ls-remote", "backup", "refs/gtask/*")
    assert gt(b, "sync", "backup").code == 0
    assert gt(b, "sync", "origin").code == 0
    lost = gt(b, "claim", "one", "--push", "backup", "--agent", "bob")
    assert lost.code == 3 and "alice" in lost.err
    status = gt(b, "status", "--json").json()
    one = next(t for t in status["tasks"] if t["id"] == "one")
    assert one["state"] == "claimed" and "lease@backup" in [e["ref"] for e in one["elsewhere"]]
    assert gt(a, "done", "one", "--push", "backup", "--agent", "alice").code == 0
    assert "refs/gtask/done/one" in git(a, "ls-remote", "backup", "refs/gtask/*")
    assert remote_refs(a) == {}


def test_lease_of_a_remote_whose_name_has_a_slash_is_shown_as_a_lease(tmp_path: Path, remote: Path, gt) -> None:
    a, b = agent_clone(tmp_path, remote, "a"), agent_clone(tmp_path, remote, "b")
    for path in (a, b):
        git(path, "remote", "add", "team/hub", str(remote))
    assert gt(a, "claim", "one", "--push", "team/hub", "--agent", "alice").code == 0
    git(a, "push", "-q", "origin", "--delete", "agent/a")  # only the lease tells
    assert gt(b, "sync", "team/hub").code == 0
    status = gt(b, "status", "--json").json()
    one = next(t for t in status["tasks"] if t["id"] == "one")
    assert one["state"] == "claimed"
    assert [e["ref"] for e in one["elsewhere"]] == ["lease@team/hub"]


def test_sync_without_any_remote_is_a_usage_error(tmp_path: Path, gt) -> None:
    path = tmp_path / "solo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    assert gt(path, "init", "--project", "solo").code == 0
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "init")
    result = gt(path, "sync")
    assert result.code == 2 and "remote" in result.err
    assert gt(path, "sync", "nosuch").code == 2  # not a configured remote: a usage error


def test_tombstone_of_a_task_done_on_an_unmerged_branch_refuses_the_claim(tmp_path: Path, remote: Path,
                                                                          gt) -> None:
    a = agent_clone(tmp_path, remote, "a")
    assert gt(a, "claim", "one", "--push", "--agent", "alice").code == 0
    assert gt(a, "done", "one", "--push", "--agent", "alice").code == 0
    b = agent_clone(tmp_path, remote, "b")  # from main: one is todo there
    before = state_of(b)
    result = gt(b, "claim", "one", "--push", "--agent", "bob")
    assert result.code == 3 and "already completed" in result.err
    assert state_of(b) == before


def test_reopened_task_can_be_claimed_again_and_the_claim_removes_the_tombstone(tmp_path: Path, remote: Path,
                                                                                gt) -> None:
    a = agent_clone(tmp_path, remote, "a")
    assert gt(a, "claim", "one", "--push", "--agent", "alice").code == 0
    assert gt(a, "done", "one", "--push", "--agent", "alice").code == 0
    land_on_main(a, "agent/a")
    reopen_on_main(a, "one")
    b = agent_clone(tmp_path, remote, "b")
    assert status_of(b, "one") == "todo"
    result = gt(b, "claim", "one", "--push", "--agent", "bob")
    assert result.code == 0, result.err
    refs = remote_refs(b)
    assert refs == {"refs/gtask/claims/one": git(b, "rev-parse", "HEAD")}


def test_reopened_task_is_offered_by_next_after_sync(tmp_path: Path, remote: Path, gt) -> None:
    """fleet.md: a task reopened on the integration branch may be claimed again; the agent loop
    (sync, next --claim --push) must be able to get it, not only an explicit claim."""
    a = agent_clone(tmp_path, remote, "a")
    for task_id in ("one", "two"):
        assert gt(a, "claim", task_id, "--push", "--agent", "alice").code == 0
        assert gt(a, "done", task_id, "--push", "--agent", "alice").code == 0
    land_on_main(a, "agent/a")
    reopen_on_main(a, "one")
    b = agent_clone(tmp_path, remote, "b")
    assert gt(b, "sync").code == 0
    ready = [t["id"] for t in gt(b, "ready", "--json").json()]
    assert "one" in ready and "two" not in ready


def test_task_completed_again_after_a_reopen_is_not_claimed_twice(tmp_path: Path, remote: Path, gt) -> None:
    """Reopened on main, claimed and completed again by bob with done --push (not merged yet):
    a third agent starting from main must be refused, as for any completion."""
    a = agent_clone(tmp_path, remote, "a")
    assert gt(a, "claim", "one", "--push", "--agent", "alice").code == 0
    assert gt(a, "done", "one", "--push", "--agent", "alice").code == 0
    land_on_main(a, "agent/a")
    reopen_on_main(a, "one")
    b = agent_clone(tmp_path, remote, "b")
    assert gt(b, "claim", "one", "--push", "--agent", "bob").code == 0
    assert gt(b, "done", "one", "--push", "--agent", "bob").code == 0
    bob_done = git(b, "rev-parse", "HEAD")
    assert remote_refs(b) == {"refs/gtask/done/one": bob_done}
    c = agent_clone(tmp_path, remote, "c")  # main still has the reopened todo and alice's old evidence
    before = state_of(c)
    result = gt(c, "claim", "one", "--push", "--agent", "carol")
    assert result.code == 3, "carol claimed a task bob already completed again"
    assert state_of(c) == before
    assert remote_refs(c) == {"refs/gtask/done/one": bob_done}


def test_repository_that_others_push_leases_to_still_plans(tmp_path: Path, gt) -> None:
    """A working repository used as the remote of another clone receives refs/gtask/claims/<id>
    directly (not mirrored under refs/gtask/<remote>/): reading it must not crash."""
    hub = make_remote(tmp_path, {"one": [], "two": []})
    main_repo = clone(tmp_path, hub, "work")  # a normal, non-bare repository
    b = agent_clone(tmp_path, main_repo, "b")
    assert gt(b, "claim", "one", "--push", "--agent", "bob").code == 0
    assert git(main_repo, "for-each-ref", "--format=%(refname)", "refs/gtask") == "refs/gtask/claims/one"
    for args in (("ready", "--json"), ("status", "--json"), ("next", "--json")):
        result = gt(main_repo, *args)
        assert result.code == 0, (args, result.err)
    assert "one" not in [t["id"] for t in gt(main_repo, "ready", "--json").json()]


def test_a_remote_given_as_a_url_works_for_claim_and_done_or_is_refused_up_front(tmp_path: Path, remote: Path,
                                                                                   gt) -> None:
    a = agent_clone(tmp_path, remote, "a")
    before = state_of(a)
    claimed = gt(a, "claim", "one", "--push", str(remote), "--agent", "alice")
    if claimed.code == 2:  # refused before anything happened: fine
        assert state_of(a) == before
        return
    assert claimed.code == 0, claimed.err
    assert remote_refs(a) == {"refs/gtask/claims/one": git(a, "rev-parse", "HEAD")}
    done = gt(a, "done", "one", "--push", str(remote), "--agent", "alice")
    assert done.code == 0, done.err
    assert remote_refs(a) == {"refs/gtask/done/one": git(a, "rev-parse", "HEAD")}


def test_lost_race_keeps_the_users_staged_and_unstaged_work(tmp_path: Path, remote: Path, gt) -> None:
    a, b = agent_clone(tmp_path, remote, "a"), agent_clone(tmp_path, remote, "b")
    assert gt(a, "claim", "one", "--push", "--agent", "alice").code == 0
    (b / "README.md").write_text("staged\n")
    git(b, "add", "README.md")
    (b / "README.md").write_text("staged, then edited\n")
    (b / "scratch.txt").write_text("untracked\n")
    two = b / ".tasks" / "two.md"
    two.write_text(two.read_text() + "unstaged edit of another task\n")
    before, diff = state_of(b), git(b, "diff")
    lost = gt(b, "claim", "one", "--push", "--agent", "bob")
    assert lost.code == 3
    assert state_of(b) == before and git(b, "diff") == diff
    assert (b / "README.md").read_text() == "staged, then edited\n"


def test_done_push_after_a_takeover_is_refused_and_undone(tmp_path: Path, remote: Path, gt) -> None:
    a, b = agent_clone(tmp_path, remote, "a"), agent_clone(tmp_path, remote, "b")
    assert gt(a, "claim", "two", "--push", "--agent", "alice").code == 0
    assert gt(b, "claim", "two", "--push", "--force", "--agent", "bob").code == 0
    refs = remote_refs(a)
    before, text = state_of(a), (a / ".tasks" / "two.md").read_text()
    for command in ("done", "release"):
        result = gt(a, command, "two", "--push", "--agent", "alice")
        assert result.code == 3, (command, result.err)
        assert "bob" in result.err
        assert state_of(a) == before and (a / ".tasks" / "two.md").read_text() == text
        assert remote_refs(a) == refs


def test_sync_prunes_a_released_lease(tmp_path: Path, remote: Path, gt) -> None:
    a, b = agent_clone(tmp_path, remote, "a"), agent_clone(tmp_path, remote, "b")
    assert gt(a, "claim", "two", "--push", "--agent", "alice").code == 0
    assert gt(b, "sync").code == 0
    assert "two" not in [t["id"] for t in gt(b, "ready", "--json").json()]
    assert gt(a, "release", "two", "--push", "--agent", "alice").code == 0
    git(a, "push", "-q", "origin", "--delete", "agent/a")
    assert gt(b, "sync").code == 0
    assert git(b, "for-each-ref", "refs/gtask") == ""
    assert "two" in [t["id"] for t in gt(b, "ready", "--json").json()]


def test_handoff_with_claim_push_frees_the_lease(tmp_path: Path, remote: Path, gt) -> None:
    """config claim_push: true makes --push the default; handoff releases the claim, so the
    lease ref must go too, or nobody else can claim the task through the remote."""
    seed = tmp_path / "seed"
    git(seed, "pull", "-q", "origin", "main")
    config = seed / ".tasks" / "config.yaml"
    config.write_text(config.read_text() + "claim_push: true\n")
    two = seed / ".tasks" / "two.md"
    two.write_text(two.read_text().replace("status: todo", "status: done"))
    git(seed, "commit", "-q", "-am", "claims go to the remote; two is done\n\nCloses: two")
    git(seed, "push", "-q", "origin", "main")
    a = agent_clone(tmp_path, remote, "a")
    assert gt(a, "claim", "one", "--agent", "alice").code == 0
    assert "refs/gtask/claims/one" in remote_refs(a)
    handed = gt(a, "handoff", "one", "--needs-id", "two", "--agent", "alice")
    assert handed.code == 0, handed.err
    assert status_of(a, "one") == "todo"
    git(a, "push", "-q", "origin", "agent/a")
    b = agent_clone(tmp_path, remote, "b")
    result = gt(b, "claim", "one", "--agent", "bob")
    assert result.code == 0, result.err  # alice gave it back: bob may take it
    assert remote_refs(b) == {"refs/gtask/claims/one": git(b, "rev-parse", "HEAD")}


# == many repositories: gtask view =============================================


def make_repo(root: Path, name: str, tasks: dict[str, str], config: str | None = "default",
              branch: str = "main") -> Path:
    """A repository with `.tasks/` committed on `branch`; config None: no config.yaml at all."""
    path = root / name
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", branch)
    (path / ".tasks").mkdir()
    if config is not None:
        (path / ".tasks" / "config.yaml").write_text(f"project: {name}\n" if config == "default" else config)
    for task_id, text in tasks.items():
        (path / ".tasks" / f"{task_id}.md").write_text(text)
    (path / "README.md").write_text(f"{name}\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "tasks")
    return path


def view_json(gt, cwd: Path, *args: str, cache: bool = True) -> tuple[Out, dict | None]:
    result = gt(cwd, *(() if cache else ("--no-cache",)), "view", *args, "--json")
    return result, (json.loads(result.out) if result.code == 0 else None)


def by_name(data: dict) -> dict[str, dict]:
    return {Path(r["path"]).name: r for r in data["repos"]}


def ids_of(repo: dict) -> list[str]:
    return sorted(t["id"] for t in repo["tasks"])


@pytest.fixture
def code(tmp_path: Path) -> Path:
    root = tmp_path / "code"
    root.mkdir()
    make_repo(root, "api", {"tokens": task_text("Tokens"), "auth": task_text("Auth", depends_on="[tokens]")})
    make_repo(root, "web", {"login": task_text("Login", depends_on="['api:auth']")})
    return root


def test_workspace_entry_that_is_a_file_is_reported_not_a_traceback(code: Path, tmp_path: Path, gt) -> None:
    spec = code / "gtask-workspace.yaml"
    spec.write_text("repos:\n  - api\n  - api/README.md\n  - web\n")
    result, data = view_json(gt, tmp_path, "--workspace", str(spec))
    assert result.code == 0, result.err
    repos = by_name(data)
    assert ids_of(repos["api"]) == ["auth", "tokens"] and ids_of(repos["web"]) == ["login"]
    assert repos["README.md"]["error"] and repos["README.md"]["tasks"] == []


def test_file_named_on_the_command_line_is_reported(code: Path, tmp_path: Path, gt) -> None:
    result, data = view_json(gt, tmp_path, str(code / "web"), str(code / "api" / ".tasks" / "auth.md"))
    assert result.code == 0, result.err
    repos = by_name(data)
    assert ids_of(repos["web"]) == ["login"] and repos["auth.md"]["error"]


def test_workspace_glob_matching_nothing(code: Path, tmp_path: Path, gt) -> None:
    spec = tmp_path / "ws.yaml"
    spec.write_text(f"repos:\n  - {code}/nothing-*\n  - {code}/api\n")
    result, data = view_json(gt, tmp_path, "--workspace", str(spec))
    assert result.code == 0 and [r["project"] for r in data["repos"]] == ["api"]
    spec.write_text(f"repos:\n  - {code}/nothing-*\n")
    result = gt(tmp_path, "view", "--workspace", str(spec))
    assert result.code == 2 and "no repositories" in result.err


def test_workspace_file_entry_that_is_a_folder_of_repositories(code: Path, tmp_path: Path, gt) -> None:
    """The command line expands a folder of repositories into its repositories; a workspace
    file entry naming the same folder should read the same repositories."""
    _, named = view_json(gt, tmp_path, str(code))
    spec = tmp_path / "ws.yaml"
    spec.write_text(f"repos:\n  - {code}\n")
    result, data = view_json(gt, tmp_path, "--workspace", str(spec))
    assert result.code == 0
    assert [r["project"] for r in data["repos"]] == [r["project"] for r in named["repos"]] == ["api", "web"]


def test_repository_with_master_only(tmp_path: Path, gt) -> None:
    repo = make_repo(tmp_path, "old", {"t1": task_text("T1")}, branch="master")
    result, data = view_json(gt, tmp_path, str(repo))
    assert result.code == 0
    assert data["repos"][0]["integration_branch"] == "master" and ids_of(data["repos"][0]) == ["t1"]


def test_integration_branch_with_a_slash_from_the_remote_head(tmp_path: Path, gt) -> None:
    """A clone whose origin/HEAD is origin/release/v1: the integration branch is release/v1,
    for `view` as for `status` (branches.integration_branch gets it right)."""
    seed = make_repo(tmp_path, "seed", {"t1": task_text("T1")}, config="project: rel\n", branch="release/v1")
    bare = tmp_path / "rel.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(bare))
    work = tmp_path / "rel"
    git(tmp_path, "clone", "-q", str(bare), str(work))
    assert git(work, "symbolic-ref", "refs/remotes/origin/HEAD") == "refs/remotes/origin/release/v1"
    assert gt(work, "status", "--json").json()["integration_branch"] == "release/v1"
    result, data = view_json(gt, tmp_path, str(work))
    assert result.code == 0
    repo = data["repos"][0]
    assert repo["error"] is None, repo["error"]
    assert repo["integration_branch"] == "release/v1" and ids_of(repo) == ["t1"]


def test_two_task_folders_in_one_repository_are_not_mixed_up_by_the_cache(tmp_path: Path, gt) -> None:
    mono = tmp_path / "mono"
    for sub, task in (("svc-a", "alpha"), ("svc-b", "beta")):
        (mono / sub / ".tasks").mkdir(parents=True)
        (mono / sub / ".tasks" / "config.yaml").write_text(f"project: {sub}\n")
        (mono / sub / ".tasks" / f"{task}.md").write_text(task_text(task.title()))
    git(mono, "init", "-q", "-b", "main")
    git(mono, "add", "-A")
    git(mono, "commit", "-q", "-m", "two services")
    _, fresh = view_json(gt, tmp_path, str(mono / "svc-b"), cache=False)
    assert ids_of(fresh["repos"][0]) == ["beta"]
    _, first = view_json(gt, tmp_path, str(mono / "svc-a"))  # primes the cache with svc-a's read
    assert ids_of(first["repos"][0]) == ["alpha"]
    _, second = view_json(gt, tmp_path, str(mono / "svc-b"))
    assert second == fresh
    both, data = view_json(gt, tmp_path, str(mono / "svc-a"), str(mono / "svc-b"))
    assert both.code == 0, both.err
    assert [r["project"] for r in data["repos"]] == ["svc-a", "svc-b"]


def test_copied_repository_without_a_project_name_is_read_with_its_own_name(tmp_path: Path, gt) -> None:
    """No `project:` in config: the project is the folder's name; the integration cache travels
    with the git directory when a repository is copied or moved."""
    root = tmp_path / "ws"
    root.mkdir()
    make_repo(root, "shop", {"t1": task_text("T1")}, config=None)
    _, first = view_json(gt, tmp_path, str(root))
    assert [r["project"] for r in first["repos"]] == ["shop"]
    shutil.copytree(root / "shop", root / "shop-copy", symlinks=True)
    uncached, expected = view_json(gt, tmp_path, str(root), cache=False)
    assert uncached.code == 0 and [r["project"] for r in expected["repos"]] == ["shop", "shop-copy"]
    result, data = view_json(gt, tmp_path, str(root))
    assert result.code == 0, result.err
    assert data == expected
    os.rename(root / "shop-copy", root / "store")
    _, moved = view_json(gt, tmp_path, str(root / "store"))
    assert moved["repos"][0]["project"] == "store"


def test_worktree_given_as_a_repository(code: Path, tmp_path: Path, gt) -> None:
    api = code / "api"
    worktree = tmp_path / "api-wt"
    git(api, "worktree", "add", "-q", "-b", "feature", str(worktree))
    path = worktree / ".tasks" / "tokens.md"
    path.write_text(path.read_text().replace("Tokens", "Tokens on a feature branch"))
    git(worktree, "commit", "-q", "-am", "feature edit")
    result, data = view_json(gt, tmp_path, str(worktree))
    assert result.code == 0
    repo = data["repos"][0]
    assert repo["error"] is None and repo["integration_branch"] == "main"
    assert repo["commit"] == git(api, "rev-parse", "main")
    assert {t["id"]: t["title"] for t in repo["tasks"]}["tokens"] == "Tokens"


def test_no_cache_environment_bypasses_the_workspace_cache(code: Path, tmp_path: Path, gt,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """`--no-cache` (or `GTASK_NO_CACHE=1`) bypasses the cache (docs/performance.md)."""
    caches = lambda: list((code / "api" / ".git" / "gtask" / "cache").glob("integration-*.json"))
    view_json(gt, tmp_path, str(code), cache=False)
    assert not caches()
    monkeypatch.setenv("GTASK_NO_CACHE", "1")
    view_json(gt, tmp_path, str(code))
    assert not caches()


def test_repository_with_broken_config_is_skipped_and_the_rest_show(code: Path, tmp_path: Path, gt) -> None:
    make_repo(code, "broken", {"t1": task_text("T1")}, config="project: [unclosed\nlease: 2h\n")
    for extra in ((), ("--no-cache",)):
        result = gt(tmp_path, *extra, "view", str(code), "--json")
        assert result.code == 0, result.err
        repos = by_name(json.loads(result.out))
        assert ids_of(repos["broken"]) == []
        assert ".tasks/config.yaml" in repos["broken"]["error"]  # design §4: every error names the file
        assert ids_of(repos["api"]) == ["auth", "tokens"] and ids_of(repos["web"]) == ["login"]
    text = gt(tmp_path, "view", str(code))
    assert text.code == 0 and "broken" in text.err


def _commit_symlink(repo: Path, name: str, target: bytes) -> None:
    """Commit `.tasks/<name>` as a symbolic link (mode 120000) whose target is `target`."""
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo, input=target,
                          capture_output=True, check=True).stdout.decode().strip()
    git(repo, "update-index", "--add", "--cacheinfo", f"120000,{blob},.tasks/{name}")
    git(repo, "commit", "-q", "-m", f"link {name}")
    git(repo, "reset", "-q", "--hard")


def test_symbolic_links_in_git_objects_are_not_read_as_tasks(code: Path, tmp_path: Path, gt) -> None:
    api = code / "api"
    # a link to another task file, and a link whose target text is itself a task file
    _commit_symlink(api, "alias.md", b"tokens.md")
    _commit_symlink(api, "sneaky.md", task_text("Read through a link", status="todo").encode())
    for extra in ((), ("--no-cache",)):
        result = gt(tmp_path, *extra, "view", str(api), "--json")
        assert result.code == 0
        repo = json.loads(result.out)["repos"][0]
        problems = {p["path"]: p["message"] for p in repo["problems"]}
        assert ids_of(repo) == ["auth", "tokens"]
        assert "symbolic link" in problems.get(".tasks/alias.md", "")
        assert "symbolic link" in problems.get(".tasks/sneaky.md", "")


def test_huge_blob_on_the_integration_branch_is_a_problem_not_a_crash(code: Path, tmp_path: Path, gt) -> None:
    api = code / "api"
    (api / ".tasks" / "huge.md").write_bytes(task_text("Huge").encode() + b"x" * (3 << 20))
    git(api, "add", "-A")
    git(api, "commit", "-q", "-m", "huge")
    result, data = view_json(gt, tmp_path, str(code))
    assert result.code == 0
    repo = by_name(data)["api"]
    assert ids_of(repo) == ["auth", "tokens"]
    assert [p["path"] for p in repo["problems"]] == [".tasks/huge.md"]


def test_view_json_prints_exactly_one_document(code: Path, tmp_path: Path, gt) -> None:
    make_repo(code, "half", {"ok": task_text("Fine"), "bad": "---\ntitle: [\n---\n"})
    (code / "plain").mkdir()
    (code / "plain" / ".git").mkdir()
    result = gt(tmp_path, "view", str(code), str(tmp_path / "missing"), "--json")
    assert result.code == 0
    data = json.loads(result.out)  # raises on a second document or stray text
    assert result.out.count("\n") == 1
    assert {Path(r["path"]).name for r in data["repos"]} == {"api", "web", "half", "plain", "missing"}
    for line in result.err.splitlines():
        json.loads(line)  # standard error: JSON lines only
    make_repo(code, "api2", {"x": task_text("X")}, config="project: api\n")
    clash = gt(tmp_path, "view", str(code), "--json")
    assert clash.code == 2 and clash.out == ""
    assert json.loads(clash.err)["error"]["code"] == "usage"


# == the parse cache and the dependents index ==================================


def age(path: Path, ns: int = OLD) -> None:
    os.utime(path, ns=(ns, ns), follow_symlinks=False)


def listing(gt, repo: Path, cache: bool = True) -> list[dict]:
    result = gt(repo, *(() if cache else ("--no-cache",)), "list", "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def same_as_no_cache(gt, repo: Path) -> list[dict]:
    cached = listing(gt, repo)
    assert cached == listing(gt, repo, cache=False)
    return cached


def dependents(gt, repo: Path, task_id: str, cache: bool = True) -> list[str]:
    result = gt(repo, *(() if cache else ("--no-cache",)), "show", task_id, "--json")
    assert result.code == 0, result.err
    return [d["id"] for d in result.json()["dependents"]]


@pytest.fixture
def store(repo: Path) -> Path:
    """The `repo` fixture (project demo) with five old task files and one dependent of t0."""
    for i in range(5):
        path = repo / ".tasks" / f"t{i}.md"
        path.write_text(task_text(f"Task {i}"))
        age(path)
    path = repo / ".tasks" / "needs-t0.md"
    path.write_text(task_text("Needs t0", depends_on="[t0]"))
    age(path)
    return repo


def cache_file(repo: Path, kind: str) -> Path:
    files = sorted((repo / ".git" / "gtask" / "cache").glob(f"{kind}-*.json"))
    assert len(files) == 1, files
    return files[0]


@pytest.mark.parametrize("entries", [[], {"t0.md": 5}, {"t0.md": {}}, {"t0.md": [None, None, None]}],
                         ids=["list", "int", "dict", "nulls"])
def test_parse_cache_of_the_wrong_shape_is_ignored(gt, store: Path, entries) -> None:
    expected = same_as_no_cache(gt, store)
    path = cache_file(store, "tasks")
    path.write_text(json.dumps({"format": 2, "salt": f"{__version__}:demo", "entries": entries}))
    assert listing(gt, store) == expected
    assert gt(store, "ready").code == 0


@pytest.mark.parametrize("index", [{"format": 2, "keys": [], "dependents": {}},
                                   {"format": 2, "keys": "abc", "dependents": {}},
                                   [1, 2]],
                         ids=["keys-list", "keys-string", "list"])
def test_dependents_index_of_the_wrong_shape_is_ignored(gt, store: Path, index) -> None:
    listing(gt, store)
    cache_file(store, "dependents").write_text(json.dumps(index))
    assert dependents(gt, store, "t0") == ["needs-t0"]


def test_dependents_index_with_wrong_shaped_dependents_is_ignored(gt, store: Path) -> None:
    listing(gt, store)
    path = cache_file(store, "dependents")
    data = json.loads(path.read_text())
    data["dependents"] = [["t0", "needs-t0"]]
    path.write_text(json.dumps(data))
    assert dependents(gt, store, "t0") == ["needs-t0"]


@pytest.mark.parametrize("content", ["[]", '{"folder": ".tasks", "diffs": []}', '"text"'])
def test_branch_diff_cache_of_the_wrong_shape_is_ignored(gt, store: Path, content: str) -> None:
    git(store, "add", "-A")
    git(store, "commit", "-q", "-m", "tasks")
    git(store, "branch", "agent/x")
    git(store, "switch", "-q", "agent/x")
    assert gt(store, "claim", "t1", "--agent", "xavier").code == 0
    git(store, "switch", "-q", "main")
    expected = [t["id"] for t in json.loads(gt(store, "ready", "--json").out)]
    assert "t1" not in expected
    (store / ".git" / "gtask" / "cache" / "branch-diffs.json").write_text(content)
    for extra in ((), ("--no-cache",)):
        result = gt(store, *extra, "ready", "--json")
        assert result.code == 0
        assert [t["id"] for t in result.json()] == expected


@pytest.mark.parametrize("content", ['{"format": 1, "tip": null, "by_ref": []}', '{"format": 1, "tip": null, '
                                     '"by_ref": {"demo:t0": "abc"}}'], ids=["list", "string-entries"])
def test_closing_evidence_cache_of_the_wrong_shape_is_ignored(gt, store: Path, content: str) -> None:
    git(store, "add", "-A")
    git(store, "commit", "-q", "-m", "tasks\n\nCloses: t0")
    expected = gt(store, "status", "--json").json()
    caches = list((store / ".git" / "gtask" / "cache").glob("evidence-*.json"))
    assert caches
    for path in caches:
        path.write_text(content)
    result = gt(store, "status", "--json")
    assert result.code == 0 and result.json() == expected


def test_dependents_index_after_the_project_is_renamed(gt, store: Path) -> None:
    """`demo:t0` is a local reference only while the project is called demo."""
    path = store / ".tasks" / "qualified.md"
    path.write_text(task_text("Qualified", depends_on="['demo:t0']"))
    age(path)
    listing(gt, store)  # writes the dependents index
    assert dependents(gt, store, "t0") == ["needs-t0", "qualified"] == dependents(gt, store, "t0", cache=False)
    config = store / ".tasks" / "config.yaml"
    config.write_text(config.read_text().replace("project: demo", "project: renamed"))
    assert dependents(gt, store, "t0", cache=False) == ["needs-t0"]
    assert dependents(gt, store, "t0") == ["needs-t0"]


def test_task_folder_deleted_and_recreated_between_commands(gt, store: Path) -> None:
    same_as_no_cache(gt, store)
    saved = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (store / ".tasks").iterdir()}
    shutil.rmtree(store / ".tasks")
    gone = gt(store, "list")
    assert gone.code == 4 and "gtask init" in gone.err
    (store / ".tasks").mkdir()
    for name, (data, mtime) in saved.items():  # same names, sizes and times; t1 and t2 swapped
        if name in ("t1.md", "t2.md"):
            data = data.replace(b"Task 1", b"Task #").replace(b"Task 2", b"Task 1").replace(b"Task #", b"Task 2")
        (store / ".tasks" / name).write_bytes(data)
        age(store / ".tasks" / name, mtime)
    titles = {t["id"]: t["title"] for t in same_as_no_cache(gt, store)}
    assert titles["t1"] == "Task 2" and titles["t2"] == "Task 1"
    assert dependents(gt, store, "t0") == ["needs-t0"]


def test_rename_keeping_the_modification_time(gt, store: Path) -> None:
    same_as_no_cache(gt, store)
    os.rename(store / ".tasks" / "t3.md", store / ".tasks" / "t9.md")
    ids = [t["id"] for t in same_as_no_cache(gt, store)]
    assert "t9" in ids and "t3" not in ids
    listing(gt, store)
    os.rename(store / ".tasks" / "needs-t0.md", store / ".tasks" / "later.md")
    assert dependents(gt, store, "t0") == ["later"] == dependents(gt, store, "t0", cache=False)


def test_swapped_contents_of_equal_size_with_times_restored(gt, store: Path) -> None:
    same_as_no_cache(gt, store)
    a, b = store / ".tasks" / "t1.md", store / ".tasks" / "t2.md"
    stats = a.stat(), b.stat()
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    age(a, stats[0].st_mtime_ns)
    age(b, stats[1].st_mtime_ns)
    titles = {t["id"]: t["title"] for t in same_as_no_cache(gt, store)}
    assert titles["t1"] == "Task 2" and titles["t2"] == "Task 1"


def test_dependent_replaced_by_a_symlink_of_the_same_size(gt, store: Path, tmp_path: Path) -> None:
    listing(gt, store)
    assert dependents(gt, store, "t0") == ["needs-t0"]
    path = store / ".tasks" / "needs-t0.md"
    size, mtime = path.stat().st_size, path.stat().st_mtime_ns
    name = "y" * (size - len("../../"))  # a link's size is its target's length
    target = store.parent / name
    target.write_text(task_text("Needs t0 through a link", depends_on="[t0]"))
    path.unlink()
    path.symlink_to(f"../../{name}")
    age(path, mtime)
    assert path.lstat().st_size == size
    assert listing(gt, store) == listing(gt, store, cache=False)
    assert "needs-t0" not in [t["id"] for t in listing(gt, store)]
    assert dependents(gt, store, "t0") == [] == dependents(gt, store, "t0", cache=False)
    assert gt(store, "show", "needs-t0").code == 1


def test_workspace_cache_of_the_wrong_shape_is_ignored(code: Path, tmp_path: Path, gt) -> None:
    _, expected = view_json(gt, tmp_path, str(code / "api"), cache=False)
    view_json(gt, tmp_path, str(code / "api"))
    path = next((code / "api" / ".git" / "gtask" / "cache").glob("integration-*.json"))
    data = json.loads(path.read_text())
    for tasks in ({"tokens": 1}, [["tokens"]], [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
                                                  19, 20, 21, 22, 23]]):
        path.write_text(json.dumps({**data, "tasks": tasks}))
        result, got = view_json(gt, tmp_path, str(code / "api"))
        assert result.code == 0 and got == expected
