"""`gtask init`."""

from __future__ import annotations

import click

from gtask.output import render
from gtask.store.store import Store


@click.command()
@click.option("--project", help="Project name used in <project>:<id> references (default: the folder's name).")
@click.option("--agents-file", "agents_file", metavar="FILE",
              help="Append the agent guide (gtask agents) to this file, e.g. AGENTS.md, unless it is there.")
@click.option("--merge-driver", "merge_driver", is_flag=True,
              help="Merge task files key by key: add .tasks/*.md merge=gtask to .gitattributes and the driver "
                   "to this repository's git config.")
@click.pass_context
def init(ctx: click.Context, project: str | None, agents_file: str | None, merge_driver: bool) -> None:
    """Create .tasks/ and .tasks/config.yaml; safe to run twice."""
    store, created = Store.init(ctx.find_root().params.get("directory") or ".", project)
    where = store.label(store.tasks_dir)
    render.out(f"{'Created' if created else 'Already set up:'} {where}/ (project {store.project})")
    if agents_file:
        from gtask.output.guide import append_guide

        path = store.root / agents_file
        added = append_guide(path, store.root)
        render.out(f"{'Added the agent guide to' if added else 'The agent guide is already in'} {store.label(path)}")
    if merge_driver:
        from gtask.errors import UsageError
        from gtask.gitio.mergefiles import install

        git = store.repository()
        if git is None:
            raise UsageError("--merge-driver needs a git repository; run 'git init' first")
        added, line = install(git, store.tasks_dir)
        render.out(f"{'Added' if added else 'Already in'} .gitattributes: {line}")
        render.out("Set merge.gtask.driver in this repository's git config (see docs/merging.md)")
