"""Docs that cannot drift: every command has help text and a section in docs/commands.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from gtask.cli.main import cli

DOCS = (Path(__file__).resolve().parent.parent / "docs" / "commands.md").read_text()


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_command_has_help_and_docs(name: str) -> None:
    command = cli.commands[name]
    assert f"\n## {name}\n" in DOCS, f"{name} is missing from docs/commands.md"
    for path, part in [(name, command)] + [(f"{name} {sub}", c) for sub, c in getattr(command, "commands", {}).items()]:
        assert part.help and part.help.strip(), f"{path} has no help text"
        assert path == name or f"gtask {path}" in DOCS, f"gtask {path} is missing from docs/commands.md"
        for param in part.params:
            if param.param_type_name == "option":
                assert param.help, f"{path} {param.opts} has no help text"


def test_the_readme_library_example_runs(repo: Path, monkeypatch) -> None:
    import re

    from conftest import task_text, write_task

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    write_task(repo, "api-auth-check", task_text("Require staff auth"))
    monkeypatch.chdir(repo)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["task"].id == "api-auth-check"
    assert namespace["best"] is None  # the only task is now in progress
    assert "status: in_progress" in (repo / ".tasks" / "api-auth-check.md").read_text()
