from ..analysis import locking as lk
from ..analysis import locks
from ..registry import rule


@rule(
    "adding-serial-column",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("AlterTableStmt",),
    summary="ADD COLUMN serial / bigserial / GENERATED AS IDENTITY rewrites an existing table under ACCESS EXCLUSIVE.",
)
def check(f, ctx):
    version = lk.version(ctx)
    for st in f.all_statements:
        table = lk.table_of(st)
        cols = [cd for cd in lk.add_columns(st) if lk.fills_every_row(cd)]
        if not cols or not lk.is_existing(f, st, table):
            continue
        lock = lk.lock_on(st, table, version) or locks.Lock(table, locks.ACCESS_EXCLUSIVE)
        t = lk.table_sql(st)
        cd = cols[0]
        col = lk.ident(cd.get("colname", "?"))
        shown = ", ".join(f"{lk.ident(c.get('colname', '?'))} {lk.fills_every_row(c)}" for c in cols)
        keyed = [c for c in cols if lk.contypes(c) & {"CONSTR_PRIMARY", "CONSTR_UNIQUE"}]
        index = " (and then builds the key's index)" if keyed else ""
        yield f.hit(
            f"ADD COLUMN {shown} on {t}{lk.where(st)} writes a sequence value into every existing row: it "
            f"{lk.lock_words(lock, t)}, and holds it while it rewrites {t}{index}",
            f"Add `{col}` as a nullable bigint without a default, give new rows a value "
            f"(`ALTER COLUMN {col} SET DEFAULT nextval(...)`, or ADD GENERATED ... AS IDENTITY once it is NOT NULL), "
            "backfill existing rows in batches, then `CREATE UNIQUE INDEX CONCURRENTLY` and "
            f"`ALTER TABLE {t} ADD CONSTRAINT ... PRIMARY KEY USING INDEX ...` if it is to be the key.",
            st,
        )
