"""`gtask import`: a plan checked as a whole, landing as proposed tasks in one commit (design §7)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import Cli, git, run_process, task_text, write_task
from gtask import Store
from gtask.protocol.plan_import import InvalidPlan, check_plan, import_plan, land, open_session, parse_plan
from gtask.errors import Conflict, GitError

PLAN = """\
tasks:
  - name: model
    title: Define the task model
    priority: 1
    steps: [Write the dataclass, Test it]
    body: |
      ## What
      One record per task.
  - name: store
    title: Store tasks on disk
    depends_on: [model, EXISTING, api:session-tokens]
    labels: [storage]
  - title: Document the format
    depends_on: [store]
"""


def write_plan(repo: Path, text: str, name: str = "plan.yaml") -> Path:
    path = repo / name
    path.write_text(textwrap.dedent(text))
    return path


def commit_existing(repo: Path, *task_ids: str) -> None:
    for task_id in task_ids:
        write_task(repo, task_id, task_text(task_id.title()))
    git(repo, "add", ".tasks")
    git(repo, "commit", "-q", "-m", "existing tasks")


def task_files(repo: Path) -> set[str]:
    return {p.name for p in (repo / ".tasks").glob("*.md")}


def state(repo: Path) -> tuple[str, str, set[str]]:
    return git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"), task_files(repo)


# -- a good plan -------------------------------------------------------------

def test_a_plan_lands_as_proposed_tasks_in_one_commit(cli: Cli, repo: Path) -> None:
    commit_existing(repo, "existing")
    head = git(repo, "rev-parse", "HEAD")
    result = cli("import", str(write_plan(repo, PLAN)), "--agent", "planner")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == ["model -> define-the-task-model", "store -> store-tasks-on-disk",
                         "#3 -> document-the-format"]
    commit = git(repo, "rev-parse", "HEAD")
    assert lines[3] == f"committed {commit}"
    assert git(repo, "rev-list", f"{head}..HEAD") == commit  # exactly one commit
    assert git(repo, "show", "--name-only", "--format=", "HEAD").splitlines() == [
        ".tasks/define-the-task-model.md", ".tasks/document-the-format.md", ".tasks/store-tasks-on-disk.md"]
    message = git(repo, "log", "-1", "--format=%B")
    assert message.splitlines()[0] == "gtask: import 3 tasks"
    for trailer in ("Task: define-the-task-model", "Task: store-tasks-on-disk", "Task: document-the-format",
                    "Task-Action: import", "Agent: planner"):
        assert trailer in message.splitlines()
    store = Store.open(repo)
    tasks = {t: store.get(t) for t in ("define-the-task-model", "store-tasks-on-disk", "document-the-format")}
    assert {t.status for t in tasks.values()} == {"proposed"}
    assert tasks["store-tasks-on-disk"].depends_on == ["define-the-task-model", "EXISTING", "api:session-tokens"]
    assert tasks["document-the-format"].depends_on == ["store-tasks-on-disk"]
    assert tasks["define-the-task-model"].steps == ["Write the dataclass", "Test it"]
    assert tasks["define-the-task-model"].body == "## What\nOne record per task.\n"
    assert (repo / ".tasks" / "store-tasks-on-disk.md").read_text() == textwrap.dedent("""\
        ---
        title: Store tasks on disk
        status: proposed
        depends_on:
          - define-the-task-model
          - EXISTING
          - api:session-tokens
        labels:
          - storage
        ---
        """)


def test_standard_input_and_json_output(repo: Path) -> None:
    proc = run_process(repo, "import", "-", "--json", input=PLAN.replace("EXISTING, ", ""))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result == {"tasks": {"model": "define-the-task-model", "store": "store-tasks-on-disk",
                                "#3": "document-the-format"},
                      "commit": git(repo, "rev-parse", "HEAD")}


def test_the_file_is_read_relative_to_dash_c_as_in_git(cli: Cli, repo: Path) -> None:
    write_plan(repo, "tasks:\n  - title: One\n", "plans.yaml")
    result = cli("import", "plans.yaml", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["tasks"] == {"#1": "one"}


def test_users_staged_and_unstaged_work_is_left_alone(cli: Cli, repo: Path) -> None:
    (repo / "README.md").write_text("demo\nunstaged line\n")
    (repo / "staged.txt").write_text("staged\n")
    git(repo, "add", "staged.txt")
    before = git(repo, "diff"), git(repo, "diff", "--cached")
    assert cli("import", str(write_plan(repo, "tasks:\n  - title: One\n  - title: Two\n"))).exit_code == 0
    assert git(repo, "show", "--name-only", "--format=", "HEAD").splitlines() == [".tasks/one.md", ".tasks/two.md"]
    assert (git(repo, "diff"), git(repo, "diff", "--cached")) == before
    status = git(repo, "status", "--porcelain").splitlines()
    assert "A  staged.txt" in status and "M README.md" in status  # git() strips the first line's space
    assert not [line for line in status if line.endswith((".tasks/one.md", ".tasks/two.md"))]


def test_ready_and_next_never_offer_imported_tasks(cli: Cli, repo: Path) -> None:
    plan = write_plan(repo, "tasks:\n  - title: One\n    priority: 0\n  - name: two\n    title: Two\n")
    assert cli("import", str(plan)).exit_code == 0
    assert json.loads(cli("ready", "--json").stdout) == []
    assert cli("next", "--json").stdout.strip() in ("", "null")
    commit_existing(repo, "later")
    assert [t["id"] for t in json.loads(cli("ready", "--json").stdout)] == ["later"]
    assert json.loads(cli("next", "--json").stdout)["id"] == "later"


def test_generated_ids_are_unique_in_the_batch_and_avoid_existing_ones(repo: Path) -> None:
    commit_existing(repo, "fix-login")
    plan = "tasks:\n  - title: Fix login\n  - title: Fix login\n  - title: Fix login\n"
    done = import_plan(Store.open(repo), plan, "plan.yaml")
    ids = list(done.tasks.values())
    assert len({i.lower() for i in ids}) == 3 and "fix-login" not in ids
    assert all(i.startswith("fix-login-") for i in ids)


def test_a_chosen_id_is_used_and_a_nameless_task_is_named_by_it(repo: Path) -> None:
    plan = """\
    tasks:
      - id: schema-v2
        title: Schema version two
      - title: Migrate
        depends_on: [schema-v2]
    """
    done = import_plan(Store.open(repo), textwrap.dedent(plan), "plan.yaml")
    assert done.tasks == {"schema-v2": "schema-v2", "#2": "migrate"}
    assert Store.open(repo).get("migrate").depends_on == ["schema-v2"]


def test_local_names_win_over_existing_ids(repo: Path) -> None:
    commit_existing(repo, "model")
    plan = "tasks:\n  - name: model\n    title: New model\n  - title: Use it\n    depends_on: [model]\n"
    done = import_plan(Store.open(repo), plan, "plan.yaml")
    assert Store.open(repo).get("use-it").depends_on == [done.tasks["model"]] == ["new-model"]


def test_no_commit_only_writes_the_files(cli: Cli, repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    result = cli("import", str(write_plan(repo, "tasks:\n  - title: One\n")), "--no-commit", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"tasks": {"#1": "one"}, "commit": None}
    assert git(repo, "rev-parse", "HEAD") == head
    assert "?? .tasks/one.md" in git(repo, "status", "--porcelain", "-uall")


def test_a_folder_outside_git_needs_no_commit(tmp_path: Path, capsys) -> None:
    from gtask.cli.main import run

    assert run(["-C", str(tmp_path), "init"]) == 0
    plan = write_plan(tmp_path, "tasks:\n  - title: One\n")
    capsys.readouterr()
    assert run(["-C", str(tmp_path), "import", str(plan)]) == 2
    assert "--no-commit" in capsys.readouterr().err
    assert not (tmp_path / ".tasks" / "one.md").exists()
    assert run(["-C", str(tmp_path), "import", str(plan), "--no-commit"]) == 0
    assert Store.open(tmp_path).get("one").status == "proposed"


# -- a bad plan writes nothing and says every problem -------------------------

BAD = """\
tasks:
  - name: a
    title: A
    priority: 9
    status: todo
    depends_on: [b, nowhere]
  - name: b
    title: B
    depends_on: [a]
  - name: a
    id: "bad id"
    title: C
    steps: not a list
    claimed_by: someone
