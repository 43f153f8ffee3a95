"""Property: for random stores with claims on random branches and lease refs, every view says the resolver's state."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path

from conftest import git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtask.cli.main import run

LIVE = "claimed_by: {who}\nclaimed_at: 2026-01-01T00:00:00+00:00\nlease_until: 2099-01-01T00:00:00+00:00\n"
PASSED = "claimed_by: {who}\nclaimed_at: 2020-01-01T00:00:00+00:00\nlease_until: 2020-01-01T01:00:00+00:00\n"

task_spec = st.tuples(st.sampled_from(["todo", "todo", "done", "in_progress", "proposed"]),
                      st.lists(st.integers(0, 5), max_size=2), st.booleans())
other_spec = st.tuples(st.integers(0, 5), st.sampled_from(["live", "passed", "done", "todo"]),
                       st.sampled_from(["branch", "lease", "tombstone"]))


def text(title: str, status: str, deps: list[str], claim: str = "") -> str:
    lines = ["---", f"title: {title}", f"status: {status}"]
    if deps:
        lines += ["depends_on:"] + [f"  - {d}" for d in deps]
    return "\n".join(lines) + "\n" + claim + "---\n"


def gtask_json(repo: Path, *args: str) -> object:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run(["-C", str(repo), *args, "--json"]) == 0
    return json.loads(out.getvalue())


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(task_spec, min_size=2, max_size=6), st.lists(other_spec, max_size=4))
def test_every_view_says_the_resolvers_state(tasks: list[tuple[str, list[int], bool]],
                                            others: list[tuple[int, str, str]]) -> None:
    from gtask.gitstate import resolver
    from gtask.output.views import detail
    from gtask.plan.planning import Plan
    from gtask.store.store import Store

    root = Path(tempfile.mkdtemp())
    try:
        repo = root / "r"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        (repo / ".tasks").mkdir()
        (repo / ".tasks" / "config.yaml").write_text("project: p\n")
        ids = [f"t{i}" for i in range(len(tasks))]
        for i, (status, deps, live) in enumerate(tasks):
            claim = (LIVE if live else PASSED).format(who="here") if status == "in_progress" else ""
            names = sorted({ids[d] for d in deps if d < len(ids) and d != i})
            (repo / ".tasks" / f"t{i}.md").write_text(text(f"T{i}", status, names, claim))
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "plan")
        for n, (index, kind, where) in enumerate(others):
            task_id = ids[index % len(ids)]
            git(repo, "switch", "-q", "-c", f"other{n}", "main")
            status = {"live": "in_progress", "passed": "in_progress", "done": "done", "todo": "todo"}[kind]
            claim = {"live": LIVE, "passed": PASSED}.get(kind, "").format(who=f"agent{n}")
            (repo / ".tasks" / f"{task_id}.md").write_text(text("Other", status, [], claim))
            git(repo, "commit", "-q", "-am", f"other {n}")
            sha = git(repo, "rev-parse", "HEAD")
            git(repo, "switch", "-q", "main")
            if where != "branch":  # as sync mirrors them; the branch itself is not kept
                kind_ref = "claims" if where == "lease" else "done"
                git(repo, "update-ref", f"refs/gtask/origin/{kind_ref}/{task_id}", sha)
                git(repo, "branch", "-q", "-D", f"other{n}")
        store = Store.open(repo, use_cache=False)
        truth = resolver.states(store)
        plan = Plan.of(store)
        listed = {t["id"]: t["state"] for t in gtask_json(repo, "list")}  # type: ignore[union-attr]
        ready = {t["id"] for t in gtask_json(repo, "ready")}  # type: ignore[union-attr]
        listed_ready = {t["id"] for t in gtask_json(repo, "list", "--ready")}  # type: ignore[union-attr]
        status = {t["id"]: t["state"] for t in gtask_json(repo, "status")["tasks"]}  # type: ignore[index]
        assert listed == truth
        for mode in ((), ("--worktree",)):  # the workspace view and the board read the same evidence
            viewed = gtask_json(repo, "view", str(repo), *mode)["repos"][0]["tasks"]  # type: ignore[index]
            assert {t["id"]: t["state"] for t in viewed} == truth
        assert ready == listed_ready == {i for i, s in truth.items() if s == "ready"}
        for task_id, state in truth.items():
            assert plan.graph.state(("p", task_id)) == state, task_id
            assert detail(store, task_id).state == state, task_id
            assert gtask_json(repo, "show", task_id)["state"] == state  # type: ignore[index]
            if state != "done":  # status refines done into landed / unverified / done-unmerged
                assert status[task_id] == state, task_id
    finally:
        shutil.rmtree(root, ignore_errors=True)
