"""Which repositories a workspace holds (design §5): named, found in folders, or listed in a workspace file.

Kept apart from reading them: a warm `gtask view` needs the list to find its
remembered answer, and nothing else of the workspace.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from pathlib import Path

from gtask.errors import InvalidTask, NotFound, UsageError

WORKSPACE_FILE = "gtask-workspace.yaml"
TASKS_FOLDER = ".tasks"  # store.TASKS_DIR, without loading the store


def workspace_paths(args: Iterable[str], workspace_file: str | None, default_here: bool = False,
                    base: Path = Path(".")) -> list[Path]:
    """Repositories named on the command line, found in folders, or listed in a workspace file.

    Relative paths are taken from `base` (the folder of `-C`, as git does). With
    nothing named: $GTASK_WORKSPACE, else gtask-workspace.yaml in `base`, else
    (with `default_here`) `base` itself.
    """
    named = list(args)
    if workspace_file is None and not named:
        workspace_file = os.environ.get("GTASK_WORKSPACE") or \
            (str(base / WORKSPACE_FILE) if (base / WORKSPACE_FILE).is_file() else None)
        if workspace_file is None and default_here:
            named = ["."]
    paths: list[Path] = []
    if workspace_file:
        paths += _from_file(base / Path(workspace_file).expanduser())
    for arg in named:
        paths += _expand(base / Path(arg).expanduser())
    if not paths:
        raise UsageError(f"no repositories: name them, or a folder of them, or use --workspace FILE ({WORKSPACE_FILE})")
    unique: dict[Path, None] = {}
    for path in paths:
        unique.setdefault(path.resolve() if path.exists() else path, None)
    return list(unique)


def _from_file(path: Path) -> list[Path]:
    import yaml

    from gtask.core import taskfile

    try:
        data = taskfile.load_yaml(taskfile.read_text(path, str(path))) or {}
    except InvalidTask:
        if not path.exists():
            raise NotFound(f"no workspace file {path}", path=str(path)) from None
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InvalidTask(f"YAML error: {exc}", path=str(path), line=mark.line + 1 if mark else None) from None
    repos = data.get("repos") if isinstance(data, dict) else None
    if not isinstance(repos, list) or not all(isinstance(r, str) for r in repos):
        raise InvalidTask("a workspace file needs 'repos:', a list of paths", path=str(path))
    base = path.resolve().parent
    found: list[Path] = []
    for entry in repos:
        pattern = os.path.expanduser(entry)
        pattern = pattern if os.path.isabs(pattern) else str(base / pattern)
        if glob.has_magic(pattern):
            found += [Path(m) for m in sorted(glob.glob(pattern)) if _is_repo(Path(m))]
        else:
            found += _expand(Path(pattern))
    return found


def _expand(path: Path) -> list[Path]:
    """A repository stays as it is; a folder of repositories becomes its repository children."""
    if not path.is_dir() or _is_repo(path) or (path / TASKS_FOLDER).is_dir():
        return [path]
    children = sorted(child for child in path.iterdir() if child.is_dir() and _is_repo(child))
    return children or [path]


def _is_repo(path: Path) -> bool:
    return (path / ".git").exists()
