"""rls-disabled: a table created in an exposed schema (public) that the same file never puts
under row level security (rules/rls-disabled.md)."""

from __future__ import annotations

from ..analysis import locking as lk
from ..analysis import pg, safety
from ..registry import rule

EXPOSED = frozenset({"public"})


def _schema(f, st, rv: dict | None) -> str | None:
    """The schema a relation name resolves to for creation: its own, else the first schema of
    the search_path the file set ("$user" skipped: such a schema rarely exists), else public."""
    rv = rv or {}
    if rv.get("schemaname"):
        return rv["schemaname"]
    path = safety.context(f).setting(st, "search_path")
    if path is None or not path.strip():
        # not set, RESET, SET ... TO DEFAULT; an empty path makes CREATE fail anyway
        return "public"
    for item in path.split(","):
        item = item.strip()
        if item == "$user":
            continue
        return item or None
    return None


def _key(f, st, rv: dict | None) -> tuple[str | None, str]:
    return _schema(f, st, rv), (rv or {}).get("relname", "")


def _created(st) -> dict | None:
    """The RangeVar of the (non-temporary) table ``st`` creates, else None."""
    if st.kind == "CreateStmt":
        rv = st.node.get("relation") or {}
    elif st.kind == "CreateTableAsStmt" and st.node.get("objtype") == "OBJECT_TABLE":
        rv = (st.node.get("into") or {}).get("rel") or {}
    else:
        return None
    return None if rv.get("relpersistence") == "t" else rv


@rule(
    "rls-disabled",
    severity="warning",
    group="safety",
    kinds=("migration", "rollback"),
    reads=("CreateStmt", "CreateTableAsStmt"),
    summary="A table created in the public schema without ALTER TABLE ... ENABLE ROW LEVEL SECURITY in the same file (Supabase).",
)
def check(f, ctx):
    pending: dict[tuple[str | None, str], object] = {}
    for st in f.all_statements:
        rv = _created(st)
        if rv is not None:
            key = _key(f, st, rv)
            if key[0] in EXPOSED:
                pending[key] = st
            continue
        if st.kind == "AlterTableStmt":
            if any(sub == "AT_EnableRowSecurity" for sub, _ in lk.alter_table_cmds(st)):
                pending.pop(_key(f, st, st.node.get("relation")), None)
        elif st.kind == "RenameStmt" and st.node.get("renameType") == "OBJECT_TABLE":
            old = _key(f, st, st.node.get("relation"))
            if old in pending:
                pending[(old[0], st.node.get("newname", ""))] = pending.pop(old)
        elif st.kind == "AlterObjectSchemaStmt" and st.node.get("objectType") == "OBJECT_TABLE":
            old = _key(f, st, st.node.get("relation"))
            if old in pending:
                created = pending.pop(old)
                if st.node.get("newschema") in EXPOSED:
                    pending[(st.node["newschema"], old[1])] = created
        elif st.kind == "DropStmt" and st.node.get("removeType") == "OBJECT_TABLE":
            for obj in st.node.get("objects") or ():
                parts = pg.strings(obj.get("List", {}).get("items"))
                if parts:
                    rv_ = {"relname": parts[-1], "schemaname": parts[-2] if len(parts) > 1 else None}
                    pending.pop(_key(f, st, rv_), None)
    for (schema, _name), st in pending.items():
        rv = _created(st)
        t = lk.relation(rv)
        yield f.hit(
            f"CREATE TABLE {t}{'' if st.kind == 'CreateStmt' else ' AS ...'}{lk.where(st)} creates a "
            f"table in the {schema} schema, and this file never enables row level security on it: on Supabase, "
            f"tables in {schema} are served by the Data API and the default grants give anon and authenticated "
            "access to every row",
            f"Add `ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;` after it in this migration, then CREATE POLICY for "
            "what each role may see (with row level security on and no policy, only the owner sees rows). If the "
            'database is not exposed through an API, turn the rule off (`ignore = ["rls-disabled"]`), or create '
            "the table in a schema the API does not serve.",
            st,
        )
