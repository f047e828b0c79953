"""The statements a DO block runs, and where they are in the file."""

import pytest

from migcheck import source
from migcheck.analysis import plpgsql
from migcheck.source import Positions


def inner(text):
    pos = Positions(text)
    out = []
    for st in source.parse(text, pos).statements:
        if st.kind == "DoStmt":
            out.extend(plpgsql.inner_statements(st, text, pos))
    return out


def where(text):
    return [(s.kind, s.line, s.column) for s in inner(text)]


def test_nested_blocks_branches_loops_and_handlers():
    text = "\n".join(
        [
            "BEGIN;",  # 1
            "DO $$",  # 2
            "DECLARE r record; n int;",  # 3
            "BEGIN",  # 4
            "  IF n > 0 THEN",  # 5
            "    DELETE FROM a;",  # 6
            "  ELSIF n < 0 THEN",  # 7
            "    DELETE FROM b;",  # 8
            "  ELSE",  # 9
            "    UPDATE c SET x = 1;",  # 10
            "  END IF;",  # 11
            "  FOR r IN SELECT id FROM t LOOP",  # 12
            "    TRUNCATE d;",  # 13
            "  END LOOP;",  # 14
            "  WHILE n < 3 LOOP n := n + 1; DROP INDEX e; END LOOP;",  # 15
            "  CASE n WHEN 1 THEN DROP VIEW f; ELSE NULL; END CASE;",  # 16
            "  BEGIN",  # 17
            "    <<inner>> BEGIN",  # 18
            "      DELETE FROM g;",  # 19
            "    END;",  # 20
            "  EXCEPTION WHEN others THEN",  # 21
            "    DELETE FROM h;",  # 22
            "  END;",  # 23
            "END",  # 24
            "$$;",  # 25
        ]
    )
    assert where(text) == [
        ("DeleteStmt", 6, 5),
        ("DeleteStmt", 8, 5),
        ("UpdateStmt", 10, 5),
        ("SelectStmt", 12, 12),
        ("TruncateStmt", 13, 5),
        ("DropStmt", 15, 32),
        ("DropStmt", 16, 22),
        ("DeleteStmt", 19, 7),
        ("DeleteStmt", 22, 5),
    ]


def test_body_on_the_do_line_and_several_statements_per_line():
    text = "SELECT 1;\nDO $$ BEGIN DELETE FROM a; DELETE FROM a; UPDATE b SET x = 1; END $$;"
    assert where(text) == [("DeleteStmt", 2, 13), ("DeleteStmt", 2, 28), ("UpdateStmt", 2, 43)]
    first = inner(text)[0]
    assert first.text == "DELETE FROM a" and (first.end_line, first.end_column) == (2, 26)
    assert first.inner and first.parent.kind == "DoStmt"


def test_dollar_tag_with_dollars_inside():
    text = "DO $body$\nBEGIN\n  RAISE NOTICE $$x; END;$$;\n  DELETE FROM a WHERE s = '$$';\nEND\n$body$;"
    assert where(text) == [("DeleteStmt", 4, 3)]


def test_strings_and_comments_in_the_body_do_not_move_positions():
    text = (
        "DO $$\nBEGIN\n  RAISE NOTICE 'DELETE FROM x; END;';\n"
        "  /* DELETE FROM y; */ DELETE FROM z; -- DELETE FROM w\nEND $$;"
    )
    assert where(text) == [("DeleteStmt", 4, 24)]


def test_quoted_body_with_doubled_quotes():
    text = "DO 'BEGIN UPDATE t SET a = ''it''''s''; DELETE FROM u; END';"
    got = inner(text)
    assert [(s.kind, s.line, s.column) for s in got] == [("UpdateStmt", 1, 11), ("DeleteStmt", 1, 41)]
    assert got[1].text == "DELETE FROM u"


def test_escape_string_body():
    text = "DO E'BEGIN\\n  DELETE FROM esc;\\nEND';"
    # the body has real line breaks only after decoding: the file has one line
    assert where(text) == [("DeleteStmt", 1, 15)]


def test_language_before_the_body_and_other_languages():
    assert where("DO LANGUAGE plpgsql $$ BEGIN DELETE FROM a; END $$;") == [("DeleteStmt", 1, 30)]
    assert where("DO LANGUAGE plpython3u $$ plpy.execute('DELETE FROM a') $$;") == []


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_line_endings(eol):
    text = eol.join(["BEGIN;", "DO $$", "BEGIN", "  -- c", "  DELETE FROM a;", "END $$;", "COMMIT;"])
    assert where(text) == [("DeleteStmt", 5, 3)]


