"""Commit messages that gtask writes: the subject, the note, and gtask's own trailers.

Only gtask writes trailers. A line of user text (a note, a reason) that git or
gtask would read as a trailer, a closing line or a patch divider is quoted with
`> ` so it stays prose. Reading follows git's own rules (`git interpret-trailers
--parse`): only the message's trailer block, its last paragraph, counts.
"""

from __future__ import annotations

import re

QUOTE = "> "
_GIT_GENERATED = ("Signed-off-by: ", "(cherry picked from commit ")
_SPACE = " \t\n\r"  # git's isspace: not \v or \f
_CLOSING = re.compile(r"^[ \t]*(?:closes|fixes|resolves)[ \t]*:", re.I)
_CUT_LINE = "# ------------------------ >8 ------------------------\n"


def message(action: str, subject_id: str, agent: str, note: str | None = None,
            trailers: list[tuple[str, str]] | None = None, task_ids: list[str] | None = None) -> str:
    """Build a protocol commit message: subject, optional note (neutralised), trailers."""
    parts = [f"gtask: {_one_line(action)} {_one_line(subject_id)}", ""]
    if note and note.strip():
        parts += [neutralise(note.strip()), ""]
    pairs = [("Task", task_id) for task_id in ([subject_id] if task_ids is None else task_ids)]
    pairs += [("Task-Action", action), ("Agent", agent), *(trailers or [])]
    parts += [f"{key}: {_one_line(value)}" for key, value in pairs]
    return "\n".join(parts) + "\n"


def _one_line(value: str) -> str:
    """A trailer value on one line: any line break or control character becomes a space."""
    return " ".join("".join(c if c.isprintable() else " " for c in value).split())


def neutralise(text: str) -> str:
    """Quote every line of user text that git or gtask could read as a trailer, a closing line or a divider."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(QUOTE + line if _suspicious(line) else line for line in lines)


def _suspicious(line: str) -> bool:
    bare = line.lstrip(_SPACE + "\v\f")
    return (find_separator(bare) >= 1 or bare.startswith(_GIT_GENERATED) or bool(_CLOSING.match(line))
            or line.startswith(("---", "#")) or bare.startswith("Conflicts:"))


def find_separator(line: str, separators: str = ":") -> int:
    """Where the separator of a `Token: value` line is, by git's rule (a token of letters, digits and '-'), or -1."""
    whitespace_found = False
    for i, c in enumerate(line):
        if c in separators:
            return i
        if not whitespace_found and c.isascii() and (c.isalnum() or c == "-"):
            continue
        if i != 0 and c in " \t":
            whitespace_found = True
            continue
        break
    return -1


def _split_lines(text: str) -> list[str]:
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    return lines + ([parts[-1]] if parts[-1] else [])


def _blank(line: str) -> bool:
    return not line.strip(_SPACE)


def _end_of_message(text: str) -> int:
    """Where the log message ends: before a `---` divider, a cut line and trailing comment or blank lines."""
    end, pos = len(text), 0
    for line in _split_lines(text):
        if line.startswith("---") and len(line) > 3 and line[3] in _SPACE:
            end = pos
            break
        pos += len(line)
    cut = text.find(_CUT_LINE, 0, end)
    while cut > 0 and text[cut - 1] != "\n":
        cut = text.find(_CUT_LINE, cut + 1, end)
    cutoff = cut if cut >= 0 else end
    boc, pos, conflicts = 0, 0, False  # git's boc: 0 means "no run of comments yet", even at offset 0
    for line in _split_lines(text[:cutoff]):
        if line.startswith(("#", "\n")):
            boc = boc or pos
        elif line.startswith("Conflicts:\n"):
            conflicts, boc = True, boc or pos
        elif conflicts and line.startswith("\t"):
            pass
        elif boc:
            boc, conflicts = 0, False
        pos += len(line)
    return boc or cutoff


def trailer_block(text: str) -> list[str]:
    """The lines of the message's trailer block by git's rules (continuations joined), or []."""
    lines = _split_lines(text[:_end_of_message(text)])
    title_end = 0
    for index, line in enumerate(lines):
        if line.startswith("#"):
            continue
        if _blank(line):
            title_end = index
            break
    else:
        return []  # one paragraph: the title is never a trailer block
    only_spaces, recognized, trailer_lines, other_lines, continuations = True, False, 0, 0, 0
    start = None
    for index in range(len(lines) - 1, title_end - 1, -1):
        line = lines[index]
        if line.startswith("#"):
            other_lines += continuations
            continuations = 0
            continue
        if _blank(line):
            if only_spaces:
                continue
            other_lines += continuations
            if (recognized and trailer_lines * 3 >= other_lines) or (trailer_lines and not other_lines):
                start = index + 1
            break
        only_spaces = False
        if line.startswith(_GIT_GENERATED):
            trailer_lines, continuations, recognized = trailer_lines + 1, 0, True
        elif find_separator(line) >= 1 and line[0] not in _SPACE:
            trailer_lines, continuations = trailer_lines + 1, 0
        elif line[0] in _SPACE:
            continuations += 1
        else:
            other_lines += 1 + continuations
            continuations = 0
    if start is None:
        return []
    joined: list[str] = []
    last_is_trailer = False
    for line in lines[start:]:
        if joined and last_is_trailer and line[:1] in tuple(_SPACE):
            joined[-1] += line
            continue
        joined.append(line)
        last_is_trailer = find_separator(line) >= 1
    return joined


def _unfold(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        c = value[i]
        i += 1
        if c == "\n":
            while i < len(value) and value[i] in _SPACE:
                i += 1
            out.append(" ")
        else:
            out.append(c)
    return "".join(out).strip(_SPACE)


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """The trailers of a message as `git interpret-trailers --parse` lists them: (token, value), in order."""
    pairs = []
    for line in trailer_block(text):
        if line.startswith("#"):
            continue
        pos = find_separator(line)
        if pos >= 1:
            pairs.append((line[:pos].strip(_SPACE), _unfold(line[pos + 1:].strip(_SPACE))))
    return pairs


def parse_trailers(text: str) -> dict[str, list[str]]:
    """The trailers of a commit message by git's rules, by key, in order (a key may repeat)."""
    found: dict[str, list[str]] = {}
    for key, value in parse_pairs(text):
        found.setdefault(key, []).append(value)
    return found
