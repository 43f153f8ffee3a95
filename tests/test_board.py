"""`gtask view --html`: a self-contained board page, checked as text and in a real headless Chromium."""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import make_repo, run_process, task_text
from gtask.output import board, svggraph
from gtask.plan import overview
from gtask.cli.main import run
from gtask.core.graph import TaskGraph
from gtask.core.model import Task
from gtask.plan.workspace import load

CHROMIUM = Path("/usr/bin/chromium")
XSS = "<script>alert(1)</script>"
LIVE = "lease_until: 2099-01-01T00:00:00+00:00"
API_TASKS = {
    "tokens": task_text("Session tokens", priority="0"),
    "auth": task_text("Auth check on write endpoints", depends_on="[tokens]"),
    "cart": task_text("Cart API", status="in_progress", claimed_by="alice",
                      claimed_at="2026-01-01T00:00:00+00:00", lease_until="2099-01-01T00:00:00+00:00"),
    "lapsed": task_text("Lapsed claim", status="in_progress", claimed_by="bob",
                        lease_until="2020-01-01T00:00:00+00:00"),
    "shipped": task_text("Shipped already", status="done"),
    "idea": task_text("An idea to approve", status="proposed"),
    "stuck": task_text("Stuck on a vendor", status="blocked"),
    "xss": task_text(f"'{XSS}'"),
}
WEB_TASKS = {
    "login": task_text("Login page", depends_on="['api:auth']", assignee="carol"),
    "css": task_text('"Fix \\"quotes\\" & <b>bold</b> and \\e[31mred"', labels="[ui]"),
}
ALL_IDS = [*API_TASKS, *WEB_TASKS]


@pytest.fixture
def workspace(tmp_path: Path) -> list[Path]:
    """Two repositories joined by a cross-repository dependency, and one that cannot be read."""
    root = tmp_path / "code"
    root.mkdir()
    plain = root / "plain"
    (plain / ".git").mkdir(parents=True)  # looks like a repository, is not one
    return [make_repo(root, "api", API_TASKS), make_repo(root, "web", WEB_TASKS), plain]


@pytest.fixture
def page(workspace: list[Path]) -> str:
    return board.render(overview.build(load(workspace)))


# -- the page as text ----------------------------------------------------------


def test_the_page_is_self_contained(page: str) -> None:
    lowered = page.lower()
    for needle in ("http://", "https://", "//cdn", "<script", "@import", "url(http"):
        assert needle not in lowered, needle
    links = re.findall(r"""\b(?:src|href)\s*=\s*["']?([^"' >]*)""", page, re.I)
    assert all(link.startswith(("data:", "#")) for link in links), links
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")


