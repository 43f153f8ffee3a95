"""One table of front-matter keys (gtask.core.keys): the record, the docs and every reader agree with it."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from gtask.core.keys import BY_NAME, KEYS, KNOWN_KEYS
from gtask.core.model import Task
from gtask.mcp.server import NEW_KEYS, SCHEMAS

FORMAT_DOC = Path(__file__).resolve().parents[1] / "docs" / "format.md"
NOT_KEYS = {"id", "project", "path", "extra", "body", "lines"}  # the record's own fields, not front matter


def documented_keys() -> set[str]:
    """The keys named in the first column of docs/format.md's front-matter table."""
    text = FORMAT_DOC.read_text(encoding="utf-8")
    table = text.split("## Front matter", 1)[1].split("\n## ", 1)[0]
    return {name for row in table.splitlines() if row.startswith("| `")
            for name in re.findall(r"`([a-z_]+)`", row.split("|")[1])}


def test_every_field_of_the_task_record_is_in_the_table() -> None:
    record = {f.name for f in fields(Task)} - NOT_KEYS
    assert record == set(KNOWN_KEYS)


def test_the_docs_name_exactly_the_keys_of_the_table() -> None:
    assert documented_keys() == set(KNOWN_KEYS)


def test_every_key_says_who_writes_it_how_it_merges_and_where_it_shows() -> None:
    for key in KEYS:
        assert key.written_by in ("anyone", "gtask"), key
        assert key.merge in ("scalar", "set", "status", "with_status", "earliest", "latest_same_claimer",
                             "attempts"), key
        assert key.shown in ("list", "show", "board"), key
        assert key.is_list == (key.merge in ("set", "attempts")), key


def test_the_mcp_new_tool_takes_keys_of_the_table() -> None:
    properties = SCHEMAS["new"][1]
    assert set(properties) == set(NEW_KEYS) <= set(BY_NAME)
    assert all(BY_NAME[name].written_by == "anyone" for name in NEW_KEYS)
