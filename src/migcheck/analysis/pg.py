"""Small accessors over pglast's JSON parse tree (plain dicts and lists), shared by the rules."""

from __future__ import annotations

from ..model import Statement

BEGIN_KINDS = frozenset({"TRANS_STMT_BEGIN", "TRANS_STMT_START"})
COMMIT_KINDS = frozenset({"TRANS_STMT_COMMIT"})
ROLLBACK_KINDS = frozenset({"TRANS_STMT_ROLLBACK"})

# Nodes with no node below them but names and constants (a column reference's field names, a
# literal, a role): no relation, type, function call or definition. A walk that looks for those
# need not enter them (issue 22: about a third of a statement tree's dicts).
LEAF_NODES = frozenset(
    {"String", "Integer", "Float", "Boolean", "BitString", "A_Const", "A_Star", "ColumnRef", "ParamRef", "RoleSpec"}
)


def dicts(node) -> list[dict]:
    """Every dict of a JSON tree (``node`` itself included), depth first, without entering
    ``LEAF_NODES``: for a walk that looks for relations, types, calls or constraints."""
    out: list[dict] = []
    stack = [node]
    pop, push, emit, leaves = stack.pop, stack.append, out.append, LEAF_NODES
    while stack:
        cur = pop()
        t = type(cur)
        if t is dict:
            emit(cur)
            for k, v in cur.items():
                tv = type(v)
                if tv is dict:
                    if k not in leaves:
                        push(v)
                elif tv is list:
                    push(v)
        elif t is list:
            stack.extend(cur)
    return out


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
        if n.get("kind") in ("REINDEX_OBJECT_SYSTEM", "REINDEX_OBJECT_DATABASE", "REINDEX_OBJECT_SCHEMA"):
            return "REINDEX SCHEMA/DATABASE/SYSTEM"
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


# --- object identity: which object a CREATE makes and a DROP removes ----------------------

_DROP_TYPES = {
    "OBJECT_TABLE": "table",
    "OBJECT_VIEW": "view",
    "OBJECT_MATVIEW": "materialized view",
    "OBJECT_INDEX": "index",
    "OBJECT_SEQUENCE": "sequence",
    "OBJECT_TYPE": "type",
    "OBJECT_DOMAIN": "type",
    "OBJECT_FUNCTION": "function",
    "OBJECT_PROCEDURE": "procedure",
    "OBJECT_ROUTINE": "function",
    "OBJECT_AGGREGATE": "aggregate",
    "OBJECT_TRIGGER": "trigger",
    "OBJECT_POLICY": "policy",
    "OBJECT_RULE": "rule",
    "OBJECT_SCHEMA": "schema",
    "OBJECT_EXTENSION": "extension",
    "OBJECT_FOREIGN_TABLE": "foreign table",
    "OBJECT_FOREIGN_SERVER": "server",
    "OBJECT_EVENT_TRIGGER": "event trigger",
    "OBJECT_COLLATION": "collation",
    "OBJECT_PUBLICATION": "publication",
}


def _last(names: list[str]) -> str:
    return names[-1] if names else ""


def drop_keys(stmt: Statement) -> list[tuple[str, str, str]]:
    """``(object type, name, table)`` of every object a ``DROP`` statement removes.

    Names are unqualified (``public.x`` and ``x`` are the same object here); ``table`` is set for
    objects that live on a table (trigger, policy, rule)."""
    if stmt.kind != "DropStmt":
        return []
    otype = _DROP_TYPES.get(stmt.node.get("removeType", ""))
    if otype is None:
        return []
    out = []
    for obj in stmt.node.get("objects", ()):
        if "List" in obj:
            names = strings(obj["List"].get("items"))
        elif "ObjectWithArgs" in obj:
            names = strings(obj["ObjectWithArgs"].get("objname"))
        elif "String" in obj:
            names = [obj["String"].get("sval", "")]
        elif "TypeName" in obj:
            names = strings(obj["TypeName"].get("names"))
        else:
            continue
        if otype in ("trigger", "policy", "rule"):
            out.append((otype, _last(names), _last(names[:-1])))
        else:
            out.append((otype, _last(names), ""))
    return out


def create_key(stmt: Statement) -> tuple[str, str, str] | None:
    """``(object type, name, table)`` of the object a ``CREATE`` statement makes, else None."""
    k, n = stmt.kind, stmt.node
    if k == "CreateStmt":
        return ("table", n.get("relation", {}).get("relname", ""), "")
    if k == "ViewStmt":
        return ("view", n.get("view", {}).get("relname", ""), "")
    if k == "CreateTableAsStmt" and n.get("objtype") == "OBJECT_MATVIEW":
        return ("materialized view", n.get("into", {}).get("rel", {}).get("relname", ""), "")
    if k == "IndexStmt" and n.get("idxname"):
        return ("index", n["idxname"], "")
    if k == "CreateSeqStmt":
        return ("sequence", n.get("sequence", {}).get("relname", ""), "")
    if k in ("CompositeTypeStmt",):
        return ("type", n.get("typevar", {}).get("relname", ""), "")
    if k in ("CreateEnumStmt", "CreateRangeStmt"):
        return ("type", _last(strings(n.get("typeName"))), "")
    if k == "CreateDomainStmt":
        return ("type", _last(strings(n.get("domainname"))), "")
    if k == "CreateFunctionStmt":
        return ("procedure" if n.get("is_procedure") else "function", _last(strings(n.get("funcname"))), "")
    if k == "CreateTrigStmt":
        return ("trigger", n.get("trigname", ""), n.get("relation", {}).get("relname", ""))
    if k == "CreatePolicyStmt":
        return ("policy", n.get("policy_name", ""), n.get("table", {}).get("relname", ""))
    if k == "RuleStmt":
        return ("rule", n.get("rulename", ""), n.get("relation", {}).get("relname", ""))
    if k == "CreateSchemaStmt":
        return ("schema", n.get("schemaname", ""), "")
    if k == "CreateExtensionStmt":
        return ("extension", n.get("extname", ""), "")
    if k == "CreateForeignTableStmt":
        return ("foreign table", n.get("base", {}).get("relation", {}).get("relname", ""), "")
    if k == "CreateForeignServerStmt":
        return ("server", n.get("servername", ""), "")
    if k == "CreateEventTrigStmt":
        return ("event trigger", n.get("trigname", ""), "")
    return None
