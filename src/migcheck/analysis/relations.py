"""Private helpers of the rollback-file rules (missing-rollback-file, orphan-rollback,
empty-rollback) and of the relatedness rules (mixed-changes, missing-verification).

Two parts:
- rollback pairing: which migrations of a directory have a clear version, which rollback file
  each expects, and which names are near enough to be a typo of one another;
- relatedness: per statement, the tables it changes and the objects it ties together (foreign
  keys, views, triggers and the functions they run, types and functions defined in the file).
"""

from __future__ import annotations

import posixpath
import re
import weakref
from typing import Any

from .. import summaries
from ..model import Record, Statement
from . import naming as nm
from . import pg

# --- rollback pairing ----------------------------------------------------------------------


class Pairing(Record):
    """One migration directory: each versioned migration, the rollback files, who matches whom."""

    __slots__ = ("versions", "entries", "rollbacks", "by_version", "__dict__")
    versions: dict[str, Any]  # version -> first migration with it
    entries: list[tuple[Any, str]]  # (migration, version), path order
    rollbacks: list[Any]
    by_version: dict[str, Any]  # rollback version -> rollback file

    def __init__(
        self,
        versions: dict[str, Any] | None = None,
        entries: list[tuple[Any, str]] | None = None,
        rollbacks: list[Any] | None = None,
        by_version: dict[str, Any] | None = None,
    ):
        self.versions = {} if versions is None else versions
        self.entries = [] if entries is None else entries
        self.rollbacks = [] if rollbacks is None else rollbacks
        self.by_version = {} if by_version is None else by_version


_PAIRINGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def pairing(project, mdir) -> Pairing:
    """The migrations with a clear version (the engine's, or the one a name whose only fault is
    its description or extension starts with: file-naming's business, not a reason to lose the
    rollback) and the rollback files of ``mdir``. Computed once per project run."""
    per_project = _PAIRINGS.setdefault(project, {})
    if mdir in per_project:
        return per_project[mdir]
    group = project.groups[mdir]
    p = Pairing()
    for v in nm.entries(group, project.config):
        p.entries.append((v.file, v.version))
        p.versions.setdefault(v.version, v.file)
    for m in group.migrations:  # a name file-naming rejects (an impossible date) still claims its version
        if m.version is not None:
            p.versions.setdefault(m.version, m)
    p.rollbacks = list(group.rollbacks)
    for r in p.rollbacks:
        if r.version is not None:
            p.by_version.setdefault(r.version, r)
    per_project[mdir] = p
    return p


def rollback_rel(config, version: str) -> str:
    """The rollback file of ``version``, relative to its migration directory (``/`` separators)."""
    return posixpath.normpath(config.rollback.format(version=version).replace("\\", "/"))


