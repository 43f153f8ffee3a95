"""Attempts and stats: `attempt start|end` as protocol commits, the append-only writer, aggregation (real git)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import Cli, git, task_text, write_task
from gtask import Store
from gtask.core import taskfile
from gtask.plan import stats
from gtask.protocol.attempts import end, start
from gtask.cli.main import run
from gtask.core.model import Task
from gtask.protocol.session import Session
from gtask.core.writer import apply_changes

T0 = datetime(2026, 11, 22, 9, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """A settable clock for attempt times: tests move `clock[0]` forward."""
    now = [T0]
    monkeypatch.setattr("gtask.protocol.attempts.now_utc", lambda: now[0])
    return now


@pytest.fixture
def task(repo: Path) -> Path:
    write_task(repo, "fix", task_text("Fix login", labels="[api, auth]"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tasks")
    return repo / ".tasks" / "fix.md"


def attempts_of(cli: Cli, task_id: str = "fix") -> list[dict]:
    return json.loads(cli("show", task_id, "--json").stdout)["attempts"]


def ok(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# -- attempt start / end -----------------------------------------------------------


def test_start_and_end_are_one_commit_each_with_trailers(cli: Cli, repo: Path, task: Path, clock) -> None:
    started = ok(cli("attempt", "start", "fix", "--agent", "codex", "--json"))
    assert started["attempt"] == {"agent": "codex", "start": "2026-11-22T09:00:00+00:00"}
    assert started["commit"] == git(repo, "rev-parse", "HEAD") and started["task"]["id"] == "fix"
    assert git(repo, "log", "-1", "--format=%B") == (
        "gtask: attempt fix\n\nTask: fix\nTask-Action: attempt\nAgent: codex\nAttempt: start")
    (repo / "login.py").write_text("fixed\n")
    git(repo, "add", "login.py")
    git(repo, "commit", "-q", "-m", "Fix login")
    work = git(repo, "rev-parse", "HEAD")
    clock[0] = T0 + timedelta(minutes=12, seconds=5)

    ended = ok(cli("attempt", "end", "fix", "--agent", "codex", "--outcome", "failed", "--reason", "test_fail",
                   "--tokens", "1200", "--cost", "0.5", "--note", "flaky test", "--json"))

    expected = {"agent": "codex", "start": "2026-11-22T09:00:00+00:00", "end": "2026-11-22T09:12:05+00:00",
                "duration": 725, "outcome": "failed", "reason": "test_fail", "tokens": 1200, "cost": 0.5,
                "commit": work, "note": "flaky test"}
    assert ended["attempt"] == expected
    assert list(ended["attempt"]) == list(expected)  # the documented key order
    assert attempts_of(cli) == [expected]
    assert ended["commit"] == git(repo, "rev-parse", "HEAD") and git(repo, "rev-parse", "HEAD~1") == work
    assert git(repo, "log", "-1", "--format=%B") == (
        "gtask: attempt fix\n\nflaky test\n\nTask: fix\nTask-Action: attempt\nAgent: codex\n"
        "Attempt: end\nOutcome: failed\nReason: test_fail")
    assert git(repo, "rev-list", "--count", "HEAD") == "5"  # initial, tasks, start, work, end


def test_attempt_commits_leave_staged_and_unstaged_work_exactly(cli: Cli, repo: Path, task: Path) -> None:
    write_task(repo, "other", task_text("Other"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "other")
    (repo / "README.md").write_text("demo\nunstaged\n")
    (repo / "new.txt").write_text("staged new file\n")
    git(repo, "add", "new.txt")
    (repo / "new.txt").write_text("staged new file\nplus unstaged\n")
    write_task(repo, "other", task_text("Other", trigger="dirty"))
    before = (git(repo, "diff"), git(repo, "diff", "--cached"), git(repo, "status", "--porcelain"))

    assert cli("attempt", "start", "fix", "--agent", "a").exit_code == 0
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == ".tasks/fix.md"
    assert cli("attempt", "end", "fix", "--agent", "a", "--outcome", "success").exit_code == 0
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == ".tasks/fix.md"
    assert (git(repo, "diff"), git(repo, "diff", "--cached"), git(repo, "status", "--porcelain")) == before


def test_start_appends_and_keeps_hand_written_lines_byte_for_byte(cli: Cli, repo: Path) -> None:
    text = ("---\ntitle: Fix login\nstatus: todo\nattempts:\n"
            "  # the first try was by hand\n"
            "  - agent: human   # me\n"
            "    start: \"2026-01-01T00:00:00+00:00\"\n"
            "    end: 2026-01-01T00:10:00+00:00\n"
            "    outcome: failed\n"
            "    ticket: OPS-1\n"
            "priority: 1\n---\nBody.\n")
    path = write_task(repo, "fix", text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tasks")

    assert cli("attempt", "start", "fix", "--agent", "codex").exit_code == 0
    after = path.read_text()
    head, _, rest = text.partition("priority: 1\n")
    assert after.startswith(head)
    added = after[len(head):-len("priority: 1\n" + rest)]
    assert added.startswith("  - agent: codex\n    start: '") and added.count("\n") == 2
    assert after.endswith("priority: 1\n" + rest)
    assert [a["agent"] for a in attempts_of(cli)] == ["human", "codex"]


def test_end_rewrites_only_the_ended_attempt(cli: Cli, repo: Path, task: Path) -> None:
    assert cli("attempt", "start", "fix", "--agent", "a").exit_code == 0
    assert cli("attempt", "end", "fix", "--agent", "a", "--outcome", "abandoned").exit_code == 0
    text = task.read_text().replace("  - agent: a\n", "  # kept: a comment on the first attempt\n  - agent: a\n")
    task.write_text(text)
    git(task.parent.parent, "commit", "-q", "-am", "comment")
    assert cli("attempt", "start", "fix", "--agent", "a").exit_code == 0
    first = task.read_text()
    assert cli("attempt", "end", "fix", "--agent", "a", "--outcome", "success").exit_code == 0
    second = task.read_text()
    kept = first[:first.rindex("  - agent: a\n")]
    assert second.startswith(kept) and "# kept: a comment on the first attempt" in second
    assert second[len(kept):].startswith("  - agent: a\n    start: ")
    assert [a["outcome"] for a in attempts_of(cli)] == ["abandoned", "success"]


def test_two_agents_attempts_are_kept_apart(cli: Cli, repo: Path, task: Path, clock) -> None:
    assert cli("attempt", "start", "fix", "--agent", "alice").exit_code == 0
    clock[0] = T0 + timedelta(seconds=30)
    assert cli("attempt", "start", "fix", "--agent", "bob").exit_code == 0
    clock[0] = T0 + timedelta(seconds=100)
    assert cli("attempt", "end", "fix", "--agent", "alice", "--outcome", "success", "--tokens", "5").exit_code == 0
    attempts = attempts_of(cli)
    assert [(a["agent"], a.get("outcome"), a.get("duration")) for a in attempts] == [
        ("alice", "success", 100), ("bob", None, None)]
    result = cli("attempt", "end", "fix", "--agent", "alice", "--outcome", "failed")
    assert result.exit_code == 3 and "alice has no open attempt on fix" in result.stderr
    clock[0] = T0 + timedelta(seconds=130)
    assert cli("attempt", "end", "fix", "--agent", "bob", "--outcome", "failed").exit_code == 0
    assert [(a["agent"], a["outcome"], a["duration"]) for a in attempts_of(cli)] == [
        ("alice", "success", 100), ("bob", "failed", 100)]


def test_agent_comes_from_the_environment(cli: Cli, task: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GTASK_AGENT", "env-agent")
    assert ok(cli("attempt", "start", "fix", "--json"))["attempt"]["agent"] == "env-agent"


@pytest.mark.parametrize("args, code, message", [
    (("end", "fix", "--outcome", "success"), 3, "a has no open attempt on fix; run 'gtask attempt start fix' first"),
    (("end", "fix", "--outcome", "success", "--reason", "other"), 2, "--reason goes with a failed or abandoned"),
    (("end", "fix", "--outcome", "won"), 2, "'won' is not one of"),
    (("end", "fix", "--outcome", "failed", "--reason", "bad_luck"), 2, "'bad_luck' is not one of"),
    (("end", "fix", "--outcome", "failed", "--tokens", "-1"), 2, "--tokens"),
    (("end", "fix", "--outcome", "failed", "--cost", "-0.5"), 2, "--cost"),
    (("end", "fix", "--outcome", "failed", "--cost", "nan"), 2, "cost must be a number"),
    (("end", "fix"), 2, "--outcome"),
    (("start", "nope"), 4, "no task 'nope'"),
    (("end", "nope", "--outcome", "failed"), 4, "no task 'nope'"),
])
def test_refusals_leave_files_and_head_unchanged(cli: Cli, repo: Path, task: Path, args, code: int,
                                                 message: str) -> None:
    head, before = git(repo, "rev-parse", "HEAD"), task.read_bytes()
    result = cli("attempt", *args, "--agent", "a")
    assert result.exit_code == code, result.stderr
    assert message in result.stderr
    assert (git(repo, "rev-parse", "HEAD"), task.read_bytes(), git(repo, "status", "--porcelain")) == (head, before, "")


def test_a_second_open_attempt_by_the_same_agent_is_refused(cli: Cli, repo: Path, task: Path) -> None:
    assert cli("attempt", "start", "fix", "--agent", "a").exit_code == 0
    head, before = git(repo, "rev-parse", "HEAD"), task.read_bytes()
    result = cli("attempt", "start", "fix", "--agent", "a", "--json")
    assert result.exit_code == 3
    assert json.loads(result.stderr)["error"]["message"] == (
        "a already has an open attempt on fix; end it first with "
        "'gtask attempt end fix --outcome success|failed|abandoned'")
    assert (git(repo, "rev-parse", "HEAD"), task.read_bytes()) == (head, before)


@pytest.mark.parametrize("status", ["done", "canceled"])
def test_a_finished_task_cannot_be_attempted(cli: Cli, repo: Path, status: str) -> None:
    write_task(repo, "old", task_text("Old", status=status))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tasks")
    head = git(repo, "rev-parse", "HEAD")
    result = cli("attempt", "start", "old", "--agent", "a")
    assert result.exit_code == 3 and f"old is {status}: there is nothing left to attempt" in result.stderr
    assert git(repo, "rev-parse", "HEAD") == head


def test_an_uncommitted_edit_of_the_task_file_is_refused(cli: Cli, repo: Path, task: Path) -> None:
    task.write_text(task.read_text().replace("Fix login", "Fix the login"))
    head, before = git(repo, "rev-parse", "HEAD"), task.read_bytes()
    result = cli("attempt", "start", "fix", "--agent", "a")
    assert result.exit_code == 1 and "has uncommitted changes" in result.stderr
    assert (git(repo, "rev-parse", "HEAD"), task.read_bytes()) == (head, before)


def test_the_library_works_without_click(repo: Path, task: Path, clock) -> None:
    session = Session.open(Store.open(repo), "lib")
    opened = start(session, "FIX")  # IDs match regardless of case
    clock[0] = T0 + timedelta(hours=1)
    closed = end(session, "fix", "abandoned", reason="context_limit", cost=2)
    assert opened.task.id == closed.task.id == "fix"
    assert closed.attempt["duration"] == 3600 and closed.attempt["cost"] == 2.0
    assert isinstance(closed.attempt["cost"], float)
    assert Store.open(repo).get("fix").attempts == [closed.attempt]


# -- the writer: appends keep old bytes ---------------------------------------------


def edit(text: str, **changes: object) -> str:
    return apply_changes(taskfile.parse(text, "t.md"), changes)


def test_writer_appends_a_map_after_column_zero_items_with_their_indentation() -> None:
    text = "---\ntitle: T\nstatus: todo\nattempts:\n- agent: a  # by hand\n  outcome: success\n---\n"
    old = taskfile.parse(text, "t.md").data["attempts"]
    new = edit(text, attempts=old + [{"agent": "b", "start": "2026-11-22T09:00:00+00:00"}])
    assert new == text[:-4] + "- agent: b\n  start: '2026-11-22T09:00:00+00:00'\n---\n"


def test_writer_keeps_crlf_on_an_appended_attempt() -> None:
    text = "---\r\ntitle: T\r\nstatus: todo\r\nattempts:\r\n  - agent: a\r\n---\r\n"
    new = edit(text, attempts=[{"agent": "a"}, {"agent": "b", "tokens": 3}])
    assert new == ("---\r\ntitle: T\r\nstatus: todo\r\nattempts:\r\n  - agent: a\r\n"
                   "  - agent: b\r\n    tokens: 3\r\n---\r\n")


_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
_attempt = st.dictionaries(st.sampled_from(["agent", "start", "outcome", "tokens", "cost", "note"]), _values,
                           min_size=1)


@settings(max_examples=60, deadline=None)
@given(old=st.lists(_attempt, min_size=1, max_size=3), added=st.lists(_attempt, min_size=1, max_size=2))
def test_writer_append_keeps_every_old_line(old: list[dict], added: list[dict]) -> None:
    text = apply_changes(taskfile.parse("---\ntitle: T\nstatus: todo\n---\nBody\n", "t.md"), {"attempts": old})
    text = text.replace("attempts:\n", "attempts:\n  # a hand-written comment, kept only by an append\n")
    new = edit(text, attempts=old + added)  # the writer's own check re-parses and compares
    assert new.startswith(text[:-len("---\nBody\n")])
    assert taskfile.parse(new, "t.md").data["attempts"] == old + added


def test_writer_rewrites_only_a_changed_middle_attempt() -> None:
    text = ("---\ntitle: T\nstatus: todo\nattempts:\n  - agent: alice   # mine\n    start: x\n"
            "  # bob started later\n  - {agent: bob, start: y}  # odd but valid\n---\n")
    new = edit(text, attempts=[{"agent": "alice", "start": "x", "outcome": "success"}, {"agent": "bob", "start": "y"}])
    assert new == ("---\ntitle: T\nstatus: todo\nattempts:\n  - agent: alice\n    start: x\n    outcome: success\n"
                   "  - {agent: bob, start: y}  # odd but valid\n---\n")


def test_writer_rerenders_a_flow_style_attempts_list() -> None:
    text = "---\ntitle: T\nstatus: todo\nattempts: [{agent: a}]\n---\n"
    new = edit(text, attempts=[{"agent": "a"}, {"agent": "b"}])
    assert new == "---\ntitle: T\nstatus: todo\nattempts:\n  - agent: a\n  - agent: b\n---\n"


def test_writer_appends_an_attempt_with_a_multi_line_note() -> None:
    text = "---\ntitle: T\nstatus: todo\nattempts:\n  - agent: a\n---\nBody\n"
    item = {"agent": "b", "note": "line one\n\n  line two: 'quoted' # not a comment\n"}
    new = edit(text, attempts=[{"agent": "a"}, item])
    assert new.startswith("---\ntitle: T\nstatus: todo\nattempts:\n  - agent: a\n  - agent: b\n")
    assert taskfile.parse(new, "t.md").data["attempts"][1] == item


# -- schema ------------------------------------------------------------------------


def test_attempts_that_are_not_a_list_of_maps_are_an_error_with_the_line(cli: Cli, repo: Path) -> None:
    write_task(repo, "bad", "---\ntitle: Bad\nstatus: todo\nattempts:\n  - just text\n---\n")
    result = cli("check", "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"] if result.stdout else []
    found = [p for p in problems if p["path"] == ".tasks/bad.md"]
    assert [(p["severity"], p["message"], p["line"]) for p in found] == [
        ("error", "'attempts' must be a list of mappings", 4)]


def test_an_odd_hand_written_attempt_is_only_a_warning(cli: Cli, repo: Path) -> None:
    write_task(repo, "odd", "---\ntitle: Odd\nstatus: todo\nattempts:\n  - agent: a\n    mood: sad\n"
                            "    outcome: meh\n---\n")
    result = cli("check", "--json")
    assert result.exit_code == 0, result.stdout
    messages = [p["message"] for p in json.loads(result.stdout)["problems"]]
    assert "attempt 1 has unknown keys: mood" in messages
    assert any(m.startswith("attempt 1 has an unknown outcome 'meh'") for m in messages)
    assert attempts_of(cli, "odd") == [{"agent": "a", "mood": "sad", "outcome": "meh"}]


# -- stats -------------------------------------------------------------------------


def test_a_failure_then_a_success_give_exact_stats(cli: Cli, repo: Path, task: Path, clock) -> None:
    assert cli("attempt", "start", "fix", "--agent", "codex").exit_code == 0
    clock[0] = T0 + timedelta(seconds=60)
    assert cli("attempt", "end", "fix", "--agent", "codex", "--outcome", "failed", "--reason", "test_fail",
               "--tokens", "1000", "--cost", "0.1").exit_code == 0
    assert cli("attempt", "start", "fix", "--agent", "claude").exit_code == 0
    clock[0] = T0 + timedelta(seconds=150)
    assert cli("attempt", "end", "fix", "--agent", "claude", "--outcome", "success", "--tokens", "2000",
               "--cost", "0.2").exit_code == 0

    report = ok(cli("stats", "--json"))

    def counts(attempts, successes, failed, tokens, cost, duration):
        return {"attempts": attempts, "finished": attempts, "successes": successes, "failed": failed,
                "abandoned": 0, "open": 0, "success_rate": successes / attempts, "tokens": tokens, "cost": cost,
                "duration": duration}

    both = counts(2, 1, 1, 3000, 0.3, 150)  # 0.1 + 0.2 is 0.30000000000000004 before rounding
    assert report == {
        "totals": both,
        "failures_by_reason": {"test_fail": 1},
        "tasks": [{"project": "demo", "task": "fix", "title": "Fix login", **both}],
        "agents": [{"agent": "claude", **counts(1, 1, 0, 2000, 0.2, 90)},
                   {"agent": "codex", **counts(1, 0, 1, 1000, 0.1, 60)}],
        "labels": [{"label": "api", **both}, {"label": "auth", **both}],
        "retried_most": [{"project": "demo", "task": "fix", "title": "Fix login", **both}],
    }
    only_codex = ok(cli("stats", "--agent", "codex", "--json"))
    assert only_codex["totals"]["attempts"] == 1 and only_codex["retried_most"] == []
    assert ok(cli("stats", "--label", "web", "--json"))["totals"]["attempts"] == 0

    text = cli("stats")
    assert text.exit_code == 0
    assert text.stdout.splitlines()[:3] == [
        "2 attempts (2 finished, 0 open): 1 succeeded, 1 failed, 0 abandoned; success rate 50%",
        "tokens 3000, cost $0.30, time 2m30s",
        "failures by reason: test_fail 1",
    ]
    assert "fix   2         1   1       0          0     3000    0.30  Fix login" in text.stdout


def test_stats_with_no_attempts(cli: Cli, task: Path) -> None:
    report = ok(cli("stats", "--json"))
    assert report["totals"]["attempts"] == 0 and report["totals"]["success_rate"] is None
    assert report["tasks"] == [] and report["failures_by_reason"] == {}
    result = cli("stats")
    assert result.exit_code == 0 and result.stderr.strip() == "no attempts"


def make_repo(path: Path, project: str) -> Cli:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("x\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    assert run(["-C", str(path), "init", "--project", project]) == 0
    return path


def test_stats_across_a_workspace_of_two_repositories(tmp_path: Path, capsys, clock) -> None:
    api, web = make_repo(tmp_path / "api", "api"), make_repo(tmp_path / "web", "web")
    for path, task_id in ((api, "auth"), (web, "login")):
        write_task(path, task_id, task_text(task_id.title(), labels="[security]"))
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", "tasks")
    steps = [(api, "auth", "failed", "rate_limit"), (api, "auth", "success", None), (web, "login", "abandoned", None)]
    for path, task_id, outcome, reason in steps:
        assert run(["-C", str(path), "attempt", "start", task_id, "--agent", "bot"]) == 0
        clock[0] += timedelta(seconds=10)
        extra = ["--reason", reason] if reason else []
        assert run(["-C", str(path), "attempt", "end", task_id, "--agent", "bot", "--outcome", outcome,
                    "--tokens", "10", *extra]) == 0
    assert run(["-C", str(web), "attempt", "start", "login", "--agent", "bot"]) == 0  # still open
    capsys.readouterr()

    assert run(["stats", "--repo", str(api), "--repo", str(web), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["totals"] == {"attempts": 4, "finished": 3, "successes": 1, "failed": 1, "abandoned": 1,
                                "open": 1, "success_rate": 0.333333, "tokens": 30, "cost": 0.0, "duration": 30}
    assert report["failures_by_reason"] == {"rate_limit": 1, "unspecified": 1}
    assert [(t["project"], t["task"], t["attempts"]) for t in report["tasks"]] == [("api", "auth", 2),
                                                                                   ("web", "login", 2)]
    assert [(a["agent"], a["attempts"]) for a in report["agents"]] == [("bot", 4)]
    assert [(l["label"], l["attempts"]) for l in report["labels"]] == [("security", 4)]

    assert run(["stats", "--repo", str(api), "--repo", str(web)]) == 0
    text = capsys.readouterr().out
    assert "api:auth" in text and "web:login" in text


def test_retried_most_is_the_top_ten_with_more_than_one_attempt() -> None:
    def task(task_id: str, outcomes: list[str | None]) -> Task:
        attempts = [{"agent": "a", "outcome": o} if o else {"agent": "a"} for o in outcomes]
        return Task(id=task_id, title=task_id, status="todo", project="p", attempts=attempts)

    tasks = [task(f"t{n:02d}", ["failed"] * n) for n in range(13)] + [task("tie", ["success"] * 12)]
    report = stats.build(tasks)
    assert [t.id for t, _ in report.retried_most] == ["t12", "tie", "t11", "t10", "t09", "t08", "t07", "t06",
                                                      "t05", "t04"]
    assert "t00" not in [t.id for t, _ in report.tasks]


def test_stats_read_hand_written_attempts_leniently() -> None:
    attempts = [
        {"agent": "a", "start": "2026-01-01T00:00:00+00:00", "end": "2026-01-01T00:01:40+00:00",
         "outcome": "success", "tokens": "lots", "cost": -3},
        {"outcome": "failed", "duration": True, "tokens": 7, "cost": 1.5},
        {"agent": "a", "end": "2026-01-01T00:00:00+00:00"},  # ended without an outcome
        "not a map",
    ]
    report = stats.build([Task(id="x", title="X", status="todo", project="p", attempts=attempts)])
    assert report.totals.to_json() == {"attempts": 3, "finished": 3, "successes": 1, "failed": 1, "abandoned": 0,
                                       "open": 0, "success_rate": 0.333333, "tokens": 7, "cost": 1.5,
                                       "duration": 100}
    assert list(report.agents) == ["a", "(unknown)"]
    assert report.failures_by_reason == {"unspecified": 1}


def test_writer_escapes_line_breaking_characters_in_an_appended_attempt() -> None:
    """Found by the property test in CI: NEL (U+0085) in a value broke the appended lines apart."""
    text = "---\ntitle: T\nstatus: todo\nattempts:\n  - agent: null\n---\nBody\n"
    new = edit(text, attempts=[{"agent": None}, {"agent": "\x85 café\u2028"}])
    assert new == text.replace("---\nBody", '  - agent: "\\N café\\L"\n---\nBody')
    assert taskfile.parse(new, "t.md").data["attempts"][1] == {"agent": "\x85 café\u2028"}
