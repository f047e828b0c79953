"""Minimal reproducers of crashes found by the fuzz tests (test_fuzz_pipeline.py).

A crash whose fix lies outside source.py / plpgsql.py / header.py is pinned here as
``xfail(strict=True)`` with the reason, so the fix turns it into a failure to un-mark.
Fixed crashes stay here as ordinary tests.

Long fuzz session (mutated fixtures ~11 min, SQL-ish text 7.5 min, arbitrary bytes ~3.5 min):
no crash, no rule error, no out-of-file position, no non-determinism found, so nothing is pinned yet.
The cases below are the shapes the fuzzer leans on hardest, kept as fast smoke tests.
"""

import pytest

from test_fuzz_pipeline import check_properties


@pytest.mark.parametrize("migration, rollback", [
    (b"", b""),
    (b"DO $$ BEGIN\n", None),
    (b"DO $$ BEGIN DROP TABLE a; END $$", b"DO 'BEGIN EXECUTE ''DROP TABLE a''; END'"),
    (b"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END", None),
    (b"\xef\xbb\xbf-- migcheck: ignore-file drop-table\r\nDROP TABLE a;\r", None),
    (b"-- MIGRATION: [x]\n-- Purpose:\n\\i x.sql\nSELECT :x; /* open", b"\xff\xfe"),
    ("\r\r\n\n\x0b\x0c\u2028".encode(), None),
])
def test_pipeline_smoke(migration, rollback):
    check_properties(migration, rollback)