def display_beside(f, rel: str) -> str:
    """``rel`` (relative to migration ``f``'s directory) shown the way ``f`` is shown."""
    base = posixpath.dirname(f.display)
    return posixpath.join(base, rel) if base else rel


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance (edits, with a swap of neighbours as one edit)."""
    la, lb = len(a), len(b)
    d = [[0] * (lb + 1) for _ in range(la + 1)]
    for i in range(la + 1):
        d[i][0] = i
    for j in range(lb + 1):
        d[0][j] = j
    for i in range(1, la + 1):
        for j in range(1, lb + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[la][lb]


def looks_like(a: str, b: str) -> bool:
    """Is version ``a`` a plausible typo of version ``b`` (one or two edits, a swapped
    neighbour pair, or the date's month and day swapped)?"""
    if a == b:
        return False
    if distance(a, b) <= 2:
        return True
    if len(a) >= 8 and a[:8].isdigit() and a[8:] == b[8:]:
        return nm.swapped(a[:8]) == b[:8]
    return False


def nearest(version: str, candidates: list[tuple[object, str]]) -> tuple[object, str] | None:
    """The one candidate ``(file, version)`` whose version looks like a typo of ``version``:
    the closest, when no other is as close."""
    near = [(distance(version, v), i) for i, (_, v) in enumerate(candidates) if looks_like(version, v)]
    if not near:
        return None
    near.sort()
    if len(near) > 1 and near[0][0] == near[1][0]:
        return None
    return candidates[near[0][1]]


# --- the AST: relations, types and functions a statement names ---------------------------

SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast"})
# The migration tracking schema of the guidelines: bookkeeping, not a change of the application.
TRACKING_SCHEMAS = frozenset({"_migrations"})
TRACKING_TABLES = frozenset(
    {
        "schema_migrations",
        "migrations",
        "knex_migrations",
        "flyway_schema_history",
        "__diesel_schema_migrations",
        "ar_internal_metadata",
    }
)


def last(names: list[str]) -> str:
    """The unqualified name of a qualified one (``["public", "leads"]`` -> ``"leads"``)."""
    return names[-1] if names else ""


def _iter(node):
    """Every dict below ``node`` (JSON: exact dict and list types), depth first, as a list."""
    out = []
    stack = [node]
    pop, push, emit = stack.pop, stack.append, out.append
    while stack:
        cur = pop()
        t = type(cur)
        if t is dict:
            emit(cur)
            for v in cur.values():
                tv = type(v)
                if tv is dict or tv is list:
                    push(v)
        elif t is list:
            stack.extend(cur)
    return out


class Scan:
    """What ``touch`` reads of a tree, gathered in one walk (issue 22: it used to walk each tree
    five times, for its CTEs, relations, types, function calls and column names): the
    ``RangeVar`` dicts, the CTE names, the ``TypeName`` dicts, the ``FuncCall`` dicts, and the
    names of the columns it defines (``ColumnDef``) or the ``ALTER TABLE`` commands name."""

    __slots__ = ("rangevars", "ctes", "types", "calls", "names")

    def __init__(self, node) -> None:
        rangevars: list[dict] = []
        ctes: set[str] = set()
        types: list[dict] = []
        calls: list[dict] = []
        names: list[str] = []
        stack = [node]
        pop, push, extend = stack.pop, stack.append, stack.extend
        special, leaves = _SPECIAL, _LEAVES
        while stack:
            cur = pop()
            t = type(cur)
            if t is dict:
                if "relname" in cur and "relpersistence" in cur:
                    rangevars.append(cur)
                if "names" in cur and "typemod" in cur:
                    types.append(cur)
                for k, v in cur.items():
                    tv = type(v)
                    if tv is dict:
                        if k in special:
                            if k in leaves:
                                continue
                            if k == "CommonTableExpr":
                                ctes.add(v.get("ctename", ""))
                            elif k == "FuncCall":
                                calls.append(v)
                            elif k == "ColumnDef":
                                names.append(v.get("colname", ""))
                            elif "ColumnDef" not in cur:  # AlterTableCmd (``words``: ColumnDef first)
                                names.append(v.get("name", "") or "")
                        push(v)
                    elif tv is list:
                        extend(v)
            elif t is list:
                extend(cur)
        self.rangevars = rangevars
        self.ctes = ctes
        self.types = types
        self.calls = calls
        self.names = names


_WATCHED = frozenset({"CommonTableExpr", "FuncCall", "ColumnDef", "AlterTableCmd"})
_LEAVES = pg.LEAF_NODES  # (not walked: nothing a Scan gathers is below them)
_SPECIAL = _WATCHED | _LEAVES


def is_rangevar(d: dict) -> bool:
    return "relname" in d and "relpersistence" in d


class Walked(list):
    """Every dict below a node, walked once; the helpers below accept it in place of the node,
    so a rule that asks several questions of one statement walks its tree once."""


def walked(node) -> Walked:
    return node if isinstance(node, Walked) else Walked(_iter(node))


def cte_names(node) -> set[str]:
    return {d["CommonTableExpr"].get("ctename", "") for d in walked(node) if "CommonTableExpr" in d}


def rangevars(node) -> list[dict]:
    """Every ``RangeVar`` below ``node`` (wrapped in lists, or a typed field such as
    ``relation`` or ``pktable``), in no particular order, CTE references left out."""
    ds = walked(node)
    ctes = cte_names(ds)
    out = []
    for d in ds:
        if is_rangevar(d):
            if not d.get("schemaname") and d.get("relname") in ctes:
                continue
            out.append(d)
    return out


def is_system(rv: dict) -> bool:
    schema = rv.get("schemaname")
    name = rv.get("relname", "")
    return (
        schema in SYSTEM_SCHEMAS
        or schema in TRACKING_SCHEMAS
        or name in TRACKING_TABLES
        or (not schema and name.startswith("pg_"))
    )


def is_catalog(rv: dict) -> bool:
    """A read of the system catalogs or information_schema (``pg_indexes``, ``pg_class``, ...)."""
    schema = rv.get("schemaname")
    return schema in SYSTEM_SCHEMAS or (not schema and rv.get("relname", "").startswith("pg_"))


def type_names(node) -> list[str]:
    """The unqualified names of the types a statement mentions (``TypeName`` nodes)."""
    out = []
    for d in walked(node):
        if "names" in d and "typemod" in d:
            names = pg.strings(d.get("names"))
            if names and names[0] != "pg_catalog":
                out.append(names[-1])
    return out


def func_calls(node) -> list[str]:
    out = []
    for d in walked(node):
        if "FuncCall" in d:
            names = pg.strings(d["FuncCall"].get("funcname"))
            if names:
                out.append(names[-1])
    return out


def _option(node: dict, name: str):
    for o in node.get("options", ()):
        d = o.get("DefElem", {})
        if d.get("defname") == name:
            return d.get("arg")
    return None


def function_body_trees(stmt: Statement) -> list:
    """The parse trees of the SQL a ``CREATE FUNCTION`` body runs: a ``BEGIN ATOMIC`` body, a
    ``LANGUAGE sql`` string, or every query and expression of a PL/pgSQL body."""
    n = stmt.node
    if n.get("sql_body"):
        return [n["sql_body"]]
    lang_arg = _option(n, "language")
    lang = (lang_arg or {}).get("String", {}).get("sval", "sql").lower()
    as_arg = _option(n, "as")
    bodies = pg.strings((as_arg or {}).get("List", {}).get("items"))
    if not bodies:
        return []
    from . import plpgsql

    if lang == "sql":
        tree = plpgsql.sql_tree(bodies[0])
        return [] if tree is None else [tree]
    if lang == "plpgsql":
        queries = plpgsql.expr_queries(stmt.text)  # (the trees in another order: touch gathers sets)
        return [] if queries is None else _expr_trees(queries)
    return []


def plpgsql_trees(tree) -> list:
    """Parse trees of every SQL query and expression in a PL/pgSQL parse tree (conditions
    included), for the relations they read."""
    queries = []
    for d in _iter(tree):
        expr = d.get("PLpgSQL_expr")
        if isinstance(expr, dict):
            queries.append(expr.get("query", ""))
    return _expr_trees(queries)


def _expr_trees(queries: list[str]) -> list:
    """The SQL parse tree of each PL/pgSQL expression (a query, ``SELECT <expression>``, or the
    value of ``target := <expression>``), those that parse."""
    from . import plpgsql

    sql_tree = plpgsql.sql_tree
    out = []
    for q in queries:
        if not q.strip():
            continue
        tree = sql_tree(q)
        if tree is None:
            tree = sql_tree("SELECT " + q)
            if tree is None:
                tree = sql_tree("SELECT " + q.split(":=", 1)[-1])
        if tree is not None:
            out.append(tree)
    return out


def do_tree(stmt: Statement, text: str):
    """The PL/pgSQL parse tree of a ``DO`` block's body, or None."""
    from . import plpgsql

    body = plpgsql.do_body(stmt, text)
    return plpgsql.parse_body(body) if body is not None else None


def plpgsql_kinds(tree) -> set[str]:
    """The kinds of PL/pgSQL statements in a parse tree (``PLpgSQL_stmt_raise``, ...)."""
    return {k for d in _iter(tree) for k in d if k.startswith("PLpgSQL_stmt_")}


# --- relatedness -----------------------------------------------------------------------------

REL, FN = "rel", "fn"

# ALTER TABLE subcommands that change no structure: ownership and statistics bookkeeping.
_SECONDARY_AT = frozenset(
    {
        "AT_ChangeOwner",
        "AT_SetStatistics",
        "AT_SetOptions",
        "AT_ResetOptions",
        "AT_SetRelOptions",
        "AT_ResetRelOptions",
        "AT_ReplicaIdentity",
        "AT_ClusterOn",
        "AT_DropCluster",
    }
)
_TABLE_DROPS = frozenset({"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE"})
_ON_TABLE_DROPS = frozenset({"OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE"})
_TABLE_RENAMES = frozenset(
    {
        "OBJECT_TABLE",
        "OBJECT_VIEW",
        "OBJECT_MATVIEW",
        "OBJECT_FOREIGN_TABLE",
        "OBJECT_COLUMN",
        "OBJECT_TABCONSTRAINT",
        "OBJECT_TRIGGER",
        "OBJECT_POLICY",
        "OBJECT_RULE",
        "OBJECT_INDEX",
    }
)
_TYPE_STMTS = {
    "CreateEnumStmt": "typeName",
    "AlterEnumStmt": "typeName",
    "CreateDomainStmt": "domainname",
    "CreateRangeStmt": "typeName",
}


class Touch(Record):
    """What one statement does to the relatedness graph."""

    __slots__ = ("changed", "nodes", "kind", "sigs", "words", "__dict__")
    changed: list[str]  # tables/views it changes, in order
    nodes: set[tuple[str, str]]  # everything it ties together
    kind: str | None  # "schema", "data", or None (ties only, starts no change of its own)
    sigs: set[tuple]  # what it does, whatever the table (see signatures)
    words: set[str]  # the names it gives or changes, as word tokens

    def __init__(
        self,
        changed: list[str] | None = None,
        nodes: set[tuple[str, str]] | None = None,
        kind: str | None = None,
        sigs: set[tuple] | None = None,
        words: set[str] | None = None,
    ):
        self.changed = [] if changed is None else changed
        self.nodes = set() if nodes is None else nodes
        self.kind = kind
        self.sigs = set() if sigs is None else sigs
        self.words = set() if words is None else words


class FileObjects(Record):
    """What a file defines, so that only those functions and types tie statements together
    (``now()`` or ``text`` in two statements relate nothing)."""

    __slots__ = ("functions", "types", "indexes", "__dict__")
    functions: set[str]
    types: set[str]
    indexes: dict[str, str]  # index name -> table

    def __init__(
        self, functions: set[str] | None = None, types: set[str] | None = None, indexes: dict[str, str] | None = None
    ):
        self.functions = set() if functions is None else functions
        self.types = set() if types is None else types
        self.indexes = {} if indexes is None else indexes


def file_objects(statements: list[Statement], known_indexes: dict[str, str] | None = None) -> FileObjects:
    fo = FileObjects(indexes=dict(known_indexes or {}))
    for st in statements:
        n = st.node
        if st.kind == "CreateFunctionStmt":
            fo.functions.add(last(pg.strings(n.get("funcname"))))
        elif st.kind in _TYPE_STMTS:
            fo.types.add(last(pg.strings(n.get(_TYPE_STMTS[st.kind]))))
        elif st.kind == "CompositeTypeStmt":
            fo.types.add(n.get("typevar", {}).get("relname", ""))
        elif st.kind == "IndexStmt" and n.get("idxname"):
            fo.indexes[n["idxname"]] = n.get("relation", {}).get("relname", "")
    fo.functions.discard("")
    fo.types.discard("")
    return fo


def _name(rv: dict | None) -> str | None:
    if not rv or not rv.get("relname") or is_system(rv):
        return None
    return rv["relname"]


def _list_names(obj: dict) -> list[str]:
    if "List" in obj:
        return pg.strings(obj["List"].get("items"))
    if "String" in obj:
        return [obj["String"].get("sval", "")]
    if "ObjectWithArgs" in obj:
        return pg.strings(obj["ObjectWithArgs"].get("objname"))
    if "TypeName" in obj:
        return pg.strings(obj["TypeName"].get("names"))
    return []


def touch(st: Statement, fo: FileObjects, deep: bool = True) -> Touch:
    """The tables ``st`` changes and the objects it ties together. ``deep=False``: only what it
    changes (``changed``, ``kind``), without walking its tree for the objects it refers to."""
    k, n = st.kind, st.node
    t = Touch()

    def rel(name: str | None, changed: bool = False) -> None:
        if not name:
            return
        t.nodes.add((REL, name))
        if changed and name not in t.changed:
            t.changed.append(name)

    own: list[Scan] = []  # the scan of ``n`` itself, for ``words``

    def refs(node) -> None:
        if not deep:
            return
        s = Scan(node)
        if node is n:
            own.append(s)
        ctes = s.ctes
        for rv in s.rangevars:
            if not rv.get("schemaname") and rv.get("relname") in ctes:
                continue  # a CTE's name, not a table
            rel(_name(rv))
        if fo.types:
            for d in s.types:
                names = pg.strings(d.get("names"))
                if names and names[0] != "pg_catalog" and names[-1] in fo.types:
                    t.nodes.add((REL, names[-1]))
        if fo.functions:
            for d in s.calls:
                names = pg.strings(d.get("funcname"))
                if names and names[-1] in fo.functions:
                    t.nodes.add((FN, names[-1]))

    if k == "CreateStmt":
        temp = n.get("relation", {}).get("relpersistence") == "t"
        rel(_name(n.get("relation")), changed=not temp)
        refs(n)
        t.kind = None if temp else "schema"
    elif k == "CreateTableAsStmt":
        into = n.get("into", {}).get("rel")
        temp = (into or {}).get("relpersistence") == "t"
        rel(_name(into), changed=not temp)
        refs(n)
        t.kind = None if temp else "schema"
    elif k == "ViewStmt":
        rel(_name(n.get("view")), changed=True)
        refs(n)
        t.kind = "schema"
    elif k == "AlterTableStmt":
        relation = _name(n.get("relation"))
        objtype = n.get("objtype")
        if objtype == "OBJECT_INDEX":
            rel(relation)
            rel(fo.indexes.get(relation or ""), changed=True)
        elif objtype == "OBJECT_SEQUENCE":
            rel(relation)
        else:
            rel(relation, changed=True)
        refs(n)
        subtypes = {c.get("AlterTableCmd", {}).get("subtype") for c in n.get("cmds", ())}
        t.kind = None if subtypes and subtypes <= _SECONDARY_AT else "schema"
    elif k == "IndexStmt":
        rel(_name(n.get("relation")), changed=True)
        rel(n.get("idxname"))
        refs(n)
        t.kind = "schema"
    elif k == "DropStmt":
        rtype = n.get("removeType", "")
        for obj in n.get("objects", ()):
            names = _list_names(obj)
            if not names:
                continue
            schema = names[-2] if len(names) > 1 else None
            if schema in SYSTEM_SCHEMAS or schema in TRACKING_SCHEMAS:
                continue
            if rtype in _TABLE_DROPS:
                rel(names[-1], changed=True)
            elif rtype == "OBJECT_INDEX":
                rel(names[-1])
                rel(fo.indexes.get(names[-1]), changed=True)
            elif rtype in _ON_TABLE_DROPS and len(names) > 1:
                rel(names[-2], changed=True)
            elif rtype in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE"):
                t.nodes.add((FN, names[-1]))
            elif rtype in ("OBJECT_TYPE", "OBJECT_DOMAIN", "OBJECT_SEQUENCE"):
                rel(names[-1])
        t.kind = "schema"
    elif k == "CreateTrigStmt":
        rel(_name(n.get("relation")), changed=True)
        fn = last(pg.strings(n.get("funcname")))
        if fn:
            t.nodes.add((FN, fn))
        refs(n)
        t.kind = "schema"
    elif k in ("CreatePolicyStmt", "AlterPolicyStmt"):
        rel(_name(n.get("table")), changed=True)
        refs(n)
        t.kind = "schema"
    elif k == "RuleStmt":
        rel(_name(n.get("relation")), changed=True)
        refs(n)
        t.kind = "schema"
    elif k == "RenameStmt":
        rtype = n.get("renameType", "")
        relation = _name(n.get("relation"))
        if rtype in _TABLE_RENAMES and relation:
            if rtype == "OBJECT_INDEX":
                rel(relation)
                rel(fo.indexes.get(relation), changed=True)
                rel(n.get("newname"))
            else:
                rel(relation, changed=True)
                if rtype in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE"):
                    rel(n.get("newname"))
            t.kind = "schema"
        elif rtype in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE"):
            names = _list_names(n.get("object") or {})
            if names:
                t.nodes.add((FN, names[-1]))
                t.nodes.add((FN, n.get("newname", "")))
        elif rtype in ("OBJECT_TYPE", "OBJECT_DOMAIN"):
            names = _list_names(n.get("object") or {})
            if names:
                rel(names[-1])
                rel(n.get("newname"))
    elif k == "AlterObjectSchemaStmt":
        relation = _name(n.get("relation"))
        if relation:
            rel(relation, changed=True)
            t.kind = "schema"
    elif k == "InsertStmt":
        rel(_name(n.get("relation")), changed=True)
        refs(n)
        select = n.get("selectStmt", {}).get("SelectStmt", {})
        seed = bool(select.get("valuesLists")) and not rangevars(select)
        t.kind = None if seed else "data"
    elif k in ("UpdateStmt", "DeleteStmt", "MergeStmt"):
        rel(_name(n.get("relation")), changed=True)
        refs(n)
        t.kind = "data"
    elif k == "TruncateStmt":
        for r in n.get("relations", ()):
            rel(_name(r.get("RangeVar")), changed=True)
        t.kind = "data"
    elif k == "CreateFunctionStmt":
        name = last(pg.strings(n.get("funcname")))
        t.nodes.add((FN, name))
        if deep:
            refs(function_body_trees(st))  # (one walk of all its trees: refs only gathers into sets)
    elif k == "AlterFunctionStmt":
        t.nodes.add((FN, last(pg.strings(n.get("func", {}).get("objname")))))
    elif k in _TYPE_STMTS:
        rel(last(pg.strings(n.get(_TYPE_STMTS[k]))))
        refs(n)
    elif k == "CompositeTypeStmt":
        rel(n.get("typevar", {}).get("relname"))
        refs(n)
    elif k in ("CreateSeqStmt", "AlterSeqStmt"):
        rel(_name(n.get("sequence")))
        owned = _option(n, "owned_by")
        names = pg.strings((owned or {}).get("List", {}).get("items"))
        if len(names) > 1:
            rel(names[-2])
    elif k == "LockStmt":
        refs(n)
    # everything else (queries, SET, GRANT, COMMENT, extensions, schemas, maintenance) ties nothing
    t.nodes.discard((FN, ""))
    t.nodes.discard((REL, ""))
    if deep and (t.kind is not None or t.nodes):
        t.sigs = signatures(st)
        t.words = words(st, t, own[0] if own else None)
    return t


# --- what a statement does, whatever the table: "the same change on several tables" --------

_AT_FAMILY = {
    "AT_DropColumn": "drop column",
    "AT_AlterColumnType": "column type",
    "AT_ColumnDefault": "alter column",
    "AT_SetNotNull": "alter column",
    "AT_DropNotNull": "alter column",
    "AT_SetExpression": "alter column",
    "AT_DropExpression": "alter column",
    "AT_AddIdentity": "alter column",
    "AT_SetIdentity": "alter column",
    "AT_DropIdentity": "alter column",
    "AT_SetCompression": "alter column",
    "AT_SetStorage": "alter column",
    "AT_DropConstraint": "drop constraint",
    "AT_ValidateConstraint": "validate constraint",
    "AT_EnableRowSecurity": "row security",
    "AT_DisableRowSecurity": "row security",
    "AT_ForceRowSecurity": "row security",
    "AT_NoForceRowSecurity": "row security",
    "AT_EnableTrig": "trigger state",
    "AT_DisableTrig": "trigger state",
    "AT_EnableTrigAll": "trigger state",
    "AT_DisableTrigAll": "trigger state",
    "AT_EnableTrigUser": "trigger state",
    "AT_DisableTrigUser": "trigger state",
    "AT_EnableAlwaysTrig": "trigger state",
    "AT_EnableReplicaTrig": "trigger state",
    "AT_SetLogged": "persistence",
    "AT_SetUnLogged": "persistence",
}


_REMOVALS = frozenset({"drop column", "drop constraint"})


def is_removal(sig: tuple) -> bool:
    """A signature that only takes something away (a DROP, a dropped column or constraint)."""
    return sig[0] in ("drop",) or sig[0] in _REMOVALS


def signatures(st: Statement) -> set[tuple]:
    """What ``st`` does, named so that the same change made to two tables gives the same
    signature: an index, a rename, a dropped column, a column made NOT NULL, an UPDATE; a new
    column of the same name. Creating a table is specific to that table."""
    k, n = st.kind, st.node
    if k == "AlterTableStmt":
        out: set[tuple] = set()
        for c in n.get("cmds", ()):
            cmd = c.get("AlterTableCmd", {})
            sub = cmd.get("subtype", "")
            if sub == "AT_AddColumn":
                out.add(("add column", cmd.get("def", {}).get("ColumnDef", {}).get("colname", "")))
            elif sub == "AT_AddConstraint":
                out.add(("add constraint", cmd.get("def", {}).get("Constraint", {}).get("contype", "")))
            else:
                out.add((_AT_FAMILY.get(sub, sub),))
        return out
    if k == "RenameStmt":
        return {("rename",)}
    if k == "IndexStmt":
        return {("index",)}
    if k == "DropStmt":
        return {("drop", n.get("removeType", ""))}
    if k == "CreateTrigStmt":
        return {("trigger",)}
    if k in ("CreatePolicyStmt", "AlterPolicyStmt"):
        return {("policy",)}
    if k == "AlterObjectSchemaStmt":
        return {("set schema",)}
    if k in ("UpdateStmt", "DeleteStmt", "InsertStmt", "MergeStmt", "TruncateStmt"):
        return {(k.removesuffix("Stmt").lower(),)}
    if k == "ViewStmt":
        return {("view",)}
    # CREATE TABLE, CREATE TABLE AS, ...: specific to the table
    return {(k, pg.rangevar(n.get("relation") or (n.get("into") or {}).get("rel")))}


# Words too common in names to say two changes are about the same thing.
STOP_WORDS = frozenset(
    """
id ids idx index key pkey fkey fk pk uk unique uniq check chk constraint con trigger trg tg policy
pol fn func function proc procedure seq sequence table tbl col column view mview matview alias new
old tmp temp the and for with from has at by on to of in or not no all set add drop get put
update insert delete before after each row created updated published deleted modified date time
timestamp ts count name type enum status value data text json jsonb default null true false local
public uuid num number total flag enabled disabled is v1 v2 v3 cache info meta
""".split()
)


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def name_words(name: str) -> set[str]:
    """The words of a name: split at `_`, `-` and camelCase (`envelopeExpirationPeriod`, Prisma's
    style: envelope, expiration, period), plurals made singular, short and stop words left out."""
    out = set()
    for w in _CAMEL.sub("_", name).lower().replace("-", "_").split("_"):
        if w.endswith("ies") and len(w) > 4:
            w = w[:-3] + "y"
        elif w.endswith(("xes", "ses", "ches", "shes")) and len(w) > 4:
            w = w[:-2]
        elif w.endswith("s") and not w.endswith("ss") and len(w) > 3:
            w = w[:-1]
        if len(w) >= 3 and not w.isdigit() and w not in STOP_WORDS:
            out.add(w)
    return out


def words(st: Statement, t: Touch, scan: Scan | None = None) -> set[str]:
    """Word tokens of the names ``st`` gives or changes: its tables, the columns it defines,
    changes or sets, and the index, trigger, policy or function it creates. ``scan``: the
    statement's tree's ``Scan``, when the caller has it."""
    k, n = st.kind, st.node
    names = list(t.changed)
    names += (scan or Scan(n)).names
    if k == "RenameStmt":
        names += [n.get("subname", "") or "", n.get("newname", "") or ""]
    elif k == "UpdateStmt":
        names += [r.get("ResTarget", {}).get("name", "") for r in n.get("targetList", ())]
    elif k == "IndexStmt":
        names.append(n.get("idxname", "") or "")
    elif k == "CreateTrigStmt":
        names.append(n.get("trigname", ""))
    elif k == "CreatePolicyStmt":
        names.append(n.get("policy_name", ""))
    elif k == "CreateFunctionStmt":
        names.append(last(pg.strings(n.get("funcname"))))
    out: set[str] = set()
    for name in names:
        if name:
            out |= name_words(name)
    return out


class UnionFind:
    def __init__(self):
        self.parent: dict = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


# --- what the project already knows: indexes and foreign keys of earlier migrations -------


class Schema(Record):
    """The indexes and foreign keys the migrations of a directory declare."""

    __slots__ = ("indexes", "fks", "__dict__")
    indexes: dict[str, str]  # index name -> table
    fks: set[frozenset[str]]  # {child, parent} table pairs

    def __init__(self, indexes: dict[str, str] | None = None, fks: set[frozenset[str]] | None = None):
        self.indexes = {} if indexes is None else indexes
        self.fks = set() if fks is None else fks


_SCHEMAS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def project_schema(project, mdir) -> Schema:
    """Indexes and foreign keys declared by the migrations of ``mdir``. Computed once per run."""
    per_project = _SCHEMAS.setdefault(project, {})
    if mdir in per_project:
        return per_project[mdir]
    s = Schema()
    group = project.groups.get(mdir)
    for m in group.migrations if group else ():
        indexes, fks = summaries.summary(m, "schema", file_schema)
        for name, table in indexes:
            s.indexes.setdefault(name, table)
        s.fks.update(fks)
    per_project[mdir] = s
    return s


def file_schema(m) -> tuple[tuple[tuple[str, str], ...], frozenset]:
    """One migration's part of ``project_schema``: its ``(index, table)`` in file order and its
    foreign keys' ``{child, parent}`` pairs. Memoised on the file's bytes (``migcheck.summaries``).

    A light walk of its own, not a view of the effects summary: a one-file check whose file
    touches several tables needs it of every sibling, and computing every sibling's effects for
    it made that check 1.6x slower on 6,635 files (``benchmarks/ab.py``); the walk costs 0.08 s
    for all of them in a run over the directory."""
    if m.read_problem:
        return (), frozenset()
    indexes = []
    fks = set()
    for st in m.all_statements:
        if st.kind == "IndexStmt" and st.node.get("idxname"):
            indexes.append((st.node["idxname"], st.node.get("relation", {}).get("relname", "")))
        for child, parent in foreign_keys(st):
            fks.add(frozenset((child, parent)))
    return tuple(indexes), frozenset(fks)


def foreign_keys(st: Statement) -> list[tuple[str, str]]:
    """``(table, referenced table)`` of every foreign key a CREATE/ALTER TABLE declares."""
    k, n = st.kind, st.node
    if k == "CreateStmt":
        table = _name(n.get("relation"))
    elif k == "AlterTableStmt":
        table = _name(n.get("relation"))
    else:
        return []
    if not table:
        return []
    out = []
    for d in pg.dicts(n):  # (_iter's order; no constraint is below a leaf node)
        con = d.get("Constraint")
        if type(con) is dict and con.get("contype") == "CONSTR_FOREIGN":
            parent = _name(con.get("pktable"))
            if parent and parent != table:
                out.append((table, parent))
    return out
