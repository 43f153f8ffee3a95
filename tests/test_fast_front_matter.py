"""The plain-front-matter fast path (core/fastfront.py) yields exactly what the full YAML loader yields, or None.

Equality is checked by repr (so 1, 1.0 and True differ, and key order counts) on generated front matter full of
YAML 1.1 typing, indicators, comments, odd indentation and unicode, and on every real task file at hand.
"""

from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock

import pytest
from conftest import Cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtask.core import fastfront, schema, taskfile, yamlsafe
from gtask.errors import InvalidTask

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
sys.path.insert(0, str(ROOT / "benchmarks"))

PROOF = settings(max_examples=1500, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))

# YAML 1.1 spellings that are not text, near misses that are, and values that start or hold other constructs
SPECIAL = [
    "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "true", "True", "TRUE", "false",
    "False", "FALSE", "y", "Y", "n", "N", "yES", "~", "null", "Null", "NULL", "nULL", "", "0", "-0", "+0", "00", "012",
    "019", "0x1F", "0X1F", "0x", "0o17", "0b101", "0b2", "1_000", "1__0", "_1", "1:30", "-1:30", "190:20:30", "1:60",
    "+12", "12e3", "1.5", "1.", ".5", "-.5", "1e3", "1.0e+3", "1.0e3", "6.8523015e+5", "685.230_15e+03",
    "685_230.15", "190:20:30.15", ".inf", "-.Inf", "+.INF", ".NaN", ".nan", ".NAN", "-.", "-", ".", "..", "...",
    "---", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2002-12-14", "12:30:45",
    "<<", "=", "a: b", "a:b", "a:", "a :b", "a #b", "a#b", "a #", "#a", " a", "a ", "a  ", "a\tb", "[a, b]",
    "[a,b]", "[]", "[ ]", "[a, ]", "[a, [b]]", "[a #b]", "[yes, 1, ~, 1.5, 0x1F]", "[a b]", "{a: b}", "{}",
    "'q'", '"q"', "&a x", "*a", "!!str 1", "!x y", "|", ">", "%x", "@x", "`x`", "? x", "?x", "-x", "- x", "-1",
    "-.inf", ",a", "a,b", "a, b", "a [b]", "a {b}", "don't", 'say "hi"', "a * b", "a & b", "a ! b", "a | b",
    "C:\\path", "http://x.y/z?q=1#f", "fix-login", "area/api", "v1.2", "é", "naïve café", "中文", "\xa0a", "a\xa0",
    "\x85", "a\u2028b", "\ufeffa", "a\x7fb", "😀 emoji", "a\rb", "x" * 200,
]
PIECES = ["a", "Z", "1", "0", "_", " ", "  ", ":", ": ", "#", " #", "-", "- ", "[", "]", ",", "{", "}", "'", '"',
          "*", "&", "!", "|", ">", "%", "@", "`", "~", ".", "?", "=", "<<", "x", "yes", "null", "0x", "e3", "é",
          "中", "\xa0", "\t", "😀"]
KEYS = ["title", "status", "priority", "depends_on", "labels", "steps", "lane", "parent", "a", "_x", "a-b", "a1",
        "yes", "No", "on", "OFF", "true", "null", "NULL", "y", "n", "Title", "k" * 70, "<<", "1", "-a", "a b", "é",
        '"q"', "? q", "&a"]

PLAIN = ["a", "Z", "1", "0", "_", " ", ":", "#", " #", "-", ".", "~", "+", "e", "x", "é", "中", "/", "(", ")"]
plainish = st.lists(st.sampled_from(PLAIN), min_size=1, max_size=8).map("".join)  # mostly read by the fast path
word = st.from_regex(r"[A-Za-z0-9~.+][A-Za-z0-9 ._/()#:+-]{0,10}", fullmatch=True)  # YAML words, numbers, text
scalars = st.one_of(st.sampled_from(SPECIAL), word, word, word, word, word, plainish, plainish,
                    st.lists(st.sampled_from(PIECES), max_size=6).map("".join), st.text(max_size=12))
keys = st.one_of(st.sampled_from(KEYS), st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True),
                 st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True), st.text(min_size=1, max_size=6))
indents = st.sampled_from(["", " ", "  ", "   ", "    ", "\t"])


