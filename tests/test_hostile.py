"""Hostile input: task files written by an untrusted agent or branch, driven through the real CLI.

Each attack runs through every read path that matters: the work tree (`list`, `ready`, `blocked`,
`order`, `check`, `graph`, `show`), git objects of the integration branch (`view`) and of other
branches (`status`), and the write paths (`set`, `claim`). The rules: the documented exit code,
no traceback, the valid tasks still listed, the broken file reported by name, nothing unsafe
printed to a terminal, and the hostile file byte-for-byte unchanged. The bad-file cases that
tests/test_bad_input.py already covers on the work tree (alias bomb, over 1 MiB, not UTF-8,
a symbolic link to a file outside) appear here only for the paths it does not cover.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Cli, CliResult, git, run_process, task_text, write_task
from gtask.core import taskfile
from gtask.errors import InvalidTask

VALID = {"alpha": task_text("Alpha task"), "beta": task_text("Beta task", priority="1")}
# What must never reach a terminal raw: C0 controls but tab and newline, DEL, C1 controls,
# line separators, bidi overrides and isolates, lone surrogates.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                    "\ud800-\udfff]")
PWNED = "pwned-by-yaml"
# An OSC 52 sequence writes the terminal's clipboard; the others clear the screen, colour, move the cursor
# (0x9b is CSI in one byte), ring the bell, and reverse the text that follows (U+202E).
ESCAPES = "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07\x1b[2J\x1b[31m\x9b1;1H\x07\x08\x7f\r\u202eevil\u2066\u2028"


# -- helpers -------------------------------------------------------------------


def fm(*lines: str, body: str = "Body.\n") -> bytes:
    return ("---\n" + "\n".join(lines) + "\n---\n" + body).encode()


def commit_all(repo: Path, message: str = "tasks") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def write_valid(repo: Path) -> None:
    for task_id, text in VALID.items():
        write_task(repo, task_id, text)


def on_branch(repo: Path, branch: str, files: dict[str, bytes]) -> None:
    """Commit task files on another branch (an agent's), then come back to main."""
    git(repo, "checkout", "-q", "-b", branch)
    for task_id, content in files.items():
        write_task(repo, task_id, content)
    commit_all(repo, f"work on {branch}")
    git(repo, "checkout", "-q", "main")


def assert_terminal_safe(*texts: str) -> None:
    for text in texts:
        found = UNSAFE.search(text)
        assert found is None, f"raw {found.group()!r} in output: {text[max(0, found.start() - 80):found.start() + 40]!r}"


def snapshot(repo: Path) -> dict:
    """Every file of the work tree (bytes, or a link's target) and every ref: what a refusal must not change."""
    files: dict[str, bytes | str] = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo)
        if ".git" in rel.parts:
            continue
        if path.is_symlink():
            files[rel.as_posix()] = f"-> {os.readlink(path)}"
        elif path.is_file():
            files[rel.as_posix()] = path.read_bytes()
    return {"files": files, "refs": git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
            "index": git(repo, "ls-files", "-s")}


def readers(repo: Path, check_code: int) -> list[tuple[tuple[str, ...], int, bool]]:
    """Every read command: its arguments, its exit code, and whether it lists the valid tasks on stdout."""
    return [
        (("list",), 0, True), (("list", "--json"), 0, True), (("ready",), 0, True), (("ready", "--json"), 0, True),
        (("blocked",), 0, False), (("order",), 0, True), (("check",), check_code, False),
        (("check", "--json"), check_code, False), (("graph",), 0, True), (("graph", "--format", "dot"), 0, True),
        (("graph", "--json"), 0, True), (("status",), 0, True), (("status", "--json"), 0, True),
        (("view", str(repo)), 0, True), (("view", str(repo), "--json"), 0, True),
    ]