def test_select_into_keeps_its_position_and_text():
    text = "DO $$\nDECLARE n int;\nBEGIN\n  SELECT count(*) INTO n FROM t;\n  DELETE FROM t WHERE n > 1;\nEND $$;"
    got = inner(text)
    assert [(s.kind, s.line, s.column) for s in got] == [("SelectStmt", 4, 3), ("DeleteStmt", 5, 3)]
    assert got[0].text == "SELECT count(*) INTO n FROM t"


def test_execute_with_a_constant_string_only():
    text = "\n".join(
        [
            "DO $$",
            "DECLARE t text := 'x';",
            "BEGIN",
            "  EXECUTE 'DELETE FROM a WHERE s = ''x''; DROP TABLE b';",
            "  EXECUTE $q$TRUNCATE c$q$;",
            "  EXECUTE 'DROP TABLE ' || t;",
            "  EXECUTE format('DROP TABLE %I', t);",
            "  FOR t IN EXECUTE 'DELETE FROM d RETURNING s' LOOP END LOOP;",
            "END $$;",
        ]
    )
    got = inner(text)
    assert [(s.kind, s.line, s.column) for s in got] == [
        ("DeleteStmt", 4, 12),
        ("DropStmt", 4, 43),
        ("TruncateStmt", 5, 14),
        ("DeleteStmt", 8, 21),
    ]
    assert got[0].text == "DELETE FROM a WHERE s = 'x'"


def test_for_loop_query_on_the_next_line():
    text = "DO $$\nDECLARE r record;\nBEGIN\n  FOR r IN\n    DELETE FROM q RETURNING id\n  LOOP\n    UPDATE t SET x = r.id WHERE true;\n  END LOOP;\nEND $$;"
    assert where(text) == [("DeleteStmt", 5, 5), ("UpdateStmt", 7, 5)]


def test_columns_count_characters_not_bytes():
    text = 'DO $$\nDECLARE é int;\nBEGIN\n  é := 1; DELETE FROM "Straße" WHERE é = 1;\nEND $$;'
    got = inner(text)
    assert [(s.kind, s.line, s.column) for s in got] == [("DeleteStmt", 4, 11)]
    assert got[0].text == 'DELETE FROM "Straße" WHERE é = 1'


def test_call_is_a_statement():
    assert where("DO $$ BEGIN CALL archive_leads(); END $$;") == [("CallStmt", 1, 13)]


def test_a_body_that_does_not_compile_runs_nothing_known():
    assert inner("DO $$ BEGIN x := 1; DELETE FROM a; END $$;") == []


def test_function_bodies_are_not_run():
    text = "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DELETE FROM a; END $$;"
    assert inner(text) == []


@pytest.mark.parametrize(
    "src, value",
    [
        ("'a''b'", "a'b"),
        ("$$x$$", "x"),
        ("$t$a$$b$t$", "a$$b"),
        ("E'a\\nb\\'c'", "a\nb'c"),
        ("E'\\x41\\101\\u0041'", "AAA"),
    ],
)
def test_decode_literal(src, value):
    decoded, offsets = plpgsql.decode_literal(src)
    assert decoded == value and len(offsets) == len(value) + 1
    assert src[offsets[0]] in (value[0], "'", "\\")


@pytest.mark.parametrize("src", ["x", "'a' || b", "'a' 'b'", "format('%I', x)", "$a$x$b$"])
def test_decode_literal_rejects_expressions(src):
    assert plpgsql.decode_literal(src) is None


def test_comments_inside_a_do_body():
    text = "BEGIN;\r\nDO $$\r\nBEGIN\r\n  -- migcheck: ignore delete-statement -- ok\r\n  DELETE FROM a; /* tail */\r\nEND $$;"
    pos = Positions(text)
    do = source.parse(text, pos).statements[1]
    got = [(c.text, c.line, c.column, c.own_line) for c in plpgsql.body_comments(do, text, pos)]
    assert got == [("-- migcheck: ignore delete-statement -- ok", 4, 3, True), ("/* tail */", 5, 18, False)]
