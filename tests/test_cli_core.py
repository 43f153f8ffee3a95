"""The core commands through the real CLI: init, new, list, show, set, check, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import Cli, git, task_text, write_task


def test_init_is_safe_to_run_twice(cli: Cli, repo: Path) -> None:
    config = (repo / ".tasks" / "config.yaml").read_bytes()
    result = cli("init")
    assert result.exit_code == 0 and "Already set up" in result.stdout
    assert (repo / ".tasks" / "config.yaml").read_bytes() == config


def test_new_derives_the_id_from_the_title(cli: Cli, repo: Path) -> None:
    result = cli("new", "Add auth check to task write endpoints, then ship it to every customer today")
    assert result.exit_code == 0
    task_id = result.stdout.strip()
    assert task_id == "add-auth-check-to-task-write-endpoints-then-ship"
    assert len(task_id) <= 48
    text = (repo / ".tasks" / f"{task_id}.md").read_text()
    assert text.startswith("---\ntitle: Add auth check")


def test_new_adds_a_random_suffix_when_the_id_is_taken(cli: Cli) -> None:
    first = cli("new", "Fix login").stdout.strip()
    second = cli("new", "Fix login").stdout.strip()
    assert first == "fix-login"
    assert re.fullmatch(r"fix-login-[a-z2-7]{4}", second)


def test_new_sees_ids_taken_on_other_branches(cli: Cli, repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "other")
    assert cli("new", "Fix login", "--commit").exit_code == 0
    git(repo, "checkout", "-q", "main")
    assert not (repo / ".tasks" / "fix-login.md").exists()
    assert cli("new", "Fix login").stdout.strip() != "fix-login"


def test_new_with_all_fields_and_unicode_title(cli: Cli, repo: Path) -> None:
    cli("new", "Base", "--id", "base")
    result = cli("new", "Café: ünïcode title", "--priority", "0", "--depends-on", "base", "--label", "api",
                 "--lane", "autonomous", "--milestone", "m1", "--trigger", "Beta on 2026-12-01",
                 "--step", "one, with comma", "--step", "two", "--risk", "r", "--status", "proposed")
    assert result.exit_code == 0, result.stderr
    task = json.loads(cli("show", result.stdout.strip(), "--json").stdout)
    assert task["id"] == "cafe-unicode-title"
    assert task["title"] == "Café: ünïcode title"
    assert task["steps"] == ["one, with comma", "two"]
    assert task["depends_on"] == ["base"] and task["status"] == "proposed" and task["priority"] == 0


def test_new_refuses_missing_dependency_and_bad_id(cli: Cli, repo: Path) -> None:
    assert cli("new", "X", "--depends-on", "nope").exit_code == 4
    assert cli("new", "X", "--id", "../../etc").exit_code == 2
    assert cli("new", "X", "--priority", "9").exit_code == 2
    assert sorted(p.name for p in (repo / ".tasks").iterdir()) == ["config.yaml"]


def test_list_filters_and_json(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A", labels="[api]", lane="autonomous", priority="1"))
    write_task(repo, "b", task_text("B", "done", milestone="m1"))
    write_task(repo, "c", task_text("C", depends_on="[a]", assignee="ana"))
    assert [t["id"] for t in json.loads(cli("list", "--json").stdout)] == ["a", "b", "c"]
    assert [t["id"] for t in json.loads(cli("list", "--json", "--status", "done").stdout)] == ["b"]
    assert [t["id"] for t in json.loads(cli("list", "--json", "--label", "api").stdout)] == ["a"]
    assert [t["id"] for t in json.loads(cli("list", "--json", "--ready").stdout)] == ["a"]
    assert [t["id"] for t in json.loads(cli("list", "--json", "--assignee", "ana").stdout)] == ["c"]
    states = {t["id"]: t["state"] for t in json.loads(cli("list", "--json").stdout)}
    assert states == {"a": "ready", "b": "done", "c": "waiting"}
    human = cli("list").stdout
    assert "a " in human and "ready" in human and "P1" in human


def test_json_task_has_the_spec_keys(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A", custom_key="kept"))
    task = json.loads(cli("list", "--json").stdout)[0]
    for key in ("id", "project", "title", "status", "state", "priority", "depends_on", "labels", "lane",
                "milestone", "assignee", "claimed_by", "lease_until", "path", "extra"):
        assert key in task
    assert task["project"] == "demo" and task["path"] == ".tasks/a.md" and task["extra"] == {"custom_key": "kept"}


def test_show_lists_dependencies_and_dependents(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A", "done"))
    write_task(repo, "b", task_text("B", depends_on="[a, other:x]"))
    write_task(repo, "c", task_text("C", depends_on="[b]"))
    shown = json.loads(cli("show", "b", "--json").stdout)
    assert [(d["ref"], d["state"]) for d in shown["dependencies"]] == [("a", "done"), ("other:x", "external")]
    assert [(d["id"], d["state"]) for d in shown["dependents"]] == [("c", "waiting")]
    assert shown["body"] == "\nBody.\n"
    human = cli("show", "b").stdout
    assert "depends on:" in human and "needed by:" in human


def test_show_is_case_insensitive(cli: Cli, repo: Path) -> None:
    write_task(repo, "Fix-Login", task_text("F"))
    assert json.loads(cli("show", "fix-login", "--json").stdout)["id"] == "Fix-Login"


def test_set_edits_fields_and_lists(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A"))
    write_task(repo, "b", task_text("B", labels="[x]"))
    assert cli("set", "b", "priority=0", "labels+=y", "labels-=x", "depends_on+=a", "estimate=3").exit_code == 0
    task = json.loads(cli("show", "b", "--json").stdout)
    assert task["priority"] == 0 and task["labels"] == ["y"] and task["depends_on"] == ["a"]
    assert task["extra"] == {"estimate": 3}
    assert cli("set", "b", "estimate=").exit_code == 0
    assert json.loads(cli("show", "b", "--json").stdout)["extra"] == {}


def test_set_refuses_bad_values_and_writes_nothing(cli: Cli, repo: Path) -> None:
    path = write_task(repo, "a", task_text("A"))
    before = path.read_bytes()
    assert cli("set", "a", "status=started").exit_code == 2
    assert cli("set", "a", "priority=high").exit_code == 2
    assert cli("set", "a", "id=b").exit_code == 2
    assert cli("set", "a", "nonsense").exit_code == 2
    assert cli("set", "a", "labels-=absent").exit_code == 2
    assert cli("set", "a", "depends_on+=missing").exit_code == 4
    assert cli("set", "missing", "status=done").exit_code == 4
    assert path.read_bytes() == before


def test_set_refuses_a_cycle_with_its_path(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A"))
    write_task(repo, "b", task_text("B", depends_on="[a]"))
    write_task(repo, "c", task_text("C", depends_on="[b]"))
    before = (repo / ".tasks" / "a.md").read_bytes()
    result = cli("set", "a", "depends_on+=c")
    assert result.exit_code == 3
    assert "a -> c -> b -> a" in result.stderr
    assert (repo / ".tasks" / "a.md").read_bytes() == before


def test_errors_as_json(cli: Cli) -> None:
    result = cli("show", "nope", "--json")
    assert result.exit_code == 4
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "not_found" and "nope" in error["message"]
    assert set(error) == {"code", "message", "path", "line"}


def test_usage_errors_exit_2(cli: Cli) -> None:
    assert cli("list", "--status", "bogus").exit_code == 2
    assert cli("frobnicate").exit_code == 2


def test_no_store_is_not_found(tmp_path: Path, capsys) -> None:
    from gtask.cli.main import run

    assert run(["-C", str(tmp_path), "list"]) == 4
    assert "gtask init" in capsys.readouterr().err


def test_plain_folder_is_read_only(tmp_path: Path, capsys) -> None:
    from gtask.cli.main import run

    folder = tmp_path / ".tasks-demo"
    folder.mkdir()
    (folder / "a.md").write_text(task_text("A"))
    assert run(["-C", str(folder), "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == "a"
    assert run(["-C", str(folder), "set", "a", "status=done"]) == 2


def test_check_reports_graph_problems(cli: Cli, repo: Path) -> None:
    write_task(repo, "a", task_text("A", depends_on="[b]"))
    write_task(repo, "b", task_text("B", depends_on="[a]"))
    write_task(repo, "c", task_text("C", "canceled"))
    write_task(repo, "d", task_text("D", depends_on="[c, other:x]", lane="nowhere"))
    write_task(repo, "e", task_text("E", "in_progress"))
    result = cli("check", "--json")
    assert result.exit_code == 1
    messages = [(p["severity"], p["path"], p["message"]) for p in json.loads(result.stdout)["problems"]]
    assert ("error", ".tasks/a.md", "dependency cycle: a -> b -> a") in messages
    assert ("warning", ".tasks/d.md", "depends on 'c', which is canceled") in messages
    assert any(s == "error" and "lane 'nowhere'" in m for s, _, m in messages)
    assert any(s == "warning" and p == ".tasks/e.md" and "nobody has claimed" in m for s, p, m in messages)
    assert not any("other:x" in m for _, _, m in messages)


def test_check_passes_on_the_example(capsys) -> None:
    from gtask.cli.main import run

    example = Path(__file__).resolve().parent.parent / ".tasks-example"
    assert run(["-C", str(example), "check"]) == 0


def test_colour_only_on_a_terminal_and_never_with_no_color(repo: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    write_task(repo, "a", task_text("A"))

    def on_terminal(env: dict[str, str]) -> str:
        leader, follower = pty.openpty()
        proc = subprocess.run([sys.executable, "-m", "gtask", "ready"], cwd=repo, stdout=follower,
                              stderr=subprocess.DEVNULL, env=env)
        os.close(follower)
        output = os.read(leader, 65536).decode()
        os.close(leader)
        assert proc.returncode == 0
        return output

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = on_terminal(env)
    assert "\x1b[32mready\x1b[0m" in coloured and "\\x1b" not in coloured
    assert "\x1b" not in on_terminal({**env, "NO_COLOR": "1"})
    piped = subprocess.run([sys.executable, "-m", "gtask", "ready"], cwd=repo, capture_output=True, text=True, env=env)
    assert "\x1b" not in piped.stdout
