"""Independent oracles: python-frontmatter reads every file gtask writes to the same metadata as gtask's own
reader, and GitPython (not gtask's git module) checks what protocol commits contain."""

from __future__ import annotations

import datetime
import json
import re
import string
from pathlib import Path
from typing import Any

import frontmatter
import git as gitpython
from conftest import Cli, git, task_text, write_task
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtask.core import taskfile

_STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?")


def normal(value: Any) -> Any:
    """Dates as ISO text on both sides: PyYAML's SafeLoader makes datetime objects, gtask keeps the text."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, str) and _STAMP.fullmatch(value):
        return datetime.datetime.fromisoformat(value.replace(" ", "T")).isoformat()
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normal(v) for v in value]
    return value


def agree(path: Path) -> dict[str, Any]:
    """Assert that python-frontmatter and gtask read `path` to the same metadata and body; return it."""
    theirs = frontmatter.load(path)
    ours = taskfile.read(path, path.name)
    assert normal(dict(theirs.metadata)) == normal(dict(ours.data)), path
    assert theirs.content.strip() == (ours.body or "").strip(), path
    return dict(theirs.metadata)


def agree_all(repo: Path) -> int:
    files = sorted((repo / ".tasks").glob("*.md"))
    for path in files:
        agree(path)
    return len(files)


def test_new_and_set_files_read_the_same(cli: Cli, repo: Path) -> None:
    assert cli("new", "Model: the 'core' #1", "--priority", "1", "--label", "a b", "--label", "ünï").exit_code == 0
    task_id = json.loads(cli("list", "--json").stdout)[0]["id"]
    assert cli("new", "Store", "--depends-on", task_id).exit_code == 0
    for edit in (["labels+=x: y", "trigger=when #2 ships"], ["steps+=- first", "steps+=second"],
                 ["risks+=[bracket]", "milestone=v1"], ["priority=0", "labels-=a b"], ["trigger="]):
        assert cli("set", task_id, *edit).exit_code == 0
        metadata = agree(repo / ".tasks" / f"{task_id}.md")
    assert metadata["priority"] == 0 and "x: y" in metadata["labels"]
    assert agree_all(repo) == 2


def test_protocol_steps_read_the_same_and_commit_only_their_file(cli: Cli, repo: Path) -> None:
    write_task(repo, "model", task_text("Model"))
    write_task(repo, "store", task_text("Store", depends_on="[model]"))
    (repo / "notes.txt").write_text("the user's own work\n")
    git(repo, "add", "-A", ".tasks")
    git(repo, "commit", "-q", "-m", "tasks")
    repository = gitpython.Repo(repo)
    for step in (["claim", "model", "--agent", "bot-1"], ["done", "model", "--agent", "bot-1"],
                 ["claim", "store", "--agent", "bot-2"], ["release", "store", "--agent", "bot-2"]):
        before = repository.head.commit
        assert cli(*step).exit_code == 0, step
        commit = repository.head.commit
        assert commit.parents == (before,)
        assert set(commit.stats.files) == {f".tasks/{step[1]}.md"}
        trailers = dict(re.findall(r"(?m)^([A-Z][\w-]*): (.+)$", commit.message))
        assert trailers["Task"] == step[1] and trailers["Agent"] == step[3]
        assert trailers["Task-Action"] == step[0]
        agree(repo / ".tasks" / f"{step[1]}.md")
    assert repository.is_dirty(untracked_files=True) and "notes.txt" in repository.untracked_files
    done = agree(repo / ".tasks" / "model.md")
    assert done["status"] == "done" and done["closed_at"]


def test_imported_files_read_the_same(cli: Cli, repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "issues.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in [
        {"id": "bd-1", "title": "Epic: 'quoted' #hash", "status": "open", "labels": ["a: b", "@at"],
         "description": "---\nnot front matter\n---\n", "created_at": "2026-01-02T03:04:05Z"},
        {"id": "bd-2", "title": "Child", "status": "closed", "closed_at": "2026-01-03T00:00:00+01:00",
         "dependencies": [{"issue_id": "bd-2", "depends_on_id": "bd-1", "type": "parent-child"}],
         "metadata": {"nested": [1, {"x": None}]}},
    ]) + "\n", "utf-8")
    assert cli("import", "--from", "beads", str(path)).exit_code == 0
    commit = gitpython.Repo(repo).head.commit
    assert set(commit.stats.files) == {".tasks/bd-1.md", ".tasks/bd-2.md"}
    assert re.findall(r"(?m)^Task: (.+)$", commit.message) == ["bd-1", "bd-2"]
    assert agree(repo / ".tasks" / "bd-2.md")["parent"] == "bd-1"
    assert agree_all(repo) == 2


_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " :#'\"-[]{}@&*!|>%,?ü\t", min_size=1, max_size=20)
_EDIT = st.one_of(
    st.builds(lambda v: f"trigger={v}", _TEXT),
    st.builds(lambda v: f"milestone={v}", _TEXT),
    st.builds(lambda v: f"labels+={v}", _TEXT),
    st.builds(lambda v: f"steps+={v}", _TEXT),
    st.builds(lambda v: f"risks+={v}", _TEXT),
    st.builds(lambda v: f"priority={v}", st.integers(0, 4)),
    st.sampled_from(["trigger=", "labels=", "steps=", "milestone=", "status=blocked", "status=todo"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(edits=st.lists(_EDIT, min_size=1, max_size=6))
def test_random_set_edits_read_the_same(cli: Cli, repo: Path, edits: list[str]) -> None:
    path = write_task(repo, "prop", task_text("Property", labels="[seed]") + "# kept body\n")
    for edit in edits:
        result = cli("set", "prop", edit)
        if result.exit_code != 0:
            continue  # a value gtask refuses (exit 2) leaves the file as it was
        agree(path)
    agree(path)
