from ..analysis import locking as lk
from ..analysis import locks, pg, txn
from ..registry import rule

_KIND = {"CONSTR_UNIQUE": "UNIQUE", "CONSTR_PRIMARY": "PRIMARY KEY", "CONSTR_EXCLUSION": "EXCLUDE"}


def _found(st):
    """``(kind, constraint name, columns, column added with it)`` of every index-building
    constraint the ALTER TABLE adds without USING INDEX."""
    out = []
    for sub, c in lk.alter_table_cmds(st):
        d = c.get("def") or {}
        con = d.get("Constraint")
        if sub == "AT_AddConstraint" and con and con.get("contype") in _KIND and not con.get("indexname"):
            out.append((_KIND[con["contype"]], con.get("conname"), pg.strings(con.get("keys")), None))
        cd = d.get("ColumnDef")
        if sub == "AT_AddColumn" and cd and not lk.fills_every_row(cd):  # serial / identity: adding-serial-column
            for con in lk.constraints(cd):
                if con.get("contype") in ("CONSTR_UNIQUE", "CONSTR_PRIMARY"):
                    out.append((_KIND[con["contype"]], con.get("conname"), [cd.get("colname", "?")], cd))
    return out


@rule(
    "add-unique-constraint",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("AlterTableStmt",),
    summary="ADD UNIQUE / PRIMARY KEY without USING INDEX builds the index under an ACCESS EXCLUSIVE lock.",
)
def check(f, ctx):
    version = lk.version(ctx)
    for st in f.all_statements:
        table = lk.table_of(st)
        found = _found(st) if st.kind == "AlterTableStmt" else []
        if not found or not lk.is_existing(f, st, table) or lk.is_empty(f, st, table):
            continue  # new, or provably empty: the index builds at once
        lock = lk.lock_on(st, table, version) or locks.Lock(table, locks.ACCESS_EXCLUSIVE)
        t = lk.table_sql(st)
        kind, name, cols, cd = found[0]
        shown = ", ".join(
            (
                f"ADD COLUMN {lk.ident(c['colname'])} ... {k}"
                if c
                else f"ADD {'CONSTRAINT ' + lk.ident(n) + ' ' if n else ''}{k} ({', '.join(lk.ident(x) for x in cs)})"
            )
            for k, n, cs, c in found
        )
        if kind == "EXCLUDE":
            fix = (
                "An exclusion constraint has no CONCURRENTLY or USING INDEX form: run it when the table is quiet, with "
                "`SET lock_timeout`, and record the review with `-- migcheck: ignore add-unique-constraint -- <why>`."
            )
        else:
            idx = lk.ident(f"{lk.unqualified(table)}_{'_'.join(cols)}_{'pkey' if kind == 'PRIMARY KEY' else 'key'}")
            cname = lk.ident(name) if name else idx
            collist = ", ".join(lk.ident(x) for x in cols)
            lead = f"Add the column without {kind}, then build the index" if cd is not None else "Build the index first"
            fix = (
                f"{lead} (CONCURRENTLY cannot run inside a transaction block, so "
                f"{txn.outside_transaction(f, ctx.config)}): "
                f"`CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {idx} ON {t} ({collist});`, "
                f"then `ALTER TABLE {t} ADD CONSTRAINT {cname} {kind} USING INDEX {idx};` (catalog-only)"
                + (
                    "; for a PRIMARY KEY the columns must already be NOT NULL, or it scans the table to set that"
                    if kind == "PRIMARY KEY"
                    else ""
                )
                + "."
            )
        yield f.hit(
            f"{shown} on {t}{lk.where(st)} {lk.lock_words(lock, t)}, and holds it for the whole index build", fix, st
        )
