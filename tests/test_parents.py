"""The `parent` key: children in `show`, nesting in `list --tree`, parent cycles and finished children in
`check`, no blocking either way, and the graph as a library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import Cli, git, task_text, write_task

import gtask


def tasks(repo: Path, **texts: str) -> None:
    for task_id, text in texts.items():
        write_task(repo, task_id, text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tasks")


def test_show_lists_children_with_progress(cli: Cli, repo: Path) -> None:
    tasks(repo, epic=task_text("Epic"), a=task_text("A", "done", parent="epic"), b=task_text("B", parent="epic"),
          other=task_text("Other"))
    shown = cli("show", "epic")
    assert shown.exit_code == 0
    assert "children: 1/2 done" in shown.stdout
    assert [line.split()[0] for line in shown.stdout.splitlines() if line.startswith("  ") and
            line.split()[0] in ("a", "b", "other")] == ["a", "b"]
    data = json.loads(cli("show", "epic", "--json").stdout)
    assert [(c["id"], c["status"]) for c in data["children"]] == [("a", "done"), ("b", "todo")]
    child = json.loads(cli("show", "a", "--json").stdout)
    assert child["parent"] == "epic" and child["children"] == []
    assert "parent: epic" in cli("show", "a").stdout


def test_list_tree_nests_children(cli: Cli, repo: Path) -> None:
    tasks(repo, epic=task_text("Epic"), a=task_text("A", parent="epic"), b=task_text("B", parent="a"),
          solo=task_text("Solo"))
    out = cli("list", "--tree").stdout.splitlines()
    ids = [line.split()[0] for line in out[1:]]
    assert ids.index("epic") < ids.index("a") < ids.index("b")
    row_b = next(line for line in out if line.startswith("b "))
    assert "    └ B" in row_b
    nested = json.loads(cli("list", "--tree", "--json").stdout)
    by_id = {t["id"]: t for t in nested}
    assert set(by_id) == {"epic", "solo"}
    assert by_id["epic"]["children"][0]["id"] == "a"
    assert by_id["epic"]["children"][0]["children"][0]["id"] == "b"


def test_a_parent_neither_blocks_nor_is_blocked(cli: Cli, repo: Path) -> None:
    tasks(repo, epic=task_text("Epic"), a=task_text("A", parent="epic"), b=task_text("B", parent="epic"),
          c=task_text("C", parent="epic", depends_on="[epic]"))
    ready = {t["id"] for t in json.loads(cli("ready", "--json").stdout)}
    assert {"epic", "a", "b"} <= ready and "c" not in ready  # only depends_on blocks
    states = {t["id"]: t["state"] for t in json.loads(cli("list", "--json").stdout)}
    assert states == {"epic": "ready", "a": "ready", "b": "ready", "c": "waiting"}


def test_check_refuses_parent_cycles_and_missing_parents(cli: Cli, repo: Path) -> None:
    tasks(repo, x=task_text("X", parent="y"), y=task_text("Y", parent="z"), z=task_text("Z", parent="x"),
          lost=task_text("Lost", parent="nowhere"))
    result = cli("check")
    assert result.exit_code == 1
    cycle = [line for line in result.stdout.splitlines() + result.stderr.splitlines() if "parent cycle" in line]
    assert len(cycle) == 1 and cycle[0].startswith(".tasks/x.md:4:")
    assert any(line.startswith(".tasks/lost.md:4:") and "nowhere" in line
               for line in result.stdout.splitlines() + result.stderr.splitlines())
    assert cli("list", "--tree").exit_code == 0  # a cycle still lists every task once


def test_check_refuses_self_parent_and_warns_on_finished_children(cli: Cli, repo: Path) -> None:
    tasks(repo, epic=task_text("Epic"), a=task_text("A", "done", parent="epic"),
          b=task_text("B", "canceled", parent="epic"))
    result = cli("check")
    text = result.stdout + result.stderr
    assert result.exit_code == 0 and ".tasks/epic.md:3:" in text and "children" in text
    tasks(repo, me=task_text("Me", parent="me"))
    refused = cli("check")
    assert refused.exit_code == 1 and ".tasks/me.md:4:" in refused.stdout + refused.stderr


def test_set_parent_and_reject_a_bad_reference(cli: Cli, repo: Path) -> None:
    tasks(repo, epic=task_text("Epic"), a=task_text("A"))
    assert cli("set", "a", "parent=epic").exit_code == 0
    assert json.loads(cli("show", "epic", "--json").stdout)["children"][0]["id"] == "a"
    bad = cli("set", "a", "parent=not a ref")
    assert bad.exit_code != 0
    assert "parent: epic" in (repo / ".tasks" / "a.md").read_text()


def test_load_graph_over_two_repositories(tmp_path: Path) -> None:
    from conftest import make_repo

    make_repo(tmp_path, "api", {"epic": task_text("Epic"), "auth": task_text("Auth", parent="epic")})
    make_repo(tmp_path, "web", {"login": task_text("Login", depends_on="[api:auth]", labels="[ui]", priority="1")})
    dag = gtask.load_graph([tmp_path / "api", str(tmp_path / "web")])
    assert set(dag.nodes) == {"api:epic", "api:auth", "web:login"}
    assert list(dag.edges) == [("api:auth", "web:login")]
    login = dag.nodes["web:login"]
    assert (login["state"], login["priority"], login["labels"], login["parent"]) == ("waiting", 1, ["ui"], None)
    assert dag.nodes["api:auth"]["parent"] == "api:epic" and dag.nodes["api:auth"]["status"] == "todo"


def test_import_gtask_stays_light() -> None:
    code = "import sys, gtask; assert 'networkx' not in sys.modules; gtask.load_graph; " \
           "assert 'networkx' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
