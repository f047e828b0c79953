"""Fuzz the whole check pipeline in-process: random SQL-ish text and mutated fixture files.

Properties, for any bytes in a migration (and its rollback): no exception and no rule error
(``Result.errors`` empty), every finding's position is inside the file, the JSON report is valid
JSON, and the same input gives the same output. Profiles: see conftest.py (``ci`` by default,
``--hypothesis-profile=long`` for a fuzzing session).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from conftest import count_example
from harness import parse_case
from hypothesis import given, settings
from hypothesis import strategies as st

from migcheck import config as config_mod
from migcheck import engine, registry, source
from migcheck.report import render

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "rules").glob("*.sql"))
MIGRATION = "migrations/20250101_001_fuzz.sql"
ROLLBACK = "migrations/rollback/20250101_001_rollback.sql"


def _fixture_bodies() -> list[bytes]:
    out = []
    for f in FIXTURES:
        for body in parse_case(f.read_bytes()).files.values():
            if body.strip():
                out.append(body)
    return out


BODIES = _fixture_bodies()

TOKENS = [
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "START TRANSACTION",
    "END",
    "CREATE",
    "TABLE",
    "INDEX",
    "CONCURRENTLY",
    "UNIQUE",
    "DROP",
    "ALTER",
    "ADD",
    "COLUMN",
    "CONSTRAINT",
    "FOREIGN KEY",
    "REFERENCES",
    "NOT VALID",
    "VALIDATE",
    "IF",
    "NOT",
    "EXISTS",
    "OR REPLACE",
    "FUNCTION",
    "RETURNS",
    "trigger",
    "int",
    "bigint",
    "serial",
    "text",
    "varchar(10)",
    "timestamp",
    "TYPE",
    "ENUM",
    "VALUE",
    "SET",
    "NULL",
    "DEFAULT",
    "now()",
    "random()",
    "RENAME",
    "TO",
    "ON",
    "USING",
    "WHERE",
    "DELETE FROM",
    "UPDATE",
    "INSERT INTO",
    "VALUES",
    "SELECT",
    "FROM",
    "TRUNCATE",
    "CASCADE",
    "VACUUM",
    "FULL",
    "CLUSTER",
    "LOCK",
    "REFRESH",
    "MATERIALIZED VIEW",
    "VIEW",
    "AS",
    "SCHEMA",
    "DATABASE",
    "TRIGGER",
    "POLICY",
    "SEQUENCE",
    "EXTENSION",
    "DO",
    "LANGUAGE",
    "plpgsql",
    "sql",
    "BEGIN ATOMIC",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "LOOP",
    "EXECUTE",
    "PERFORM",
    "RAISE",
    "EXCEPTION",
    "DECLARE",
    "lock_timeout",
    "statement_timeout",
    "'1s'",
    "REINDEX",
    "t",
    "users",
    "public.t",
    '"Quoted"',
    '"a""b"',
    "x",
    "id",
    "a",
    "b",
    "1",
    "0",
    "3.5",
    "-1",
    ";",
    ";",
    ";",
    ",",
    "(",
    ")",
    "(",
    ")",
    "=",
    "||",
    "::",
    ".",
    "*",
    "[",
    "]",
    "'",
    "''",
    "'str'",
    "E'\\''",
    "E'\\\\'",
    "U&'\\0041'",
    "$$",
    "$$",
    "$f$",
    "$1",
    "$ $",
    "--",
    "-- c\n",
    "/*",
    "*/",
    "/* c */",
    "/* /* nested */ */",
    "\n",
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "  ",
    "\\i other.sql\n",
    "\\set x 1\n",
    "\\connect db\n",
    ":var",
    ":'var'",
    ':"var"',
    "{{ .Schema }}",
    "${var}",
    "-- migcheck: ignore drop-table -- reviewed\n",
    "-- migcheck: ignore-file truncate\n",
    "-- migcheck: ignore nope -- why\n",
    "/* migcheck: ignore drop-table -- ok */",
    "-- MIGRATION: 20250101_001\n",
    "-- Purpose: [describe]\n",
    "-- Impact:\n",
    "-- Rollback: yes\n",
    "-- Testing: ok\n",
    "-- Depends-On: 20240101_001\n",
    "é",
    "☃",
    "\u2028",
    "\x0b",
    "\x0c",
    "\ufeff",
    "𝔘",
]

sqlish = st.lists(st.sampled_from(TOKENS), max_size=80).map(lambda ts: " ".join(ts).encode("utf-8"))

INSERTS = [
    b"'",
    b'"',
    b"$$",
    b"$x$",
    b"--",
    b"/*",
    b"*/",
    b";",
    b"\n",
    b"\r",
    b"\\",
    b"(",
    b")",
    b"BEGIN;",
    b"COMMIT;",
    b"DO $$ BEGIN ",
    b" END $$;",
    b"\xff",
    b"\xc3",
    b"\x00",
    b"\xef\xbb\xbf",
]


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(BODIES)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "flip"]))
        n = len(data)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 200)))
        if op == "delete":
            del data[i:j]
        elif op == "duplicate":
            data[j:j] = data[i:j]
        elif op == "insert":
            data[i:i] = draw(st.sampled_from(INSERTS))
        elif op == "flip" and n:
            k = min(i, n - 1)
            data[k] ^= 1 << draw(st.integers(0, 7))
        elif op == "swap":
            toks = bytes(data).split(b" ")
            if len(toks) > 1:
                a = draw(st.integers(0, len(toks) - 1))
                b = draw(st.integers(0, len(toks) - 1))
                toks[a], toks[b] = toks[b], toks[a]
                data = bytearray(b" ".join(toks))
    return bytes(data)


ALL_RULES = sorted(registry.load())


def run_pipeline(root: Path, migration: bytes, rollback: bytes | None):
    for rel, body in ((MIGRATION, migration), (ROLLBACK, rollback)):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if body is None:
            p.unlink(missing_ok=True)
        else:
            p.write_bytes(body)
    (root / "CHANGELOG.md").write_text("## 20250101_001\n", encoding="utf-8")
    cfg = config_mod.from_dict({"select": ALL_RULES, "changelog": "CHANGELOG.md"}, root=root)
    result = engine.check(["migrations"], cfg, cwd=root)
    return result, render("json", result, {})


def _lines(data: bytes) -> list[str]:
    """The file's lines as the engine counts them (decoded text, or bytes shown as UTF-8)."""
    try:
        text = source.decode(data)
    except source.DecodeError:
        text = data.decode("utf-8", errors="replace")
    pos = source.Positions(text)
    return [pos.line_text(i) for i in range(1, pos.line_count() + 1)]


