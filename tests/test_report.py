"""`gtask report` after a scripted night of two agents in clones of a bare remote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import git
from test_board import chromium, needs_chromium
from test_fleet import clone, make_remote


def gtask(cwd: Path, *args: str, agent: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"GTASK_AGENT": agent} if agent else {})}
    proc = subprocess.run([sys.executable, "-m", "gtask", *args], cwd=cwd, capture_output=True, text=True, env=env)
    return proc


def ok(cwd: Path, *args: str, agent: str | None = None) -> str:
    proc = gtask(cwd, *args, agent=agent)
    assert proc.returncode == 0, f"gtask {' '.join(args)}: {proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A night: alice lands `one` after a failed attempt; bob finishes `two` on a branch, hands `four` off
    (filing a prerequisite) and proposes an idea. Returns the person's clone and the revision before the night."""
    tmp = tmp_path_factory.mktemp("night")
    remote = make_remote(tmp, {"one": [], "two": [], "three": ["one"], "four": []})
    person = clone(tmp, remote, "person")
    before = git(person, "rev-parse", "HEAD")
    alice, bob = clone(tmp, remote, "alice"), clone(tmp, remote, "bob")

    git(alice, "switch", "-q", "-c", "agent/alice")
    ok(alice, "claim", "one", agent="alice")
    ok(alice, "attempt", "start", "one", agent="alice")
    ok(alice, "attempt", "end", "one", "--outcome", "failed", "--reason", "test_fail", "--tokens", "1200",
       agent="alice")
    ok(alice, "attempt", "start", "one", agent="alice")
    ok(alice, "attempt", "end", "one", "--outcome", "success", "--tokens", "300", agent="alice")
    ok(alice, "done", "one", agent="alice")
    git(alice, "push", "-q", "origin", "agent/alice:main")

    git(bob, "switch", "-q", "-c", "agent/bob-two")
    ok(bob, "claim", "two", agent="bob")
    ok(bob, "done", "two", agent="bob")
    git(bob, "push", "-q", "origin", "agent/bob-two")
    git(bob, "fetch", "-q", "origin")
    git(bob, "switch", "-q", "-c", "agent/bob", "origin/main")
    ok(bob, "claim", "four", agent="bob")
    ok(bob, "handoff", "four", "--needs", "Set up fixtures", agent="bob")
    ok(bob, "new", "Cache the parser", "--id", "idea", "--commit", agent="bob")
    git(bob, "push", "-q", "origin", "agent/bob:main")

    git(person, "pull", "-q", "--ff-only")
    return person, before


def prerequisite(person: Path) -> str:
    found = [p.stem for p in (person / ".tasks").glob("*.md") if "Set up fixtures" in p.read_text()]
    assert len(found) == 1
    return found[0]


def test_markdown_names_the_night(night: tuple[Path, str]) -> None:
    person, before = night
    text = ok(person, "report", "--since", before)
    sections = {part.split("\n", 1)[0]: part for part in text.split("\n## ")[1:]}
    assert "| one |" in sections["Landed"] and "alice" in sections["Landed"]
    assert "| two |" in sections["Completed, not merged"] and "bob" in sections["Completed, not merged"]
    assert "| test_fail | 1 |" in sections["Failures by reason"]
    assert "| one |" in sections["Most retried"]
    assert "| 2 | 1 | 1 | 0 | 0 | 1500 |" in sections["Attempts"]
    assert "| four |" in sections["Handoffs"] and prerequisite(person) in sections["Handoffs"]
    assert "| idea |" in sections["Proposals waiting"] and "| new |" in sections["Proposals waiting"]
    assert "| three |" in sections["Ready next"]
    # a duration reads the same night
    assert "| one |" in ok(person, "report", "--since", "1d").split("## Landed", 1)[1]


def test_json_and_a_bad_since(night: tuple[Path, str]) -> None:
    person, before = night
    data = json.loads(ok(person, "report", "--since", before, "--json"))["repositories"][0]
    assert [row["task"] for row in data["landed"]] == ["one"]
    assert [row["task"] for row in data["completed_not_merged"]] == ["two"]
    assert data["attempts"]["failures_by_reason"] == {"test_fail": 1}
    assert data["handoffs"][0]["task"] == "four" and data["handoffs"][0]["needs"] == prerequisite(person)
    assert {row["task"] for row in data["proposals"]} == {"idea", prerequisite(person)}
    assert gtask(person, "report", "--since", "no-such-rev").returncode == 4
    assert gtask(person, "report", "--since", "12x").returncode == 4


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _ids(person: Path, before: str) -> set[str]:
    data = json.loads(ok(person, "report", "--since", before, "--json"))["repositories"][0]
    return {"one", "two", "four", "idea", "three", prerequisite(person)} | {r["task"] for r in data["landed"]}


def test_html_is_self_contained_and_names_every_task(night: tuple[Path, str], tmp_path: Path) -> None:
    person, before = night
    out = tmp_path / "report.html"
    ok(person, "report", "--since", before, "--html", str(out))
    page = out.read_text()
    parser = _Text()
    parser.feed(page)
    assert parser.scripts == 0 and "http://" not in page and "https://" not in page
    text = " ".join(parser.text)
    for task_id in _ids(person, before):
        assert task_id in text


@needs_chromium
def test_html_in_headless_chromium(night: tuple[Path, str], tmp_path: Path) -> None:
    person, before = night
    out = tmp_path / "report.html"
    ok(person, "report", "--since", before, "--html", str(out))
    dom = chromium(tmp_path, out.as_uri(), "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for task_id in _ids(person, before):
        assert f"<code>{task_id}</code>" in dom.stdout
