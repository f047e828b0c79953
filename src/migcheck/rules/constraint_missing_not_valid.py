from ..analysis import locking as lk
from ..analysis import locks, pg
from ..registry import rule

_KIND = {"CONSTR_FOREIGN": "FOREIGN KEY", "CONSTR_CHECK": "CHECK"}


def _column_fks_validated(st) -> bool:
    """Does PostgreSQL validate the foreign keys declared on columns this ALTER TABLE adds?

    It skips that scan (the new column holds only NULLs) unless one of the added columns has a
    DEFAULT (serial and stored generated columns have one too) or the statement also adds a
    table FOREIGN KEY constraint (parse_utilcmd.c, transformAlterTableStmt)."""
    for sub, c in lk.alter_table_cmds(st):
        d = c.get("def") or {}
        cd = d.get("ColumnDef")
        if sub == "AT_AddColumn" and cd:
            if any(
                con.get("contype") in ("CONSTR_DEFAULT", "CONSTR_GENERATED") for con in lk.constraints(cd)
            ) or lk.serial_type(cd):
                return True
        con = d.get("Constraint")
        if sub == "AT_AddConstraint" and con and con.get("contype") == "CONSTR_FOREIGN":
            return True
    return False


def _validating(st):
    """``(kind, constraint name, column added with it or None, referenced table)`` of every FOREIGN KEY
    or CHECK the ALTER TABLE adds that validates existing rows (no NOT VALID)."""
    out = []
    column_fks = _column_fks_validated(st)
    for sub, c in lk.alter_table_cmds(st):
        d = c.get("def") or {}
        con = d.get("Constraint")
        if sub == "AT_AddConstraint" and con and con.get("contype") in _KIND and not con.get("skip_validation"):
            out.append((_KIND[con["contype"]], con.get("conname"), None, pg.rangevar(con.get("pktable"))))
        cd = d.get("ColumnDef")
        if sub == "AT_AddColumn" and cd:
            for con in lk.constraints(cd):
                if con.get("contype") == "CONSTR_CHECK" or (con.get("contype") == "CONSTR_FOREIGN" and column_fks):
                    out.append(
                        (
                            _KIND[con["contype"]],
                            con.get("conname"),
                            cd.get("colname", "?"),
                            pg.rangevar(con.get("pktable")),
                        )
                    )
    return out


def _not_valid_adds(st):
    """Names of the constraints the ALTER TABLE adds NOT VALID."""
    out = set()
    for sub, c in lk.alter_table_cmds(st):
        con = (c.get("def") or {}).get("Constraint")
        if sub == "AT_AddConstraint" and con and con.get("skip_validation") and con.get("conname"):
            out.add(con["conname"])
    return out


@rule(
    "constraint-missing-not-valid",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("AlterTableStmt",),
    summary="ADD FOREIGN KEY / CHECK without NOT VALID scans an existing table while holding a lock that blocks writes.",
)
def check(f, ctx):
    version = lk.version(ctx)
    added: list[tuple[object, str, str]] = []  # (statement, table, constraint name) added NOT VALID earlier in the file
    for st in f.all_statements:
        if st.kind != "AlterTableStmt":
            continue
        table = lk.table_of(st)
        t = lk.table_sql(st)
        # new, or provably empty (the schema model): validating reads no row
        existing = lk.is_existing(f, st, table) and not lk.is_empty(f, st, table)
        found = _validating(st) if existing else []
        if found:
            lock = lk.lock_on(st, table, version) or locks.Lock(table, locks.ACCESS_EXCLUSIVE)
            kind, name, column, other = found[0]
            what = ", ".join(
                (
                    f"ADD COLUMN {lk.ident(col)} ... {'REFERENCES' if k == 'FOREIGN KEY' else k}"
                    if col
                    else f"ADD {'CONSTRAINT ' + lk.ident(n) + ' ' if n else ''}{k}"
                )
                for k, n, col, _ in found
            )
            others = sorted(
                {o for k, _, _, o in found if k == "FOREIGN KEY" and o and lk.unqualified(o) != lk.unqualified(table)}
            )
            also = ""
            if others:
                also = f" (and a SHARE ROW EXCLUSIVE lock on {', '.join(lk.names(o.split('.')) for o in others)}, which blocks its writes too)"
            cname = lk.ident(name) if name else "<name>"
            if column:
                fix = (
                    f"Add the column without the constraint, then add it separately as `ALTER TABLE {t} ADD CONSTRAINT "
                    f"{cname} {kind} (...) ... NOT VALID;` and run `ALTER TABLE {t} VALIDATE CONSTRAINT {cname};` in a later "
                    "migration: VALIDATE scans under SHARE UPDATE EXCLUSIVE, so reads and writes go on."
                )
            else:
                fix = (
                    f"Add it with NOT VALID (`ALTER TABLE {t} ADD CONSTRAINT {cname} {kind} ... NOT VALID;`: new rows are "
                    f"checked at once, no scan), then run `ALTER TABLE {t} VALIDATE CONSTRAINT {cname};` in a later "
                    "migration: VALIDATE scans under SHARE UPDATE EXCLUSIVE, so reads and writes go on."
                )
            yield f.hit(
                f"{what} on {t}{lk.where(st)} checks every existing row while it {lk.lock_words(lock, t)}{also}, "
                "for the whole scan",
                fix,
                st,
            )
        for sub, c in lk.alter_table_cmds(st):
            if sub != "AT_ValidateConstraint":
                continue
            name = c.get("name", "")
            for prev, ptable, pname in added:
                if (
                    pname == name
                    and lk.unqualified(ptable) == lk.unqualified(table)
                    and lk.same_transaction(f, prev, st)
                ):
                    plock = lk.lock_on(prev, ptable, version)
                    mode = plock.mode if plock else locks.ACCESS_EXCLUSIVE
                    yield f.hit(
                        f"VALIDATE CONSTRAINT {lk.ident(name)} on {t}{lk.where(st)} runs in the same transaction as the "
                        f"NOT VALID add on line {prev.line}, whose {mode} lock on {t} is still held during the scan, "
                        "so NOT VALID avoids nothing",
                        f"Commit between the two: move `ALTER TABLE {t} VALIDATE CONSTRAINT {lk.ident(name)};` to a later "
                        "migration (or after COMMIT, in a transaction of its own).",
                        st,
                    )
                    break
        if existing:
            for name in _not_valid_adds(st):
                added.append((st, table, name))