"""


def test_a_bad_plan_reports_every_problem_and_writes_nothing(cli: Cli, repo: Path) -> None:
    plan_file = write_plan(repo, BAD)
    before = state(repo)
    result = cli("import", str(plan_file))
    assert result.exit_code == 1
    plan = str(repo / "plan.yaml")
    lines = result.stderr.splitlines()
    expected = [
        (4, "task 'a': 'priority' must be a whole number from 0 to 4, not 9"),
        (5, "task 'a': status 'todo' is not allowed: imported tasks land as proposed"),
        (6, "task 'a': depends on 'nowhere', which is neither a name in this plan nor a task in .tasks/"),
        (6, "task 'a': dependency cycle: a -> b -> a"),
        (10, "task 'a': 'a' already names the task on line 2"),
        (11, "task 'a': 'bad id' is not a valid task ID"),
        (13, "task 'a': 'steps' must be a list, not a string"),
        (14, "task 'a': 'claimed_by' is written by gtask's own commands, not by a plan"),
    ]
    assert len(lines) == len(expected) + 1
    for line, (number, message) in zip(lines, expected):
        assert line.startswith(f"{plan}:{number}: error: {message}")
    assert lines[-1] == f"gtask: error: {plan}: the plan has 8 problems; nothing was written"
    assert state(repo) == before  # HEAD, git status and the task folder unchanged


def test_a_bad_plan_with_json_lists_the_problems_in_the_error(cli: Cli, repo: Path) -> None:
    result = cli("import", str(write_plan(repo, BAD)), "--json")
    assert result.exit_code == 1 and result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "invalid_plan" and error["path"] == str(repo / "plan.yaml")
    assert [(p["line"], p["severity"]) for p in error["problems"]] == [
        (4, "error"), (5, "error"), (6, "error"), (6, "error"), (10, "error"), (11, "error"), (13, "error"),
        (14, "error")]


def test_taken_ids_are_problems(repo: Path) -> None:
    commit_existing(repo, "here")
    git(repo, "checkout", "-q", "-b", "other")
    commit_existing(repo, "on-branch")
    git(repo, "checkout", "-q", "main")
    plan = "tasks:\n  - id: HERE\n    title: A\n  - id: on-branch\n    title: B\n  - id: twice\n    title: C\n" \
           "  - id: Twice\n    title: D\n"
    with pytest.raises(InvalidPlan) as caught:
        import_plan(Store.open(repo), plan, "plan.yaml")
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (2, "task 'HERE': ID 'HERE' is taken: a task file in .tasks/ has it"),
        (4, "task 'on-branch': ID 'on-branch' is taken on another branch"),
        (8, "task #4: ID 'Twice' is also chosen by the task on line 6"),
    ]


def test_a_cycle_through_an_existing_task_is_a_problem(repo: Path) -> None:
    write_task(repo, "old", task_text("Old", depends_on="[later]"))
    plan = "tasks:\n  - id: later\n    title: Later\n    depends_on: [old]\n"
    with pytest.raises(InvalidPlan) as caught:
        import_plan(Store.open(repo), plan, "plan.yaml")
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (4, "task 'later': dependency cycle: later -> old -> later")]


@pytest.mark.parametrize("text, line, message", [
    ("tasks:\n  - &x {title: A}\n  - *x\n", 3, "YAML aliases are not allowed in a plan"),
    ("tasks:\n  - title: !!str A\n", 2, "YAML tags (tag:yaml.org,2002:str) are not allowed in a plan"),
    ("tasks:\n  - !!python/object/apply:os.system [touch pwned]\n", 2, "YAML tags"),
    ("tasks: [\n", 2, "YAML error"),
    ("- title: A\n", 1, "a plan is a mapping with a 'tasks' list"),
    ("tasks: []\n", 1, "the plan has no tasks"),
    ("task:\n  - title: A\n", 1, "unknown key 'task': a plan has only 'tasks'"),
    ("tasks:\n  - title: A\n    title: B\n", 3, "key 'title' appears more than once (lines 2, 3)"),
    ("tasks:\n  - just a string\n", 2, "task #1 must be a mapping of keys to values"),
    ("tasks:\n  - priority: 1\n", 2, "task #1: 'title' is required"),
    ("tasks:\n  - title: A\n    lane: nowhere\n", 3, "task #1: lane 'nowhere' is not one of the configured lanes"),
    ("tasks:\n  - title: A\n    body: [x]\n", 3, "task #1: 'body' must be a string of Markdown"),
    ("tasks:\n  - name: x y\n    title: A\n", 2, "task #1: name 'x y' is not valid"),
])
def test_malformed_plans_are_refused_with_a_line(repo: Path, text: str, line: int, message: str) -> None:
    before = state(repo)
    with pytest.raises(InvalidPlan) as caught:
        import_plan(Store.open(repo), text, "plan.yaml")
    problem = caught.value.problems[0]
    assert (problem.path, problem.line) == ("plan.yaml", line)
    assert problem.message.startswith(message), problem.message
    assert state(repo) == before
    assert not (repo / "pwned").exists()


def test_a_missing_file_is_not_found(cli: Cli, repo: Path) -> None:
    result = cli("import", "no-such-plan.yaml")
    assert result.exit_code == 4
    assert result.stderr == "gtask: error: no-such-plan.yaml: no such file\n"


def test_a_file_that_appears_before_writing_is_a_conflict(repo: Path) -> None:
    store = Store.open(repo)
    session = open_session(store, None)
    batch = check_plan(store, parse_plan("tasks:\n  - title: One\n  - title: Two\n", "plan.yaml"), "plan.yaml")
    raced = write_task(repo, "two", task_text("Someone else's"))
    head = git(repo, "rev-parse", "HEAD")
    with pytest.raises(Conflict):
        land(batch, session)
    assert git(repo, "rev-parse", "HEAD") == head
    assert not (repo / ".tasks" / "one.md").exists()
    assert raced.read_text() == task_text("Someone else's")


def test_a_failed_commit_removes_every_new_file(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gtask.gitio.git import Git

    def refuse(self: Git, paths: list[str], message: str) -> str:
        raise GitError("the commit failed")

    monkeypatch.setattr(Git, "commit_paths", refuse)
    before = state(repo)
    with pytest.raises(GitError):
        import_plan(Store.open(repo), "tasks:\n  - title: One\n  - title: Two\n", "plan.yaml")
    assert state(repo) == before
