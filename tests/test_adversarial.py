"""Adversarial pass: unusual but valid files, awkward git states, refused commands that must touch nothing.

Every test uses real git repositories. A refused command must leave HEAD, every ref,
the index, the work tree (`git status`, `git diff`, `git diff --cached`) and the
bytes of every file exactly as they were.
"""

from __future__ import annotations

import difflib
import json
import subprocess
from pathlib import Path

import pytest

from conftest import Cli, git, run_process, task_text, write_task
from gtask.cli.main import run


# -- helpers -------------------------------------------------------------------


def commit_all(repo: Path, message: str = "tasks") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def head_of(repo: Path) -> str | None:
    proc = subprocess.run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=repo, capture_output=True, text=True)
    return proc.stdout.strip() or None


def snapshot(repo: Path) -> dict:
    """Everything a refused command must leave exactly as it was."""
    files = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo)
        if ".git" in rel.parts or path.is_dir():
            continue
        files[rel.as_posix()] = path.read_bytes()
    return {
        "head": head_of(repo),
        "refs": git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        "index": git(repo, "ls-files", "-s"),
        "status": git(repo, "status", "--porcelain=v1", "-uall"),
        "diff": git(repo, "diff"),
        "cached": git(repo, "diff", "--cached"),
        "files": files,
    }


def assert_unchanged(repo: Path, before: dict) -> None:
    after = snapshot(repo)
    for key in before:
        assert after[key] == before[key], f"{key} changed by a refused command"


