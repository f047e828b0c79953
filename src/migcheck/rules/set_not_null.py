from ..analysis import locking as lk
from ..analysis import locks
from ..registry import rule


@rule(
    "set-not-null",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("AlterTableStmt",),
    summary="ALTER COLUMN SET NOT NULL scans an existing table under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) exists.",
)
def check(f, ctx):
    version = lk.version(ctx)
    for st in f.all_statements:
        if st.kind != "AlterTableStmt":
            continue
        table = lk.table_of(st)
        cols = [c.get("name", "?") for sub, c in lk.alter_table_cmds(st) if sub == "AT_SetNotNull"]
        if not cols or not lk.is_existing(f, st, table) or lk.is_empty(f, st, table):
            continue  # new, or provably empty: nothing to scan
        if lk.rewriting_type_changes(f, ctx, st):
            continue  # the same statement rewrites the table, checking NOT NULL as it goes: no scan of its own
        if version >= 12:
            cols = [c for c in cols if not lk.validated_not_null_check(f, ctx, st, table, c)]
            if not cols:
                continue
        lock = lk.lock_on(st, table, version) or locks.Lock(table, locks.ACCESS_EXCLUSIVE)
        t = lk.table_sql(st)
        col = lk.ident(cols[0])
        shown = ", ".join(lk.ident(c) for c in cols)
        check_name = lk.ident(f"{lk.unqualified(table)}_{cols[0]}_not_null")
        if version >= 12:
            why = ""
            fix = (
                f"First `ALTER TABLE {t} ADD CONSTRAINT {check_name} CHECK ({col} IS NOT NULL) NOT VALID;`, then "
                f"`ALTER TABLE {t} VALIDATE CONSTRAINT {check_name};` in a later migration (SHARE UPDATE EXCLUSIVE: "
                "reads and writes go on), then SET NOT NULL, which uses the validated CHECK instead of scanning "
                "(PostgreSQL 12+), and drop the CHECK."
            )
        else:
            why = " (before PostgreSQL 12 it scans even when a validated CHECK (... IS NOT NULL) exists)"
            fix = (
                f"Keep a validated `CHECK ({col} IS NOT NULL)` constraint instead (added NOT VALID, validated in a later "
                "migration), or run SET NOT NULL when the table is quiet; on PostgreSQL 12+ the CHECK lets SET NOT NULL "
                "skip the scan."
            )
        yield f.hit(
            f"ALTER COLUMN {shown} SET NOT NULL on {t}{lk.where(st)} reads every row to look for NULLs while it "
            f"{lk.lock_words(lock, t)}, for the whole scan{why}",
            fix,
            st,
        )
