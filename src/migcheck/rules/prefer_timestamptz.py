"""prefer-timestamptz: timestamp (without time zone) columns (rules/prefer-timestamptz.md)."""

from __future__ import annotations

from ..analysis import coltypes as ty
from ..analysis import locking as lk
from ..registry import rule


@rule(
    "prefer-timestamptz",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("CreateStmt", "AlterTableStmt"),
    summary="A timestamp (without time zone) column: it drops the offset of every value it stores.",
)
def check(f, ctx):
    for st in f.all_statements:
        cols = [c for c in ty.columns(st) if c.type == "timestamp"]
        if not cols:
            continue
        first = cols[0]
        col = lk.ident(first.name)
        mods = f"({first.mods[0]})" if first.mods and first.mods[0] is not None else ""
        many = len(cols) > 1
        names = ", ".join(lk.ident(c.name) for c in cols)
        yield ty.hit_at(
            f,
            st,
            first.location,
            f"{ty.what(st)}{lk.where(st)} declares {'columns' if many else 'column'} {names} as timestamp without "
            f"time zone: {'they store' if many else 'it stores'} the wall-clock reading and {'drop' if many else 'drops'} "
            "the offset, so the same instant written from sessions with different TimeZone settings is stored as "
            "different values, and comparisons with now() depend on the session's TimeZone",
            f"Use `{col} timestamptz{mods}{'[]' if first.array else ''}` (timestamp with time zone): it stores the "
            "instant (in UTC) and converts on the way in and out. Keep timestamp only for a local date-time that "
            "means the same wall clock everywhere (an opening hour), with a suppression comment saying so.",
        )
