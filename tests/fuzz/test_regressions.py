"""Minimal reproducers of crashes found by the fuzz tests (test_fuzz_pipeline.py).

A crash whose fix lies outside source.py / plpgsql.py / header.py is pinned here as
``xfail(strict=True)`` with the reason, so the fix turns it into a failure to un-mark.
Fixed crashes stay here as ordinary tests.

Long fuzz sessions: see docs/robustness.md for the figures. The random-text, mutation and
arbitrary-bytes properties found nothing; deep nesting did (below). test_pipeline_smoke keeps the
shapes the fuzzer leans on hardest as fast smoke tests.
"""

import pytest
from test_fuzz_pipeline import check_properties


@pytest.mark.parametrize(
    "migration, rollback",
    [
        (b"", b""),
        (b"DO $$ BEGIN\n", None),
        (b"DO $$ BEGIN DROP TABLE a; END $$", b"DO 'BEGIN EXECUTE ''DROP TABLE a''; END'"),
        (b"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END", None),
        (b"\xef\xbb\xbf-- migcheck: ignore-file drop-table\r\nDROP TABLE a;\r", None),
        (b"-- MIGRATION: [x]\n-- Purpose:\n\\i x.sql\nSELECT :x; /* open", b"\xff\xfe"),
        ("\r\r\n\n\x0b\x0c\u2028".encode(), None),
    ],
)
def test_pipeline_smoke(migration, rollback):
    check_properties(migration, rollback)


# Found by the deep-nesting probe and property (test_deep_nesting), 2026-11-27: the parser accepts
# trees far deeper than the rules' recursive walkers follow. 250 levels of `+` gave RecursionError
# in missing-if-not-exists (copy.deepcopy) and in rollback-incomplete / rollback-data-change
# (effects.definition), i.e. internal errors and exit 2; the same inside a DO block reached the
# walkers through plpgsql.inner_statements; and a statement too deep for json.loads made the whole
# file one finding at 1:1, so the statements after it went unchecked. Fixed by source.MAX_DEPTH
# (source.py, plpgsql.py) and a fall back to the statement-by-statement parse.
PLUS = "+".join(["a"] * 250)


@pytest.mark.parametrize(
    "migration, rollback",
    [
        (f"ALTER TABLE t ADD COLUMN c int DEFAULT ({PLUS});".encode(), None),
        (f"CREATE VIEW v AS SELECT {PLUS} AS x FROM t;".encode(), b"DROP VIEW v;"),
        (f"CREATE INDEX CONCURRENTLY i ON t (a) WHERE {PLUS} > 0;".encode(), None),
        (f"CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT {PLUS}; END;".encode(), None),
        (
            f"DO $$ BEGIN ALTER TABLE t ADD COLUMN c int DEFAULT {PLUS}; END $$;".encode(),
            f"CREATE VIEW v AS SELECT {PLUS};".encode(),
        ),
        (("SELECT " + "- " * 5000 + "a;\nDROP TABLE z;").encode(), None),
    ],
    ids=["default", "view+rollback", "index-where", "begin-atomic", "do-block", "json-depth"],
)
def test_deep_nesting_regressions(migration, rollback):
    check_properties(migration, rollback)
