from ..analysis import locking as lk
from ..analysis import locks
from ..registry import rule

_ON = {
    "REINDEX_OBJECT_TABLE": "TABLE",
    "REINDEX_OBJECT_INDEX": "INDEX",
    "REINDEX_OBJECT_SCHEMA": "SCHEMA",
    "REINDEX_OBJECT_DATABASE": "DATABASE",
}


def _concurrent(st) -> bool:
    return any(p.get("DefElem", {}).get("defname") == "concurrently" for p in st.node.get("params", ()))


@rule(
    "require-concurrent-reindex",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("ReindexStmt",),
    summary="REINDEX without CONCURRENTLY (PostgreSQL 12+) blocks writes to the table and, through its indexes, nearly every read.",
)
def check(f, ctx):
    version = lk.version(ctx)
    if version < 12:
        return  # REINDEX ... CONCURRENTLY exists since PostgreSQL 12
    for st in f.all_statements:
        kind = st.node.get("kind")
        if st.kind != "ReindexStmt" or kind not in _ON or _concurrent(st):
            continue
        what = _ON[kind]
        rel = st.node.get("relation")
        if rel:
            name = lk.relation(rel)
            if what == "TABLE" and not lk.is_existing(f, st, lk.table_of(st)):
                continue  # a table created earlier in this file: empty, nothing waits
            if what == "INDEX" and rel.get("relname", "") in lk.indexes_of_new_tables(f, st):
                continue
            target = f"{what} {name}"
        else:
            name = lk.ident(st.node["name"]) if st.node.get("name") else ""
            target = f"{what} {name}".rstrip()
        if what == "TABLE":
            held = (
                f"takes a SHARE lock on {name}, which blocks {locks.BLOCKS[locks.SHARE]}, and an ACCESS EXCLUSIVE "
                "lock on each of its indexes while rebuilding it"
            )
        elif what == "INDEX":
            held = (
                f"takes an ACCESS EXCLUSIVE lock on {name} and a SHARE lock on its table, which blocks "
                f"{locks.BLOCKS[locks.SHARE]}"
            )
        else:
            held = (
                "rebuilds the indexes of every table "
                + (f"of schema {name}" if what == "SCHEMA" else "of the database")
                + ", each table in turn under a SHARE lock and its indexes under ACCESS EXCLUSIVE"
            )
        instead = f"REINDEX {what} CONCURRENTLY {name}".rstrip()
        yield f.hit(
            f"REINDEX {target}{lk.where(st)} without CONCURRENTLY {held}: queries that use an index being rebuilt wait "
            "too, and the planner locks every index of a table it plans for, so reads of the table queue as well, for "
            "the whole rebuild",
            f"Rebuild with `{instead}` (PostgreSQL 12+): reads and writes go "
            "on. CONCURRENTLY cannot run inside a transaction block, so put it in a migration of its own without "
            "BEGIN/COMMIT; a failed concurrent rebuild leaves an INVALID `_ccnew` index to drop before retrying.",
            st,
        )
