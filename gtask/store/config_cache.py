"""`config.yaml` remembered by its stat key: a warm command builds the config without parsing YAML.

An entry is used only while the file has exactly the stat key it had (size, modification and change time
in ns, inode); a file changed within two seconds of the writing, or whose YAML gives values JSON cannot
give back unchanged, is not remembered. Only configs that are valid are remembered: errors always come
from parsing the file.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from gtask.core.config import Config, config_from_data, load_config
from gtask.store.cache import cache_file, is_recent, plain_json, read_cache, stat_key, write_cache

FORMAT = 1


def load(tasks_dir: Path, path: Path, default_project: str, label: str, enabled: bool = True) -> Config:
    """The config of `path` (the defaults when there is none), from the remembered data when it is current."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return Config(project=default_project)
    where = cache_file(tasks_dir, "config", enabled) if stat.S_ISREG(st.st_mode) else None
    if where is None:
        return load_config(path, default_project, label)
    key = stat_key(st)
    stamp = {"format": FORMAT, "key": key}
    data = read_cache(where, stamp)
    remembered = data.get("data") if data else None
    config = config_from_data(remembered, default_project) if isinstance(remembered, dict) else None
    if config is not None:
        return config
    config = load_config(path, default_project, label)
    if not is_recent(key, time.time()) and plain_json(config.raw):
        write_cache(where, stamp, {"data": config.raw})
    return config
