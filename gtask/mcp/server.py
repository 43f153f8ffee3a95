"""`gtask mcp`: six tools over the Model Context Protocol, each one library call with the CLI's --json result.

`Tools` is plain gtask (no SDK needed to use or test it); `serve` puts it on
stdio with the official SDK's low-level server, whose hand-written schemas
stay small: an agent pays for every byte of them in every conversation.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gtask.core.keys import BY_NAME
from gtask.errors import GtaskError, UsageError
from gtask.store.store import Store
from gtask.version import __version__

if TYPE_CHECKING:
    from gtask.protocol.session import Session

_TEXT = {"type": "string"}
_TEXTS = {"type": "array", "items": _TEXT}
_ID = {"id": _TEXT}
_KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "text": _TEXT, "texts": _TEXTS, "refs": _TEXTS,
    "priority": {"type": "integer", "minimum": 0, "maximum": 4, "description": "0 is most urgent; default 2."},
}
NEW_KEYS = ("title", "priority", "depends_on", "labels", "steps", "lane")  # what an agent files; the rest is a person's

# name -> (description, properties, required): the whole surface an agent sees
SCHEMAS: dict[str, tuple[str, dict[str, Any], list[str]]] = {
    "next": ("The best ready task you may take, or null; with claim=true, claim it.",
             {"claim": {"type": "boolean"}, "lane": _TEXT, "label": _TEXT}, []),
    "show": ("One task with its state, body, dependencies and dependents.", _ID, ["id"]),
    "claim": ("Claim a ready task with a commit on the current branch.",
              {**_ID, "lease": {"type": "string", "description": "Like 2h; default: config lease."}}, ["id"]),
    "done": ("Complete your task with a commit that closes it; lists the tasks now ready.",
             {**_ID, "note": {"type": "string", "description": "For the commit message."}}, ["id"]),
    "handoff": ("Release your task, blocked on a new prerequisite task that it now depends on.",
                {**_ID, "needs": {"type": "string", "description": "Title of the prerequisite."}}, ["id", "needs"]),
    "new": ("File and commit a task as proposed; a person approves it.",
            {name: _KIND_SCHEMAS[BY_NAME[name].kind] for name in NEW_KEYS}, ["title"]),
}
INSTRUCTIONS = ("gtask tasks of one git repository. Loop: next(claim=true), do the work and commit it, "
                "done(id); if something must come first, handoff(id, needs).")


class Tools:
    """The tools over one repository, acting as one agent (what an agent files is proposed)."""

    def __init__(self, directory: str | Path, agent: str, use_cache: bool = True) -> None:
        self.directory = Path(directory).resolve()
        self.agent = agent
        self.use_cache = use_cache

    def call(self, name: str, arguments: dict[str, Any] | None) -> Any:
        """Check the arguments against the tool's schema, then run it; errors are GtaskErrors."""
        if name not in SCHEMAS:
            raise UsageError(f"no tool {name!r}; the tools are {', '.join(SCHEMAS)}")
        _, properties, required = SCHEMAS[name]
        arguments = {k: v for k, v in (arguments or {}).items() if v is not None}
        for key in required:
            if key not in arguments:
                raise UsageError(f"{name}: missing argument {key!r}")
        for key, value in arguments.items():
            if key not in properties:
                raise UsageError(f"{name}: unknown argument {key!r}; it takes {', '.join(properties)}")
            _check(name, key, value, properties[key])
        if "id" in arguments:
            arguments["task_id"] = arguments.pop("id")
        try:
            return getattr(self, f"tool_{name}")(**arguments)
        except GtaskError as exc:
            exc.message = without_cli_options(exc.message)
            raise

    # -- the tools: each one library call --------------------------------

    def tool_next(self, claim: bool = False, lane: str | None = None, label: str | None = None) -> Any:
        from gtask.output.views import next_json
        from gtask.plan.planning import Filters, Plan

        if claim:
            from gtask.protocol.claims import claim_next

            session, push = self._session()
            outcome = claim_next(session, Filters(lane, label), push=push)
            return outcome.to_json() if outcome else None
        plan = Plan.of(self._store())
        return next_json(plan.ranked_ready(Filters(lane, label, agent_lanes=plan.agent_lanes)))

    def tool_show(self, task_id: str) -> Any:
        from gtask.output.views import detail

        return detail(self._store(), task_id).to_json()

    def tool_claim(self, task_id: str, lease: str | None = None) -> Any:
        from gtask.protocol.claims import claim

        session, push = self._session()
        return claim(session, task_id, lease=lease, push=push).to_json()

    def tool_done(self, task_id: str, note: str | None = None) -> Any:
        from gtask.protocol.claims import done

        session, push = self._session()
        return done(session, task_id, note=note, push=push).to_json()

    def tool_handoff(self, task_id: str, needs: str) -> Any:
        from gtask.protocol.claims import handoff

        session, push = self._session()
        return handoff(session, task_id, needs_title=needs, push=push).to_json()

    def tool_new(self, title: str, **fields: Any) -> Any:
        from gtask.protocol.session import create_task

        store = self._store()
        task = create_task(store, title, fields, commit=True, agent=self.agent)
        return {"id": task.id, "task": task.to_json(store.state_of(task))}

    def _store(self) -> Store:
        # opened per call: a long-lived server must see config edits like every new CLI process does
        store = Store.open(self.directory, use_cache=self.use_cache)
        store.notify = lambda notice: print(f"gtask: {notice}", file=sys.stderr)  # stdout carries the protocol
        return store

    def _session(self) -> tuple[Session, str | None]:
        """A session acting as the agent, and where protocol steps push: the default remote when the clone
        has one (exactly once across clones, as `claim --push`), unless config says `claim_push: false`."""
        from gtask.protocol.session import Session

        session = Session.open(self._store(), self.agent)
        config = session.store.config
        if config.raw.get("claim_push") is False or not session.git.default_remote():
            return session, config.push_to(None)
        return session, ""


