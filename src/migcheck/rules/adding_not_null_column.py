from ..analysis import locking as lk
from ..analysis import pg
from ..registry import rule


def _emptied(f, st, table: str) -> bool:
    """Was every row of ``table`` deleted earlier in the file (TRUNCATE, or DELETE without WHERE)?"""
    want = lk.unqualified(table)
    for s in f.all_statements:
        if s is st:
            return False
        if s.kind == "TruncateStmt":
            if any(lk.unqualified(pg.rangevar(r.get("RangeVar"))) == want for r in s.node.get("relations", ())):
                return True
        elif s.kind == "DeleteStmt" and not s.node.get("whereClause") and not s.node.get("usingClause"):
            if lk.unqualified(lk.table_of(s)) == want:
                return True
    return False


@rule(
    "adding-not-null-column",
    severity="error",
    group="safety",
    kinds=("migration",),
    reads=("AlterTableStmt",),
    summary="ADD COLUMN ... NOT NULL without a DEFAULT fails on a table that has rows.",
)
def check(f, ctx):
    version = lk.version(ctx)
    for st in f.all_statements:
        table = lk.table_of(st)
        cols = list(lk.add_columns(st))
        if not cols or not lk.is_existing(f, st, table):
            continue
        bad = []
        for cd in cols:
            types = lk.contypes(cd)
            required = "CONSTR_NOTNULL" in types or "CONSTR_PRIMARY" in types
            filled = lk.default_expr(cd) is not None or lk.fills_every_row(cd) or "CONSTR_GENERATED" in types
            if required and not filled:
                bad.append(cd)
        if not bad or _emptied(f, st, table):
            continue
        t = lk.table_sql(st)
        shown = ", ".join(lk.column_sql(cd) for cd in bad)
        how = "NOT NULL" if all("CONSTR_NOTNULL" in lk.contypes(cd) for cd in bad) else "NOT NULL (or PRIMARY KEY)"
        if version >= 11:
            fix = (
                f"Give it a constant DEFAULT (`ALTER TABLE {t} ADD COLUMN {lk.column_sql(bad[0])} NOT NULL DEFAULT ...;` "
                "is catalog-only since PostgreSQL 11), or add it nullable, backfill it in batches and set NOT NULL "
                "afterwards (see `migcheck explain set-not-null`)."
            )
        else:
            fix = (
                "Add it nullable, backfill it in batches, then add `CHECK (... IS NOT NULL) NOT VALID` and VALIDATE "
                f"it in a later migration (before PostgreSQL 11 a DEFAULT on ADD COLUMN rewrites {t})."
            )
        yield f.hit(
            f"ADD COLUMN {shown} {how} without a DEFAULT on {t}{lk.where(st)} fails as soon as {t} has a row "
            "(existing rows would hold NULL), and application code that inserts without the column fails once it succeeds",
            fix,
            st,
        )
