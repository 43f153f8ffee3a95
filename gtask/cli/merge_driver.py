"""`gtask merge-driver`: what git runs to merge a task file (installed by `gtask init --merge-driver`)."""

from __future__ import annotations

from pathlib import Path

import click

from gtask.output import render


@click.command("merge-driver", hidden=True)
@click.argument("base", metavar="BASE", type=click.Path(dir_okay=False))
@click.argument("ours", metavar="OURS", type=click.Path(dir_okay=False))
@click.argument("theirs", metavar="THEIRS", type=click.Path(dir_okay=False))
@click.argument("path", metavar="PATH", required=False, default="")
@click.option("--marker-size", "marker_size", type=click.IntRange(min=1), default=7, show_default=True,
              help="Length of conflict markers (git passes %L).")
def merge_driver(base: str, ours: str, theirs: str, path: str, marker_size: int) -> int:
    """Merge a task file key by key into OURS (git's %O %A %B %P); exit 1 when conflicts are left."""
    from gtask.errors import GitError
    from gtask.gitio.git import Git
    from gtask.gitio.mergefiles import merge_files

    git = Git.discover(Path.cwd())
    if git is None:
        raise GitError("merge-driver is run by git inside a repository; see docs/merging.md")
    label = path or ours
    result = merge_files(git, Path(base).absolute(), Path(ours).absolute(), Path(theirs).absolute(), label,
                         marker_size)
    if result.fallback:
        render.err(f"gtask: {label}: merged line by line, as git would ({result.fallback})")
    if result.conflicts:
        render.err(f"gtask: {label}: conflicts in {', '.join(result.conflicts)}")
    return 1 if result.conflicts else 0
