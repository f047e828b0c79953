"""domain-check-constraint: CREATE DOMAIN ... CHECK, and ALTER DOMAIN statements that check every
column using the domain (rules/domain-check-constraint.md)."""

from __future__ import annotations

from ..analysis import coltypes as ty
from ..analysis import locking as lk
from ..analysis import pg
from ..registry import rule


def _created_in_file(f, st, domain: str) -> bool:
    top = st.parent or st
    for s in f.all_statements:
        if s is st or s is top:
            return False
        if s.kind == "CreateDomainStmt" and (pg.strings(s.node.get("domainname"))[-1:] or [""])[0] == domain:
            return True
    return False


SCAN = (
    "reads every column that uses the domain, in every table, holding a SHARE lock on each of those "
    "tables until the transaction ends: their INSERTs, UPDATEs and DELETEs wait (reads go on)"
)
COLUMNS = (
    "put the rule on the columns instead: `ALTER TABLE t ADD CONSTRAINT c CHECK (...) NOT VALID`, then "
    "`ALTER TABLE t VALIDATE CONSTRAINT c` in a later migration (SHARE UPDATE EXCLUSIVE: reads and writes go on)"
)


@rule(
    "domain-check-constraint",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("CreateDomainStmt", "AlterDomainStmt"),
    summary="CREATE DOMAIN ... CHECK, or ALTER DOMAIN ADD CONSTRAINT / VALIDATE / SET NOT NULL, which checks every column using the domain under SHARE locks.",
)
def check(f, ctx):
    for st in f.all_statements:
        n = st.node
        if st.kind == "CreateDomainStmt":
            checks = [
                c["Constraint"]
                for c in n.get("constraints") or ()
                if c.get("Constraint", {}).get("contype") == "CONSTR_CHECK"
            ]
            if not checks:
                continue
            name = lk.names(pg.strings(n.get("domainname")))
            yield ty.hit_at(
                f,
                st,
                checks[0].get("location", -1),
                f"CREATE DOMAIN {name}{lk.where(st)} has a CHECK constraint: every later change to it (ALTER DOMAIN "
                f"ADD CONSTRAINT, VALIDATE CONSTRAINT) {SCAN}, and turning an existing column into the domain "
                "rewrites its table",
                f"Create the domain without the CHECK (or use the base type) and {COLUMNS}: each table's rule can "
                "then change on its own, without locking the others.",
            )
        elif st.kind == "AlterDomainStmt":
            sub = n.get("subtype")
            parts = pg.strings(n.get("typeName"))
            name = lk.names(parts)
            if parts and _created_in_file(f, st, parts[-1]):
                continue  # no table can use it yet
            con = (n.get("def") or {}).get("Constraint") or {}
            if sub == "C" and not con.get("skip_validation"):
                cname = f" {lk.ident(con['conname'])}" if con.get("conname") else ""
                kind = "NOT NULL" if con.get("contype") == "CONSTR_NOTNULL" else "CHECK"
                yield ty.hit_at(
                    f,
                    st,
                    con.get("location", -1),
                    f"ALTER DOMAIN {name} ADD CONSTRAINT{cname} ({kind}){lk.where(st)} {SCAN}",
                    f"Add it with NOT VALID (`ALTER DOMAIN {name} ADD CONSTRAINT ... NOT VALID`): new and changed "
                    "values are checked at once and nothing is scanned. Validating it later takes the same SHARE "
                    f"locks, so do that when the tables are quiet, or {COLUMNS}.",
                )
            elif sub == "V":
                yield f.hit(
                    f"ALTER DOMAIN {name} VALIDATE CONSTRAINT {lk.ident(n.get('name', '?'))}{lk.where(st)} {SCAN}; "
                    "a table's VALIDATE CONSTRAINT lets writes go on, a domain's does not",
                    f"Run it when the tables that use {name} are quiet, with a lock_timeout, or {COLUMNS}.",
                    st,
                )
            elif sub == "O":
                yield f.hit(
                    f"ALTER DOMAIN {name} SET NOT NULL{lk.where(st)} {SCAN}",
                    "Put NOT NULL on the columns instead (a validated CHECK (col IS NOT NULL) first lets SET NOT NULL "
                    "skip its scan on PostgreSQL 12+), or run it when the tables are quiet.",
                    st,
                )
