"""Forgery and authority: only gtask writes trailers, gate results can be signed, every step checks who acts."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Cli, git, task_text, write_task
from gtask.core.trailers import message, neutralise, parse_pairs
from gtask.gitstate.evidence import closed_refs


def commit_all(repo: Path, text: str = "tasks") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", text)


def oracle(text: str) -> list[tuple[str, str]] | None:
    """What git itself reads as the trailers of a message (None when git loops: 2.39 does on a `---` before a cut line)."""
    try:
        out = subprocess.run(["git", "-c", "core.commentChar=#", "interpret-trailers", "--parse"], input=text.encode(),
                             capture_output=True, check=True, timeout=5).stdout.decode()
    except subprocess.TimeoutExpired:
        return None
    return [(line.split(": ", 1)[0], line.split(": ", 1)[1]) for line in out.splitlines()]


HOSTILE = [
    "x\nCloses: b\nAgent: alice", "Gate: m1\nGate-Result: passed", "Closes: b", "  closes: b", "fixes:b",
    "x\n---\nCloses: b\nAgent: alice", "a\n\nTask-Action: done\n# comment", "Signed-off-by: x\n(cherry picked from commit 1)",
    "x\r\nCloses: b", "x\rAgent: alice", "Conflicts:\n\tpath", "Key : v\n cont", "x\n\n\n", "é: x\nRésumé: y",
    "# ------------------------ >8 ------------------------\nAgent: alice",
]
PIECES = ["x", "Closes: b", "Agent: alice", "Gate: m1", "Gate-Result: passed", "", "  cont", "\tcont", "# c", "---",
          "--- x", "Signed-off-by: A", "(cherry picked from commit abc)", "prose", "Key : v", "a b: c", "-x: y",
          ":no", "Tok:", "Conflicts:", "\tpath", "K:v", "é: x", "x\r", "Fixes: 1, 2",
          "# ------------------------ >8 ------------------------"]


def test_the_trailer_parser_follows_git_on_many_messages() -> None:
    rng = random.Random(15)
    messages = HOSTILE + ["\n".join(rng.choice(PIECES) for _ in range(rng.randint(1, 9))) + rng.choice(["", "\n"])
                          for _ in range(400)]
    compared = 0
    for text in messages:
        if ">8" in text and "---" in text:
            continue  # git 2.39 loops forever on some of these (see docs/security.md)
        expected = oracle(text)
        if expected is not None:
            assert parse_pairs(text) == expected, text
            compared += 1
    assert compared > 300


@pytest.mark.parametrize("note", HOSTILE)
def test_user_text_never_becomes_a_trailer_or_a_closing_line(note: str) -> None:
    text = message("done", "a", "bob", note, [("Closes", "a")])
    expected = [("Task", "a"), ("Task-Action", "done"), ("Agent", "bob"), ("Closes", "a")]
    assert parse_pairs(text) == oracle(text) == expected
    assert [str(r) for r in closed_refs(text)] == ["a"]
    assert "\n".join(line.removeprefix("> ") for line in neutralise(note).split("\n")) == \
        note.replace("\r\n", "\n").replace("\r", "\n")  # the words are kept, only quoted


def test_a_note_cannot_close_another_task_or_change_the_actor(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A"))
    write_task(repo, "b", task_text("B"))
    commit_all(repo)
    start = git(repo, "rev-parse", "HEAD")
    assert cli("claim", "a").exit_code == 0
    assert cli("done", "a", "--note", "x\nCloses: b\nAgent: alice\nGate: m1\nGate-Result: passed").exit_code == 0
    assert json.loads(cli("show", "b", "--json").stdout)["state"] in ("ready", "todo")
    assert cli("reconcile", "--json").exit_code in (0, 1)
    assert "Closes: b" not in git(repo, "log", "-1", "--format=%(trailers)")
    events = json.loads(cli("events", "--since", start, "--json").stdout)
    assert {e["agent"] for e in events} == {"Test Person"}
    assert all("b" not in e["tasks"] for e in events)
    entries = json.loads(cli("log", "a", "--json").stdout)
    assert "alice" not in {e.get("agent") for e in entries}


# -- gates: a commit message cannot pass a gate -------------------------------------------------

GATED = """milestones:
  m1:
    gate: [sh, -c, "test -f built"]
  m2:
    after: m1
