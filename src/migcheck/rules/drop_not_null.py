"""drop-not-null: ALTER COLUMN ... DROP NOT NULL on an existing table (rules/drop-not-null.md)."""

from __future__ import annotations

from ..analysis import locking as lk
from ..registry import rule


def _added_earlier(f, st, table: str, column: str) -> bool:
    """Was the column added by an earlier statement of the file (nobody reads it yet)?"""
    want = lk.unqualified(table)
    for s in f.all_statements:
        if s is st:
            return False
        if s.kind == "AlterTableStmt" and lk.unqualified(lk.table_of(s)) == want:
            if any(cd.get("colname") == column for cd in lk.add_columns(s)):
                return True
    return False


@rule(
    "drop-not-null",
    severity="info",
    group="safety",
    kinds=("migration",),
    reads=("AlterTableStmt",),
    summary="ALTER COLUMN DROP NOT NULL: readers written for a NOT NULL column may not handle NULL.",
)
def check(f, ctx):
    for st in f.all_statements:
        table = lk.table_of(st)
        cols = [c.get("name", "?") for sub, c in lk.alter_table_cmds(st) if sub == "AT_DropNotNull"]
        if not cols or not lk.is_existing(f, st, table):
            continue
        cols = [c for c in cols if not _added_earlier(f, st, table, c)]
        if not cols:
            continue
        t = lk.table_sql(st)
        shown = ", ".join(lk.ident(c) for c in cols)
        yield f.hit(
            f"ALTER TABLE {t} ALTER COLUMN {shown} DROP NOT NULL{lk.where(st)} lets {'them' if len(cols) > 1 else 'it'} "
            f"hold NULL: code written while {'they were' if len(cols) > 1 else 'it was'} NOT NULL (application "
            "readers, functions, views, reports) may break once a writer stores one",
            "Check that every reader handles NULL before any writer stores it. If this is the first step of "
            "retiring the column (stop writing it, then drop it), that is the safe order: record the review with "
            "`-- migcheck: ignore drop-not-null -- <why>`. To keep the guarantee, keep NOT NULL and give new rows "
            "a default or a marker value instead.",
            st,
        )
