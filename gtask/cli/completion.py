"""`gtask completion bash|zsh|fish`: the shell completion script (click's own)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import click

from gtask.output import render

if TYPE_CHECKING:
    from click.shell_completion import ShellComplete


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for a shell: commands, options, task IDs and statuses complete on Tab."""
    from click.shell_completion import get_completion_class

    root = ctx.find_root().command
    script = cast("type[ShellComplete]", get_completion_class(shell))(root, {}, "gtask", "_GTASK_COMPLETE").source()
    render.out(script.rstrip())