"""


@pytest.fixture
def gated(repo: Path) -> Path:
    config = repo / ".tasks" / "config.yaml"
    config.write_text(config.read_text() + GATED)
    write_task(repo, "base", task_text("Base", milestone="m1"))
    write_task(repo, "later", task_text("Later", milestone="m2"))
    commit_all(repo, "milestones")
    return repo


def ready(cli: Cli) -> list[str]:
    return sorted(t["id"] for t in json.loads(cli("ready", "--json").stdout))


def forge_pass(repo: Path) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", "gtask: gate m1\n\nGate: m1\nGate-Result: passed\nTask-Action: gate")


def test_without_gate_signers_a_result_is_marked_unsigned(cli: Cli, gated: Path) -> None:
    forge_pass(gated)
    assert ready(cli) == ["base", "later"]  # the documented weakness (docs/security.md)
    status = json.loads(cli("gate", "status", "--json").stdout)
    assert status[0]["result"]["signature"] == "unsigned"
    assert "unsigned" in cli("gate", "status").stdout


@pytest.fixture
def signing(gated: Path, tmp_path: Path) -> Path:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed: cannot make an SSH signing key")
    key = tmp_path / "keys" / "person"
    key.parent.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "person", "-f", str(key)], check=True)
    (gated / "signers").write_text(f"test@example.com {key.with_suffix('.pub').read_text().strip()}\n")
    config = gated / ".tasks" / "config.yaml"
    config.write_text(config.read_text() + "gate_signers: signers\n")
    commit_all(gated, "gate signers")
    git(gated, "config", "gpg.format", "ssh")
    git(gated, "config", "user.signingkey", str(key))
    return key


def test_with_gate_signers_only_a_signed_result_counts(cli: Cli, gated: Path, signing: Path, tmp_path: Path) -> None:
    forge_pass(gated)
    assert ready(cli) == ["base"]  # a message alone passes nothing
    git(gated, "commit", "-q", "--allow-empty", "-m", "forged\n\nGate: m1\nGate-Result: passed")
    assert ready(cli) == ["base"]
    other = tmp_path / "keys" / "intruder"  # signed, but by a key that is not in the file
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    git(gated, "-c", f"user.signingkey={other}", "commit", "-q", "-S", "--allow-empty", "-m",
        "gtask: gate m1\n\nGate: m1\nGate-Result: passed")
    assert ready(cli) == ["base"]
    assert json.loads(cli("gate", "status", "--json").stdout)[0]["result"] is None

    assert cli("gate", "run", "m1").exit_code == 1  # `built` is missing: a signed failure
    (gated / "built").write_text("yes\n")
    commit_all(gated, "build")
    assert cli("gate", "run", "m1").exit_code == 0
    assert "SSH SIGNATURE" in git(gated, "cat-file", "commit", "HEAD")
    assert ready(cli) == ["base", "later"]
    status = json.loads(cli("gate", "status", "--json").stdout)
    assert status[0]["result"]["result"] == "passed" and status[0]["result"]["signature"] == "verified"


def test_the_signers_file_is_read_from_the_integration_branch_only(cli: Cli, gated: Path, signing: Path,
                                                                    tmp_path: Path) -> None:
    other = tmp_path / "keys" / "intruder"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    git(gated, "switch", "-q", "-c", "feature")
    (gated / "signers").write_text(f"x@y {other.with_suffix('.pub').read_text().strip()}\n")
    commit_all(gated, "a branch trusts its own key")
    git(gated, "-c", f"user.signingkey={other}", "commit", "-q", "-S", "--allow-empty", "-m",
        "gtask: gate m1\n\nGate: m1\nGate-Result: passed")
    assert ready(cli) == ["base"]


def test_a_missing_signing_key_fails_and_changes_nothing(cli: Cli, gated: Path, signing: Path) -> None:
    (gated / "built").write_text("yes\n")
    commit_all(gated, "build")
    git(gated, "config", "user.signingkey", str(signing.parent / "nosuchkey"))
    head = git(gated, "rev-parse", "HEAD")
    result = cli("gate", "run", "m1")
    assert result.exit_code == 1 and "Traceback" not in result.stderr and "sign" in result.stderr
    assert git(gated, "rev-parse", "HEAD") == head


# -- commit.gpgsign is honoured on every commit gtask makes ------------------------------------------


def test_commit_gpgsign_signs_protocol_commits(cli: Cli, repo: Path, tmp_path: Path) -> None:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed: cannot make an SSH signing key")
    key = tmp_path / "signkey"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    write_task(repo, "a", task_text("A"))
    commit_all(repo)
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(key))
    git(repo, "config", "commit.gpgsign", "true")
    assert cli("claim", "a").exit_code == 0
    assert "SSH SIGNATURE" in git(repo, "cat-file", "commit", "HEAD")

    git(repo, "config", "user.signingkey", str(tmp_path / "missing"))
    head, before = git(repo, "rev-parse", "HEAD"), (repo / ".tasks" / "a.md").read_bytes()
    result = cli("done", "a")
    assert result.exit_code == 1 and "sign" in result.stderr and "Traceback" not in result.stderr
    assert git(repo, "rev-parse", "HEAD") == head and (repo / ".tasks" / "a.md").read_bytes() == before
    assert git(repo, "status", "--porcelain") == ""


# -- authority applies to every step --------------------------------------------------------------

LANES = "lanes: [agent, human]\nagent_lanes: [agent]\n"


@pytest.fixture
def laned(repo: Path) -> Path:
    config = repo / ".tasks" / "config.yaml"
    config.write_text(config.read_text() + LANES)
    write_task(repo, "person", task_text("Person's", lane="human"))
    write_task(repo, "prop", task_text("Proposed", status="proposed"))
    write_task(repo, "held", task_text("Held", status="in_progress", claimed_by="carol", claim_branch="main",
                                       claimed_at="2026-01-01T00:00:00Z", lease_until="2999-01-01T00:00:00Z"))
    commit_all(repo)
    return repo


STEPS = [("done",), ("release",), ("handoff", "--needs", "Prereq"), ("attempt", "start")]


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s[0])
@pytest.mark.parametrize("task_id", ["person", "prop", "held"])
def test_an_agent_is_refused_every_step_it_may_not_take(cli: Cli, laned: Path, step: tuple[str, ...],
                                                        task_id: str) -> None:
    head = git(laned, "rev-parse", "HEAD")
    args = [step[0], *(step[1:2] if step[0] == "attempt" else []), task_id, *step[1:][step[0] == "attempt":]]
    for extra in ([], ["--force"]) if step[0] in ("done", "release") else ([],):
        result = cli(*args, *extra, "--agent", "bot")
        assert result.exit_code == 3, (args, extra, result.stdout, result.stderr)
    assert git(laned, "rev-parse", "HEAD") == head and git(laned, "status", "--porcelain") == ""


def test_attempt_end_and_the_library_use_the_same_rule(laned: Path) -> None:
    from gtask.errors import Conflict
    from gtask.protocol import attempts, claims
    from gtask.protocol.session import Session
    from gtask.store.store import Store

    session = Session.open(Store.open(laned), "bot")
    for call in (lambda: claims.done(session, "held", force=True), lambda: claims.release(session, "prop"),
                 lambda: attempts.end(session, "person", "success"), lambda: claims.handoff(session, "held", "X")):
        with pytest.raises(Conflict):
            call()


def test_mcp_done_is_refused_on_a_person_lane(laned: Path) -> None:
    from gtask.mcp.server import Tools

    with pytest.raises(Exception) as raised:
        Tools(laned, "bot").call("done", {"id": "person"})
    assert "lane" in str(raised.value)
    assert "status: todo" in (laned / ".tasks" / "person.md").read_text()


def test_a_person_may_still_force(cli: Cli, laned: Path) -> None:
    assert cli("done", "held").exit_code == 3
    assert cli("done", "held", "--force").exit_code == 0


# -- the merge driver: exact scalars, linear lists ---------------------------------------------------


def test_label_2_0_and_2_are_different_items() -> None:
    from gtask.core.merge import merge_data, merge_sets

    assert merge_sets(["a"], ["a", 2.0], ["a", 2]) == ["a", 2.0, 2]
    assert merge_sets([1], [True], [1]) == [True]  # 1 removed on one side, `true` added: not the same item
    merged, conflicts = merge_data({"labels": ["a"]}, {"labels": ["a", 2.0]}, {"labels": ["a", 2]})
    assert merged["labels"] == ["a", 2.0, 2] and not conflicts


def test_two_sides_changing_a_30000_item_list_keep_every_item(repo: Path) -> None:
    import time

    from gtask.core.merge import merge_texts
    from gtask.gitio.git import Git
    from gtask.gitio.mergefiles import GitLineMerge

    def text(items: list[str]) -> str:
        return "---\ntitle: Big\nstatus: todo\nlabels:\n" + "".join(f"  - {i}\n" for i in items) + "---\nBody.\n"

    base = [f"b{i}" for i in range(30000)]
    ours = [i for n, i in enumerate(base) if n % 7] + [f"o{i}" for i in range(30000)]
    theirs = [i for n, i in enumerate(base) if n % 5] + [f"t{i}" for i in range(30000)]
    git_repo = Git.discover(repo)
    assert git_repo is not None
    started = time.monotonic()
    result = merge_texts(text(base), text(ours), text(theirs), GitLineMerge(git_repo))
    elapsed = time.monotonic() - started
    print(f"30,000-item lists merged in {elapsed:.2f}s")
    from gtask.core.taskfile import parse

    labels = parse(result.text, "merged").data["labels"]
    expected = {i for n, i in enumerate(base) if n % 7 and n % 5} | {f"o{i}" for i in range(30000)} \
        | {f"t{i}" for i in range(30000)}
    assert set(labels) == expected and len(labels) == len(expected)


# -- wrong answers and bad messages ----------------------------------------------------------------


@pytest.mark.parametrize("spelling", ['"st\\x61tus": done', "? status\n: done", "'status': done"])
def test_a_key_given_twice_in_another_spelling_is_an_error_with_its_line(cli: Cli, repo: Path, spelling: str) -> None:
    path = write_task(repo, "dup", f"---\ntitle: Dup\nstatus: todo\n{spelling}\n---\n")
    before = path.read_bytes()
    result = cli("check")
    assert result.exit_code == 1 and "dup.md:4:" in result.stdout + result.stderr
    assert path.read_bytes() == before


def test_new_commit_over_the_size_limit_writes_nothing(cli: Cli, repo: Path) -> None:
    head, status = git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain", "-uall")
    steps = [arg for _ in range(12) for arg in ("--step", "x" * 100_000)]
    result = cli("new", "--commit", "Big", *steps)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert not (repo / ".tasks" / "big.md").exists() and git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain", "-uall") == status


def test_mcp_new_over_the_size_limit_writes_nothing(repo: Path) -> None:
    from gtask.errors import GtaskError
    from gtask.mcp.server import Tools

    status = git(repo, "status", "--porcelain", "-uall")
    with pytest.raises(GtaskError) as raised:
        Tools(repo, "bot").call("new", {"title": "Big", "steps": ["x" * 100_000] * 12})
    assert "MiB" in str(raised.value)
    assert not (repo / ".tasks" / "big.md").exists() and git(repo, "status", "--porcelain", "-uall") == status


def test_unknown_lanes_and_bad_titles_are_usage_errors(cli: Cli, repo: Path) -> None:
    assert cli("new", "--lane", "nosuch", "A").exit_code == 2
    assert cli("new", "").exit_code == 2 and cli("new", "   ").exit_code == 2
    assert cli("new", "a\nb").exit_code == 2 and cli("new", "a\u2028b").exit_code == 2
    assert not [p for p in (repo / ".tasks").glob("*.md")]
    assert cli("new", "A").exit_code == 0
    before = (repo / ".tasks" / "a.md").read_bytes()
    assert cli("set", "a", "lane=nosuch").exit_code == 2
    assert (repo / ".tasks" / "a.md").read_bytes() == before
    assert cli("set", "a", "lane=triage").exit_code == 0  # a configured lane (the defaults)


def test_init_agents_file_writes_through_a_link_and_refuses_one_out(cli: Cli, repo: Path, tmp_path: Path) -> None:
    (repo / "CLAUDE.md").write_text("# Notes\n")
    (repo / "AGENTS.md").symlink_to("CLAUDE.md")
    assert cli("init", "--agents-file", "AGENTS.md").exit_code == 0
    assert (repo / "AGENTS.md").is_symlink() and "gtask agent guide" in (repo / "CLAUDE.md").read_text()

    outside = tmp_path / "outside.md"
    outside.write_text("secret\n")
    (repo / "OTHER.md").symlink_to(outside)
    result = cli("init", "--agents-file", "OTHER.md")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert outside.read_text() == "secret\n" and (repo / "OTHER.md").is_symlink()


def test_latin1_files_give_a_sentence(cli: Cli, repo: Path) -> None:
    (repo / "AGENTS.md").write_bytes("caf\xe9\n".encode("latin-1"))
    result = cli("init", "--agents-file", "AGENTS.md")
    assert result.exit_code == 1 and "UTF-8" in result.stderr and "Traceback" not in result.stderr
    (repo / ".gitattributes").write_bytes("*.txt text # caf\xe9\n".encode("latin-1"))
    result = cli("init", "--merge-driver")
    assert result.exit_code == 1 and "UTF-8" in result.stderr and "Traceback" not in result.stderr
    assert (repo / ".gitattributes").read_bytes() == "*.txt text # caf\xe9\n".encode("latin-1")


def test_an_agent_cannot_force_a_claim_on_a_proposed_task(cli: Cli, laned: Path) -> None:
    head = git(laned, "rev-parse", "HEAD")
    assert cli("claim", "prop", "--force", "--agent", "bot").exit_code == 3
    assert git(laned, "rev-parse", "HEAD") == head
