"""prefer-text: varchar(n) columns, whose limit can only change with ALTER COLUMN TYPE
(rules/prefer-text.md)."""

from __future__ import annotations

from ..analysis import coltypes as ty
from ..analysis import locking as lk
from ..registry import rule


@rule(
    "prefer-text",
    severity="info",
    group="safety",
    kinds=("migration",),
    enabled=False,
    reads=("CreateStmt", "AlterTableStmt"),
    summary="A varchar(n) column: text with a CHECK on its length changes its limit without ALTER COLUMN TYPE.",
)
def check(f, ctx):
    for st in f.all_statements:
        cols = [c for c in ty.columns(st) if c.type == "varchar" and c.mods]
        if not cols:
            continue
        first = cols[0]
        col = lk.ident(first.name)
        n = first.mods[0] if first.mods[0] is not None else "n"
        name = lk.ident(f"{lk.unqualified(lk.table_of(st))}_{first.name}_length")
        yield ty.hit_at(
            f,
            st,
            first.location,
            f"{ty.what(st)}{lk.where(st)} declares {ty.column_words(cols)}: changing the limit later is an "
            "ALTER COLUMN TYPE under an ACCESS EXCLUSIVE lock, catalog-only when it grows but a full rewrite "
            "(and index rebuild) when it shrinks",
            f"Use `{col} text` and put the limit in a constraint: `CONSTRAINT {name} CHECK (char_length({col}) <= {n})`. "
            "To change it later, add the new CHECK ... NOT VALID, VALIDATE it (SHARE UPDATE EXCLUSIVE: reads "
            "and writes go on) and drop the old one. text and varchar perform the same in PostgreSQL.",
        )
