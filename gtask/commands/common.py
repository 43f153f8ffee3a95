"""Options and helpers shared by commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..store import Store


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add `--json` to a read command."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(func)


def open_store(ctx: click.Context) -> Store:
    """Open the store of `-C PATH` (default: the current folder)."""
    params = ctx.find_root().params
    return Store.open(params.get("directory") or ".", use_cache=not params.get("no_cache"))
