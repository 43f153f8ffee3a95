"""`gtask mcp`: the real server in its own process, driven over stdio by the official SDK's client."""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from contextlib import asynccontextmanager
from importlib import metadata, util
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, git, run_process, task_text, write_task

needs_sdk = pytest.mark.skipif(util.find_spec("mcp") is None,
                               reason="the MCP SDK is not installed: pip install -e '.[mcp]' (the test extra has it)")
TOOLS = {"next", "show", "claim", "done", "handoff", "new"}


@asynccontextmanager
async def connected(command: str, args: list[str], log: Path):
    """A client session with a server started as `command args`, its standard error kept in `log`."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    # the SDK passes only a few variables on: add the test's HOME and git identity
    server = StdioServerParameters(command=command, args=args, env=dict(os.environ))
    with log.open("w") as errlog:
        async with stdio_client(server, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session


async def call(session, name: str, **arguments: Any) -> tuple[bool, Any]:
    """Call a tool; return whether it failed and its JSON."""
    result = await session.call_tool(name, arguments)
    assert [block.type for block in result.content] == ["text"]
    return result.is_error, json.loads(result.content[0].text)


def head(repo: Path) -> str:
    return git(repo, "log", "-1", "--format=%B")


@pytest.fixture
def tasks(repo: Path) -> Path:
    write_task(repo, "schema", task_text("Write the schema", priority="1"))
    write_task(repo, "api", task_text("Use the schema", depends_on="[schema]"))
    write_task(repo, "library", task_text("Pick a library", priority="3"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tasks")
    return repo


@needs_sdk
def test_every_tool_over_stdio_gives_what_the_cli_gives(tasks: Path, cli, tmp_path: Path) -> None:
    import anyio

    repo = tasks
    log = tmp_path / "server.log"

    def cli_json(*args: str) -> Any:
        result = cli(*args, "--json")
        return json.loads(result.stdout or result.stderr)

    async def scenario() -> None:
        async with connected(sys.executable, ["-m", "gtask", "-C", str(repo), "mcp", "--agent", "bot"], log) as s:
            listed = (await s.list_tools()).tools
            assert {tool.name for tool in listed} == TOOLS and all(tool.description for tool in listed)
            schemas = json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed])
            assert len(schemas) < 2000, "every byte of the tool schemas costs an agent in every conversation"

            assert await call(s, "next") == (False, cli_json("next", "--agent", "bot"))
            assert await call(s, "show", id="api") == (False, cli_json("show", "api"))

            failed, claimed = await call(s, "claim", id="schema", lease="1h")
            assert not failed and claimed["task"]["claimed_by"] == "bot"
            assert "status: in_progress" in (repo / ".tasks" / "schema.md").read_text()
            assert "Task-Action: claim\nAgent: bot" in head(repo)

            failed, finished = await call(s, "done", id="schema", note="Schema written")
            assert not failed and [t["id"] for t in finished["now_ready"]] == ["api"]
            assert "Closes: schema" in head(repo) and "Schema written" in head(repo)

            failed, taken = await call(s, "next", claim=True)
            assert not failed and taken["task"]["id"] == "api" and taken["task"]["status"] == "in_progress"
            failed, handed = await call(s, "handoff", id="api", needs="Decide the API style")
            assert not failed and handed["task"]["status"] == "todo"
            assert handed["prerequisite"]["status"] == "proposed"  # an agent's task waits for a person
            assert handed["task"]["depends_on"] == ["schema", handed["prerequisite"]["id"]]
            assert "Task-Action: handoff" in head(repo)

            failed, filed = await call(s, "new", title="Write the docs", priority=0, labels=["docs"],
                                       steps=["Outline"], depends_on=["api"], lane="autonomous")
            assert not failed and filed["id"] == "write-the-docs" == filed["task"]["id"]
            assert filed["task"]["status"] == filed["task"]["state"] == "proposed"
            assert filed["task"]["labels"] == ["docs"] and filed["task"]["priority"] == 0
            assert "Task: write-the-docs\nTask-Action: new\nAgent: bot" in head(repo)
            assert await call(s, "show", id="write-the-docs") == (False, cli_json("show", "write-the-docs"))

            # errors: the CLI's error object, as a tool error
            failed, missing = await call(s, "show", id="nope")
            assert failed and missing["error"]["code"] == "not_found" and missing == cli_json("show", "nope")
            failed, refused = await call(s, "claim", id="schema")
            assert failed and refused["error"]["code"] == "conflict"
            cli_refused = cli_json("claim", "schema", "--agent", "bot")  # the same error, less the CLI's options
            assert refused["error"]["code"] == cli_refused["error"]["code"] and "--" in cli_refused["error"]["message"]
            assert "--" not in refused["error"]["message"]
            assert refused["error"]["message"] in cli_refused["error"]["message"]
            for name, arguments, message in [
                ("show", {}, "show: missing argument 'id'"),
                ("new", {"title": "X", "priority": 7}, "new: priority must be an integer from 0 to 4, not 7"),
                ("claim", {"id": "library", "force": True}, "claim: unknown argument 'force'; it takes id, lease"),
            ]:
                failed, error = await call(s, name, **arguments)
                assert failed and error["error"] == {"code": "usage", "message": message, "path": None, "line": None}
            assert await call(s, "next", label="nothing-has-it") == (False, None)

    anyio.run(scenario)
    assert not git(repo, "status", "--porcelain"), "every change was committed"


@needs_sdk
@pytest.mark.parametrize("block", ["json", "toml"])
def test_the_client_configurations_in_the_docs_start_the_server(tasks: Path, tmp_path: Path, block: str) -> None:
    import anyio

    text = (ROOT / "docs" / "mcp.md").read_text()
    snippet = re.search(rf"^```{block}\n(.*?)^```", text, re.S | re.M).group(1)
    if block == "json":
        config = json.loads(snippet)["mcpServers"]["gtask"]
    else:
        config = tomllib.loads(snippet)["mcp_servers"]["gtask"]
    assert config["command"] == "/home/you/gtask/.venv/bin/gtask" and "/home/you/shop" in config["args"]
    command = Path(sys.executable).parent / "gtask"  # the console script of this environment, as in the docs
    args = [str(tasks) if arg == "/home/you/shop" else arg for arg in config["args"]]

    async def scenario() -> None:
        async with connected(str(command), args, tmp_path / "server.log") as session:
            assert {tool.name for tool in (await session.list_tools()).tools} == TOOLS
            failed, best = await call(session, "next")
            assert not failed and best["id"] == "schema"

    anyio.run(scenario)


def test_the_server_needs_an_agent_name(tasks: Path) -> None:
    proc = run_process(tasks, "mcp")
    assert proc.returncode == 2
    assert "gtask mcp acts as an agent: pass --agent NAME or set GTASK_AGENT" in proc.stderr


def test_without_the_sdk_it_says_how_to_install_it(tasks: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    real_version = metadata.version

    def version(name: str) -> str:
        if name == "mcp":
            raise metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(metadata, "version", version)
    result = cli("mcp", "--agent", "bot")
    assert result.exit_code == 2
    assert "gtask mcp needs the MCP SDK: pip install 'gtask[mcp]'" in result.stderr


@needs_sdk
def test_the_server_runs_with_the_cyclic_collector_on(tasks: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from gtask.mcp import server as mcp_server

    seen = {}
    monkeypatch.setattr(mcp_server, "serve", lambda tools: seen.update(gc=gc.isenabled(), tools=tools))
    monkeypatch.setenv("GTASK_AGENT", "bot")
    gc.disable()  # as gtask.cli.main does for short commands
    try:
        assert cli("mcp").exit_code == 0
    finally:
        gc.enable()
    assert seen["gc"] and seen["tools"].agent == "bot" and seen["tools"].directory == tasks.resolve()
