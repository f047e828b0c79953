from ..analysis import locking as lk
from ..analysis import locks
from ..registry import rule


def _reason(cd: dict, version: int) -> str | None:
    """Why adding this column rewrites the table (None when it does not, or is not this rule's)."""
    if lk.fills_every_row(cd):
        return None  # serial / identity: adding-serial-column
    if lk.stored_generated(cd):
        return "GENERATED ALWAYS AS (...) STORED computes the value for every existing row"
    expr = lk.default_expr(cd)
    if expr is None:
        return None
    if version < 11:
        return "before PostgreSQL 11 any DEFAULT on ADD COLUMN is written into every existing row"
    fn = lk.volatile_function(expr)
    if fn:
        return f"its DEFAULT calls the volatile function {fn}(), evaluated separately for every existing row"
    return None  # constant, stable, or an unknown function (the lock model does not guess)


@rule(
    "volatile-default",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("AlterTableStmt",),
    summary="ADD COLUMN with a volatile DEFAULT (or a stored generated column) rewrites the table under ACCESS EXCLUSIVE.",
)
def check(f, ctx):
    version = lk.version(ctx)
    for st in f.all_statements:
        table = lk.table_of(st)
        cols = list(lk.add_columns(st))
        if not cols or not lk.is_existing(f, st, table):
            continue
        reasons = [(cd, r) for cd in cols if (r := _reason(cd, version))]
        if not reasons:
            continue
        lock = lk.lock_on(st, table, version) or locks.Lock(table, locks.ACCESS_EXCLUSIVE)
        t = lk.table_sql(st)
        cd, why = reasons[0]
        col = lk.ident(cd.get("colname", "?"))
        shown = ", ".join(lk.column_sql(c) for c, _ in reasons)
        if lk.stored_generated(cd):
            fix = (
                f"Add `{col}` as a plain nullable column, keep it filled with a trigger, backfill existing rows in "
                "batches; on PostgreSQL 18+ a VIRTUAL generated column needs no rewrite."
            )
        elif version < 11:
            fix = (
                f"Add `{col}` without a DEFAULT, then `ALTER TABLE {t} ALTER COLUMN {col} SET DEFAULT ...;` "
                "(new rows only) and backfill existing rows in batches."
            )
        else:
            fix = (
                f"Add `{col}` without a DEFAULT, then `ALTER TABLE {t} ALTER COLUMN {col} SET DEFAULT ...;` "
                "(catalog-only, applies to new rows) and backfill existing rows in batches; a constant or "
                "stable DEFAULT such as now() needs no rewrite."
            )
        yield f.hit(
            f"ADD COLUMN {shown} on {t}{lk.where(st)} rewrites the whole table ({why}) and "
            f"{lk.lock_words(lock, t)}, for the whole rewrite",
            fix,
            st,
        )
