"""Docs that cannot drift: every command has help text and a section in docs/commands.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from gtask.cli import cli

DOCS = (Path(__file__).resolve().parent.parent / "docs" / "commands.md").read_text()


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_command_has_help_and_docs(name: str) -> None:
    command = cli.commands[name]
    assert command.help and command.help.strip(), f"{name} has no help text"
    assert f"\n## {name}\n" in DOCS, f"{name} is missing from docs/commands.md"
    for param in command.params:
        if param.param_type_name == "option":
            assert param.help, f"{name} {param.opts} has no help text"