def subjects(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%s").splitlines()


CLAIM_KEYS = ("claimed_by", "claimed_at", "lease_until", "claim_branch")


# -- the writer on unusual but valid layouts ------------------------------------------

LAYOUTS = {
    "block-scalar-with-fence-and-items": (
        "---\ntitle: Block scalar\nstatus: todo\ntrigger: |\n  first line\n  ---\n  - not a list item\n"
        "  key: not a key\n\nlabels:\n  - a # first\n  - b\n---\n## What\n\nbody ---\n"
    ),
    "quoted-key-names": "---\n\"title\": Quoted keys\n'status': todo\n\"lane\": autonomous # why\n---\nBody.\n",
    "list-at-column-zero": "---\ntitle: Column zero\nstatus: todo\nsteps:\n- one\n- two  # comment\n---\nBody.\n",
    "comment-after-status-and-items": (
        "---\ntitle: Comments\nstatus: todo   # triage later\nrisks:\n  - r1 # c1\n  # a comment line\n"
        "  - r2\n# closing comment\n---\n"
    ),
    "bom": "\ufeff---\ntitle: With a BOM\nstatus: todo\n---\nBody.\n",
    "crlf-with-comments": "---\r\ntitle: CRLF\r\nstatus: todo # c\r\nlabels:\r\n  - x # y\r\n---\r\nBody\r\n",
    "tab-after-colon": "---\ntitle:\tTabbed\nstatus: todo\nmilestone:\tm1\n---\n",
    "value-continues-on-next-line": "---\ntitle: Continued\nstatus: todo\ntrigger: a long\n  sentence that goes on\n---\nB\n",
    "folded-scalar": "---\ntitle: Folded\nstatus: todo\ntrigger: >-\n  folded\n  text\n---\n",
    "empty-body": "---\ntitle: Empty body\nstatus: todo\n---\n",
    "no-trailing-newline": "---\ntitle: No newline\nstatus: todo\n---\nlast line",
    "front-matter-ends-the-file": "---\ntitle: Ends the file\nstatus: todo\n---",
    "unknown-keys-and-nested-map": (
        "---\ntitle: Extra\nstatus: todo\nmeta:\n  owner: x\n  tags: [a, b]\ncustom: 'quoted'\n---\nBody.\n"
    ),
}


def _check_claim_diff(before: bytes, after: bytes) -> None:
    """Only the status line changes; the claim keys are added just before the closing fence."""
    old = before.decode().splitlines(keepends=True)
    new = after.decode().splitlines(keepends=True)
    ops = [op for op in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes() if op[0] != "equal"]
    changed_old = [line for tag, i1, i2, j1, j2 in ops for line in old[i1:i2]]
    added_new = [line for tag, i1, i2, j1, j2 in ops for line in new[j1:j2]]
    assert len(changed_old) == 1 and "status" in changed_old[0], ops
    assert any("in_progress" in line for line in added_new)
    added_keys = sorted(line.split(":", 1)[0] for line in added_new if "in_progress" not in line)
    assert added_keys == sorted(CLAIM_KEYS)
    newline = "\r\n" if old[0].endswith("\r\n") else "\n"
    for line in added_new:
        assert line.endswith(newline)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_claim_then_release_is_exact_on_unusual_layouts(cli: Cli, repo: Path, layout: str) -> None:
    text = LAYOUTS[layout]
    path = write_task(repo, "t", text)
    commit_all(repo)
    original = path.read_bytes()
    result = cli("claim", "t", "--agent", "ann")
    assert result.exit_code == 0, result.stderr
    claimed = path.read_bytes()
    _check_claim_diff(original, claimed)
    assert git(repo, "status", "--porcelain") == ""
    shown = json.loads(cli("show", "t", "--json").stdout)
    assert shown["status"] == "in_progress" and shown["claimed_by"] == "ann"
    result = cli("release", "t", "--agent", "ann")
    assert result.exit_code == 0, result.stderr
    assert path.read_bytes() == original, "claim then release must give back the user's bytes"


def test_status_whose_value_continues_on_the_next_line(cli: Cli, repo: Path) -> None:
    path = write_task(repo, "t", "---\ntitle: T\nstatus:\n  todo # a comment\nlane: autonomous\n---\nBody\n")
    commit_all(repo)
    assert cli("claim", "t", "--agent", "ann").exit_code == 0
    lines = path.read_text().splitlines()
    assert lines[:3] == ["---", "title: T", "status: in_progress"]
    assert "lane: autonomous" in lines and lines[-1] == "Body"
    assert json.loads(cli("show", "t", "--json").stdout)["status"] == "in_progress"


@pytest.mark.parametrize("text", [
    "---\n{title: Flow mapping, status: todo}\n---\nBody\n",
    "---\n  title: Indented\n  status: todo\n---\nBody\n",
    "---\ntitle: Document end\nstatus: todo\n...\n---\nBody\n",
], ids=["flow-mapping", "indented", "document-end-marker"])
def test_layout_that_cannot_be_edited_exactly_is_refused_and_untouched(cli: Cli, repo: Path, text: str) -> None:
    write_task(repo, "t", text)
    commit_all(repo)
    assert cli("show", "t").exit_code == 0  # a valid task
    before = snapshot(repo)
    result = cli("claim", "t", "--agent", "ann")
    assert result.exit_code == 1
    assert "left unchanged" in result.stderr and "Traceback" not in result.stderr
    assert_unchanged(repo, before)


# -- `set`: values that the docs promise to handle ------------------------------------


def test_set_removes_a_numeric_label_as_the_docs_read_it(cli: Cli, repo: Path) -> None:
    """format.md: `labels: [2026]` is the label "2026"; `labels-=2026` must remove it."""
    path = write_task(repo, "t", "---\ntitle: T\nstatus: todo\nlabels:\n  - 2026\n  - api\n---\n")
    assert json.loads(cli("show", "t", "--json").stdout)["labels"] == ["2026", "api"]
    result = cli("set", "t", "labels-=2026")
    assert result.exit_code == 0, result.stderr
    assert path.read_text() == "---\ntitle: T\nstatus: todo\nlabels:\n  - api\n---\n"


def test_set_does_not_add_a_numeric_label_twice(cli: Cli, repo: Path) -> None:
    path = write_task(repo, "t", "---\ntitle: T\nstatus: todo\nlabels:\n  - 2026\n---\n")
    before = path.read_bytes()
    result = cli("set", "t", "labels+=2026")
    assert result.exit_code == 0
    assert json.loads(cli("show", "t", "--json").stdout)["labels"] == ["2026"]
    assert path.read_bytes() == before


@pytest.mark.parametrize("value", ["1.0e+20", ".inf"])
def test_set_float_values_round_trip(cli: Cli, repo: Path, value: str) -> None:
    write_task(repo, "t", task_text("T"))
    result = cli("set", "t", f"estimate={value}")
    assert result.exit_code == 0, result.stderr
    extra = json.loads(cli("show", "t", "--json").stdout)["extra"]
    assert extra["estimate"] == float(value.replace(".inf", "inf"))


def test_set_commit_with_no_change_makes_no_empty_commit(cli: Cli, repo: Path) -> None:
    write_task(repo, "t", task_text("Same"))
    commit_all(repo)
    before = snapshot(repo)
    result = cli("set", "t", "title=Same", "--commit")
    assert result.exit_code == 0, result.stderr
    assert_unchanged(repo, before)


# -- protocol commands in awkward git states --------------------------------------------


def test_claim_of_an_untracked_task_commits_only_that_file(cli: Cli, repo: Path) -> None:
    (repo / "work.txt").write_text("staged\n")
    git(repo, "add", "work.txt")
    (repo / "README.md").write_text("unstaged edit\n")
    write_task(repo, "t", task_text("Never committed"))
    cached, diff = git(repo, "diff", "--cached"), git(repo, "diff")
    result = cli("claim", "t", "--agent", "ann")
    assert result.exit_code == 0, result.stderr
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == ".tasks/t.md"
    assert git(repo, "diff", "--cached") == cached and git(repo, "diff") == diff
    assert "?? .tasks/config.yaml" in git(repo, "status", "--porcelain")


def test_claim_of_a_staged_new_task_is_refused_and_touches_nothing(cli: Cli, repo: Path) -> None:
    write_task(repo, "t", task_text("Staged, not committed"))
    git(repo, "add", ".tasks/t.md")
    before = snapshot(repo)
    result = cli("claim", "t", "--agent", "ann")
    assert result.exit_code == 1 and "uncommitted changes" in result.stderr
    assert_unchanged(repo, before)


@pytest.mark.parametrize("command", [
    ["claim", "t"], ["done", "t"], ["release", "t", "--force"], ["handoff", "t", "--needs", "Prereq"],
    ["set", "t", "priority=1", "--commit"], ["renew", "t"],
])
def test_staged_change_to_the_same_file_refuses_every_command(cli: Cli, repo: Path, command: list[str]) -> None:
    path = write_task(repo, "t", task_text("T", status="in_progress", claimed_by="ann",
                                           lease_until="2999-01-01T00:00:00+00:00"))
    commit_all(repo)
    path.write_text(path.read_text().replace("title: T", "title: T, staged edit"))
    git(repo, "add", ".tasks/t.md")
    path.write_text(path.read_text() + "and an unstaged one\n")
    before = snapshot(repo)
    result = cli(*command, "--agent", "ann") if command[0] != "set" else cli(*command)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "uncommitted changes" in result.stderr
    assert_unchanged(repo, before)


def test_staged_removal_of_the_task_file_is_not_undone_by_a_claim(cli: Cli, repo: Path) -> None:
    """`git rm --cached` is a staged change to the task file: a claim must refuse, not re-add the file."""
    write_task(repo, "t", task_text("T"))
    commit_all(repo)
    git(repo, "rm", "-q", "--cached", ".tasks/t.md")
    before = snapshot(repo)
    result = cli("claim", "t", "--agent", "ann")
    assert result.exit_code == 1, result.stdout
    assert_unchanged(repo, before)


def test_tasks_in_a_subfolder_with_spaces(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    top = tmp_path / "my repo"
    top.mkdir()
    git(top, "init", "-q", "-b", "main")
    sub = top / "sub dir"
    (sub / ".tasks").mkdir(parents=True)
    (sub / ".tasks" / "config.yaml").write_text("project: sub\n")
    write_task(sub, "a", task_text("A"))
    write_task(sub, "b", task_text("B", depends_on="[a]"))
    (top / "other.txt").write_text("x\n")
    commit_all(top)
    (top / "other.txt").write_text("unstaged\n")
    sub_cli = Cli(sub / ".tasks", capsys)
    assert sub_cli("claim", "a", "--agent", "ann").exit_code == 0
    result = sub_cli("done", "a", "--agent", "ann")
    assert result.exit_code == 0 and "now ready: b" in result.stdout
    assert git(top, "show", "--name-only", "--format=", "HEAD") == "sub dir/.tasks/a.md"
    assert git(top, "status", "--porcelain") == "M other.txt"
    actions = [e["action"] for e in json.loads(sub_cli("log", "a", "--json").stdout)]
    assert actions == ["create", "claim", "done"]
    status = {t["id"]: t["state"] for t in json.loads(sub_cli("status", "--json").stdout)["tasks"]}
    assert status == {"a": "landed", "b": "ready"}


def test_protocol_on_an_unborn_head_keeps_staged_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    assert run(["-C", str(tmp_path), "init", "--project", "demo"]) == 0
    write_task(tmp_path, "a", task_text("A"))
    (tmp_path / "staged.txt").write_text("staged\n")
    git(tmp_path, "add", "staged.txt")
    here = Cli(tmp_path, capsys)
    assert here("claim", "a", "--agent", "ann").exit_code == 0
    assert here("done", "a", "--agent", "ann").exit_code == 0
    assert subjects(tmp_path) == ["gtask: done a", "gtask: claim a"]
    assert git(tmp_path, "ls-tree", "-r", "--name-only", "HEAD") == ".tasks/a.md"
    assert "A  staged.txt" in git(tmp_path, "status", "--porcelain")


def test_done_twice_is_a_conflict_and_touches_nothing(cli: Cli, repo: Path) -> None:
    write_task(repo, "t", task_text("T"))
    commit_all(repo)
    assert cli("done", "t", "--agent", "ann").exit_code == 0
    before = snapshot(repo)
    result = cli("done", "t", "--agent", "ann", "--json")
    assert result.exit_code == 3 and result.stdout == ""
    assert json.loads(result.stderr)["error"]["code"] == "conflict"
    assert_unchanged(repo, before)


@pytest.mark.parametrize("needs", ["t", "T"])
def test_handoff_to_itself_is_refused_and_touches_nothing(cli: Cli, repo: Path, needs: str) -> None:
    write_task(repo, "t", task_text("T"))
    commit_all(repo)
    assert cli("claim", "t", "--agent", "ann").exit_code == 0
    before = snapshot(repo)
    result = cli("handoff", "t", "--needs-id", needs, "--agent", "ann")
    assert result.exit_code in (2, 3) and "itself" in result.stderr
    assert_unchanged(repo, before)


def test_handoff_that_would_close_a_cycle_touches_nothing(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A"))
    write_task(repo, "b", task_text("B", depends_on="[a]"))
    commit_all(repo)
    assert cli("claim", "a", "--agent", "ann").exit_code == 0
    before = snapshot(repo)
    result = cli("handoff", "a", "--needs-id", "b", "--agent", "ann")
    assert result.exit_code == 3 and "cycle" in result.stderr
    assert_unchanged(repo, before)


def test_handoff_to_an_invalid_task_does_not_commit_and_then_fail(cli: Cli, repo: Path) -> None:
    """Either the handoff is refused before committing, or it succeeds with exit 0: never both."""
    write_task(repo, "a", task_text("A"))
    write_task(repo, "broken", "---\ntitle: [unclosed\nstatus: todo\n---\n")
    commit_all(repo)
    assert cli("claim", "a", "--agent", "ann").exit_code == 0
    before = snapshot(repo)
    result = cli("handoff", "a", "--needs-id", "broken", "--agent", "ann")
    if result.exit_code != 0:
        assert_unchanged(repo, before)
    else:
        assert subjects(repo)[0] == "gtask: handoff a"


def test_handoff_does_not_add_a_dependency_that_is_there_in_another_case(cli: Cli, repo: Path) -> None:
    path = write_task(repo, "a", "---\ntitle: A\nstatus: todo\ndepends_on:\n  - B\n---\n")
    write_task(repo, "b", task_text("B", status="done"))
    commit_all(repo)
    assert cli("claim", "a", "--agent", "ann").exit_code == 0
    assert cli("handoff", "a", "--needs-id", "b", "--agent", "ann").exit_code == 0
    deps = json.loads(cli("show", "a", "--json").stdout)["depends_on"]
    assert [d.lower() for d in deps] == ["b"], path.read_text()


def test_dependency_listed_twice_in_different_case_is_a_warning(cli: Cli, repo: Path) -> None:
    """format.md: a dependency listed twice is a warning; IDs are the same regardless of case."""
    write_task(repo, "a", task_text("A"))
    write_task(repo, "c", "---\ntitle: C\nstatus: todo\ndepends_on:\n  - a\n  - A\n---\n")
    report = json.loads(cli("check", "--json").stdout)
    text = json.dumps(report)
    assert "listed twice" in text, report


def test_reconcile_with_a_dirty_task_file_touches_nothing(cli: Cli, repo: Path) -> None:
    path = write_task(repo, "t", task_text("T"))
    commit_all(repo)
    git(repo, "commit", "-q", "--allow-empty", "-m", "work\n\nCloses: t")
    path.write_text(path.read_text() + "half-finished note\n")
    before = snapshot(repo)
    result = cli("reconcile", "--agent", "ann")
    assert result.exit_code == 1 and "uncommitted changes" in result.stderr
    assert_unchanged(repo, before)
    dry = cli("reconcile", "--dry-run", "--json")
    assert dry.exit_code == 0 and [c["id"] for c in json.loads(dry.stdout)["closed"]] == ["t"]
    assert_unchanged(repo, before)


def test_log_of_a_deleted_task(cli: Cli, repo: Path) -> None:
    write_task(repo, "gone", task_text("Gone"))
    commit_all(repo)
    assert cli("claim", "gone", "--agent", "ann").exit_code == 0
    git(repo, "rm", "-q", ".tasks/gone.md")
    git(repo, "commit", "-q", "-m", "drop it")
    result = cli("log", "gone", "--json")
    assert result.exit_code == 0
    assert [e["action"] for e in json.loads(result.stdout)] == ["create", "claim", "delete"]


@pytest.mark.parametrize("bad_id", ["../../../../../../../../etc/passwd", "../README"])
def test_log_with_a_path_for_an_id_is_a_sentence(cli: Cli, repo: Path, bad_id: str) -> None:
    result = cli("log", bad_id)
    assert "Traceback" not in result.stderr
    assert result.exit_code in (2, 4), (result.exit_code, result.stderr)


# -- failures in the middle of a protocol step -----------------------------------------


def test_index_lock_leaves_no_half_done_claim(cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/protocol.md: if anything fails after the file was written, no half-done step stays behind."""
    write_task(repo, "t", task_text("T"))
    commit_all(repo)
    before = snapshot(repo)
    monkeypatch.setenv("GTASK_LOCK_WAIT", "0.2")
    lock = repo / ".git" / "index.lock"
    lock.write_text("")
    try:
        result = cli("claim", "t", "--agent", "ann")
    finally:
        lock.unlink()
    assert result.exit_code == 1 and "index lock" in result.stderr
    assert_unchanged(repo, before)


def test_failed_push_on_an_unborn_branch_is_undone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "remote", "add", "origin", str(tmp_path / "no-such-remote.git"))
    assert run(["-C", str(tmp_path), "init", "--project", "demo"]) == 0
    write_task(tmp_path, "a", task_text("A"))
    before = snapshot(tmp_path)
    result = Cli(tmp_path, capsys)("claim", "a", "--agent", "ann", "--push")
    assert result.exit_code == 1 and "remote" in result.stderr
    assert_unchanged(tmp_path, before)


@pytest.mark.parametrize("command", [["done", "t"], ["release", "t"]])
def test_push_without_a_remote_is_refused_before_committing(cli: Cli, repo: Path, command: list[str]) -> None:
    write_task(repo, "t", task_text("T"))
    commit_all(repo)
    assert cli("claim", "t", "--agent", "ann").exit_code == 0
    before = snapshot(repo)
    result = cli(*command, "--agent", "ann", "--push")
    assert result.exit_code != 0 and "no remote" in result.stderr
    assert_unchanged(repo, before)


@pytest.mark.parametrize("lease", ["bogus", "99999999d"])
def test_bad_lease_is_a_usage_error_not_a_traceback(cli: Cli, repo: Path, lease: str) -> None:
    write_task(repo, "t", task_text("T"))
    commit_all(repo)
    before = snapshot(repo)
    result = run_process(repo, "claim", "t", "--agent", "ann", "--lease", lease)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2
    assert_unchanged(repo, before)


def test_agent_name_cannot_inject_a_closing_trailer(cli: Cli, repo: Path) -> None:
    """An agent name with a newline must not add `Closes: b` to a claim of a."""
    write_task(repo, "a", task_text("A"))
    write_task(repo, "b", task_text("B"))
    commit_all(repo)
    result = cli("claim", "a", "--agent", "eve\nCloses: b")
    if result.exit_code == 0:
        assert "\nCloses: b" not in git(repo, "log", "-1", "--format=%B")
        assert cli("reconcile", "--agent", "ann").exit_code == 0
        assert json.loads(cli("show", "b", "--json").stdout)["status"] == "todo"
    else:
        assert result.exit_code == 2 and "Traceback" not in result.stderr


# -- `edit` never loses the user's text --------------------------------------------------


def test_edit_that_writes_invalid_utf8_keeps_the_text_aside(repo: Path, tmp_path: Path) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nprintf -- '---\\ntitle: caf\\351\\nstatus: todo\\n---\\nMy careful notes\\n' > \"$1\"\n")
    editor.chmod(0o755)
    path = write_task(repo, "t", task_text("T"))
    original = path.read_bytes()
    result = run_process(repo, "edit", "t", env={"EDITOR": str(editor), "VISUAL": str(editor)}, input="")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert path.read_bytes() == original
    kept = [p for p in (repo / ".tasks").iterdir() if p.name.endswith(".rejected")]
    assert kept and b"My careful notes" in kept[0].read_bytes()


# -- JSON errors -----------------------------------------------------------------------


def test_json_error_is_exactly_one_object_on_stderr(cli: Cli, repo: Path) -> None:
    write_task(repo, "t", task_text("T"))
    for args in (["claim", "nosuch", "--json"], ["show", "nosuch", "--json"], ["claim", "--json"],
                 ["done", "t", "--json", "--agent", "ann", "--push"]):
        result = cli(*args)
        assert result.exit_code != 0 and result.stdout == "", args
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, (args, result.stderr)
        error = json.loads(lines[0])["error"]
        assert set(error) == {"code", "message", "path", "line"}


def test_json_error_with_a_broken_file_in_the_store_is_still_one_object(cli: Cli, repo: Path) -> None:
    """`order --json` on a cycle: stderr must be one JSON error object, not a problem line plus the error."""
    write_task(repo, "a", task_text("A", depends_on="[b]"))
    write_task(repo, "b", task_text("B", depends_on="[a]"))
    write_task(repo, "broken", "---\ntitle: [unclosed\nstatus: todo\n---\n")
    result = cli("order", "--json")
    assert result.exit_code == 3
    objects = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert len(objects) == 1, result.stderr
    assert objects[0]["error"]["code"] == "conflict"


def test_json_success_output_is_one_json_document(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A"))
    write_task(repo, "b", task_text("B", depends_on="[a]"))
    commit_all(repo)
    for args in (["claim", "a"], ["done", "a"], ["ready"], ["status"], ["log", "a"], ["reconcile", "--dry-run"]):
        result = cli(*args, "--json", *(["--agent", "ann"] if args[0] in ("claim", "done") else []))
        assert result.exit_code == 0, (args, result.stderr)
        json.loads(result.stdout)


# -- files gtask must not follow or pick by accident ----------------------------------


def _editor(tmp_path: Path) -> Path:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nprintf -- '---\\ntitle: edited\\nstatus: todo\\n---\\n' > \"$1\"\n")
    editor.chmod(0o755)
    return editor


def test_edit_refuses_a_symbolic_link_like_every_other_command(cli: Cli, repo: Path, tmp_path: Path) -> None:
    """format.md: a symbolic link in the task folder is an error, never followed (`set` refuses it)."""
    outside = tmp_path / "outside.md"
    outside.write_text(task_text("Outside"))
    link = repo / ".tasks" / "s.md"
    link.symlink_to(outside)
    assert cli("set", "s", "priority=1").exit_code == 1
    result = run_process(repo, "edit", "s", env={"EDITOR": str(_editor(tmp_path))}, input="")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert link.is_symlink() and outside.read_text() == task_text("Outside")


def test_edit_refuses_ids_that_clash_by_case_like_set(cli: Cli, repo: Path, tmp_path: Path) -> None:
    write_task(repo, "Fix", task_text("Upper"))
    lower = write_task(repo, "fix", task_text("Lower"))
    assert cli("set", "fix", "priority=1").exit_code == 1  # "ID clashes"
    result = run_process(repo, "edit", "fix", env={"EDITOR": str(_editor(tmp_path))}, input="")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert lower.read_text() == task_text("Lower")


def test_task_folder_with_glob_characters_is_matched_literally(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A dirty `t1/.tasks/a.md` must not block a claim in `t[12]/.tasks/` (git pathspecs are globs)."""
    top = tmp_path / "repo"
    top.mkdir()
    git(top, "init", "-q", "-b", "main")
    for folder in ("t[12]", "t1"):
        (top / folder / ".tasks").mkdir(parents=True)
        (top / folder / ".tasks" / "config.yaml").write_text("project: p\n")
        write_task(top / folder, "a", task_text("A"))
    commit_all(top)
    other = top / "t1" / ".tasks" / "a.md"
    other.write_text(other.read_text() + "the user's unfinished edit\n")
    result = Cli(top / "t[12]", capsys)("claim", "a", "--agent", "ann")
    assert result.exit_code == 0, result.stderr
    assert git(top, "show", "--name-only", "--format=", "HEAD") == "t[12]/.tasks/a.md"
    assert git(top, "status", "--porcelain") == "M t1/.tasks/a.md"
