"""`gtask view` of many repositories: a summary that fits a screen or two by default; --all lists every task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import git, run_process

REPOS = 100
TASKS = 10
LIVE = "claimed_by: bot\nclaimed_at: 2026-01-01T00:00:00+00:00\nlease_until: 2099-01-01T00:00:00+00:00\n"
STALE = "claimed_by: ghost\nclaimed_at: 2020-01-01T00:00:00+00:00\nlease_until: 2020-01-01T02:00:00+00:00\n"


def _task(n: int, repo: int) -> str:
    """Task n of a repository: a mix of every state a person cares about."""
    kind = n % TASKS
    head = f"---\ntitle: Task {n} of repo {repo}\npriority: {n % 5}\n"
    body = {
        0: "status: proposed\n",
        1: "status: in_progress\n" + LIVE,
        2: "status: in_progress\n" + STALE,
        3: "status: blocked\n",
        4: f"status: todo\ndepends_on: [t{repo:03d}-5]\n",
        5: "status: todo\nlabels: [docs]\n",
        6: "status: todo\nlane: autonomous\n",
        7: "status: done\n",
        8: "status: canceled\n",
        9: ("status: todo\ndepends_on: [\"r000:t000-5\"]\n" if repo else "status: todo\n"),
    }[kind]
    return head + body + "---\n"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("many")
    for repo in range(REPOS):
        path = root / f"r{repo:03d}"
        (path / ".tasks").mkdir(parents=True)
        (path / ".tasks" / "config.yaml").write_text(f"project: r{repo:03d}\n")
        for n in range(TASKS):
            (path / ".tasks" / f"t{repo:03d}-{n}.md").write_text(_task(n, repo))
        git(path, "init", "-q", "-b", "main")
        git(path, "add", "-A")
        git(path, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "tasks")
    return root


def _open_ids(root: Path) -> set[str]:
    return {p.stem for p in root.glob("r*/.tasks/*.md") if "status: done" not in p.read_text()
            and "status: canceled" not in p.read_text()}


def test_the_summary_fits_and_names_every_repository(workspace: Path) -> None:
    proc = run_process(workspace, "view", str(workspace))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) <= 150, len(lines)
    for repo in range(REPOS):
        assert any(line.split()[:1] == [f"r{repo:03d}"] for line in lines), f"r{repo:03d} is not named"
    text = proc.stdout
    for heading in ("NEEDS A PERSON", "proposals (100)", "stale leases (100)", "blocked (100)",
                    "waits across repositories (99)", "READY NEXT", "CLAIMS IN FLIGHT"):
        assert heading in text
    ready = lines[lines.index(next(line for line in lines if line.startswith("READY NEXT"))) + 1]
    assert "P0" in ready  # `next` order: the most urgent first


def test_all_lists_every_open_task(workspace: Path) -> None:
    proc = run_process(workspace, "view", str(workspace), "--all")
    assert proc.returncode == 0, proc.stderr
    listed = {word for line in proc.stdout.splitlines() for word in line.split()}
    missing = _open_ids(workspace) - listed
    assert not missing, sorted(missing)[:5]


def test_filters_narrow_the_summary_and_the_listing(workspace: Path) -> None:
    proc = run_process(workspace, "view", str(workspace), "--repo", "r00?", "--all", "--state", "ready")
    assert proc.returncode == 0, proc.stderr
    words = {word for line in proc.stdout.splitlines() for word in line.split()}
    assert "t000-5" in words and "t009-6" in words and "t010-5" not in words and "t000-0" not in words
    proc = run_process(workspace, "view", str(workspace), "--label", "docs", "--repo", "r01*")
    assert proc.returncode == 0, proc.stderr
    assert "r010" in proc.stdout and "r020" not in proc.stdout and "t010-6" not in proc.stdout
    data = json.loads(run_process(workspace, "view", str(workspace), "--json", "--lane", "autonomous",
                                  "--repo", "r05*").stdout)
    assert {t["id"] for r in data["repos"] for t in r["tasks"]} == {f"t05{i}-6" for i in range(10)}


def test_the_board_leads_with_the_summary(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "board.html"
    proc = run_process(workspace, "view", str(workspace), "--repo", "r00*", "--html", str(out))
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    lead = page.index("<h2>Repositories</h2>")
    assert lead < page.index("Needs a person") < page.index("Ready next") < page.index('class="board"')