def _check(tool: str, key: str, value: Any, schema: dict[str, Any]) -> None:
    """Refuse an argument that does not fit its schema (the SDK's low-level server passes them unchecked)."""
    kind = schema["type"]
    if kind == "array":
        ok, wanted = isinstance(value, list) and all(isinstance(item, str) for item in value), "a list of strings"
    elif kind == "integer":
        low, high = schema["minimum"], schema["maximum"]
        ok, wanted = type(value) is int and low <= value <= high, f"an integer from {low} to {high}"
    elif kind == "boolean":
        ok, wanted = isinstance(value, bool), "true or false"
    else:
        ok, wanted = isinstance(value, str), "a string"
    if not ok:
        raise UsageError(f"{tool}: {key} must be {wanted}, not {json.dumps(value)}")


_CLI_ONLY = re.compile(r";? *(?:use|with|run)? *--[a-z-]+(?: [A-Z]+)?(?: to [^;()]*)?|\(--[a-z-]+[^)]*\)")


def without_cli_options(message: str) -> str:
    """An error message as MCP says it: without the CLI's options (`--force`, `--push`), which no tool takes."""
    return _CLI_ONLY.sub("", message).strip()


def json_text(value: Any) -> str:
    """The CLI's --json text, but ASCII only: no client is fed raw control or bidi characters from a task."""
    return json.dumps(value)


def tool_list() -> list[dict[str, Any]]:
    """The tools as MCP lists them: name, description, input schema."""
    tools = []
    for name, (description, properties, required) in SCHEMAS.items():
        schema = {"type": "object", "properties": properties, **({"required": required} if required else {})}
        tools.append({"name": name, "description": description, "inputSchema": schema})
    return tools


def serve(tools: Tools) -> None:
    """Serve the tools on standard input and output until the client closes them."""
    import anyio
    import mcp.types as types
    from mcp.server.lowlevel import Server
    from mcp.server.stdio import stdio_server

    listed = types.ListToolsResult(tools=[types.Tool(**tool) for tool in tool_list()])

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return listed

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        # Nothing is awaited in here, so calls run one at a time, as they must: the writer lock is
        # reentrant within a process and would not keep two steps of this one apart.
        try:
            result, failed = tools.call(params.name, params.arguments), False
        except GtaskError as exc:
            result, failed = exc.to_json(), True
        return types.CallToolResult(  # type: ignore[call-arg]  # the SDK types is_error; isError is its alias
            content=[types.TextContent(type="text", text=json_text(result))], isError=failed)

    server = Server("gtask", version=__version__, instructions=INSTRUCTIONS,
                    on_list_tools=list_tools, on_call_tool=call_tool)

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)
