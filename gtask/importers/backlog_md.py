"""Read a Backlog.md `backlog/` folder: tasks/, completed/ and drafts/ become tasks; archive/ is counted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from gtask.importers import records as rec
from gtask.importers.records import Draft, Skipped, SourceBatch, finish, is_empty, iso_time, put_extra

SOURCE = "backlog-md"
_FOLDERS = (("tasks", "task"), ("completed", "completed"), ("drafts", "draft"))
_ARCHIVED = ("archive/tasks", "archive/drafts")
_PRIORITIES = {"critical": 0, "urgent": 0, "highest": 0, "blocker": 0, "high": 1, "medium": 2, "normal": 2,
               "low": 3, "lowest": 4, "trivial": 4, "minor": 4}
_MAPPED = {"id", "title", "status", "priority", "labels", "assignee", "milestone", "dependencies",
           "parent_task_id", "parent", "created_date", "updated_date", "completed_date"}


class Unreadable(Exception):
    """A file that cannot be read as a task; `line` is the file line of the problem, when known."""

    def __init__(self, reason: str, line: int | None) -> None:
        super().__init__(reason)
        self.reason, self.line = reason, line


class _Loader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """Safe YAML that keeps dates as the text written."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_ENTRY = re.compile(r"^(\s*(?:-\s+)?(?:[^\s:#'\"\[\]{}][^:]*?:(?:\s+|$))?)(.*?)\s*$")
_RESERVED = tuple("@`%!&*|>?,:")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _fix_line(line: str) -> str:
    """Quote a value that strict YAML refuses (`@name`, `` `x` ``, `a: b`), or the items of a flow list."""
    prefix, value = _ENTRY.match(line).groups()  # type: ignore[union-attr]
    if not value or value[0] in "'\"":
        return line
    value = re.split(r"\s#", value, maxsplit=1)[0].rstrip()  # a YAML comment stays a comment
    if value.startswith("[") and value.endswith("]"):
        items = [item.strip() for item in value[1:-1].split(",") if item.strip()]
        fixed = [item if item[0] in "'\"" else _quote(item) for item in items]
        return f"{prefix}[{', '.join(fixed)}]"
    if value.startswith(_RESERVED) or ": " in value or value.endswith(":"):
        return prefix + _quote(value)
    return line


def read_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split a Markdown file into (front matter, body), tolerating what Backlog.md itself accepts."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise Unreadable("no front matter", 1)
    end = next((n for n in range(1, len(lines)) if lines[n].strip() == "---"), None)
    if end is None:
        raise Unreadable("front matter not closed", 1)
    head = lines[1:end]
    for _ in range(len(head) + 1):
        try:
            data = yaml.load("\n".join(head), Loader=_Loader)
            break
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            row = mark.line if mark is not None and mark.line < len(head) else None
            fixed = _fix_line(head[row]) if row is not None else None
            if fixed is None or fixed == head[row]:  # type: ignore[index]
                fixed_all = [_fix_line(line) for line in head]
                if fixed_all == head:
                    raise Unreadable(f"front matter is not YAML: {getattr(exc, 'problem', exc)}",
                                     row + 2 if row is not None else None) from None
                head = fixed_all
            else:
                head[row] = fixed  # type: ignore[index]
    else:
        raise Unreadable("front matter is not YAML", None)
    if not isinstance(data, dict) and data is not None:
        raise Unreadable("front matter is not a mapping", 2)
    return data or {}, "\n".join(lines[end + 1:])


def _text(value: Any) -> str | None:
    return None if value is None else str(value).strip() or None


def _strings(value: Any) -> list[str]:
    if is_empty(value):
        return []
    items = value if isinstance(value, list) else [value]
    return [str(item).strip() for item in items if not is_empty(item) and str(item).strip()]


class _Statuses:
    """Map Backlog.md statuses through the project's `config.yml` `statuses:` list."""

    def __init__(self, folder: Path) -> None:
        names = ["To Do", "In Progress", "Done"]
        try:
            config, _ = read_front_matter("---\n" + (folder / "config.yml").read_text("utf-8") + "\n---\n")
            if isinstance(config.get("statuses"), list) and config["statuses"]:
                names = [str(name) for name in config["statuses"]]
        except (OSError, UnicodeDecodeError, Unreadable):
            pass
        self.first, self.last = names[0].lower(), names[-1].lower()

    def map(self, raw: str | None) -> tuple[str, bool]:
        """Return (gtask status, whether the source status is that status's usual name)."""
        name = (raw or "").strip().lower()
        if not name or name == self.first:
            return "todo", bool(name)
        if name == self.last:
            return "done", True
        if re.search(r"won'?t|cancel|reject|abandon|obsolete|duplicate|invalid", name):
            return "canceled", False
        if re.search(r"progress|doing|review|active|started|wip", name):
            return "in_progress", re.sub(r"[\W_]+", " ", name) == "in progress"
        if re.search(r"\b(done|complete|completed|closed|resolved|finished)\b", name):
            return "done", False
        if re.search(r"draft|proposed|idea", name):
            return "proposed", False
        return "todo", False


_MARKER = re.compile(r"<!--\s*(?:SECTION:)?([A-Z_]+):(BEGIN|END)\s*-->")
_MARKER_NAMES = {"DESCRIPTION": "description", "AC": "Acceptance criteria", "DOD": "Definition of done",
                 "PLAN": "Implementation plan", "NOTES": "Notes", "FINAL_SUMMARY": "Final summary",
                 "COMMENTS": "Comments"}
_HEADINGS = {"description": "description", "acceptance criteria": "Acceptance criteria",
             "definition of done": "Definition of done", "implementation plan": "Implementation plan",
             "implementation notes": "Notes", "notes": "Notes", "notes & comments": "Notes",
             "final summary": "Final summary", "comments": "Comments"}
_COMMENT = re.compile(r"author:[ \t]*([^\n]*)\ncreated:[ \t]*([^\n]*)\n---\n(.*?)\n---(?:\n|$)", re.S)


def _closed_markers(lines: list[str]) -> set[int]:
    """Return the lines of BEGIN markers that have their END: an unclosed marker is ignored."""
    fence, opened, closed = "", {}, set()
    for number, line in enumerate(lines):
        stripped = line.strip()
        marker = _MARKER.fullmatch(stripped)
        if fence:
            fence = "" if stripped.startswith(fence) else fence
        elif stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif marker and marker.group(2) == "BEGIN":
            opened[marker.group(1)] = number
        elif marker and marker.group(1) in opened:
            closed.add(opened.pop(marker.group(1)))
    return closed


def _sections(body: str) -> list[list[Any]]:
    """Split a body into [heading, lines] at `## ` headings outside code fences and section markers."""
    parts: list[list[Any]] = [[None, []]]
    fence, inside = "", ""
    lines = body.split("\n")
    closed = _closed_markers(lines)
    for number, line in enumerate(lines):
        stripped = line.strip()
        marker = _MARKER.fullmatch(stripped)
        if fence:
            fence = "" if stripped.startswith(fence) else fence
        elif stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif marker:
            if marker.group(2) == "END" or number in closed:
                inside = marker.group(1) if marker.group(2) == "BEGIN" else ""
            if inside and parts[-1][0] is None and not "".join(parts[-1][1]).strip():
                parts[-1][0] = _MARKER_NAMES.get(inside, inside.replace("_", " ").capitalize())
            continue
        elif not inside and line.startswith("## "):
            parts.append([line[3:].strip(), []])
            continue
        parts[-1][1].append(line)
    return parts


def backlog_body(body: str) -> str:
    """Rewrite a Backlog.md body: description first, then normalised sections, without Backlog's markers."""
    description: list[str] = []
    rest: list[str] = []
    for heading, lines in _sections(body):
        key = re.sub(r"\s*\(optional\)\s*|:$", "", (heading or "").strip().lower())
        name = _HEADINGS.get(key, heading)
        text = "\n".join(lines).strip()
        if name in ("Acceptance criteria", "Definition of done"):
            text = re.sub(r"(?m)^(\s*[-*] \[[ xX]\]) #\d+ ", r"\1 ", text)
        elif name == "Comments":
            found = _COMMENT.findall(text + "\n")
            if found and not _COMMENT.sub("", text + "\n").strip():  # reformat only when every part is a comment
                text = "\n\n".join(f"**{who.strip()}** ({when.strip()}):\n\n{what.strip()}"
                                    for who, when, what in found)
        if name in (None, "description"):
            description.append(text)
        else:
            rest.append(rec.section(name, text))
    return rec.join_body(*description, *rest)


def _draft(path: Path, rel: str, kind: str, statuses: _Statuses) -> Draft | None:
    """Read one task file; None when it is not a task file (a readme)."""
    if path.name.lower() == "readme.md":
        return None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise Unreadable(exc.strerror or str(exc), None) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable("not UTF-8", raw[: exc.start].count(b"\n") + 1) from None
    data, body = read_front_matter(text.replace("\r\n", "\n"))
    if _text(data.get("id")) is None and _text(data.get("title")) is None:
        raise Unreadable("no id or title in the front matter", 2)
    source_id = _text(data.get("id")) or re.match(r"[^ ]*", path.stem).group(0)  # type: ignore[union-attr]
    status, usual = statuses.map(_text(data.get("status")))
    if kind == "completed" and status != "canceled":
        status, usual = "done", usual and status == "done"
    elif kind == "draft":
        status, usual = "proposed", _text(data.get("status")) in (None, "Draft")
    priority_text = (_text(data.get("priority")) or "").lower()
    priority = _PRIORITIES.get(priority_text, 2)
    if isinstance(data.get("priority"), int) and 0 <= data["priority"] <= 4:
        priority = data["priority"]
    assignees = [name.lstrip("@") for name in _strings(data.get("assignee"))]
    parents = _strings(data.get("parent_task_id")) + _strings(data.get("parent"))
    draft = Draft(
        source_id=source_id, title=_text(data.get("title")) or "", status=status, priority=priority,
        labels=_strings(data.get("labels")), assignee=assignees[0] if assignees else None,
        milestone=_text(data.get("milestone")), depends=_strings(data.get("dependencies")), parents=parents,
        created=iso_time(_text(data.get("created_date"))) or _text(data.get("created_date")),
        updated=iso_time(_text(data.get("updated_date"))) or _text(data.get("updated_date")),
        closed_at=iso_time(_text(data.get("completed_date")), date_only_ok=False),
        body=backlog_body(body), discriminator=rel,
    )
    if not usual and _text(data.get("status")):
        draft.known["source_status"] = _text(data.get("status"))
    if priority_text and priority_text not in _PRIORITIES and not isinstance(data.get("priority"), int):
        draft.known["source_priority"] = data.get("priority")
    if len(assignees) > 1:
        draft.known["assignees"] = assignees
    if data.get("completed_date") is not None and draft.closed_at is None:
        put_extra(draft.extra, "completed_date", data["completed_date"], "backlog")
    for key, value in data.items():
        if str(key) not in _MAPPED:
            put_extra(draft.extra, str(key), value, "backlog")
    return draft


def _number(ref: str) -> str | None:
    """Return the number in `task-3`, `BACK-3`, `3` or `back-4.01` (`3`, `4.1`): Backlog.md resolves by it."""
    match = re.fullmatch(r"(?:[A-Za-z]+-)?(\d+(?:\.\d+)*)", ref.strip())
    return ".".join(str(int(part)) for part in match.group(1).split(".")) if match else None


def read(folder: Path) -> SourceBatch:
    """Read a Backlog.md `backlog/` folder into neutral records (no writing)."""
    folder = Path(folder)
    statuses = _Statuses(folder)
    drafts: list[Draft] = []
    skipped: list[Skipped] = []
    for sub, kind in (*_FOLDERS, *((sub, "archive") for sub in _ARCHIVED)):
        for path in sorted((folder / sub).glob("*.md")) if (folder / sub).is_dir() else []:
            try:
                draft = _draft(path, path.relative_to(folder).as_posix(), kind, statuses)
            except Unreadable as exc:
                reason = "archived" if kind == "archive" else f"unreadable: {exc.reason}"
                skipped.append(Skipped(str(path), None if kind == "archive" else exc.line, None, reason))
                continue
            if draft is not None and kind == "archive":
                skipped.append(Skipped(str(path), None, draft.source_id, "archived"))
            elif draft is not None:
                drafts.append(draft)
    by_number: dict[str, set[str]] = {}
    for draft in drafts:
        number = _number(draft.source_id)
        if number and not draft.source_id.lower().startswith("draft-"):
            by_number.setdefault(number, set()).add(draft.source_id.lower())
    index = {number: sorted(found)[0] for number, found in by_number.items() if len(found) == 1}
    return finish(SOURCE, drafts, skipped, lambda ref: index.get(_number(ref) or ""))