def test_task_text_is_escaped_never_markup(page: str) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Fix &quot;quotes&quot; &amp; &lt;b&gt;bold&lt;/b&gt; and \\x1b[31mred" in page
    assert "<b>bold" not in page and "\x1b" not in page


def test_board_has_a_lane_per_repository_and_columns_in_reading_order(page: str) -> None:
    for task_id in ALL_IDS:
        assert f'<code class="id">{task_id}</code>' in page
    heads = re.findall(r'<div class="colhead s-([a-z_-]+)">', page)
    assert heads == ["proposed", "ready", "claimed", "stale", "waiting", "blocked", "done"]
    lanes = re.findall(r'<div class="lanehead[^"]*"><h2>([^<]*)</h2>', page)
    assert lanes == ["api", "web", "plain"]
    assert re.search(r"main @ [0-9a-f]{8}", page)
    assert "This repository could not be read and is left out" in page
    assert "2 waiting" in page and "1 repository could not be read" in page


def test_claims_blocked_and_waiting_are_marked_in_text(page: str) -> None:
    cart = _card(page, "cart")
    assert "CLAIMED" in cart and "held by <b>alice</b>" in cart and "2099-01-01 00:00 UTC" in cart
    lapsed = _card(page, "lapsed")
    assert "STALE CLAIM" in lapsed and "was held by <b>bob</b>" in lapsed and "ago)" in lapsed
    assert "BLOCKED" in _card(page, "stuck")
    assert re.search(r"waits on <code>tokens</code> <small>\(ready\)</small>", _card(page, "auth"))
    login = _card(page, "login")
    assert re.search(r'waits on <code class="x">api:auth</code> <small>\(waiting\)</small>', login)
    assert "@carol" in login
    assert "Waiting across repositories" in page and ">api:auth<" in page


def test_graph_is_inline_svg_with_project_labels_and_arrows(page: str) -> None:
    svg = re.search(r"<svg .*?</svg>", page, re.S).group(0)
    labels = re.findall(r'class="gl"[^>]*>([^<]*)<', svg)
    assert sorted(labels) == sorted(f"api:{i}" for i in API_TASKS) + sorted(f"web:{i}" for i in WEB_TASKS)
    assert 'marker-end="url(#gt-arrow-x)"' in svg  # web:login -> api:auth crosses repositories
    assert _edges(svg) == 2  # tokens -> auth, api:auth -> login
    assert "xmlns" not in svg  # the HTML parser puts inline SVG in its namespace: no URL needed


def _edges(svg: str) -> int:
    return len(re.findall(r'<path d="M[^"]* C', svg))  # arrows; the arrowhead markers have no curve


def _card(page: str, task_id: str) -> str:
    cards = [c for c in page.split('<div class="card ')[1:] if f'<code class="id">{task_id}</code>' in c]
    assert len(cards) == 1, task_id
    return cards[0]


# -- the layout ----------------------------------------------------------------


def _tasks(edges: dict[str, list[str]], project: str = "p", status: str = "todo") -> list[Task]:
    return [Task(id=i, title=f"Task {i}", status=status, project=project, depends_on=deps) for i, deps in edges.items()]


def _x_of(svg: str) -> dict[str, int]:
    return {label: int(x) for x, label in re.findall(r'<text x="(\d+)" y="\d+" class="gl"[^>]*>([^<]*)<', svg)}


def test_layout_puts_dependencies_left_of_what_waits_on_them() -> None:
    graph = TaskGraph(_tasks({"a": [], "b": ["a"], "c": ["b", "a"], "d": [], "e": ["d", "c"]}))
    picture = svggraph.draw(graph)
    x = _x_of(picture.svg)
    assert x["p:a"] == x["p:d"] < x["p:b"] < x["p:c"] < x["p:e"]
    assert picture.drawn == 5 and picture.note == ""
    assert _edges(picture.svg) == 5  # one per dependency; a->c passes b's column


def test_a_cycle_is_drawn_not_fatal() -> None:
    picture = svggraph.draw(TaskGraph(_tasks({"a": ["b"], "b": ["a"], "c": ["c"]})))
    assert picture.drawn == 3 and _edges(picture.svg) == 2


def test_a_large_graph_is_cut_to_open_work_and_says_so() -> None:
    tasks = _tasks({f"t{i}": [f"t{i - 1}"] if i % 10 else [] for i in range(300)})
    tasks += _tasks({f"d{i}": [] for i in range(300)}, status="done")
    picture = svggraph.draw(TaskGraph(tasks), limit=400)
    assert picture.drawn == 300 and "300 finished tasks are left out" in picture.note
    picture = svggraph.draw(TaskGraph(tasks), limit=45)
    assert picture.drawn == 40 and "whole dependency chains" in picture.note  # four whole chains of ten


def test_ten_thousand_tasks_draw_quickly_within_the_cap() -> None:
    edges = {f"t{i:05d}": [f"t{j:05d}" for j in (i - 1, i - 7, i - 50) if j >= 0 and i % 3] for i in range(10_000)}
    graph = TaskGraph(_tasks(edges))
    start = time.perf_counter()
    picture = svggraph.draw(graph)
    assert time.perf_counter() - start < 10  # about a second on a slow machine; only a runaway fails
    assert picture.drawn == svggraph.MAX_NODES and "as `gtask next` ranks them" in picture.note


# -- the command ---------------------------------------------------------------


def test_view_html_writes_the_file_and_prints_its_path(workspace: list[Path], tmp_path: Path, capsys) -> None:
    out = tmp_path / "board.html"
    out.write_text("old")
    capsys.readouterr()
    assert run(["view", *map(str, workspace), "--html", str(out)]) == 0
    assert capsys.readouterr().out == f"{out}\n"
    text = out.read_text(encoding="utf-8")
    assert all(f'<code class="id">{i}</code>' in text for i in ALL_IDS)
    assert not list(tmp_path.glob(".board.html.*"))  # no temporary file left behind


@pytest.mark.parametrize("other", [["--json"], ["--format", "mermaid"], ["--format", "text"]])
def test_html_excludes_json_and_format(workspace: list[Path], tmp_path: Path, capsys, other: list[str]) -> None:
    capsys.readouterr()
    assert run(["view", str(workspace[0]), "--html", str(tmp_path / "x.html"), *other]) == 2
    assert "--html" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_html_into_a_missing_folder_is_an_error(workspace: list[Path], tmp_path: Path, capsys) -> None:
    target = tmp_path / "no" / "board.html"
    capsys.readouterr()
    assert run(["view", str(workspace[0]), "--html", str(target)]) == 1
    assert f"{target}: cannot write the board" in capsys.readouterr().err


# -- in a real browser ---------------------------------------------------------

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: install Debian's "
                                    "chromium package (.ci/run does) to look at the board in a real browser")
BROWSER_PROBLEMS = re.compile(r"CONSOLE|Uncaught|net::ERR_|Failed to load|Refused to|Content Security Policy")


def chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path)
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args, url],
        capture_output=True, text=True, timeout=60)


def browser_problems(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if BROWSER_PROBLEMS.search(line)]


@needs_chromium
def test_the_problem_detector_sees_console_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html><title>bad</title><p>x</p><script>console.error("boom"); nope();</script>')
    found = browser_problems(chromium(tmp_path, bad.as_uri(), "--dump-dom").stderr)
    assert any("boom" in line for line in found) and any("Uncaught" in line for line in found)


@needs_chromium
def test_the_board_in_headless_chromium(workspace: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out.html"
    proc = run_process(tmp_path, "view", *map(str, workspace), "--html", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)

    dom = chromium(tmp_path, out.as_uri(), "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert browser_problems(dom.stderr) == []
    rendered = dom.stdout
    for task_id in ALL_IDS:
        assert f'<code class="id">{task_id}</code>' in rendered, task_id
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered  # shown as text ...
    assert "<script" not in rendered.lower()  # ... and no element was made of it
    assert "could not be read and is left out" in rendered and "<svg" in rendered

    shot = tmp_path / "board.png"
    result = chromium(tmp_path, out.as_uri(), f"--screenshot={shot}", "--window-size=1400,1000",
                      "--hide-scrollbars")
    assert result.returncode == 0, result.stderr[-2000:]
    assert browser_problems(result.stderr) == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1400, 1000)


def test_chromium_is_installed_by_ci() -> None:
    script = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "apt-get install -y -qq chromium" in script and "/usr/bin/chromium" in script