def run_readers(cli: Cli, repo: Path, reported: list[str], check_code: int = 1) -> dict[tuple[str, ...], CliResult]:
    """Run every reader; each exits as documented, lists the valid tasks, names each broken file, prints safely."""
    results = {}
    for args, code, lists_valid in readers(repo, check_code):
        result = cli(*args)
        results[args] = result
        assert "Traceback" not in result.stderr, (args, result.stderr)
        assert result.exit_code == code, (args, result.exit_code, result.stdout[-2000:], result.stderr[-2000:])
        assert_terminal_safe(result.stdout, result.stderr)
        if "--json" in args:
            json.loads(result.stdout)  # one JSON document, even with broken files around
        if lists_valid:
            for task_id in VALID:
                assert task_id in result.stdout, (args, result.stdout[-2000:])
        for label in reported:
            assert label in result.stdout + result.stderr, (args, label, result.stdout[-2000:], result.stderr[-2000:])
    return results


def gtask_bytes(cwd: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess[bytes]:
    """Run the real `gtask` in its own process and keep its output as bytes (what a terminal would get)."""
    return subprocess.run([sys.executable, "-m", "gtask", *args], cwd=cwd, capture_output=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


# -- files that must be refused ------------------------------------------------------------


def _laughs() -> bytes:
    names = "abcdefghi"
    lines = ["title: Laughs", "status: todo", "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]" for p, n in zip(names, names[1:])]
    return fm(*lines)


REFUSED = {
    # YAML tags that would construct Python objects or run code under an unsafe loader.
    "python-object-apply": (fm(f'title: !!python/object/apply:os.system ["touch {PWNED}"]', "status: todo"),
                            "constructor"),
    "python-object-new": (fm("status: todo", f'title: !!python/object/new:subprocess.check_output [["touch", "{PWNED}"]]'),
                          "constructor"),
    "python-name": (fm("title: T", "status: todo", "hook: !!python/name:os.system"), "constructor"),
    "python-module": (fm("title: T", "status: todo", "hook: !!python/module:os"), "constructor"),
    "python-tuple": (fm("title: T", "status: todo", "pair: !!python/tuple [1, 2]"), "constructor"),
    # Tags the safe loader knows but that build values JSON cannot carry (bytes, sets, datetimes).
    "binary-title": (fm("title: !!binary aGVsbG8=", "status: todo"), "not allowed"),
    "binary-unknown-key": (fm("title: T", "status: todo", "blob: !!binary aGVsbG8="), "not allowed"),
    "set-tag": (fm("title: T", "status: todo", "things: !!set {a, b}"), "not allowed"),
    "timestamp-tag": (fm("title: T", "status: todo", "when: !!timestamp 2026-01-01"), "not allowed"),
    "custom-tag": (fm("title: !shell rm -rf ~", "status: todo"), "constructor"),
    "verbatim-tag": (fm("title: T", "status: todo", "run: !<tag:example.com,2026:exec> ls"), "constructor"),
    # Aliases: the classic bomb, and a merge key that needs an alias.
    "alias-bomb": (_laughs(), "alias"),
    "alias-merge-key": (fm("title: T", "status: todo", "base: &b {x: 1}", "more: {<<: *b}"), "alias"),
    # Deep nesting: libyaml composes recursively in C and crashed the process (segmentation fault).
    # Who refuses it (gtask's depth check or a newer PyYAML's own) is not asserted, only that it is
    # refused at the nesting line (None: no wording of ours to check).
    "nested-10k-lists": (fm("title: T", "status: todo", "deep: " + "[" * 10_000), None),
    "nested-100k-lists": (fm("title: T", "status: todo", "deep: " + "[" * 100_000), None),
    "nested-100k-closed": (fm("title: T", "status: todo", "deep: " + "[" * 100_000 + "]" * 100_000), None),
    "nested-100k-maps": (fm("title: T", "status: todo", "deep: " + "{a: " * 100_000), None),
    "nested-100k-block": (fm("title: T", "status: todo", "deep:", "  " + "- " * 100_000 + "x"), None),
    # Bytes that are not text.
    "nul-in-front-matter": (b"---\ntitle: a\0b\nstatus: todo\n---\nBody.\n", "NUL"),
    "nul-in-body": (b"---\ntitle: T\nstatus: todo\n---\nBody \0 here.\n", "NUL"),
    "invalid-utf8-in-body": (b"---\ntitle: T\nstatus: todo\n---\nBody \xff\xfe here.\n", "UTF-8"),
    "utf16-with-bom": (task_text("Sixteen").encode("utf-16"), "NUL"),
    "raw-escape-in-front-matter": (fm("title: \x1b]52;c;aGk=\x07 sneaky", "status: todo"), "YAML"),
    "title-of-10-MB": (fm("title: " + "x" * 10_000_000, "status: todo"), "1 MiB"),
}


@pytest.mark.parametrize("attack", sorted(REFUSED))
def test_hostile_file_is_refused_everywhere_and_never_rewritten(cli: Cli, repo: Path, attack: str) -> None:
    content, words = REFUSED[attack]
    write_valid(repo)
    path = write_task(repo, "hostile", content)
    commit_all(repo)  # `view` reads the integration branch from git objects
    on_branch(repo, "agent/evil", {"evil": content})  # `status` reads other branches' changed files
    label = ".tasks/hostile.md"
    before = snapshot(repo)

    results = run_readers(cli, repo, [label])
    check = results[("check",)]
    if words is not None:
        assert words.lower() in (check.stdout + check.stderr).lower(), check.stdout + check.stderr
    problems = [p for p in json.loads(results[("check", "--json")].stdout)["problems"] if p["path"] == label]
    assert problems and all(p["severity"] == "error" for p in problems)
    if attack.startswith("nested"):
        assert [p["line"] for p in problems] == [5 if attack.endswith("block") else 4], problems  # where it nests
    assert "hostile" not in [t["id"] for t in json.loads(results[("list", "--json")].stdout)]
    status = json.loads(results[("status", "--json")].stdout)
    assert "alpha" in [t["id"] for t in status["tasks"]]

    for args in (("show", "hostile"), ("show", "hostile", "--json"), ("set", "hostile", "priority=1"),
                 ("claim", "hostile", "--agent", "ann"), ("done", "hostile", "--agent", "ann")):
        result = cli(*args)
        assert result.exit_code == 1, (args, result.stdout, result.stderr)
        assert result.stdout == "" and label in result.stderr and "Traceback" not in result.stderr
        assert_terminal_safe(result.stderr)
    assert cli("show", "alpha").exit_code == 0
    result = cli("log", "hostile")
    assert result.exit_code == 0 and "Traceback" not in result.stderr
    assert_terminal_safe(result.stdout, result.stderr)

    assert path.read_bytes() == content
    assert snapshot(repo) == before
    assert not (repo / PWNED).exists() and not Path(PWNED).exists()


def test_deep_nesting_does_not_crash_a_real_process(repo: Path) -> None:
    """A crash in C (segmentation fault) is not an exception: run the real command in its own process."""
    write_valid(repo)
    content = fm("title: T", "status: todo", "deep: " + "[" * 100_000 + "]" * 100_000)
    write_task(repo, "deep", content)
    for args in (("list",), ("show", "deep"), ("check",)):
        result = gtask_bytes(repo, *args)
        assert result.returncode in (0, 1), (args, result.returncode, result.stderr[-500:])
        out = result.stderr + result.stdout
        assert b".tasks/deep.md:4:" in out and b"error" in out  # refused at its line
    assert (repo / ".tasks" / "deep.md").read_bytes() == content


# -- valid files full of escape sequences ---------------------------------------------------


def _escaped(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar: escapes such as \u001b


HOSTILE_TITLE = f"Fix {ESCAPES} login"


def _hostile_task() -> bytes:
    return fm(
        f"title: {_escaped(HOSTILE_TITLE)}",
        "status: todo",
        f"labels: [{_escaped(ESCAPES)}, plain]",
        f"trigger: {_escaped('soon ' + ESCAPES)}",
        f"steps: [{_escaped('step ' + ESCAPES)}]",
        f"risks: [{_escaped('risk ' + ESCAPES)}]",
        f"assignee: {_escaped(ESCAPES)}",
        f"milestone: {_escaped('m' + ESCAPES)}",
        f"{_escaped('key' + ESCAPES)}: {_escaped(ESCAPES)}",  # an unknown key, passed through under `extra`
        "depends_on: [alpha]",
        body=f"Raw in the body: {ESCAPES}\nand \x1b]8;;http://evil.example\x1b\\a link\x1b]8;;\x1b\\ too\n",
    )


def test_escape_sequences_are_never_printed_raw(cli: Cli, repo: Path) -> None:
    write_valid(repo)
    content = _hostile_task()
    path = write_task(repo, "hostile", content)
    # A reference that is not valid, and a file name that is not a valid ID, both full of escapes.
    write_task(repo, "badref", fm("title: Bad ref", "status: todo", f"depends_on: [{_escaped(ESCAPES + '../x')}]"))
    write_task(repo, f"evil{ESCAPES.replace(chr(0x2028), '')}", task_text("Badly named"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"{ESCAPES} subject of an untrusted commit\n\nbody {ESCAPES}")
    on_branch(repo, "agent/evil", {"hostile": content.replace(b"status: todo", b"status: done")})

    results = run_readers(cli, repo, [".tasks/badref.md"])
    for args in (("show", "hostile"), ("show", "hostile", "--json"), ("log", "hostile"), ("log", "hostile", "--json"),
                 ("graph", "--root", "hostile"), ("graph", "--root", "hostile", "--format", "dot"),
                 ("show", ESCAPES), ("claim", ESCAPES, "--agent", "ann"), ("show", "badref")):
        result = cli(*args)
        results[args] = result
        assert "Traceback" not in result.stderr, (args, result.stderr)
        assert_terminal_safe(result.stdout, result.stderr)
    assert results[("show", ESCAPES)].exit_code == 4
    assert results[("show", "hostile")].exit_code == 0 and "\\x1b]52;c;" in results[("show", "hostile")].stdout
    assert "\\x1b]52;c;" in results[("log", "hostile")].stdout  # the commit subject, escaped

    # In JSON the values are escaped and come back exactly.
    shown = json.loads(results[("show", "hostile", "--json")].stdout)
    assert shown["title"] == HOSTILE_TITLE and shown["labels"] == [ESCAPES, "plain"]
    assert shown["assignee"] == ESCAPES and shown["extra"] == {"key" + ESCAPES: ESCAPES}
    assert shown["body"].startswith(f"Raw in the body: {ESCAPES}")
    listed = {t["id"]: t for t in json.loads(results[("list", "--json")].stdout)}
    assert listed["hostile"]["title"] == HOSTILE_TITLE
    nodes = {n["id"]: n for n in json.loads(results[("graph", "--json")].stdout)["nodes"]}
    assert nodes["hostile"]["title"] == HOSTILE_TITLE

    # A write keeps the hostile bytes of the body and of every other line exactly.
    result = cli("set", "hostile", "priority=1")
    assert result.exit_code == 0, result.stderr
    assert path.read_bytes() == content.replace(b"---\nRaw", b"priority: 1\n---\nRaw")


def test_escape_sequences_given_to_set_are_stored_escaped(cli: Cli, repo: Path) -> None:
    path = write_task(repo, "t", task_text("Plain"))
    result = cli("set", "t", f"title={HOSTILE_TITLE}", f"labels+={ESCAPES}")
    assert result.exit_code == 0, result.stderr
    stored = path.read_bytes()
    assert re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", stored.decode()) is None, stored  # escapes, not raw controls
    shown = json.loads(cli("show", "t", "--json").stdout)
    assert shown["title"] == HOSTILE_TITLE and shown["labels"] == [ESCAPES]
    result = cli("list")
    assert_terminal_safe(result.stdout, result.stderr)


def test_a_real_terminal_gets_colour_codes_and_nothing_else(repo: Path) -> None:
    """Under a pseudo-terminal (colour on), the only escape sequences are gtask's own SGR colour codes."""
    write_valid(repo)
    write_task(repo, "hostile", _hostile_task())
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm"
    for args in (("list",), ("show", "hostile"), ("ready",), ("graph", "--format", "dot"), ("check",)):
        output = _run_in_pty(repo, env, *args)
        assert b"\x1b[" in output or args[0] in ("graph", "check"), "colour should be on under a terminal"
        text = re.sub(rb"\x1b\[[0-9;]*m", b"", output).decode("utf-8", "surrogateescape")
        assert_terminal_safe(text.replace("\r\n", "\n"))


def _run_in_pty(cwd: Path, env: dict[str, str], *args: str) -> bytes:
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "gtask", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
        proc.wait(timeout=60)
    assert proc.returncode in (0, 1), (args, b"".join(chunks)[-500:])
    return b"".join(chunks)


def test_file_name_that_is_not_utf8_is_reported_not_a_crash(repo: Path) -> None:
    """The name comes back from the file system as a lone surrogate: it cannot even be encoded as it is."""
    write_valid(repo)
    name = os.fsencode(repo / ".tasks") + b"/bad\xff\x1b[2J.md"
    with open(name, "wb") as handle:
        handle.write(task_text("Not UTF-8 name").encode())
    for args in (("list",), ("list", "--json"), ("check",), ("check", "--json"), ("graph",), ("status",)):
        result = gtask_bytes(repo, *args)
        assert b"Traceback" not in result.stderr, (args, result.stderr.decode("utf-8", "replace"))
        assert result.returncode == (1 if args[0] == "check" else 0), (args, result.stderr)
        text = (result.stdout + result.stderr).decode("utf-8")  # strictly UTF-8: nothing raw slipped out
        assert_terminal_safe(text)
        assert "bad\\udcff" in text  # the name, escaped
        if args[0] != "check":
            assert "alpha" in text


# -- references and ID arguments that try to leave `.tasks/` ---------------------------------------

TRAVERSALS = ["../x", "../../x", "../../etc/passwd", "/etc/passwd", "proj:../x", "demo:../x", "..", ".", "a/b",
              "..\\x", "x/../../x", "./x", "~/x", "%2e%2e/x", "x\0y", "..\u2215x"]


def test_references_never_read_outside_the_task_folder(cli: Cli, repo: Path) -> None:
    write_valid(repo)
    secret = task_text("OUTSIDE SECRET").encode()
    (repo / "x.md").write_bytes(secret)  # `.tasks/../x.md`: would parse as a task if it were ever read
    (repo.parent / "x.md").write_bytes(secret)  # `.tasks/../../x.md`
    refs = ", ".join(json.dumps(ref) for ref in TRAVERSALS)
    path = write_task(repo, "trav", fm("title: Traversal", "status: todo", f"depends_on: [{refs}]"))
    content = path.read_bytes()
    commit_all(repo)
    before = snapshot(repo)

    results = run_readers(cli, repo, [".tasks/trav.md"])
    report = results[("check",)].stdout + results[("check",)].stderr
    for ref in TRAVERSALS:
        assert f"{ref!r} is not a valid reference" in report, (ref, report)
    for result in results.values():
        assert "OUTSIDE SECRET" not in result.stdout + result.stderr
        assert "root:" not in result.stdout + result.stderr

    for args in (("show", "trav"), ("show", "trav", "--json"), ("set", "trav", "priority=1")):
        result = cli(*args)
        assert result.exit_code == 1 and "not a valid reference" in result.stderr, (args, result.stderr)

    assert path.read_bytes() == content
    assert snapshot(repo) == before


@pytest.mark.parametrize("task_id", ["../x", "../../x", "/etc/passwd", "..", ".", "a/b", "../.tasks/alpha",
                                     ".tasks/alpha", "x\0y", "../../../../../../../../etc/passwd"])
def test_id_arguments_never_reach_outside_the_task_folder(cli: Cli, repo: Path, task_id: str) -> None:
    write_valid(repo)
    (repo / "x.md").write_bytes(task_text("OUTSIDE SECRET").encode())
    (repo.parent / "x.md").write_bytes(task_text("OUTSIDE SECRET").encode())
    commit_all(repo)
    before = snapshot(repo)
    for args in (("show", task_id), ("show", task_id, "--json"), ("log", task_id), ("graph", "--root", task_id),
                 ("set", task_id, "status=done"), ("set", task_id, "status=done", "--commit"),
                 ("claim", task_id, "--agent", "ann"), ("release", task_id, "--agent", "ann"),
                 ("done", task_id, "--agent", "ann"), ("handoff", task_id, "--needs", "Prereq", "--agent", "ann"),
                 ("set", "alpha", f"depends_on+={task_id}"), ("new", "Escapee", "--depends-on", task_id),
                 ("handoff", "alpha", "--needs-id", task_id, "--agent", "ann")):
        result = cli(*args)
        # `new` reports the bad reference as an invalid file (exit 1) that it never wrote
        expected = (1, 2) if args[0] == "new" else (2, 4)
        assert result.exit_code in expected, (args, result.exit_code, result.stdout, result.stderr)
        assert "OUTSIDE SECRET" not in result.stdout + result.stderr and "Traceback" not in result.stderr
        assert_terminal_safe(result.stdout, result.stderr)
    assert snapshot(repo) == before


# -- links, FIFOs and folders in `.tasks/` -------------------------------------------------


def test_committed_link_out_of_the_task_folder_is_not_followed(cli: Cli, repo: Path) -> None:
    """test_bad_input covers a link on the work tree; here a branch commits one (relative, to `../x.md`)."""
    write_valid(repo)
    secret = task_text("OUTSIDE SECRET").encode()
    (repo / "x.md").write_bytes(secret)
    link = repo / ".tasks" / "linked.md"
    link.symlink_to("../x.md")
    commit_all(repo)
    git(repo, "checkout", "-q", "-b", "agent/evil")
    (repo / ".tasks" / "sneaky.md").symlink_to("../x.md")
    commit_all(repo, "a link on a branch")
    git(repo, "checkout", "-q", "main")
    before = snapshot(repo)

    results = run_readers(cli, repo, [".tasks/linked.md"])
    for result in results.values():
        assert "OUTSIDE SECRET" not in result.stdout + result.stderr
    view = results[("view", str(repo))]
    assert "linked.md" in view.stderr and "symbolic link" in view.stderr
    for args in (("show", "linked"), ("set", "linked", "priority=1"), ("claim", "linked", "--agent", "ann"),
                 ("show", "sneaky")):
        result = cli(*args)
        assert result.exit_code in (1, 4), (args, result.stdout, result.stderr)
        assert "OUTSIDE SECRET" not in result.stdout + result.stderr
    assert (repo / "x.md").read_bytes() == secret
    assert snapshot(repo) == before


def _link_task_folder_out(repo: Path, outside: Path) -> bytes:
    """Make `.tasks` a link to a folder outside the repository, as a branch can commit it."""
    outside.mkdir()
    secret = task_text("OUTSIDE SECRET").encode()
    (outside / "x.md").write_bytes(secret)
    for entry in (repo / ".tasks").iterdir():
        entry.unlink()
    (repo / ".tasks").rmdir()
    (repo / ".tasks").symlink_to(outside)
    return secret


def test_task_folder_that_is_a_link_out_of_the_repository(cli: Cli, repo: Path, tmp_path: Path) -> None:
    """A branch can commit `.tasks` itself as a link to any folder: gtask reads and edits nothing there."""
    outside = tmp_path / "elsewhere"
    secret = _link_task_folder_out(repo, outside)
    for args in (("list",), ("list", "--json"), ("check",), ("ready",), ("graph",), ("show", "x"),
                 ("set", "x", "priority=1")):
        result = cli(*args)
        assert "OUTSIDE SECRET" not in result.stdout + result.stderr, args
        assert "symbolic link" in result.stderr + result.stdout, (args, result.stdout, result.stderr)
        assert result.exit_code == (0 if args[0] in ("list", "ready", "graph") else 1), (args, result.stderr)
    assert sorted(p.name for p in outside.iterdir()) == ["x.md"]
    assert (outside / "x.md").read_bytes() == secret


@pytest.mark.parametrize("args", [("new", "Made outside"), ("claim", "x", "--agent", "ann")])
def test_task_folder_link_is_refused_by_new_and_claim(cli: Cli, repo: Path, tmp_path: Path, args: tuple) -> None:
    outside = tmp_path / "elsewhere"
    _link_task_folder_out(repo, outside)
    result = cli(*args)
    assert sorted(p.name for p in outside.iterdir()) == ["x.md"]
    assert result.exit_code == 1 and "symbolic link" in result.stderr, (result.exit_code, result.stderr)


def test_fifo_and_folder_named_like_a_task_do_not_hang(repo: Path) -> None:
    """Opening a FIFO for reading waits for a writer: every command runs in its own process with a time limit."""
    write_valid(repo)
    os.mkfifo(repo / ".tasks" / "fifo.md")
    (repo / ".tasks" / "folder.md").mkdir()
    (repo / ".tasks" / "folder.md" / "inner").write_text("not a task\n")
    commit_all(repo)  # git skips the FIFO; the folder becomes a tree where a blob is expected
    for args in (("list",), ("check",), ("ready",), ("graph",), ("status",), ("view", str(repo)),
                 ("show", "fifo"), ("show", "folder"), ("set", "fifo", "priority=1"), ("set", "folder", "priority=1"),
                 ("claim", "fifo", "--agent", "ann"), ("claim", "folder", "--agent", "ann"), ("log", "fifo")):
        result = gtask_bytes(repo, *args, timeout=60)
        stderr = result.stderr.decode()
        assert "Traceback" not in stderr, (args, stderr)
        expected = {"check": 1, "show": 1, "set": 1, "claim": 1}.get(args[0], 0)
        assert result.returncode == expected, (args, result.returncode, stderr)
        if args[0] in ("list", "check", "show", "set", "claim"):
            assert "not a regular file" in stderr + result.stdout.decode(), (args, stderr)
    assert (repo / ".tasks" / "folder.md" / "inner").read_text() == "not a task\n"


def test_read_refuses_a_link_put_in_place_after_the_check() -> None:
    """The reader opens with O_NOFOLLOW: a link swapped in after the caller looked is refused, not followed."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "target.md"
        target.write_text(task_text("Outside"))
        link = Path(folder) / "t.md"
        link.symlink_to(target)
        with pytest.raises(InvalidTask, match="symbolic link"):
            taskfile.read(link, "t.md")


# -- sizes -------------------------------------------------------------------------------


def test_100000_dependencies(cli: Cli, repo: Path) -> None:
    """Every command finishes (the duplicate check was quadratic: minutes); times show only on failure."""
    write_valid(repo)
    refs = [f"d{i:x}" for i in range(100_000)]
    content = fm("title: Many", "status: todo", f"depends_on: [{', '.join(refs)}]")
    path = write_task(repo, "many", content)
    commit_all(repo)
    times = {}
    for args, code in ((("--no-cache", "list"), 0), (("show", "many", "--json"), 0), (("check",), 1),
                       (("status",), 0), (("view", str(repo)), 0),
                       (("set", "many", "priority=1"), 0)):
        start = time.monotonic()
        result = cli(*args)
        times[" ".join(args[:2])] = round(time.monotonic() - start, 2)
        assert result.exit_code == code, (args, times, result.stderr[-1000:])
        assert "Traceback" not in result.stderr
        if args == ("show", "many", "--json"):
            assert len(json.loads(result.stdout)["depends_on"]) == 100_000
    after = path.read_bytes()
    assert after == content.replace(b"]\n---\n", b"]\npriority: 1\n---\n")


def test_long_run_of_spaces_in_the_front_matter(cli: Cli, repo: Path) -> None:
    """A line of 900,000 spaces in a quoted title: finding top-level keys backtracked quadratically (minutes)."""
    write_valid(repo)
    content = fm('title: "Spaces', "x" + " " * 900_000 + 'y"', "status: todo")
    path = write_task(repo, "spaces", content)
    commit_all(repo)
    run_readers(cli, repo, [], check_code=0)
    assert json.loads(cli("show", "spaces", "--json").stdout)["title"].startswith("Spaces x")
    assert cli("claim", "spaces", "--agent", "ann").exit_code == 0
    assert path.read_bytes().startswith(content.split(b"status:")[0])


def test_one_line_title_just_under_the_limit(cli: Cli, repo: Path) -> None:
    write_valid(repo)
    title = "long " * 200_000  # 1,000,000 bytes on one line
    path = write_task(repo, "long", fm(f"title: {title.strip()}", "status: todo"))
    content = path.read_bytes()
    assert len(content) < taskfile.MAX_BYTES
    commit_all(repo)
    run_readers(cli, repo, [], check_code=0)
    assert path.read_bytes() == content


def test_integration_branch_name_cannot_leave_the_git_directory(cli: Cli, repo: Path) -> None:
    write_valid(repo)
    commit_all(repo)
    git(repo, "checkout", "-q", "-b", "evil")
    write_task(repo, "planted", task_text("FROM OUTSIDE THE GIT DIRECTORY"))
    planted = commit_all(repo, "planted")
    git(repo, "checkout", "-q", "main")
    git(repo, "branch", "-q", "-D", "evil")
    (repo.parent / "outside-ref").write_text(planted + "\n")  # .git/refs/heads/../../../../outside-ref
    (repo / ".tasks" / "config.yaml").write_text("project: demo\nintegration_branch: ../../../../outside-ref\n")
    result = cli("view", str(repo))
    assert "FROM OUTSIDE" not in result.stdout + result.stderr


def test_deeply_nested_plans_and_workspace_files_are_refused_not_crashed(repo: Path, tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "plan.yaml").write_text(f"tasks:\n  - title: x\n    steps: {deep}\n")
    plan = run_process(repo, "import", str(tmp_path / "plan.yaml"), "--no-commit")
    assert plan.returncode == 1 and "nested" in plan.stderr, plan.stderr
    (tmp_path / "gtask-workspace.yaml").write_text(f"repos: {deep}\n")
    view = run_process(repo, "view", "--workspace", str(tmp_path / "gtask-workspace.yaml"))
    assert view.returncode == 1 and "nested" in view.stderr and "Traceback" not in view.stderr, view.stderr


def test_a_write_to_a_file_with_a_megabyte_of_blanks_is_quick(cli: Cli, repo: Path) -> None:
    blanks = " " * 450_000  # two such runs: just under the 1 MiB limit
    path = write_task(repo, "wide", f"---\ntitle: Wide\nstatus: todo{blanks}\nlabels:\n  - a{blanks}b\n---\n")
    commit_all(repo)
    assert cli("set", "wide", "labels+=c", "priority=1").exit_code == 0  # took minutes with quadratic patterns
    assert path.read_text().startswith(f"---\ntitle: Wide\nstatus: todo{blanks}\nlabels:\n  - a{blanks}b\n  - c\n")


def test_a_config_that_is_a_fifo_or_a_link_is_refused(cli: Cli, repo: Path, tmp_path: Path) -> None:
    config = repo / ".tasks" / "config.yaml"
    config.unlink()
    os.mkfifo(config)
    result = run_process(repo, "list")  # must not wait for a writer
    assert result.returncode == 1 and "not a regular file" in result.stderr
    config.unlink()
    (tmp_path / "elsewhere.yaml").write_text("project: stolen\n")
    config.symlink_to(tmp_path / "elsewhere.yaml")
    result = run_process(repo, "list")
    assert result.returncode == 1 and "symbolic link" in result.stderr
