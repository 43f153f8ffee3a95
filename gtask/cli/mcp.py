"""`gtask mcp`: serve the Model Context Protocol on stdio (the optional extra gtask[mcp])."""

from __future__ import annotations

import gc
import os

import click

from gtask.cli.options import open_store
from gtask.errors import UsageError


@click.command()
@click.option("--agent", metavar="NAME",
              help="The agent the server acts as (default: $GTASK_AGENT; one of them is required).")
@click.pass_context
def mcp(ctx: click.Context, agent: str | None) -> int:
    """Serve next, show, claim, done, handoff and new to an MCP client over stdio."""
    gc.enable()  # a long-lived server: main() switched the cyclic collector off for short commands
    from gtask.protocol.session import agent_name

    if not (agent or os.environ.get("GTASK_AGENT")):
        raise UsageError("gtask mcp acts as an agent: pass --agent NAME or set GTASK_AGENT")
    agent = agent_name(None, agent)
    open_store(ctx)  # a wrong -C fails now, not on every call
    _require_sdk()
    from gtask.mcp.server import Tools, serve

    params = ctx.find_root().params
    try:
        serve(Tools(params.get("directory") or ".", agent, use_cache=not params.get("no_cache")))
    except KeyboardInterrupt:
        return 130
    return 0


def _require_sdk() -> None:
    """Refuse with the install command when the optional MCP SDK (major version 2) is missing."""
    from importlib import metadata

    try:
        version = metadata.version("mcp")
    except metadata.PackageNotFoundError:
        raise UsageError("gtask mcp needs the MCP SDK: pip install 'gtask[mcp]'") from None
    if not version.split(".")[0].isdigit() or int(version.split(".")[0]) < 2:
        raise UsageError(f"gtask mcp needs version 2 of the MCP SDK, not {version}: pip install 'gtask[mcp]'")
