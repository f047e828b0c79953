"""Differential: our recovery scanner (source.split) and PostgreSQL's parser (pglast) find the same
statements, at the same start and end offsets, in every file that parses as a whole.

source.split is what checks a file after a syntax error: if it cut statements differently from
the real parser, positions and findings would shift only in broken files, where nobody looks.
Compared per statement: the start (after leading white space and comments) and the end (before
the terminating ``;`` and trailing white space), as character offsets into the decoded file.
The fixture bodies and the example project are checked exhaustively; the hypothesis property
checks mutated fixture bodies that still parse (``--hypothesis-profile=long`` for a long run).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import count_example
from harness import parse_case
from hypothesis import given, settings
from hypothesis import strategies as st
from pglast import parser as pg
from test_fuzz_pipeline import mutated

from migcheck import source

REPO = Path(__file__).resolve().parent.parent.parent
CORPUS = sorted((REPO / "tests" / "fixtures" / "rules").glob("*.sql")) + sorted((REPO / "examples").rglob("*.sql"))


def _bodies() -> list[tuple[str, bytes]]:
    out = []
    for f in CORPUS:
        case = parse_case(f.read_bytes()) if "fixtures" in f.parts else None
        bodies = case.files.items() if case else [("", f.read_bytes())]
        for name, body in bodies:
            out.append((f"{f.relative_to(REPO)}{':' + name if name else ''}", body))
    return out


BODIES = _bodies()


def _trim_end(text: str, start: int, end: int) -> int:
    """``end`` moved back to the end of the last token of ``text[start:end]`` that is not a comment
    nor the terminating ``;`` (``start`` when there is none)."""
    toks = [t for t in pg.scan(text[start:end]) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    if toks and toks[-1].name == "ASCII_59":
        toks.pop()
    return start + toks[-1].end + 1 if toks else start


def pglast_spans(text: str) -> list[tuple[int, int]]:
    """Statement spans from the parser's stmt_location / stmt_len (UTF-8 byte offsets)."""
    tree = json.loads(pg.parse_sql_json(text))
    pos = source.Positions(text)
    spans = []
    for raw in tree.get("stmts", ()):
        b = raw.get("stmt_location", 0)
        n = raw.get("stmt_len", 0)
        start = pos.char_of_byte(b)
        end = pos.char_of_byte(b + n) if n else len(text)
        start = source._skip_trivia(text, start, end)
        spans.append((start, _trim_end(text, start, end)))
    return spans


def scanner_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for a, b in source.split(text):
        start = source._skip_trivia(text, a, b)
        end = _trim_end(text, start, b)
        if start < end:  # a piece of only white space, comments and `;` is no statement (nor for the parser)
            spans.append((start, end))
    return spans


def _parsable(data: bytes) -> str | None:
    try:
        text = source.decode(data)
        pg.parse_sql_json(text)
    except (source.DecodeError, pg.ParseError, RecursionError):
        return None
    return text


def assert_same_split(text: str) -> None:
    ours, theirs = scanner_spans(text), pglast_spans(text)
    if ours != theirs:
        show = lambda spans: [text[a:b][:60] for a, b in spans]  # noqa: E731
        assert ours == theirs, (show(ours), show(theirs))


PARSABLE = [(name, text) for name, body in BODIES if (text := _parsable(body)) is not None]


def test_most_of_the_corpus_parses():
    """Guard against a vacuous differential: most fixture bodies parse as a whole."""
    assert len(PARSABLE) >= 100 and len(PARSABLE) >= 0.6 * len(BODIES), (len(PARSABLE), len(BODIES))


@pytest.mark.parametrize("name, text", PARSABLE, ids=[n for n, _ in PARSABLE])
def test_split_agrees_with_pglast(name, text):
    assert_same_split(text)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT 1",
        "SELECT 1;;;SELECT 2;",
        "  -- c\n/* a /* nested */ b */ SELECT 1 ; \n-- trailing\n",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT 3",
        "SELECT $a$;$b$;$a$; SELECT E'\\';'; SELECT U&'\\0041;'; SELECT \"a;\"\"b\";",
        "SELECT 'é☃𝔘'; SELECT 1 /* ; */ + 2 -- ;\n;",
        "SELECT 1;\r\nSELECT 2;\rSELECT 3;",
        "--\rSET lock_timeout = '5s';\nSELECT 1;\n",  # a `--` comment ends at a lone CR (found by the fuzzer)
        pytest.param(
            "CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO u VALUES (1); INSERT INTO v VALUES (2));",
            marks=pytest.mark.xfail(
                strict=True,
                reason=(
                    "known divergence: the recovery scanner ends a statement at every top-level `;`, even "
                    "inside parentheses (psql and the parser do not), so a multi-action CREATE RULE in a file "
                    "that has another syntax error gives two extra parse errors; tracking parentheses instead "
                    "would let one unclosed `(` swallow the rest of a broken file"
                ),
            ),
        ),
    ],
)
def test_split_agrees_on_tricky_shapes(text):
    assert _parsable(text.encode()) is not None
    assert_same_split(text)


STATEMENTS = sorted({text[a:b] for _, text in PARSABLE for a, b in pglast_spans(text)})
TRIVIA = ["", " ", "\n", "\r\n", "\r", "\t", "-- c;\n", "/* ; */", "/* a /* b; */ c */", ";", " ; ;\n", "\n\n"]


@st.composite
def spliced(draw) -> str:
    """Statements of different fixture files, joined by `;` and random white space and comments."""
    parts = draw(st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=6))
    out = draw(st.sampled_from(TRIVIA))
    for i, p in enumerate(parts):
        out += p
        if i < len(parts) - 1 or draw(st.booleans()):
            out += draw(st.sampled_from(TRIVIA)) + ";"
        out += draw(st.sampled_from(TRIVIA))
    return out


@given(text=spliced())
def test_split_agrees_on_spliced_statements(text):
    if _parsable(text.encode()) is None:  # a comment swallowing a `;`, BEGIN ATOMIC meeting a neighbour...
        return
    count_example("split")
    assert_same_split(text)


@(settings(max_examples=60) if settings().max_examples < 1000 else (lambda f: f))  # CI: a few seconds
@given(data=mutated())
def test_split_agrees_on_mutations_that_parse(data):
    text = _parsable(data)
    if text is None:  # most mutations break the file: nothing to compare (no assume: too much filtering)
        return
    count_example("split-mutated")  # inputs compared (mutations that still parse)
    assert_same_split(text)
