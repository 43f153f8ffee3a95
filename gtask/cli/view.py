"""`gtask view`: the aggregate view of many repositories (design §5)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from io import TextIOBase
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

import click
from click.core import ParameterSource

from gtask.errors import GtaskError, UsageError
from gtask.output import render

if TYPE_CHECKING:
    from gtask.plan.overview import Overview, Summary
    from gtask.plan.view_cache import Chunk, ViewCache
    from gtask.plan.workspace import Workspace


@click.command()
@click.argument("paths", nargs=-1, metavar="[REPO|DIR]...")
@click.option("--workspace", "workspace_file", metavar="FILE",
              help="Read the repositories of a gtask-workspace.yaml (also $GTASK_WORKSPACE).")
@click.option("--worktree", is_flag=True, help="Read work-tree files instead of each integration branch.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--format", "fmt", type=click.Choice(["text", "mermaid"]), default="text", show_default=True,
              help="Text, or a Mermaid graph with one subgraph per repository.")
@click.option("--html", "html_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a self-contained HTML board (lanes by repository, columns by state, the graph) to FILE.")
@click.option("--all", "show_all", is_flag=True, help="List every open task of every repository (not the summary).")
@click.option("--state", "states", multiple=True, metavar="STATE", help="Only tasks in this state (repeatable).")
@click.option("--lane", help="Only tasks in this lane.")
@click.option("--label", help="Only tasks with this label.")
@click.option("--repo", "repo_glob", metavar="GLOB", help="Only repositories whose project or folder matches GLOB.")
@click.pass_context
def view(ctx: click.Context, paths: tuple[str, ...], workspace_file: str | None, worktree: bool, as_json: bool,
         fmt: str, html_file: Path | None, show_all: bool, states: tuple[str, ...], lane: str | None,
         label: str | None, repo_glob: str | None) -> None:
    """Summarise every repository: counts, what needs a person, what is next, claims (--all: every task)."""
    from gtask.plan.repos import workspace_paths

    if html_file is not None and (as_json or ctx.get_parameter_source("fmt") != ParameterSource.DEFAULT):
        raise UsageError("--html writes a file; it cannot be combined with --json or --format")
    params = ctx.find_root().params
    use_cache = not params.get("no_cache")
    repos = workspace_paths(paths, workspace_file, True, Path(params.get("directory") or "."))
    options = (as_json, fmt, show_all, states, lane, label, repo_glob)
    cache = None
    if not worktree and html_file is None and use_cache and not os.environ.get("GTASK_NO_CACHE"):
        from gtask.plan.view_cache import ViewCache

        # what is printed depends on whether the streams are terminals (colour, JSON indentation) and NO_COLOR
        cache = ViewCache(repos, [[str(p) for p in repos], *options, sys.stdout.isatty(), sys.stderr.isatty(),
                                  "NO_COLOR" in os.environ])
        if _print_remembered(cache):
            return
    from gtask.output.progress import Progress
    from gtask.plan.workspace import load

    progress = Progress(not as_json)
    if cache is None or cache.path is None:
        _answer(load(repos, worktree, use_cache, progress), *options, html_file)
        return
    from gtask.plan.view_cache import until_of

    started = time.time()
    with _recorded() as chunks:
        workspace = load(repos, worktree, use_cache, progress)
        _answer(workspace, *options, html_file)
    cache.remember(chunks, until_of(workspace, started))


def _print_remembered(cache: ViewCache) -> bool:
    """Print the remembered answer, when there is one for this state of every repository."""
    remembered = cache.lookup()
    for to_err, text in remembered or ():
        click.echo(text, nl=False, err=to_err)
    return remembered is not None


def _answer(workspace: Workspace, as_json: bool, fmt: str, show_all: bool, states: tuple[str, ...],
            lane: str | None, label: str | None, repo_glob: str | None, html_file: Path | None) -> None:
    """Print the view of a loaded workspace (or write the board)."""
    from gtask.output import graphfmt
    from gtask.plan import overview

    summarized = html_file is not None or (not show_all and not as_json and fmt == "text")
    built = overview.build(workspace, overview.ages(workspace) if summarized else None)  # ages rank `ready`
    result = overview.narrow(built, states, lane, label, repo_glob)
    if summarized:
        summary = overview.summarize(result, overview.ranked(built))
        if html_file is None:
            from gtask.output import summary as summary_output

            summary_output.text(summary)
            return
        _write_html(html_file, result, summary)
        return
    if as_json:
        render.emit_json(overview.to_json(result))
        return
    if fmt == "mermaid":
        nodes = sorted(result.graph.nodes())
        render.out(graphfmt.mermaid(result.graph, nodes, None, by_project=True).rstrip("\n"))
        return
    render.overview(result)


class _Recorder(TextIOBase):
    """A standard stream that prints as the real one does and records what it printed."""

    def __init__(self, real: TextIO, to_err: bool, chunks: list[Chunk]) -> None:
        super().__init__()
        self.real, self.to_err, self.chunks = real, to_err, chunks

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError("a text stream")  # as the real one says when click probes it with bytes
        if self.chunks and self.chunks[-1][0] == self.to_err:
            self.chunks[-1] = (self.to_err, self.chunks[-1][1] + text)
        else:
            self.chunks.append((self.to_err, text))
        return self.real.write(text)

    def flush(self) -> None:
        self.real.flush()

    def isatty(self) -> bool:
        return self.real.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.real.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.real.errors


@contextmanager
def _recorded() -> Iterator[list[Chunk]]:
    """Print as usual, and keep what was printed to standard output and error, in order."""
    chunks: list[Chunk] = []
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, _Recorder(real_out, False, chunks))
    sys.stderr = cast(TextIO, _Recorder(real_err, True, chunks))
    try:
        yield chunks
    finally:
        sys.stdout, sys.stderr = real_out, real_err


def _write_html(path: Path, result: Overview, summary: Summary) -> None:
    from gtask.fsutil import atomic_write
    from gtask.output import board
    from gtask.output import summary as summary_output

    page = board.render(result, summary_output.html(summary))
    try:
        atomic_write(path, page)
    except OSError as exc:
        raise GtaskError(f"cannot write the board: {exc.strerror or exc}", path=str(path)) from None
    render.out(str(path))
