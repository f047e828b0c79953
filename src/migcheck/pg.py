"""Small accessors over pglast's JSON parse tree (plain dicts and lists), shared by the rules."""

from __future__ import annotations

from .model import Statement

BEGIN_KINDS = frozenset({"TRANS_STMT_BEGIN", "TRANS_STMT_START"})
COMMIT_KINDS = frozenset({"TRANS_STMT_COMMIT"})
ROLLBACK_KINDS = frozenset({"TRANS_STMT_ROLLBACK"})


def strings(items) -> list[str]:
    """``[{"String": {"sval": "a"}}, ...]`` -> ``["a", ...]``."""
    out = []
    for item in items or ():
        if isinstance(item, dict) and "String" in item:
            out.append(item["String"].get("sval", ""))
    return out


def qualified(items) -> str:
    return ".".join(strings(items))


def rangevar(rv: dict | None) -> str:
    """``RangeVar`` fields -> ``schema.table`` (or ``table``)."""
    if not rv:
        return ""
    parts = [rv.get("catalogname"), rv.get("schemaname"), rv.get("relname")]
    return ".".join(p for p in parts if p)


def transaction_kind(stmt: Statement) -> str | None:
    if stmt.kind == "TransactionStmt":
        return stmt.node.get("kind")
    return None


def is_begin(stmt: Statement) -> bool:
    return transaction_kind(stmt) in BEGIN_KINDS


def is_commit(stmt: Statement) -> bool:
    return transaction_kind(stmt) in COMMIT_KINDS


def is_rollback(stmt: Statement) -> bool:
    return transaction_kind(stmt) in ROLLBACK_KINDS


def non_transactional(stmt: Statement, postgres_version: int = 15) -> str | None:
    """A short description when ``stmt`` cannot run inside a transaction block, else None."""
    k, n = stmt.kind, stmt.node
    if k == "IndexStmt" and n.get("concurrent"):
        return "CREATE INDEX CONCURRENTLY"
    if k == "DropStmt" and n.get("concurrent"):
        return "DROP INDEX CONCURRENTLY"
    if k == "ReindexStmt":
        for p in n.get("params", ()):
            if p.get("DefElem", {}).get("defname") == "concurrently":
                return "REINDEX CONCURRENTLY"
        if n.get("kind") in ("REINDEX_OBJECT_SYSTEM", "REINDEX_OBJECT_DATABASE"):
            return "REINDEX SYSTEM/DATABASE"
    if k == "VacuumStmt" and n.get("is_vacuumcmd"):
        return "VACUUM"
    if k == "CreatedbStmt":
        return "CREATE DATABASE"
    if k == "DropdbStmt":
        return "DROP DATABASE"
    if k == "AlterSystemStmt":
        return "ALTER SYSTEM"
    if k == "CreateTableSpaceStmt":
        return "CREATE TABLESPACE"
    if k == "DropTableSpaceStmt":
        return "DROP TABLESPACE"
    if k == "AlterEnumStmt" and n.get("newVal") and postgres_version < 12:
        return "ALTER TYPE ... ADD VALUE (before PostgreSQL 12)"
    if k == "CreateSubscriptionStmt":
        return "CREATE SUBSCRIPTION"
    if k == "AlterTableStmt":
        for cmd in n.get("cmds", ()):
            c = cmd.get("AlterTableCmd", {})
            if c.get("subtype") == "AT_DetachPartition" and c.get("def", {}).get("PartitionCmd", {}).get("concurrent"):
                return "DETACH PARTITION CONCURRENTLY"
    return None


def is_session_setting(stmt: Statement) -> bool:
    """SET / RESET / SHOW and friends: they change no schema and no data."""
    return stmt.kind in ("VariableSetStmt", "VariableShowStmt")


def is_query_only(stmt: Statement) -> bool:
    """A plain SELECT (no INTO, no data-modifying CTE): verification queries change nothing."""
    if stmt.kind == "SelectStmt":
        if stmt.node.get("intoClause"):
            return False
        for cte in (stmt.node.get("withClause") or {}).get("ctes", ()):
            q = cte.get("CommonTableExpr", {}).get("ctequery", {})
            if any(k in q for k in ("InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt")):
                return False
        return True
    return stmt.kind in ("ExplainStmt",)


def is_change(stmt: Statement) -> bool:
    """Does the statement change schema or data (everything but transaction control,
    session settings and plain queries)?"""
    return not (stmt.kind == "TransactionStmt" or is_session_setting(stmt) or is_query_only(stmt))
