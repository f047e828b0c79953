from ..analysis import locking as lk
from ..analysis import locks, schema
from ..registry import rule

# New types that are a catalog-only change from some old types (varchar(n) -> text, ...).
_MAYBE_COERCIBLE = {"text", "varchar", "numeric", "varbit", "inet"}


@rule(
    "changing-column-type",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("AlterTableStmt",),
    summary="ALTER COLUMN ... TYPE rewrites an existing table and rebuilds its indexes under ACCESS EXCLUSIVE.",
)
def check(f, ctx):
    version = lk.version(ctx)
    for st in f.all_statements:
        if st.kind != "AlterTableStmt":
            continue
        table = lk.table_of(st)
        if not any(sub == "AT_AlterColumnType" for sub, _ in lk.alter_table_cmds(st)) or not lk.is_existing(
            f, st, table
        ):
            continue
        risky = lk.rewriting_type_changes(f, ctx, st)  # (column, old type or None, new type, using clause?)
        if not risky:
            continue
        lock = lk.lock_on(st, table, version) or locks.Lock(table, locks.ACCESS_EXCLUSIVE)
        t = lk.table_sql(st)
        col, old, new, using = risky[0]
        shown = ", ".join(f"{lk.ident(c)} TYPE {lk.type_sql(n)}" for c, _, n, _ in risky)
        known = f" (from {lk.type_sql(old)})" if old is not None else ""
        hedge = ""
        if not using and new and not new[2]:
            if old is None and new[0] in _MAYBE_COERCIBLE:
                hedge = (
                    " unless the change is binary-coercible (varchar(n) to text or to a longer varchar is; "
                    "migcheck cannot see the column's current type in the migrations)"
                )
            elif new[0] in schema.TIMESTAMPS and version >= 12 and (old is None or old[0] in schema.TIMESTAMPS):
                hedge = (
                    " unless the old type is timestamp (or timestamptz) and the session time zone is UTC: "
                    "then it is catalog-only, which `SET timezone = 'UTC';` before it makes sure of"
                )
        yield f.hit(
            f"ALTER COLUMN {shown}{known} on {t}{lk.where(st)} rewrites {t} and rebuilds its indexes{hedge}, and "
            f"{lk.lock_words(lock, t)}, for the whole rewrite",
            f"Add a new column of the new type, keep it filled (trigger or dual writes), backfill in batches, switch "
            f"the readers, then drop `{col}` in a later release; widening varchar(n) to text or to a longer varchar "
            "needs no rewrite and is not reported when the old type is known.",
            st,
        )
