"""Shared by the destructive-statement rules (drop-*, delete-*, update-without-where, truncate):
what a statement really runs (top level, DO blocks, data-modifying WITH queries), names for
messages, and the re-create idiom."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .._pglast import keywords as _keywords
from ..model import Statement
from . import pg

_PLAIN_IDENT = re.compile(r"^[a-z_][a-z0-9_$]*$")


def review(rule_id: str, st: Statement | None = None) -> str:
    """The way the guidelines' review is recorded: a suppression comment with its reason (above
    the DO block for a statement inside one: comments in the body are not read; above the call
    for a statement a called routine runs)."""
    if st is not None and st.via:
        where_ = "the call"
    else:
        where_ = "the DO block" if st is not None and st.inner else "the statement"
    return (
        f"once reviewed, record the approval on the line above {where_}: "
        f"`-- migcheck: ignore {rule_id} -- <who approved, why>`"
    )


REVIEW_REQUIRED = "the guidelines require review of destructive statements"


def where(st: Statement) -> str:
    if st.via:
        return f" (run by {st.via})"
    return " (inside a DO block)" if st.inner else ""


def ident(name: str) -> str:
    """``name`` as SQL would spell it: quoted when it is not a plain lower-case identifier."""
    if (
        _PLAIN_IDENT.match(name)
        and name not in _keywords.RESERVED_KEYWORDS
        and name not in _keywords.TYPE_FUNC_NAME_KEYWORDS
    ):
        return name
    return '"' + name.replace('"', '""') + '"'


def names(parts: Iterable[str | None]) -> str:
    return ".".join(ident(p) for p in parts if p)


def relation(rv: dict | None) -> str:
    """A ``RangeVar`` as SQL: ``schema.table`` with quotes where needed."""
    if not rv:
        return "?"
    if "RangeVar" in rv:
        rv = rv["RangeVar"]
    return names([rv.get("catalogname"), rv.get("schemaname"), rv.get("relname")])


def listing(items: list[str]) -> str:
    return ", ".join(items)


# --- data-modifying statements a statement runs -------------------------------------------

_DML = ("DeleteStmt", "UpdateStmt", "InsertStmt", "MergeStmt", "SelectStmt")


def _explain_analyzes(node: dict) -> bool:
    for opt in node.get("options") or ():
        d = opt.get("DefElem", {})
        if d.get("defname") == "analyze":
            arg = d.get("arg")
            if not arg:
                return True
            if "Integer" in arg:  # ANALYZE 0 / ANALYZE 1 (0 is left out of the JSON)
                return bool(arg["Integer"].get("ival", 0))
            value = (arg.get("String") or {}).get("sval", "true")
            return value.lower() not in ("false", "off", "no")
    return False


def executed(st: Statement) -> list[tuple[str, dict, bool]]:
    """``(kind, node, in_with)`` of every DELETE/UPDATE/INSERT/MERGE/SELECT that running ``st``
    executes: the statement itself, its data-modifying ``WITH`` queries, the query of
    ``EXPLAIN ANALYZE``, ``COPY (query) TO`` and ``CREATE TABLE ... AS``. Statements the
    migration only defines (function bodies, rules, views, ``PREPARE``, plain ``EXPLAIN``) are
    not executed and not listed."""
    out: list[tuple[str, dict, bool]] = []

    def visit(kind: str, node: dict, in_with: bool, depth: int = 0) -> None:
        if depth > 50:
            return
        if kind in _DML:
            out.append((kind, node, in_with))
            for cte in (node.get("withClause") or {}).get("ctes", ()):
                q = cte.get("CommonTableExpr", {}).get("ctequery") or {}
                for k, n in q.items():
                    visit(k, n, True, depth + 1)
        elif kind == "ExplainStmt" and _explain_analyzes(node):
            for k, n in (node.get("query") or {}).items():
                visit(k, n, in_with, depth + 1)
        elif kind == "CopyStmt" or (kind == "CreateTableAsStmt" and node.get("objtype") == "OBJECT_TABLE"):
            for k, n in (node.get("query") or {}).items():
                visit(k, n, in_with, depth + 1)

    visit(st.kind, st.node, False)
    return out


def always_true(expr: dict | None) -> bool:
    """A WHERE that keeps every row: ``WHERE true`` or ``WHERE <constant> = <same constant>``."""
    if not expr:
        return False
    if "A_Const" in expr:
        return expr["A_Const"].get("boolval", {}).get("boolval") is True
    if "TypeCast" in expr:
        return always_true(expr["TypeCast"].get("arg"))
    a = expr.get("A_Expr")
    if a and a.get("kind") == "AEXPR_OP" and pg.strings(a.get("name")) == ["="]:
        left, right = a.get("lexpr") or {}, a.get("rexpr") or {}
        if "A_Const" in left and "A_Const" in right:
            strip = lambda c: {k: v for k, v in c["A_Const"].items() if k != "location"}  # noqa: E731
            return strip(left) == strip(right)
    return False


# --- DROP: what is dropped ------------------------------------------------------------------

OBJECT_WORDS = {
    "OBJECT_VIEW": "VIEW",
    "OBJECT_MATVIEW": "MATERIALIZED VIEW",
    "OBJECT_INDEX": "INDEX",
    "OBJECT_SEQUENCE": "SEQUENCE",
    "OBJECT_TYPE": "TYPE",
    "OBJECT_DOMAIN": "DOMAIN",
    "OBJECT_FUNCTION": "FUNCTION",
    "OBJECT_PROCEDURE": "PROCEDURE",
    "OBJECT_ROUTINE": "ROUTINE",
    "OBJECT_AGGREGATE": "AGGREGATE",
    "OBJECT_TRIGGER": "TRIGGER",
    "OBJECT_POLICY": "POLICY",
    "OBJECT_RULE": "RULE",
    "OBJECT_SCHEMA": "SCHEMA",
    "OBJECT_EXTENSION": "EXTENSION",
    "OBJECT_FOREIGN_TABLE": "FOREIGN TABLE",
    "OBJECT_FOREIGN_SERVER": "SERVER",
    "OBJECT_FDW": "FOREIGN DATA WRAPPER",
    "OBJECT_EVENT_TRIGGER": "EVENT TRIGGER",
    "OBJECT_COLLATION": "COLLATION",
    "OBJECT_PUBLICATION": "PUBLICATION",
    "OBJECT_CAST": "CAST",
    "OBJECT_OPERATOR": "OPERATOR",
    "OBJECT_OPCLASS": "OPERATOR CLASS",
    "OBJECT_OPFAMILY": "OPERATOR FAMILY",
    "OBJECT_CONVERSION": "CONVERSION",
    "OBJECT_LANGUAGE": "LANGUAGE",
    "OBJECT_STATISTIC_EXT": "STATISTICS",
    "OBJECT_TSCONFIGURATION": "TEXT SEARCH CONFIGURATION",
    "OBJECT_TSDICTIONARY": "TEXT SEARCH DICTIONARY",
    "OBJECT_TSPARSER": "TEXT SEARCH PARSER",
    "OBJECT_TSTEMPLATE": "TEXT SEARCH TEMPLATE",
    "OBJECT_ACCESS_METHOD": "ACCESS METHOD",
    "OBJECT_TRANSFORM": "TRANSFORM",
    "OBJECT_TABLE": "TABLE",
}


def _type_name(tn: dict) -> str:
    parts = pg.strings(tn.get("names"))
    if len(parts) == 2 and parts[0] == "pg_catalog":
        parts = parts[1:]
    return names(parts)


def dropped_names(node: dict) -> list[str]:
    """Display names of the objects a ``DropStmt`` removes (``trigger ON table`` for objects
    that live on a table)."""
    rtype = node.get("removeType", "")
    out = []
    for obj in node.get("objects") or ():
        if "List" in obj:
            items = obj["List"].get("items") or []
            if items and all("TypeName" in i for i in items):  # DROP CAST (a AS b)
                out.append("(" + " AS ".join(_type_name(i["TypeName"]) for i in items) + ")")
                continue
            parts = pg.strings(items)
            if rtype in ("OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE") and len(parts) >= 2:
                out.append(f"{ident(parts[-1])} ON {names(parts[:-1])}")
            else:
                out.append(names(parts))
        elif "ObjectWithArgs" in obj:
            out.append(names(pg.strings(obj["ObjectWithArgs"].get("objname"))))
        elif "String" in obj:
            out.append(ident(obj["String"].get("sval", "")))
        elif "TypeName" in obj:
            out.append(_type_name(obj["TypeName"]))
    return out


def cascade(node: dict) -> bool:
    return node.get("behavior") == "DROP_CASCADE"


# --- the re-create idiom: ``analysis.idempotency.Recreated`` (one account of what a file drops and
# creates, shared with the idempotency rules) -------------------------------------------------------


def constraint_name(table: str, con: dict) -> str | None:
    """The constraint's name, or the one PostgreSQL gives an unnamed primary key, unique or
    foreign key constraint (``t_pkey``, ``t_a_b_key``, ``t_a_fkey``; short names only)."""
    if con.get("conname"):
        return con["conname"]
    contype = con.get("contype")
    if contype == "CONSTR_PRIMARY":
        name = f"{table}_pkey"
    elif contype == "CONSTR_UNIQUE" and con.get("keys"):
        name = "_".join([table, *pg.strings(con.get("keys")), "key"])
    elif contype == "CONSTR_FOREIGN" and con.get("fk_attrs"):
        name = "_".join([table, *pg.strings(con.get("fk_attrs")), "fkey"])
    else:
        return None
    return name if len(name.encode()) <= 63 else None  # longer ones are truncated: unknown


def backup_table(rv: dict | None) -> str:
    """A name for a backup copy of the table ``rv`` (same schema)."""
    rv = (rv or {}).get("RangeVar", rv or {})
    return names([rv.get("schemaname"), (rv.get("relname") or "t") + "_backup"])


# --- DELETE / UPDATE ------------------------------------------------------------------------


def deletes(st: Statement) -> list[tuple[dict, bool, bool]]:
    """``(node, in_with, is_merge)`` of every DELETE that running ``st`` executes, including
    ``MERGE ... THEN DELETE``."""
    out = []
    for kind, node, in_with in executed(st):
        if kind == "DeleteStmt":
            out.append((node, in_with, False))
        elif kind == "MergeStmt" and any(
            c.get("MergeWhenClause", {}).get("commandType") == "CMD_DELETE" for c in node.get("mergeWhenClauses") or ()
        ):
            out.append((node, in_with, True))
    return out


def updates(st: Statement) -> list[tuple[dict, bool]]:
    return [(node, in_with) for kind, node, in_with in executed(st) if kind == "UpdateStmt"]


def without_where(node: dict) -> bool:
    """No WHERE, or one that keeps every row. ``WHERE CURRENT OF`` has a WHERE: one row."""
    return not node.get("whereClause") or always_true(node.get("whereClause"))


def unbounded_deletes(st: Statement) -> list[tuple[dict, bool]]:
    return [(node, in_with) for node, in_with, is_merge in deletes(st) if not is_merge and without_where(node)]