@st.composite
def front_matter(draw: st.DrawFn) -> str:
    """Lines of front matter: mostly the shapes the fast path reads, mixed with those it must not."""
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["scalar"] * 8 + ["list"] * 4 + ["flow", "flow", "empty", "empty", "blank",
                                                                        "comment", "continued", "raw"]))
        key = draw(keys)
        if kind == "scalar":
            lines.append(f"{key}:{draw(st.sampled_from([' ', '  ', '']))}{draw(scalars)}")
        elif kind == "empty":
            lines.append(f"{key}:{draw(st.sampled_from(['', ' ', '   ', ' # note']))}")
        elif kind == "list":
            lines.append(f"{key}:{draw(st.sampled_from([''] * 6 + [' ', ' # c', ' ~']))}")
            indent = draw(indents)
            for _ in range(draw(st.integers(0, 4))):
                item_indent = draw(st.sampled_from([indent] * 8 + ["", " ", "  ", "\t"]))
                lines.append(f"{item_indent}-{draw(st.sampled_from([' '] * 6 + ['  ', '']))}{draw(scalars)}")
        elif kind == "flow":
            items = draw(st.lists(scalars, max_size=4))
            lines.append(f"{key}: [{draw(st.sampled_from([', ', ',', ' , '])).join(items)}]")
        elif kind == "blank":
            lines.append(draw(st.sampled_from(["", " ", "  "])))
        elif kind == "comment":
            lines.append(draw(st.sampled_from(["# c", " # c", "#", "#: x"])))
        elif kind == "continued":
            lines.append(f"{draw(indents)}{draw(scalars)}")
        else:
            lines.append(draw(st.text(max_size=20)))
    if draw(st.integers(0, 5)) == 0 and len(lines) > 1:  # the same key twice, in the same or another spelling
        lines.append(f"{draw(st.sampled_from(['title', 'yes', 'on', 'a']))}: {draw(scalars)}")
    return "\n".join(lines) + draw(st.sampled_from(["\n"] * 6 + ["", "\n\n", "\r\n"]))


good_keys = st.one_of(st.sampled_from(KEYS[:20]), st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True))
good_scalars = st.one_of(st.sampled_from(SPECIAL), word, word, word, plainish)


@st.composite
def plain_front_matter(draw: st.DrawFn) -> str:
    """Front matter of the shapes the fast path reads, with values that test its edges (mostly answered)."""
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 8))):
        key, kind = draw(good_keys), draw(st.sampled_from(["scalar", "scalar", "scalar", "list", "flow", "empty"]))
        if kind == "scalar":
            lines.append(f"{key}: {draw(good_scalars)}{draw(st.sampled_from(['', '', ' ', ' # c', '  #c: d']))}")
        elif kind == "list":
            indent = draw(st.sampled_from(["", "  ", "    "]))
            lines.append(f"{key}:")
            lines += [f"{indent}- {draw(good_scalars)}" for _ in range(draw(st.integers(1, 4)))]
        elif kind == "flow":
            items = draw(st.lists(st.one_of(word, st.sampled_from(SPECIAL)), max_size=4))
            lines.append(f"{key}: [{', '.join(items)}]")
        else:
            lines.append(f"{key}:")
    return "\n".join(lines) + "\n"


def full(text: str) -> object:
    """What the full loader builds, or the exception it raises."""
    try:
        return yamlsafe.load_yaml(text)
    except Exception as exc:  # any refusal: the fast path must have declined too
        return exc


def assert_same_as_loader(text: str) -> bool:
    """Whenever the fast path answers, the loader succeeds with the same value; True when it answered."""
    fast = fastfront.load(text)
    if fast is None:
        return False
    slow = full(text)
    assert not isinstance(slow, Exception), (text, slow)
    assert repr(fast) == repr(slow), text
    return True


@PROOF
@given(front_matter())
def test_fast_path_equals_the_loader_on_generated_front_matter(text: str) -> None:
    assert_same_as_loader(text)


@PROOF
@given(plain_front_matter())
def test_fast_path_equals_the_loader_on_plain_front_matter(text: str) -> None:
    assert_same_as_loader(text)


@PROOF
@given(st.lists(st.tuples(st.sampled_from(KEYS[:12]), scalars), min_size=1, max_size=6))
def test_fast_path_equals_the_loader_on_key_value_lines(pairs: list[tuple[str, str]]) -> None:
    assert_same_as_loader("".join(f"{key}: {value}\n" for key, value in pairs))


@PROOF
@given(st.lists(scalars, min_size=1, max_size=5), st.sampled_from(["", "  ", "    "]))
def test_fast_path_equals_the_loader_on_lists(items: list[str], indent: str) -> None:
    assert_same_as_loader("title: x\nlabels:\n" + "".join(f"{indent}- {item}\n" for item in items) + "lane: y\n")
    assert_same_as_loader(f"labels: [{', '.join(items)}]\n")


