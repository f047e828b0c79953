"""create-trigger-without-drop: a CREATE TRIGGER that cannot run twice and that
missing-if-not-exists does not cover: before PostgreSQL 14 (no CREATE OR REPLACE TRIGGER) and
for constraint triggers (which have no OR REPLACE form) (rules/create-trigger-without-drop.md)."""

from __future__ import annotations

from ..analysis import locking as lk
from ..analysis import pg
from ..registry import rule

_RELATIONS = ("table", "view", "materialized view", "foreign table")


@rule(
    "create-trigger-without-drop",
    severity="info",
    group="convention",
    kinds=("migration", "rollback"),
    reads=("CreateTrigStmt",),
    summary="CREATE TRIGGER with no DROP TRIGGER IF EXISTS before it, where OR REPLACE is not available (PostgreSQL < 14, constraint triggers).",
)
def check(f, ctx):
    version = lk.version(ctx)
    dropped: set[tuple[str, str]] = set()
    gone: set[str] = set()  # relations dropped, or created without IF NOT EXISTS, earlier in the file
    for st in f.statements:  # top level: a DO block is how a guarded CREATE TRIGGER is written
        n = st.node
        if st.kind == "DropStmt":
            for otype, name, table in pg.drop_keys(st):
                if otype == "trigger":
                    dropped.add((name, table))
                elif otype in _RELATIONS:
                    gone.add(name)
            continue
        if st.kind == "CreateStmt" and not n.get("if_not_exists"):
            # a second run stops at this CREATE TABLE already (missing-if-not-exists says so)
            gone.add((n.get("relation") or {}).get("relname", ""))
            continue
        if st.kind != "CreateTrigStmt" or n.get("replace"):
            continue
        constraint = bool(n.get("isconstraint"))
        if not constraint and version >= 14:
            continue  # missing-if-not-exists asks for CREATE OR REPLACE TRIGGER
        name = n.get("trigname", "")
        table = (n.get("relation") or {}).get("relname", "")
        if any(d == name and (not t or t == table) for d, t in dropped) or table in gone:
            continue
        rel = lk.relation(n.get("relation"))
        word = "CREATE CONSTRAINT TRIGGER" if constraint else "CREATE TRIGGER"
        why = (
            "constraint triggers have no OR REPLACE form"
            if constraint
            else f"CREATE OR REPLACE TRIGGER needs PostgreSQL 14, and postgres-version is {version}"
        )
        again = "rollback" if f.kind == "rollback" else "migration"
        yield f.hit(
            f"{word} {lk.ident(name)} ON {rel} has no DROP TRIGGER IF EXISTS before it: running the {again} "
            f"again fails because the trigger already exists ({why})",
            f"Put `DROP TRIGGER IF EXISTS {lk.ident(name)} ON {rel};` directly before it (the re-create idiom).",
            st,
        )
