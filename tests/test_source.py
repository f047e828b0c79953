"""Reading and splitting: decoding, exact positions, recovery after a syntax error."""

from pathlib import Path

import pytest
from pglast import parser as pg

from migcheck import source
from migcheck.source import Positions


def parsed(text):
    return source.parse(text, Positions(text))


def test_positions_after_multibyte_characters():
    text = "SELECT 'é☃';\n  -- ü\n  DROP TABLE \"Straße\";\nSELECT 1;"
    st = parsed(text).statements
    assert [(s.kind, s.line, s.column) for s in st] == [("SelectStmt", 1, 1), ("DropStmt", 3, 3), ("SelectStmt", 4, 1)]
    assert st[1].text == 'DROP TABLE "Straße"'
    assert (st[1].end_line, st[1].end_column) == (3, 22)


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_line_endings_count_as_one_break(eol):
    text = eol.join(["BEGIN;", "-- c", "", "DROP TABLE x;", "COMMIT;"])
    st = parsed(text).statements
    assert [(s.line, s.column) for s in st] == [(1, 1), (4, 1), (5, 1)]


def test_statement_start_skips_leading_comments():
    text = "/* a */ -- b\n   SELECT 1;"
    (st,) = parsed(text).statements
    assert (st.line, st.column) == (2, 4)


def test_syntax_error_position_and_recovery():
    text = "SELECT 1;\nSELECT 'ü', x;\nALTER TABLE t ADD COLUMN;\nSELECT 2;\nDROP TABLE z;\n"
    p = parsed(text)
    assert [(x.line, x.column) for x in p.problems] == [(3, 25)]
    assert p.problems[0].message == 'syntax error at or near ";"'
    assert [s.kind for s in p.statements] == ["SelectStmt", "SelectStmt", "SelectStmt", "DropStmt"]
    assert [s.line for s in p.statements] == [1, 2, 4, 5]


def test_unterminated_dollar_quote_keeps_earlier_statements():
    text = "DROP TABLE a;\nDO $$ BEGIN\n"
    p = parsed(text)
    assert [s.kind for s in p.statements] == ["DropStmt"]
    assert p.problems[0].line == 2 and "unterminated dollar-quoted string" in p.problems[0].message


def test_unterminated_block_comment():
    p = parsed("DROP TABLE a;\n/* never closed\nDROP TABLE b;")
    assert [s.kind for s in p.statements] == ["DropStmt"]
    assert "unterminated /* comment" in p.problems[0].message


def test_statement_without_trailing_semicolon():
    p = parsed("BEGIN;\nSELECT 1;\nCOMMIT")
    assert [s.kind for s in p.statements] == ["TransactionStmt", "SelectStmt", "TransactionStmt"]
    assert not p.problems


def test_split_keeps_begin_atomic_bodies_whole():
    text = (
        "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 END; "
        "SELECT 2; END; SELECT 'x;y'; SELECT $q$;$q$"
    )
    pieces = [text[a:b].strip() for a, b in source.split(text)]
    assert pieces[0].endswith("SELECT 2; END;")
    assert pieces[1:] == ["SELECT 'x;y';", "SELECT $q$;$q$"]


FIXTURES = sorted((Path(__file__).parent / "fixtures" / "rules").glob("*.sql"))


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_split_agrees_with_pglast_on_files_that_parse(fixture):
    """Differential: our recovery splitter and PostgreSQL's parser split the same way."""
    try:
        text = source.decode(fixture.read_bytes())
        expected = [s.strip() for s in pg.split(text, with_parser=True)]
    except (source.DecodeError, pg.ParseError):
        pytest.skip("does not parse as a whole")
    ours = []
    for a, b in source.split(text):
        piece = text[a:b]
        lead = source._skip_trivia(piece, 0, len(piece))
        if lead < len(piece):
            ours.append(piece[lead:].strip().removesuffix(";").strip())
    assert ours == expected


@pytest.mark.parametrize(
    "data, message",
    [
        (b"SELECT 'Z\xfcrich';", "not valid UTF-8: byte 0xfc at byte offset 9"),
        (b"SELECT 1;\x00\x01\x02", "contains NUL bytes"),
        (b"\xff\xfeS\x00", None),
    ],
)
def test_decode(data, message):
    if message is None:
        assert source.decode(data) == "S"
    else:
        with pytest.raises(source.DecodeError) as exc:
            source.decode(data)
        assert message in str(exc.value)


def test_bom_is_not_part_of_the_text():
    assert source.decode(b"\xef\xbb\xbfSELECT 1;") == "SELECT 1;"