def test_the_resolver_facts_typed_without_pyyaml_are_the_loaders() -> None:
    """fastfront types common scalars without importing PyYAML; what it takes for granted is the loader's."""
    resolvers = yamlsafe.TaskLoader.yaml_implicit_resolvers
    assert set(resolvers) - {""} == fastfront.TYPED_STARTS
    words_only = {first for first, found in resolvers.items() if first
                  and {tag for tag, _ in found} <= {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"}}
    assert fastfront.WORD_STARTS <= words_only  # ("~" is left to the loader)
    for first in fastfront.WORD_STARTS:
        for tag, pattern in resolvers[first]:
            for text in (w for w in fastfront.WORDS if w[0] == first):
                assert yamlsafe.plain_scalar(text) is not text
            assert not pattern.match(first + "odo") and not pattern.match(first + "es ")
    for text in [*fastfront.WORDS, "0", "7", "10", "123456789012345678", "todo", "Fix", "no-op", "nullable", "y"]:
        assert repr(fastfront._typed(text)) == repr(yamlsafe.plain_scalar(text)), text


def test_the_common_shapes_take_the_fast_path() -> None:
    """Not vacuous: plain files are read here (typed as YAML types them), odd ones are left to the loader."""
    text = ("title: Fix the login #3\nstatus: todo\npriority: 2\nlabels: [api, web]\ndepends_on:\n  - a-1\n  - b\n"
            "trigger: yes\nlane:\nmilestone: 1:30\nrisks:\n- 0x1F\n- ~\n")
    assert fastfront.load(text) == {"title": "Fix the login", "status": "todo", "priority": 2,
                                    "labels": ["api", "web"], "depends_on": ["a-1", "b"], "trigger": True,
                                    "lane": None, "milestone": 90, "risks": [31, None]}
    for odd in ("title: 'q'\n", "title: &a x\n", "title: !!str 1\n", "# c\ntitle: x\n", "title: x\n\nstatus: y\n",
                "title: a\n  b\n", "title:\tx\n", "title: x\r\n", "title: a: b\n", "t: x\nt: y\n", "yes: 1\non: 2\n",
                "title: |\n  x\n", "labels:\n  - a\n - b\n", "labels: [a, [b]]\n", "title: <<\n", "\ufefftitle: x\n"):
        assert fastfront.load(odd) is None, odd


def test_every_example_and_benchmark_file_reads_the_same(tmp_path: Path) -> None:
    from generate import generate  # benchmarks/generate.py

    generate(tmp_path, 300)
    files = sorted((ROOT / ".tasks-example").glob("*.md")) + sorted((tmp_path / ".tasks").glob("*.md"))
    assert sum(_check_file(path) for path in files) >= 300  # the generated files all take the fast path


def test_every_imported_corpus_file_reads_the_same(cli: Cli, repo: Path) -> None:
    if not CORPORA.is_dir():
        pytest.skip("no corpora next to the project")
    assert cli("import", "--from", "backlog-md", str(CORPORA / "backlog-md"), "--no-commit").exit_code == 0
    assert cli("import", "--from", "beads", str(CORPORA / "beads" / "issues.jsonl"), "--no-commit").exit_code == 0
    imported = sorted((repo / ".tasks").glob("*.md"))
    assert len(imported) > 1000
    assert sum(_check_file(path) for path in imported) > 0
    raw = sorted(p for p in CORPORA.rglob("*.md") if p.read_text(encoding="utf-8").startswith("---"))
    for path in raw:  # Backlog.md's own files: front matter nobody here wrote
        _check_file(path)


def _check_file(path: Path) -> bool:
    """The fast path agrees with the loader on this file's front matter, and the whole parse agrees."""
    text = path.read_text(encoding="utf-8")
    lines = taskfile.split_lines(text)
    end = next((i for i in range(1, len(lines)) if taskfile.is_fence(lines[i])), None)
    if end is None:
        return False
    answered = assert_same_as_loader("".join(lines[1:end]))
    assert _outcome(text, path.name) == _slow_outcome(text, path.name), path
    return answered


def _outcome(text: str, label: str) -> object:
    """Everything a listing takes from a file: data, key lines, the task and its problems (with lines)."""
    try:
        tf = taskfile.parse(text, label)
    except InvalidTask as exc:
        return ("error", exc.message, exc.line)
    return repr(tf.data), tf.key_lines, repr(schema.build_task(tf, "t", "p", label))


def _slow_outcome(text: str, label: str) -> object:
    with mock.patch.object(fastfront, "load", lambda _text: None):  # the full loader only
        return _outcome(text, label)


@PROOF
@given(front_matter(), st.sampled_from(["", "body\n"]))
def test_whole_parse_equals_the_loader_only_parse(fm: str, body: str) -> None:
    """Data, key lines, problems and their file lines are the same whichever path read the front matter."""
    text = f"---\n{fm}{'' if fm.endswith(chr(10)) else chr(10)}---\n{body}"
    assert _outcome(text, "t.md") == _slow_outcome(text, "t.md")