def check_properties(migration: bytes, rollback: bytes | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        result, out = run_pipeline(root, migration, rollback)
        assert not result.errors, result.errors
        doc = json.loads(out)
        assert doc["version"] == 1
        contents = {MIGRATION: migration, ROLLBACK: rollback}
        for f in result.findings:
            lines = _lines(contents[f.path])
            where = f"{f.rule} at {f.path}:{f.line}:{f.column}"
            assert 1 <= f.line <= len(lines), where
            assert 1 <= f.column <= len(lines[f.line - 1]) + 1, where
            if f.end_line is not None:
                assert f.line <= f.end_line <= len(lines), where
                assert 1 <= f.end_column <= len(lines[f.end_line - 1]) + 1, where
        _, again = run_pipeline(root, migration, rollback)
        assert again == out


@given(migration=sqlish, rollback=st.none() | sqlish)
def test_sqlish_text(migration, rollback):
    count_example("sqlish")
    check_properties(migration, rollback)


@given(migration=mutated(), rollback=st.none() | mutated())
def test_mutated_fixtures(migration, rollback):
    count_example("mutated")
    check_properties(migration, rollback)


@given(migration=st.binary(max_size=300) | st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_arbitrary_bytes(migration):
    count_example("arbitrary")
    check_properties(migration, None)


# Deep nesting: the parser accepts far deeper trees than our recursive walkers (and copy.deepcopy)
# can follow; source.MAX_DEPTH turns those into a parse-error. Depths around and beyond it, in the
# statement kinds whose trees the rules walk hardest.
WRAPPERS = [
    "({})",
    "-{}",
    "{} + 1",
    "1 * {}",
    "NOT {}",
    "f({})",
    "{}::int",
    "ARRAY[{}]",
    "CASE WHEN a THEN {} END",
    "(SELECT {})",
    "coalesce({}, 1)",
    "ROW({})",
    "{} IS NULL",
    "{} AND b",
    "a OR {}",
]
CONTEXTS = [
    "SELECT {};",
    "ALTER TABLE t ADD COLUMN c int DEFAULT {};",
    "CREATE VIEW v AS SELECT {} AS x;",
    "ALTER TABLE t ADD CONSTRAINT k CHECK ({}) NOT VALID;",
    "CREATE INDEX CONCURRENTLY i ON t (a) WHERE {};",
    "UPDATE t SET a = {} WHERE id = 1;",
    "DO $$ BEGIN PERFORM {}; END $$;",
    "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT {}; END;",
    "CREATE FUNCTION h() RETURNS int LANGUAGE sql AS $$ SELECT {} $$;",
    "CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW WHEN ({}) EXECUTE FUNCTION f();",
]


@st.composite
def nested(draw) -> bytes:
    n = draw(st.integers(0, 260))
    expr = "a"
    for w in draw(st.lists(st.sampled_from(WRAPPERS), min_size=n, max_size=n)):
        expr = w.format(expr)
    stmt = draw(st.sampled_from(CONTEXTS)).format(expr)
    return f"BEGIN;\n{stmt}\nDROP TABLE z;\nCOMMIT;\n".encode()


# ~0.1 s an example (deep trees through every rule): fewer in the bounded profile, all of them in `long`
_FEWER = settings(max_examples=30) if settings().max_examples < 1000 else (lambda f: f)


@_FEWER
@given(migration=nested(), rollback=st.none() | nested())
def test_deep_nesting(migration, rollback):
    count_example("nested")
    check_properties(migration, rollback)
