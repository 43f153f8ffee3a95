"""The command line: registers commands and turns errors into messages and exit codes."""

from __future__ import annotations

import gc
import sys

import click

from gtask.errors import GtaskError, UsageError
from gtask.output import render
from gtask.version import __version__

# name -> (module under gtask.cli, attribute): a command's module (and what it imports) loads only when that
# command runs, so a warm `gtask ready` does not pay for `attempt`, `mcp` or the session protocol.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("init", "init"), "new": ("new", "new"), "list": ("list_tasks", "list_tasks"), "show": ("show", "show"),
    "set": ("set_fields", "set_fields"), "edit": ("edit", "edit"), "check": ("check", "check"),
    "ready": ("plan", "ready"), "next": ("plan", "next_task"), "blocked": ("plan", "blocked"),
    "order": ("plan", "order"), "graph": ("graph", "graph"),
    "claim": ("claims", "claim"), "renew": ("claims", "renew"), "release": ("claims", "release"),
    "done": ("claims", "done"), "handoff": ("claims", "handoff"), "sync": ("claims", "sync"),
    "status": ("history", "status"), "log": ("history", "log"), "reconcile": ("history", "reconcile"),
    "view": ("view", "view"), "report": ("report", "report"), "import": ("import_plan", "import_plan"),
    "export": ("export", "export"), "attempt": ("attempt", "attempt"), "stats": ("attempt", "stats"),
    "approve": ("workflow", "approve"), "reject": ("workflow", "reject"), "triage": ("triage", "triage"),
    "gate": ("workflow", "gate"), "events": ("workflow", "events"), "agents": ("workflow", "agents"),
    "merge-driver": ("merge_driver", "merge_driver"), "completion": ("completion", "completion"), "mcp": ("mcp", "mcp"),
}


class _LazyCommands(dict[str, click.Command]):
    """The group's command table: every name is listed, a command's module is imported on first lookup."""

    def __init__(self) -> None:
        super().__init__()
        self._names = dict.fromkeys(COMMANDS)

    def _load(self, name: str) -> click.Command:
        from importlib import import_module

        module, attribute = COMMANDS[name]
        command: click.Command = getattr(import_module(f"gtask.cli.{module}"), attribute)
        dict.__setitem__(self, name, command)
        return command

    def __getitem__(self, name: str) -> click.Command:
        if not dict.__contains__(self, name) and name in COMMANDS:
            return self._load(name)
        return dict.__getitem__(self, name)

    def get(self, name: str, default: object = None) -> click.Command | None:  # type: ignore[override]
        if name not in self:
            return default  # type: ignore[return-value]
        return self[name]

    def __contains__(self, name: object) -> bool:
        return name in self._names or dict.__contains__(self, name)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(sorted(set(self._names) | set(dict.keys(self))))

    def __len__(self) -> int:
        return len(set(self._names) | set(dict.keys(self)))

    def keys(self):  # type: ignore[no-untyped-def]
        return list(self)

    def items(self):  # type: ignore[no-untyped-def]
        return [(name, self[name]) for name in self]

    def values(self):  # type: ignore[no-untyped-def]
        return [self[name] for name in self]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "directory", metavar="PATH", type=click.Path(file_okay=False),
              help="Run as if gtask was started in PATH (as with git -C).")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Parse every task file; do not read or write the cache in the git directory.")
@click.version_option(__version__, package_name="gtask")  # the package's own version: no metadata lookup
def cli(directory: str | None, no_cache: bool) -> None:
    """gtask: a git-native, plain-text task store for people and AI coding agents."""


cli.commands = _LazyCommands()


def run(args: list[str]) -> int:
    """Run one command line and return its exit code; one place maps exceptions to exits (design §4)."""
    as_json = "--json" in args
    try:
        from gtask.fsutil import env_seconds

        env_seconds("GTASK_LOCK_WAIT", 0)  # a malformed wait is bad usage before anything runs
        code = cli.main(args=args, prog_name="gtask", standalone_mode=False)
        render.flush_problems()
    except GtaskError as exc:
        render.error(exc, as_json)
        return exc.exit_code
    except OSError as exc:  # a full disk, a read-only `.git`, a folder we may not enter: a sentence, not a traceback
        from gtask.fsutil import explain_os_error

        render.error(GtaskError(explain_os_error(exc)), as_json)
        return 1
    except click.exceptions.Abort:
        render.err("gtask: aborted")
        return 1
    except click.ClickException as exc:
        if as_json:
            render.error(UsageError(exc.format_message()), True)
        else:
            exc.show()
        return 2 if isinstance(exc, click.UsageError) else exc.exit_code
    return code if isinstance(code, int) else 0


def main() -> None:
    """The console script."""
    gc.disable()  # a short-lived process: collecting cycles costs ~0.1 s on 10,000 cached tasks and frees little
    exit_now(run(sys.argv[1:]))


def exit_now(code: int) -> None:
    """Exit once the output is flushed, without tearing the interpreter down object by object (~10 ms after a
    listing of 10,000 tasks). With other threads running, or when a flush fails, exit as Python does."""
    import os

    threading = sys.modules.get("threading")
    if threading is None or threading.active_count() == 1:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            sys.exit(code)  # a closed pipe: Python reports it, and sets the exit status, as it always did
        os._exit(code)
    sys.exit(code)
