"""`gtask check`."""

from __future__ import annotations

import click

from .. import render
from .common import json_option, open_store


@click.command()
@json_option
@click.pass_context
def check(ctx: click.Context, as_json: bool) -> int:
    """Validate every task file and the dependency graph; exit 1 on any error."""
    from ..checks import check_store

    store = open_store(ctx)
    found = check_store(store)
    errors = [p for p in found if p.is_error]
    if as_json:
        render.emit_json({"ok": not errors, "errors": len(errors), "warnings": len(found) - len(errors),
                          "problems": [p.to_json() for p in found]})
    else:
        render.problems(found, as_json=False, stream_err=False)
        count = len(store.ids())
        render.out(f"{count} task files: {len(errors)} errors, {len(found) - len(errors)} warnings")
    return 1 if errors else 0
