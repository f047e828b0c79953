"""ban-char-field: char(n) / character(n) columns (rules/ban-char-field.md)."""

from __future__ import annotations

from ..analysis import coltypes as ty
from ..analysis import locking as lk
from ..registry import rule


@rule(
    "ban-char-field",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("CreateStmt", "AlterTableStmt"),
    summary="A char(n) / character(n) column: blank-padded, no faster than text, and it changes comparisons.",
)
def check(f, ctx):
    for st in f.all_statements:
        cols = [c for c in ty.columns(st) if c.type == "bpchar"]
        if not cols:
            continue
        first = cols[0]
        col = lk.ident(first.name)
        n = first.mods[0] if first.mods and first.mods[0] is not None else None
        check_ = f" with `CHECK (char_length({col}) = {n})` if the length is fixed" if n else ""
        yield ty.hit_at(
            f,
            st,
            first.location,
            f"{ty.what(st)}{lk.where(st)} declares {ty.column_words(cols)}: character(n) pads every value with "
            "blanks to n characters, ignores trailing blanks in comparisons and drops them on conversion to text, "
            "and is no faster than text in PostgreSQL (it takes more space)"
            + ("; `char` without a length means char(1)" if any(c.mods == (1,) for c in cols) else ""),
            f"Use `{col} text`{check_} (or varchar(n)).",
        )
