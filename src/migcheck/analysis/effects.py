"""Schema-effect model: what each statement creates, alters, renames or drops, and what a sequence
of statements (a migration, then its rollback) leaves changed.

Two layers:

- ``statement_effects`` / ``file_effects``: per statement, a list of ``Effect`` (``op`` on an
  ``Obj``), read from pglast's JSON tree. Objects are identified the way PostgreSQL does:
  relations (table, view, materialized view, index, sequence, foreign table) share one namespace,
  functions/procedures/aggregates are named by name and argument types, columns, constraints,
  triggers, policies and rules live on a table, enum values on their type. Names are as the parser
  gives them (unquoted identifiers folded to lower case, quoted ones kept); an unqualified name
  matches any schema (``public.x`` and ``x`` are the same object here).
- ``Model``: replays effects in phases (``"m"`` for the migration, ``"r"`` for its rollback) over
  objects it knows nothing about beforehand, and tracks each object it meets: did it exist before,
  does it exist now, under which name, which attributes changed. Dropping a table drops what hangs
  on it (columns, indexes, constraints, triggers, policies, rules, privileges), dropping a column
  the indexes and constraints on it, ``DROP SCHEMA`` what the model knows in the schema, and a drop
  the objects that were defined referring to it (views, triggers, ...: ``CASCADE``).
  ``compare(migration_effects, rollback_effects)`` returns what the rollback leaves behind.

The model is lenient where it cannot know: when in doubt it assumes the rollback did its job, so
that a finding built on it is a real gap. Statements whose effect cannot be known statically
(dynamic SQL in a ``DO`` block, ``CALL``, ``EXECUTE``, ``DROP OWNED``, a call of a function the
same file defines) become ``UNKNOWN`` effects. What happened before the first phase can be told
to the model (``history``: the CREATE that last defined an object, from earlier migrations).

Users: the ``rollback-incomplete`` and ``rollback-data-change`` rules; the lock model and the
``verify`` cross-check can read ``file_effects`` (what each statement touches) and ``compare``
(what a migration/rollback pair should leave changed).
"""

from __future__ import annotations

import inspect
import json
import re
import weakref
from collections.abc import Callable, Iterable

from .._digest import blake2b
from .._pglast import keywords as _kw
from .._pglast import parser as _pgparser
from ..model import FrozenRecord, Record, Statement
from . import pg, plpgsql, specs

# --- object kinds ------------------------------------------------------------------------------

TABLE, VIEW, MATVIEW, INDEX, SEQUENCE, FOREIGN_TABLE = (
    "table",
    "view",
    "materialized view",
    "index",
    "sequence",
    "foreign table",
)
COLUMN, CONSTRAINT, TRIGGER, POLICY, RULE = "column", "constraint", "trigger", "policy", "rule"
FUNCTION, PROCEDURE, AGGREGATE = "function", "procedure", "aggregate"
TYPE, DOMAIN, ENUM_VALUE = "type", "domain", "enum value"
SCHEMA, EXTENSION, ROLE, PRIVILEGE, PARTITION = "schema", "extension", "role", "privilege", "partition"
EVENT_TRIGGER, SERVER, PUBLICATION, COLLATION = "event trigger", "server", "publication", "collation"
DEFAULT_PRIVILEGES, ALL_IN_SCHEMA = "default privileges", "all in schema"

RELATIONS = frozenset({TABLE, VIEW, MATVIEW, INDEX, SEQUENCE, FOREIGN_TABLE})
# what every database has before any migration runs
BUILTIN = frozenset(
    {(SCHEMA, "public"), (SCHEMA, "pg_catalog"), (SCHEMA, "information_schema"), (EXTENSION, "plpgsql")}
)
ROUTINES = frozenset({FUNCTION, PROCEDURE, AGGREGATE})
TYPES = frozenset({TYPE, DOMAIN})
# what hangs on a relation (identified by its table)
ON_TABLE = frozenset({COLUMN, CONSTRAINT, TRIGGER, POLICY, RULE})

# effect operations
CREATE, DROP, ALTER, RENAME, DATA, COMMENT, UNKNOWN = (
    "create",
    "drop",
    "alter",
    "rename",
    "data",
    "comment",
    "unknown",
)


def _namespace(kind: str) -> str:
    if kind in RELATIONS:
        return "relation"
    if kind in ROUTINES:
        return "routine"
    if kind in TYPES:
        return "type"
    return kind


# ``_namespace`` of every kind that has one besides itself, looked up by ``same`` (called for
# every pair of objects the model compares: a dict lookup instead of three set tests)
_NAMESPACES = {k: _namespace(k) for k in (*RELATIONS, *ROUTINES, *TYPES)}


class Obj(FrozenRecord):
    """The identity of a schema object.

    ``schema`` is empty when the name was not qualified (it then matches any schema). ``parent``
    is the table of a column, constraint, trigger, policy or rule, the type of an enum value, the
    object of a privilege. ``args`` are a routine's argument types (None: not given, any overload).
    ``detail`` is the grantee of a privilege."""

    __slots__ = ("kind", "name", "schema", "parent", "args", "detail")
    kind: str
    name: str
    schema: str
    parent: Obj | None
    args: tuple[str, ...] | None
    detail: str

    def __init__(
        self,
        kind: str,
        name: str,
        schema: str = "",
        parent: Obj | None = None,
        args: tuple[str, ...] | None = None,
        detail: str = "",
    ):
        set_ = object.__setattr__  # (as a frozen dataclass sets its fields: the hot path makes many)
        set_(self, "kind", kind)
        set_(self, "name", name)
        set_(self, "schema", schema)
        set_(self, "parent", parent)
        set_(self, "args", args)
        set_(self, "detail", detail)

    # (written out as the dataclass generated them: objects are compared and hashed all the time)
    def __eq__(self, other) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.kind, self.name, self.schema, self.parent, self.args, self.detail) == (
            other.kind,
            other.name,
            other.schema,
            other.parent,
            other.args,
            other.detail,
        )

    def __hash__(self) -> int:  # type: ignore[override]  # (Record's is None: mutable ones are unhashable)
        return hash((self.kind, self.name, self.schema, self.parent, self.args, self.detail))

    def qualified(self) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(self.name)}" if self.schema else quote_ident(self.name)

    def signature(self) -> str:
        """The name as SQL writes it: ``s.f(integer, text)``, ``t.c`` for a column."""
        if self.kind in ROUTINES:
            return self.qualified() + ("" if self.args is None else f"({', '.join(sql_type(a) for a in self.args)})")
        if self.kind == COLUMN and self.parent is not None:
            return f"{self.parent.qualified()}.{quote_ident(self.name)}"
        if self.kind == ENUM_VALUE:
            return "'" + self.name.replace("'", "''") + "'"
        return self.qualified()

    def label(self) -> str:
        """Human description: ``index idx_x``, ``column leads.note``, ``trigger tr on leads``."""
        if self.kind == COLUMN:
            return f"column {self.signature()}"
        if self.kind == ENUM_VALUE:
            return f"value {self.signature()} of enum {self.parent.qualified() if self.parent else '?'}"
        if self.kind == PRIVILEGE:
            target = self.parent.label() if self.parent else "?"
            return f"{self.name.upper()} privilege on {target} for {self.detail}"
        if self.kind in (CONSTRAINT, TRIGGER, POLICY, RULE) and self.parent is not None:
            return f"{self.kind} {quote_ident(self.name)} on {self.parent.qualified()}"
        if self.kind == ALL_IN_SCHEMA:
            return f"all objects in schema {quote_ident(self.name)}"
        if self.kind == DEFAULT_PRIVILEGES:
            return f"default privileges{' in schema ' + self.schema if self.schema else ''}"
        return f"{self.kind} {self.signature()}"


def same(a: Obj | None, b: Obj | None) -> bool:
    """Could ``a`` and ``b`` be the same object? Unqualified names match any schema, a routine
    without argument types any overload, a missing parent any parent."""
    if a is None or b is None:
        return False
    if a.kind != b.kind and _NAMESPACES.get(a.kind, a.kind) != _NAMESPACES.get(b.kind, b.kind):
        return False
    if a.kind == PRIVILEGE:
        if a.name != b.name and "all" not in (a.name, b.name):
            return False
    elif a.name != b.name:
        return False
    if a.schema and b.schema and a.schema != b.schema:
        return False
    if a.parent is not None and b.parent is not None and not same(a.parent, b.parent):
        return False
    if a.args is not None and b.args is not None and a.args != b.args:
        return False
    if a.detail and b.detail and a.detail != b.detail:
        return False
    return True


def same_place(a: Obj, b: Obj) -> bool:
    """Same name in the same schema, an unqualified name counting as ``public`` (for telling
    whether a rename or ``SET SCHEMA`` was reversed)."""
    return a.name == b.name and (a.schema or "public") == (b.schema or "public")


_PLAIN_IDENT = re.compile(r"^[a-z_][a-z0-9_$]*$")
_RESERVED = frozenset(_kw.RESERVED_KEYWORDS) | frozenset(_kw.TYPE_FUNC_NAME_KEYWORDS) | frozenset(_kw.COL_NAME_KEYWORDS)


def quote_ident(name: str) -> str:
    """``name`` as SQL must write it (double-quoted when it is not a plain lower-case identifier)."""
    if _PLAIN_IDENT.match(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


# --- effects -----------------------------------------------------------------------------------


class Effect(Record):
    """One thing a statement does to the schema (or to the rows of a table)."""

    __slots__ = (
        "op",
        "obj",
        "stmt",
        "attr",
        "value",
        "new",
        "replace",
        "if_not_exists",
        "missing_ok",
        "cascade",
        "on",
        "columns",
        "refs",
        "guessed",
        "recreate",
        "defn",
        "reason",
        "spec",
    )
    op: str  # CREATE, DROP, ALTER, RENAME, DATA, COMMENT, UNKNOWN
    obj: Obj | None  # None only for UNKNOWN
    stmt: Statement | Loc | None  # a ``Loc`` in the per-file summary
    attr: str  # ALTER: what changed ("type", "default", "not null", ...); DATA: the verb; CREATE: TEMPORARY
    value: str | None  # ALTER: the new value, comparable as text (None: not comparable)
    new: Obj | None  # RENAME (and SET SCHEMA): the new identity
    replace: bool  # CREATE OR REPLACE
    if_not_exists: bool
    missing_ok: bool  # DROP ... IF EXISTS
    cascade: bool
    on: Obj | None  # INDEX, owned SEQUENCE, PARTITION: the table it belongs to
    columns: frozenset  # INDEX / CONSTRAINT: the columns it uses; CREATE TABLE: its columns
    refs: frozenset  # names of the objects its definition refers to
    guessed: bool  # the name is PostgreSQL's generated name, guessed (unnamed index/constraint)
    recreate: bool  # CREATE right after a DROP ... IF EXISTS of the same object (re-create idiom)
    defn: str | None  # CREATE: the definition, normalised (no positions, flags or layout)
    reason: str  # UNKNOWN: why
    spec: tuple | None  # what the schema model needs beyond the identity (``analysis.specs``)

    def __init__(
        self,
        op: str,
        obj: Obj | None,
        stmt: Statement | Loc | None = None,
        attr: str = "",
        value: str | None = None,
        new: Obj | None = None,
        replace: bool = False,
        if_not_exists: bool = False,
        missing_ok: bool = False,
        cascade: bool = False,
        on: Obj | None = None,
        columns: frozenset = frozenset(),
        refs: frozenset = frozenset(),
        guessed: bool = False,
        recreate: bool = False,
        defn: str | None = None,
        reason: str = "",
        spec: tuple | None = None,
    ):
        self.op = op
        self.obj = obj
        self.stmt = stmt
        self.attr = attr
        self.value = value
        self.new = new
        self.replace = replace
        self.if_not_exists = if_not_exists
        self.missing_ok = missing_ok
        self.cascade = cascade
        self.on = on
        self.columns = columns
        self.refs = refs
        self.guessed = guessed
        self.recreate = recreate
        self.defn = defn
        self.reason = reason
        self.spec = spec

    @property
    def line(self) -> int:
        return self.stmt.line if self.stmt is not None else 1


def _clean(node):
    """A JSON tree without locations, for comparing values."""
    if isinstance(node, dict):
        return {k: _clean(v) for k, v in node.items() if k not in ("location", "stmt_location", "stmt_len")}
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


def _value(node) -> str:
    return json.dumps(_clean(node), sort_keys=True)


_DEFN_SKIP = frozenset(
    {
        "location",
        "stmt_location",
        "stmt_len",
        "replace",
        "if_not_exists",
        "concurrent",
        "missing_ok",
        "skipIfNewValExists",
        "arg_location",
    }
)


def definition(node) -> str:
    """A definition as a comparable digest: no positions, no OR REPLACE / IF NOT EXISTS /
    CONCURRENTLY, white space in strings (function bodies) collapsed. Only ever compared for
    equality, so a digest of the normalised JSON, not the text: every migration's effects are
    kept for a run (a 19,000-file run holds them all)."""
    return blake2b(json.dumps(_defn_clean(node), sort_keys=True).encode(), digest_size=16).hexdigest()


def _defn_clean(n):
    """``definition``'s normal form of a JSON tree: a copy without ``_DEFN_SKIP`` keys, ``sval``
    strings' white space collapsed. Scalars are kept as they are without a call of their own (a
    CREATE TABLE's tree holds three times as many scalars as dicts and lists: 724,630 calls for
    13,785 definitions on the corpus, issue 22). ``n`` is JSON (``json.loads``: exact dicts and
    lists)."""
    if type(n) is list:
        return [_defn_clean(v) if type(v) is dict or type(v) is list else v for v in n]
    if type(n) is not dict:
        return n
    out = {}
    for k, v in n.items():
        if k in _DEFN_SKIP:
            continue
        tv = type(v)
        if tv is dict or tv is list:
            v = _defn_clean(v)
        elif k == "sval" and tv is str:
            v = " ".join(v.split())
        out[k] = v
    return out


def type_name(tn: dict | None, with_mods: bool = False) -> str:
    """``TypeName`` fields -> ``int4``, ``varchar``, ``text[]`` (pg_catalog and schemas dropped:
    the parser already maps ``integer``/``int`` to ``int4``, ``character varying`` to ``varchar``)."""
    if not tn:
        return ""
    names = pg.strings(tn.get("names"))
    name = names[-1] if names else ""
    if tn.get("pct_type"):
        name = ".".join(names) + "%type"
    if with_mods and tn.get("typmods"):
        mods = []
        for m in tn["typmods"]:
            c = m.get("A_Const", {})
            if "ival" in c:
                mods.append(str(c["ival"].get("ival", 0)))
            elif "sval" in c:
                mods.append(c["sval"].get("sval", ""))
            else:
                mods.append("?")
        name += f"({','.join(mods)})"
    name += "[]" * len(tn.get("arrayBounds") or ())
    return name


_SQL_TYPES = {
    "int4": "integer",
    "int8": "bigint",
    "int2": "smallint",
    "float8": "double precision",
    "float4": "real",
    "bool": "boolean",
    "varchar": "character varying",
    "bpchar": "character",
    "timestamptz": "timestamp with time zone",
    "timetz": "time with time zone",
}


def sql_type(name: str) -> str:
    """An internal type name as SQL usually writes it (``int4`` -> ``integer``), for messages."""
    base = name.removesuffix("[]" * name.count("[]")) if name.endswith("[]") else name
    suffix = name[len(base) :]
    return _SQL_TYPES.get(base, base) + suffix


def _type_schema(tn: dict | None) -> str:
    names = pg.strings((tn or {}).get("names"))
    return names[-2] if len(names) > 1 and names[-2] != "pg_catalog" else ""


def _split(names: list[str]) -> tuple[str, str]:
    """``[schema, name]`` or ``[name]`` (or ``[db, schema, name]``) -> (schema, name)."""
    if not names:
        return "", ""
    return (names[-2] if len(names) > 1 else ""), names[-1]


def rel_obj(rv: dict | None, kind: str = TABLE, search_path: str = "") -> Obj:
    rv = rv or {}
    return Obj(kind, rv.get("relname", ""), rv.get("schemaname") or search_path)


def _routine_args(params) -> tuple[str, ...]:
    out = []
    for p in params or ():
        fp = p.get("FunctionParameter")
        if fp is None:
            if "TypeName" in p:
                out.append(type_name(p["TypeName"]))
            continue
        if fp.get("mode") in ("FUNC_PARAM_OUT", "FUNC_PARAM_TABLE"):
            continue
        out.append(type_name(fp.get("argType")))
    return tuple(out)


def routine_obj(owa: dict, kind: str = FUNCTION, search_path: str = "") -> Obj:
    """``ObjectWithArgs`` fields -> the routine (args None when ``DROP FUNCTION f`` gives none)."""
    schema, name = _split(pg.strings(owa.get("objname")))
    if owa.get("args_unspecified"):
        args = None
    elif owa.get("objfuncargs"):
        args = _routine_args(owa["objfuncargs"])
    else:
        args = tuple(type_name(t.get("TypeName")) for t in owa.get("objargs") or ())
    return Obj(kind, name, schema or search_path, args=args)


_ROUTINE_KIND = {
    "OBJECT_FUNCTION": FUNCTION,
    "OBJECT_PROCEDURE": PROCEDURE,
    "OBJECT_ROUTINE": FUNCTION,
    "OBJECT_AGGREGATE": AGGREGATE,
}
_REL_KIND = {
    "OBJECT_TABLE": TABLE,
    "OBJECT_VIEW": VIEW,
    "OBJECT_MATVIEW": MATVIEW,
    "OBJECT_INDEX": INDEX,
    "OBJECT_SEQUENCE": SEQUENCE,
    "OBJECT_FOREIGN_TABLE": FOREIGN_TABLE,
}
_SIMPLE_KIND = {
    "OBJECT_SCHEMA": SCHEMA,
    "OBJECT_EXTENSION": EXTENSION,
    "OBJECT_EVENT_TRIGGER": EVENT_TRIGGER,
    "OBJECT_FOREIGN_SERVER": SERVER,
    "OBJECT_PUBLICATION": PUBLICATION,
}
_ON_TABLE_KIND = {"OBJECT_TRIGGER": TRIGGER, "OBJECT_POLICY": POLICY, "OBJECT_RULE": RULE}
_TYPE_KIND = {"OBJECT_TYPE": TYPE, "OBJECT_DOMAIN": DOMAIN}


def object_of(objtype: str, node, search_path: str = "") -> Obj | None:
    """The object a ``DropStmt``/``CommentStmt``/``RenameStmt`` names (``objtype`` = its
    ``OBJECT_*``; ``node`` = one item of ``objects`` or the ``object`` field)."""
    if not isinstance(node, dict):
        return None
    if objtype in _ROUTINE_KIND:
        owa = node.get("ObjectWithArgs", node)
        return routine_obj(owa, _ROUTINE_KIND[objtype], search_path)
    if "List" in node:
        names = pg.strings(node["List"].get("items"))
    elif "TypeName" in node:
        names = pg.strings(node["TypeName"].get("names"))
    elif "String" in node:
        names = [node["String"].get("sval", "")]
    elif "RangeVar" in node:
        o = rel_obj(node["RangeVar"], _REL_KIND.get(objtype, TABLE), search_path)
        return o
    else:
        return None
    if not names:
        return None
    if objtype in _REL_KIND:
        schema, name = _split(names)
        return Obj(_REL_KIND[objtype], name, schema or search_path)
    if objtype in _SIMPLE_KIND:
        return Obj(_SIMPLE_KIND[objtype], names[-1])
    if objtype == "OBJECT_ROLE":
        return Obj(ROLE, names[-1])
    if objtype in _TYPE_KIND:
        schema, name = _split(names)
        return Obj(_TYPE_KIND[objtype], name, schema or search_path)
    if objtype in _ON_TABLE_KIND:
        schema, table = _split(names[:-1])
        return Obj(_ON_TABLE_KIND[objtype], names[-1], parent=Obj(TABLE, table, schema or search_path))
    if objtype == "OBJECT_COLUMN" and len(names) >= 2:
        schema, table = _split(names[:-1])
        return Obj(COLUMN, names[-1], parent=Obj(TABLE, table, schema or search_path))
    if objtype == "OBJECT_TABCONSTRAINT" and len(names) >= 2:
        schema, table = _split(names[:-1])
        return Obj(CONSTRAINT, names[-1], parent=Obj(TABLE, table, schema or search_path))
    if objtype == "OBJECT_COLLATION":
        schema, name = _split(names)
        return Obj(COLLATION, name, schema)
    return None


def _refs(node) -> frozenset:
    """Names of the relations, functions and types a definition refers to (for CASCADE)."""
    out = set()
    for cur in pg.dicts(node):
        if "relname" in cur and "relpersistence" in cur:
            out.add(cur["relname"])
        if "funcname" in cur:
            names = pg.strings(cur.get("funcname"))
            if names:
                out.add(names[-1])
        if "names" in cur and "typemod" in cur:
            names = pg.strings(cur.get("names"))
            if names and names[0] != "pg_catalog":
                out.add(names[-1])
    return frozenset(out)


# PostgreSQL's names for unnamed indexes and constraints (ChooseRelationName / makeObjectName)
_NAMEDATALEN = 64


def generated_name(name1: str, name2: str, label: str) -> str:
    """``makeObjectName``: ``name1_name2_label`` truncated to fit 63 bytes."""
    overhead = len(label) + 1 + (1 if name2 else 0)
    avail = _NAMEDATALEN - 1 - overhead
    n1, n2 = len(name1.encode()), len(name2.encode())
    while n1 + n2 > avail:
        if n1 > n2:
            n1 -= 1
        else:
            n2 -= 1
    a = name1.encode()[:n1].decode("utf-8", "ignore")
    b = name2.encode()[:n2].decode("utf-8", "ignore")
    return f"{a}_{b}_{label}" if name2 else f"{a}_{label}"


def _index_columns(params) -> list[str]:
    out = []
    for p in params or ():
        e = p.get("IndexElem", {})
        if e.get("name"):
            out.append(e["name"])
        elif e.get("indexcolname"):
            out.append(e["indexcolname"])
        else:
            out.append("expr")
    return out


def _expr_columns(node) -> set[str]:
    cols = set()
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            if "ColumnRef" in cur:
                names = pg.strings(cur["ColumnRef"].get("fields"))
                if names:
                    cols.add(names[-1])
            stack.extend(v for v in cur.values() if isinstance(v, (dict, list)))
        elif isinstance(cur, list):
            stack.extend(cur)
    return cols


def _constraint(c: dict, table: Obj, column: str | None = None) -> tuple[Obj, frozenset, bool, frozenset]:
    """(object, columns, guessed name, refs) of a ``Constraint`` node added to ``table``."""
    ctype = c.get("contype", "")
    cols = pg.strings(c.get("keys")) or pg.strings(c.get("fk_attrs"))
    if column and not cols:
        cols = [column]
    if ctype == "CONSTR_EXCLUSION":
        cols = []
        for item in c.get("exclusions", ()):
            elems = item.get("List", {}).get("items", []) if isinstance(item, dict) else []
            elem = elems[0].get("IndexElem", {}) if elems and isinstance(elems[0], dict) else {}
            cols.append(elem.get("name") or "expr")
    used = set(cols)
    if ctype == "CONSTR_CHECK":
        used |= _expr_columns(c.get("raw_expr"))
    refs: frozenset[str] = frozenset()
    if ctype == "CONSTR_FOREIGN" and c.get("pktable"):
        refs = frozenset({c["pktable"].get("relname", "")})
    name = c.get("conname")
    guessed = False
    if not name:
        guessed = True
        label = {
            "CONSTR_PRIMARY": "pkey",
            "CONSTR_UNIQUE": "key",
            "CONSTR_FOREIGN": "fkey",
            "CONSTR_CHECK": "check",
            "CONSTR_EXCLUSION": "excl",
            "CONSTR_NOTNULL": "not_null",
        }.get(ctype, "con")
        if ctype == "CONSTR_PRIMARY":
            name = generated_name(table.name, "", "pkey")
        elif ctype == "CONSTR_CHECK":
            # PostgreSQL: "tab_col_check" when the expression uses one column, else "tab_check"
            used_cols = _expr_columns(c.get("raw_expr"))
            name = generated_name(table.name, next(iter(used_cols)) if len(used_cols) == 1 else "", "check")
        else:
            joined = "_".join(cols)
            name = generated_name(table.name, joined, label)
    return Obj(CONSTRAINT, name, parent=table), frozenset(used), guessed, refs


# statements that may change anything: the model cannot tell what
_OPAQUE = {
    "CallStmt": "CALL runs a procedure",
    "ExecuteStmt": "EXECUTE runs a prepared statement",
    "DropOwnedStmt": "DROP OWNED drops whatever the role owns",
    "ReassignOwnedStmt": "REASSIGN OWNED changes owners",
    "ImportForeignSchemaStmt": "IMPORT FOREIGN SCHEMA",
}

_ALTER_COLUMN_ATTRS = {
    "AT_AlterColumnType": "type",
    "AT_ColumnDefault": "default",
    "AT_SetNotNull": "not null",
    "AT_DropNotNull": "not null",
    "AT_AddIdentity": "identity",
    "AT_DropIdentity": "identity",
    "AT_SetIdentity": "identity",
    "AT_SetExpression": "generated expression",
    "AT_DropExpression": "generated expression",
    "AT_SetStatistics": "statistics",
    "AT_SetStorage": "storage",
    "AT_SetCompression": "compression",
    "AT_SetOptions": "options",
    "AT_ResetOptions": "options",
    "AT_CookedColumnDefault": "default",
}
_ALTER_TABLE_ATTRS = {
    "AT_EnableRowSecurity": ("row level security", "on"),
    "AT_DisableRowSecurity": ("row level security", "off"),
    "AT_ForceRowSecurity": ("force row level security", "on"),
    "AT_NoForceRowSecurity": ("force row level security", "off"),
    "AT_SetLogged": ("logged", "on"),
    "AT_SetUnLogged": ("logged", "off"),
    "AT_ChangeOwner": ("owner", None),
    "AT_SetRelOptions": ("storage parameters", None),
    "AT_ResetRelOptions": ("storage parameters", None),
    "AT_ReplaceRelOptions": ("storage parameters", None),
    "AT_ReplicaIdentity": ("replica identity", None),
    "AT_SetTableSpace": ("tablespace", None),
    "AT_ClusterOn": ("cluster", None),
    "AT_DropCluster": ("cluster", None),
    "AT_EnableTrigAll": ("triggers enabled", "on"),
    "AT_DisableTrigAll": ("triggers enabled", "off"),
    "AT_EnableTrigUser": ("triggers enabled", "on"),
    "AT_DisableTrigUser": ("triggers enabled", "off"),
    "AT_SetAccessMethod": ("access method", None),
    "AT_AddInherit": ("inheritance", None),
    "AT_DropInherit": ("inheritance", None),
    "AT_AddOf": ("typed table", None),
    "AT_DropOf": ("typed table", None),
    "AT_EnableRule": ("rules enabled", None),
    "AT_DisableRule": ("rules enabled", None),
}
_TRIGGER_STATE = {
    "AT_EnableTrig": "on",
    "AT_EnableAlwaysTrig": "always",
    "AT_EnableReplicaTrig": "replica",
    "AT_DisableTrig": "off",
}


class _Builder:
    def __init__(self, st: Statement, search_path: str):
        self.st = st
        self.sp = search_path
        self.out: list[Effect] = []
        self._defn: str | None = None  # the statement's definition, once (a table and its serials' sequences)

    def add(self, op: str, obj: Obj | None, **kw) -> Effect:
        if op == CREATE and "defn" not in kw:
            if self._defn is None:
                self._defn = definition(self.st.node)
            kw["defn"] = self._defn
        e = Effect(op, obj, self.st, **kw)
        self.out.append(e)
        return e


def statement_effects(st: Statement, search_path: str = "") -> list[Effect]:
    """The effects of one statement. ``search_path``: the schema unqualified names resolve to
    (empty: unknown, matches any schema)."""
    b = _Builder(st, search_path)
    k, n = st.kind, st.node
    handler = _HANDLERS.get(k)
    if handler is not None:
        handler(b, n)
    elif k in _OPAQUE:
        if k == "CallStmt" and _tracking_call(n):
            pass
        else:
            b.add(UNKNOWN, None, reason=_OPAQUE[k])
    return b.out


def _tracking_call(n: dict) -> bool:
    names = pg.strings(n.get("funccall", {}).get("funcname"))
    return len(names) > 1 and names[0] in ("_migrations",)


# --- handlers, one per statement kind ---------------------------------------------------------

_SERIAL = frozenset({"serial", "bigserial", "smallserial", "serial4", "serial8", "serial2"})
_NAMED_CONSTRAINTS = frozenset(
    {"CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_FOREIGN", "CONSTR_CHECK", "CONSTR_EXCLUSION"}
)


def _column_extras(b: _Builder, table: Obj, cd: dict, if_not_exists: bool = False) -> None:
    """What a column definition creates besides the column: its inline constraints (with the
    names PostgreSQL gives them) and the sequence of a serial or identity column."""
    col = cd.get("colname", "")
    tname = type_name(cd.get("typeName"))
    cons = [c.get("Constraint", {}) for c in cd.get("constraints") or ()]
    if tname in _SERIAL or any(c.get("contype") == "CONSTR_IDENTITY" for c in cons):
        seq = Obj(SEQUENCE, generated_name(table.name, col, "seq"), table.schema)
        b.add(CREATE, seq, on=table, columns=frozenset({col}), guessed=True, if_not_exists=if_not_exists)
    for c in cons:
        if c.get("contype") in _NAMED_CONSTRAINTS:
            _add_constraint(b, table, c, col, if_not_exists=if_not_exists)


def _add_constraint(b: _Builder, table: Obj, con: dict, column: str | None = None, **kw) -> None:
    obj, used, guessed, refs = _constraint(con, table, column)
    b.add(
        CREATE,
        obj,
        columns=used,
        guessed=guessed,
        refs=refs | {table.name},
        defn=definition(con),
        spec=specs.constraint(con, column),
        **kw,
    )


TEMPORARY = "temporary"  # the ``attr`` of the CREATE of a temporary table: gone at the end of the session


def _temporary(rv: dict | None) -> str:
    return TEMPORARY if (rv or {}).get("relpersistence") == "t" else ""


def _create_table(b: _Builder, n: dict) -> None:
    table = rel_obj(n.get("relation"), TABLE, b.sp)
    cols = [elt["ColumnDef"].get("colname", "") for elt in n.get("tableElts", ()) if "ColumnDef" in elt]
    refs: set[str] = set()
    on = None
    parents = n.get("inhRelations") or ()
    if parents and n.get("partbound"):
        on = rel_obj(parents[0].get("RangeVar"), TABLE, b.sp)
    refs |= {p.get("RangeVar", {}).get("relname", "") for p in parents}
    refs.discard(table.name)
    ine = bool(n.get("if_not_exists"))
    b.add(
        CREATE,
        table,
        if_not_exists=ine,
        on=on,
        columns=frozenset(cols),
        refs=frozenset(refs),
        spec=specs.table(n.get("tableElts")),
        attr=_temporary(n.get("relation")),
    )
    for elt in n.get("tableElts", ()):
        if "ColumnDef" in elt:
            _column_extras(b, table, elt["ColumnDef"], ine)
        elif "Constraint" in elt and elt["Constraint"].get("contype") in _NAMED_CONSTRAINTS:
            _add_constraint(b, table, elt["Constraint"], if_not_exists=ine)


def _create_table_as(b: _Builder, n: dict) -> None:
    kind = MATVIEW if n.get("objtype") == "OBJECT_MATVIEW" else TABLE
    obj = rel_obj(n.get("into", {}).get("rel"), kind, b.sp)
    rows = not n.get("into", {}).get("skipData")
    # a materialized view depends on what its query reads; a table made AS SELECT does not
    b.add(
        CREATE,
        obj,
        if_not_exists=bool(n.get("if_not_exists")),
        refs=_refs(n.get("query")) if kind == MATVIEW else frozenset(),
        spec=("table", rows, ()),
        attr=_temporary(n.get("into", {}).get("rel")),
    )
    if kind == TABLE and rows:  # its rows are copied from what the query reads
        b.add(
            DATA,
            obj,
            attr="CREATE TABLE AS",
            spec=("data", False, specs.copied("CreateTableAsStmt", n), (specs.ANY_COLUMN,)),
        )


def _select(b: _Builder, n: dict) -> None:
    if n.get("intoClause"):
        obj = rel_obj(n["intoClause"].get("rel"), TABLE, b.sp)
        b.add(CREATE, obj, spec=("table", True, ()), attr=_temporary(n["intoClause"].get("rel")))
        b.add(DATA, obj, attr="SELECT INTO", spec=("data", False, specs.copied("SelectStmt", n), (specs.ANY_COLUMN,)))
    _data(b, n)


def _view(b: _Builder, n: dict) -> None:
    obj = rel_obj(n.get("view"), VIEW, b.sp)
    b.add(CREATE, obj, replace=bool(n.get("replace")), refs=_refs(n.get("query")))


def _index(b: _Builder, n: dict) -> None:
    table = rel_obj(n.get("relation"), TABLE, b.sp)
    cols = _index_columns(n.get("indexParams"))
    used = (
        set(c for c in cols if c != "expr") | _expr_columns(n.get("indexParams")) | _expr_columns(n.get("whereClause"))
    )
    name = n.get("idxname")
    guessed = False
    if not name:
        guessed = True
        if n.get("primary"):
            name = generated_name(table.name, "", "pkey")
        else:
            name = generated_name(table.name, "_".join(cols), "key" if n.get("isconstraint") else "idx")
    obj = Obj(INDEX, name, table.schema)
    # the definition without the table's name: the same index on a table renamed since is the same
    shape = {
        k: n.get(k)
        for k in (
            "accessMethod",
            "indexParams",
            "indexIncludingParams",
            "whereClause",
            "unique",
            "nulls_not_distinct",
            "primary",
            "options",
        )
    }
    b.add(
        CREATE,
        obj,
        if_not_exists=bool(n.get("if_not_exists")),
        on=table,
        columns=frozenset(used),
        guessed=guessed,
        refs=_refs(n.get("indexParams")) | {table.name},
        defn=definition(shape),
        spec=specs.index(n),
    )


def _sequence(b: _Builder, n: dict) -> None:
    obj = rel_obj(n.get("sequence"), SEQUENCE, b.sp)
    on, cols = _owned_by(n.get("options"), b.sp)
    b.add(CREATE, obj, if_not_exists=bool(n.get("if_not_exists")), on=on, columns=cols)


def _owned_by(options, sp: str) -> tuple[Obj | None, frozenset]:
    for o in options or ():
        d = o.get("DefElem", {})
        if d.get("defname") == "owned_by":
            names = pg.strings(d.get("arg", {}).get("List", {}).get("items"))
            if len(names) >= 2:
                schema, table = _split(names[:-1])
                return Obj(TABLE, table, schema or sp), frozenset({names[-1]})
    return None, frozenset()


def _alter_sequence(b: _Builder, n: dict) -> None:
    obj = rel_obj(n.get("sequence"), SEQUENCE, b.sp)
    on, cols = _owned_by(n.get("options"), b.sp)
    if on is not None:
        b.add(
            ALTER,
            obj,
            attr="owned by",
            value=f"{on.name}.{next(iter(cols), '')}",
            on=on,
            columns=cols,
            missing_ok=bool(n.get("missing_ok")),
        )
    if any(o.get("DefElem", {}).get("defname") != "owned_by" for o in n.get("options") or ()):
        b.add(ALTER, obj, attr="sequence options", value=None, missing_ok=bool(n.get("missing_ok")))


def _function(b: _Builder, n: dict) -> None:
    schema, name = _split(pg.strings(n.get("funcname")))
    kind = PROCEDURE if n.get("is_procedure") else FUNCTION
    args = _routine_args(n.get("parameters"))
    obj = Obj(kind, name, schema or b.sp, args=args)
    refs = {type_name(p.get("FunctionParameter", {}).get("argType")) for p in n.get("parameters", ())}
    refs.add(type_name(n.get("returnType")))
    refs.discard("")
    b.add(CREATE, obj, replace=bool(n.get("replace")), refs=frozenset(refs))


def _aggregate(b: _Builder, n: dict) -> None:
    kind = n.get("kind")
    schema, name = _split(pg.strings(n.get("defnames")))
    if kind == "OBJECT_AGGREGATE":
        args = n.get("args") or []
        params = (
            args[0].get("List", {}).get("items", []) if args and isinstance(args[0], dict) and "List" in args[0] else []
        )
        obj = Obj(AGGREGATE, name, schema or b.sp, args=_routine_args(params))
        b.add(CREATE, obj, replace=bool(n.get("replace")), refs=_refs(n.get("definition")))
    elif kind == "OBJECT_TYPE":
        b.add(CREATE, Obj(TYPE, name, schema or b.sp), if_not_exists=bool(n.get("if_not_exists")))
    elif kind == "OBJECT_COLLATION":
        b.add(CREATE, Obj(COLLATION, name, schema), if_not_exists=bool(n.get("if_not_exists")))
    # operators, text search objects: not modelled


def _trigger(b: _Builder, n: dict) -> None:
    table = rel_obj(n.get("relation"), TABLE, b.sp)
    obj = Obj(TRIGGER, n.get("trigname", ""), parent=table)
    fn = pg.strings(n.get("funcname"))
    b.add(
        CREATE,
        obj,
        replace=bool(n.get("replace")),
        refs=frozenset(fn[-1:]) | {table.name},
        columns=frozenset(pg.strings(n.get("columns"))),
    )


def _policy(b: _Builder, n: dict) -> None:
    table = rel_obj(n.get("table"), TABLE, b.sp)
    b.add(
        CREATE,
        Obj(POLICY, n.get("policy_name", ""), parent=table),
        refs=_refs([n.get("qual"), n.get("with_check")]) | {table.name},
    )


def _alter_policy(b: _Builder, n: dict) -> None:
    table = rel_obj(n.get("table"), TABLE, b.sp)
    b.add(
        ALTER,
        Obj(POLICY, n.get("policy_name", ""), parent=table),
        attr="definition",
        value=_value({k: n.get(k) for k in ("roles", "qual", "with_check")}),
    )


def _rule(b: _Builder, n: dict) -> None:
    table = rel_obj(n.get("relation"), TABLE, b.sp)
    b.add(
        CREATE,
        Obj(RULE, n.get("rulename", ""), parent=table),
        replace=bool(n.get("replace")),
        refs=_refs(n.get("actions")) | {table.name},
    )


def _schema(b: _Builder, n: dict) -> None:
    name = n.get("schemaname") or (n.get("authrole") or {}).get("rolename", "")
    b.add(CREATE, Obj(SCHEMA, name), if_not_exists=bool(n.get("if_not_exists")))
    for elt in n.get("schemaElts", ()):
        kind, node = next(iter(elt.items()))
        inner = Statement(
            b.st.index,
            kind,
            node,
            b.st.start,
            b.st.end,
            b.st.line,
            b.st.column,
            b.st.end_line,
            b.st.end_column,
            b.st.text,
            b.st.parent,
        )
        for e in statement_effects(inner, name):
            e.stmt = b.st
            b.out.append(e)


def _extension(b: _Builder, n: dict) -> None:
    b.add(CREATE, Obj(EXTENSION, n.get("extname", "")), if_not_exists=bool(n.get("if_not_exists")))


def _alter_extension(b: _Builder, n: dict) -> None:
    b.add(ALTER, Obj(EXTENSION, n.get("extname", "")), attr="version", value=_value(n.get("options")))


def _composite(b: _Builder, n: dict) -> None:
    b.add(CREATE, rel_obj(n.get("typevar"), TYPE, b.sp), refs=_refs(n.get("coldeflist")))


def _enum(b: _Builder, n: dict) -> None:
    schema, name = _split(pg.strings(n.get("typeName")))
    b.add(CREATE, Obj(TYPE, name, schema or b.sp))


def _range(b: _Builder, n: dict) -> None:
    schema, name = _split(pg.strings(n.get("typeName")))
    b.add(CREATE, Obj(TYPE, name, schema or b.sp), refs=_refs(n.get("params")))


def _domain(b: _Builder, n: dict) -> None:
    schema, name = _split(pg.strings(n.get("domainname")))
    b.add(CREATE, Obj(DOMAIN, name, schema or b.sp), refs=_refs(n.get("typeName")))


_DOMAIN_ATTRS = {
    "T": "default",
    "N": "not null",
    "O": "not null",
    "C": "constraint",
    "X": "constraint",
    "V": "constraint validation",
}


def _alter_domain(b: _Builder, n: dict) -> None:
    schema, name = _split(pg.strings(n.get("typeName")))
    dom = Obj(DOMAIN, name, schema or b.sp)
    sub = n.get("subtype", "")
    if sub == "C":
        c = (n.get("def") or {}).get("Constraint", {})
        cname = c.get("conname") or generated_name(name, "", "check")
        b.add(CREATE, Obj(CONSTRAINT, cname, parent=dom), guessed=not c.get("conname"))
    elif sub == "X":
        b.add(DROP, Obj(CONSTRAINT, n.get("name", ""), parent=dom), missing_ok=bool(n.get("missing_ok")))
    elif sub in _DOMAIN_ATTRS:
        value = {"T": _value(n.get("def")) if n.get("def") else "none", "N": "off", "O": "on"}.get(sub)
        b.add(ALTER, dom, attr=_DOMAIN_ATTRS[sub], value=value)


def _alter_enum(b: _Builder, n: dict) -> None:
    schema, name = _split(pg.strings(n.get("typeName")))
    typ = Obj(TYPE, name, schema or b.sp)
    if n.get("oldVal"):
        b.add(RENAME, Obj(ENUM_VALUE, n["oldVal"], parent=typ), new=Obj(ENUM_VALUE, n.get("newVal", ""), parent=typ))
    elif n.get("newVal"):
        b.add(CREATE, Obj(ENUM_VALUE, n["newVal"], parent=typ), if_not_exists=bool(n.get("skipIfNewValExists")))


def _drop(b: _Builder, n: dict) -> None:
    rtype = n.get("removeType", "")
    cascade = n.get("behavior") == "DROP_CASCADE"
    for item in n.get("objects", ()):
        obj = object_of(rtype, item, b.sp)
        if obj is None:
            continue
        b.add(DROP, obj, missing_ok=bool(n.get("missing_ok")), cascade=cascade)


def _drop_role(b: _Builder, n: dict) -> None:
    for r in n.get("roles", ()):
        name = r.get("RoleSpec", {}).get("rolename")
        if name:
            b.add(DROP, Obj(ROLE, name), missing_ok=bool(n.get("missing_ok")))


def _create_role(b: _Builder, n: dict) -> None:
    b.add(CREATE, Obj(ROLE, n.get("role", "")))


def _alter_table(b: _Builder, n: dict) -> None:
    objtype = n.get("objtype", "")
    rel = rel_obj(n.get("relation"), TYPE if objtype == "OBJECT_TYPE" else _REL_KIND.get(objtype, TABLE), b.sp)
    table_missing_ok = bool(n.get("missing_ok"))
    for cmd in n.get("cmds", ()):
        c = cmd.get("AlterTableCmd", {})
        sub = c.get("subtype", "")
        col = c.get("name", "")
        cascade = c.get("behavior") == "DROP_CASCADE"
        if sub == "AT_AddColumn":
            cd = (c.get("def") or {}).get("ColumnDef", {})
            colobj = Obj(COLUMN, cd.get("colname", ""), parent=rel)
            # a column goes with its type (DROP TYPE ... CASCADE), not with what its constraints name
            b.add(
                CREATE,
                colobj,
                if_not_exists=bool(c.get("missing_ok")),
                defn=definition(cd),
                refs=frozenset({type_name(cd.get("typeName")).removesuffix("[]")} - {""}),
                spec=specs.column(cd),
            )
            _column_extras(b, rel, cd, bool(c.get("missing_ok")))
        elif sub == "AT_DropColumn":
            b.add(DROP, Obj(COLUMN, col, parent=rel), missing_ok=bool(c.get("missing_ok")), cascade=cascade)
        elif sub in _ALTER_COLUMN_ATTRS:
            attr = _ALTER_COLUMN_ATTRS[sub]
            value: str | None = None
            spec: tuple | None = None
            if sub == "AT_AlterColumnType":
                cd = (c.get("def") or {}).get("ColumnDef", {})
                value = type_name(cd.get("typeName"), with_mods=True)
                if _type_schema(cd.get("typeName")):
                    value = _type_schema(cd.get("typeName")) + "." + value
                spec = ("type", specs.type_key(cd.get("typeName")))
            elif sub == "AT_ColumnDefault":
                value = _value(c["def"]) if c.get("def") else "none"
                spec = ("default", specs.SEQUENCE_NEXTVAL if c.get("def") and specs.calls_nextval(c["def"]) else "")
            elif sub in ("AT_SetNotNull", "AT_DropNotNull"):
                value = "on" if sub == "AT_SetNotNull" else "off"
            elif sub in ("AT_AddIdentity", "AT_DropIdentity"):
                value = "on" if sub == "AT_AddIdentity" else "off"
            elif sub in ("AT_SetExpression", "AT_DropExpression"):
                value = _value(c.get("def")) if sub == "AT_SetExpression" else "none"
            target = Obj(COLUMN, col, parent=rel) if col else rel
            b.add(ALTER, target, attr=attr, value=value, missing_ok=table_missing_ok, spec=spec)
        elif sub == "AT_AddConstraint":
            con = (c.get("def") or {}).get("Constraint", {})
            if con.get("contype") == "CONSTR_NOTNULL":
                # ADD [CONSTRAINT name] NOT NULL col: the column's NOT NULL (PostgreSQL 18)
                for key in pg.strings(con.get("keys")):
                    b.add(ALTER, Obj(COLUMN, key, parent=rel), attr="not null", value="on")
                continue
            obj, used, guessed, refs = _constraint(con, rel)
            if con.get("indexname") and con["indexname"] != obj.name:
                # ADD CONSTRAINT ... USING INDEX renames the index to the constraint's name
                idx = Obj(INDEX, con["indexname"], rel.schema)
                b.add(RENAME, idx, new=idx.replace(name=obj.name))
            b.add(
                CREATE,
                obj,
                columns=used,
                guessed=guessed,
                refs=refs | {rel.name},
                defn=definition(con),
                spec=specs.constraint(con),
            )
        elif sub == "AT_DropConstraint":
            b.add(DROP, Obj(CONSTRAINT, col, parent=rel), missing_ok=bool(c.get("missing_ok")), cascade=cascade)
        elif sub == "AT_AlterConstraint":
            d = (c.get("def") or {}).get("ATAlterConstraint") or (c.get("def") or {}).get("Constraint", {})
            b.add(
                ALTER,
                Obj(CONSTRAINT, d.get("conname", ""), parent=rel),
                attr="deferrable",
                value=_value({k: d.get(k) for k in ("deferrable", "initdeferred")}),
            )
        elif sub == "AT_ValidateConstraint":
            # changes no definition, and cannot be undone: an attribute the rollback need not restore
            b.add(ALTER, Obj(CONSTRAINT, col, parent=rel), attr="validated", value="on")
        elif sub in _TRIGGER_STATE:
            b.add(ALTER, Obj(TRIGGER, col, parent=rel), attr="enabled", value=_TRIGGER_STATE[sub])
        elif sub in ("AT_AttachPartition", "AT_DetachPartition"):
            part = (c.get("def") or {}).get("PartitionCmd", {}).get("name")
            child = rel_obj(part, TABLE, b.sp)
            pobj = Obj(PARTITION, child.name, child.schema, parent=rel)
            if sub == "AT_AttachPartition":
                b.add(CREATE, pobj, on=rel)
            else:
                b.add(DROP, pobj)
        elif sub in _ALTER_TABLE_ATTRS:
            attr, value = _ALTER_TABLE_ATTRS[sub]
            if sub == "AT_ChangeOwner":
                value = (c.get("newowner") or {}).get("rolename")
            b.add(ALTER, rel, attr=attr, value=value, missing_ok=table_missing_ok)
        else:
            b.add(ALTER, rel, attr=sub.removeprefix("AT_").lower(), value=None, missing_ok=table_missing_ok)


_RENAME_PARENT = {
    "OBJECT_COLUMN": COLUMN,
    "OBJECT_TABCONSTRAINT": CONSTRAINT,
    "OBJECT_TRIGGER": TRIGGER,
    "OBJECT_POLICY": POLICY,
    "OBJECT_RULE": RULE,
    "OBJECT_ATTRIBUTE": COLUMN,
}


def _rename(b: _Builder, n: dict) -> None:
    rtype = n.get("renameType", "")
    new = n.get("newname", "")
    if rtype in _REL_KIND:
        old = rel_obj(n.get("relation"), _REL_KIND[rtype], b.sp)
        b.add(RENAME, old, new=old.replace(name=new), missing_ok=bool(n.get("missing_ok")))
    elif rtype in _RENAME_PARENT:
        rel_kind = _REL_KIND.get(n.get("relationType", ""), TABLE)
        if rtype == "OBJECT_ATTRIBUTE":
            rel_kind = TYPE
        parent = rel_obj(n.get("relation"), rel_kind, b.sp)
        old = Obj(_RENAME_PARENT[rtype], n.get("subname", ""), parent=parent)
        b.add(RENAME, old, new=old.replace(name=new), missing_ok=bool(n.get("missing_ok")))
    elif rtype == "OBJECT_DOMCONSTRAINT":
        schema, name = _split(pg.strings((n.get("object") or {}).get("List", {}).get("items")))
        dom = Obj(DOMAIN, name, schema or b.sp)
        old = Obj(CONSTRAINT, n.get("subname", ""), parent=dom)
        b.add(RENAME, old, new=old.replace(name=new))
    elif rtype == "OBJECT_SCHEMA":
        old = Obj(SCHEMA, n.get("subname", ""))
        b.add(RENAME, old, new=Obj(SCHEMA, new))
    elif rtype == "OBJECT_ROLE":
        old = Obj(ROLE, n.get("subname", ""))
        b.add(RENAME, old, new=Obj(ROLE, new))
    else:
        other = object_of(rtype, n.get("object"), b.sp)
        if other is not None:
            b.add(RENAME, other, new=other.replace(name=new), missing_ok=bool(n.get("missing_ok")))


def _set_schema(b: _Builder, n: dict) -> None:
    otype = n.get("objectType", "")
    old: Obj | None
    if n.get("relation"):
        old = rel_obj(n["relation"], _REL_KIND.get(otype, TABLE), b.sp)
    else:
        old = object_of(otype, n.get("object"), b.sp)
    if old is not None:
        b.add(RENAME, old, new=old.replace(schema=n.get("newschema", "")), missing_ok=bool(n.get("missing_ok")))


def _alter_function(b: _Builder, n: dict) -> None:
    obj = routine_obj(n.get("func") or {}, _ROUTINE_KIND.get(n.get("objtype", ""), FUNCTION), b.sp)
    b.add(ALTER, obj, attr="options", value=_value(n.get("actions")))


def _alter_owner(b: _Builder, n: dict) -> None:
    obj = object_of(n.get("objectType", ""), n.get("object"), b.sp) if n.get("object") else None
    if obj is not None:
        b.add(ALTER, obj, attr="owner", value=(n.get("newowner") or {}).get("rolename"))


_GRANT_TARGET = {
    "OBJECT_TABLE": TABLE,
    "OBJECT_SEQUENCE": SEQUENCE,
    "OBJECT_FUNCTION": FUNCTION,
    "OBJECT_PROCEDURE": PROCEDURE,
    "OBJECT_ROUTINE": FUNCTION,
    "OBJECT_SCHEMA": SCHEMA,
    "OBJECT_TYPE": TYPE,
    "OBJECT_DOMAIN": DOMAIN,
    "OBJECT_FOREIGN_SERVER": SERVER,
}


def _grantees(n: dict) -> list[str]:
    out = []
    for g in n.get("grantees", ()):
        rs = g.get("RoleSpec", {})
        if rs.get("roletype") == "ROLESPEC_PUBLIC":
            out.append("public")
        elif rs.get("rolename"):
            out.append(rs["rolename"])
        else:
            out.append(rs.get("roletype", "").removeprefix("ROLESPEC_").lower())
    return out


def _grant(b: _Builder, n: dict) -> None:
    objtype = n.get("objtype", "")
    targets: list[Obj] = []
    if n.get("targtype") == "ACL_TARGET_ALL_IN_SCHEMA":
        for item in n.get("objects", ()):
            targets.append(
                Obj(ALL_IN_SCHEMA, item.get("String", {}).get("sval", ""), detail=_GRANT_TARGET.get(objtype, objtype))
            )
    else:
        for item in n.get("objects", ()):
            if "RangeVar" in item:
                targets.append(rel_obj(item["RangeVar"], TABLE, b.sp))
            else:
                o = object_of(objtype, item, b.sp)
                if o is not None:
                    targets.append(o)
    privs = [p.get("AccessPriv", {}).get("priv_name") or "all" for p in n.get("privileges") or ()] or ["all"]
    op = CREATE if n.get("is_grant") else DROP
    for t in targets:
        for g in _grantees(n):
            for p in privs:
                b.add(op, Obj(PRIVILEGE, p, parent=t, detail=g), on=t, cascade=n.get("behavior") == "DROP_CASCADE")


def _default_privileges(b: _Builder, n: dict) -> None:
    schema = ""
    for o in n.get("options", ()):
        d = o.get("DefElem", {})
        if d.get("defname") == "schemas":
            schema = ",".join(pg.strings(d.get("arg", {}).get("List", {}).get("items")))
    action = n.get("action") or {}
    b.add(ALTER, Obj(DEFAULT_PRIVILEGES, action.get("objtype", ""), schema), attr="default privileges", value=None)


def _comment(b: _Builder, n: dict) -> None:
    obj = object_of(n.get("objtype", ""), n.get("object"), b.sp)
    if obj is not None:
        b.add(COMMENT, obj, attr="comment", value=n.get("comment"))


def _event_trigger(b: _Builder, n: dict) -> None:
    b.add(CREATE, Obj(EVENT_TRIGGER, n.get("trigname", "")), refs=frozenset(pg.strings(n.get("funcname"))[-1:]))


def _foreign_table(b: _Builder, n: dict) -> None:
    base = n.get("base") or {}
    b.add(
        CREATE,
        rel_obj(base.get("relation"), FOREIGN_TABLE, b.sp),
        if_not_exists=bool(base.get("if_not_exists")),
        refs=frozenset({n.get("servername", "")}),
    )


def _server(b: _Builder, n: dict) -> None:
    b.add(CREATE, Obj(SERVER, n.get("servername", "")), if_not_exists=bool(n.get("if_not_exists")))


def _publication(b: _Builder, n: dict) -> None:
    b.add(CREATE, Obj(PUBLICATION, n.get("pubname", "")))


_DML = {"InsertStmt": "INSERT", "UpdateStmt": "UPDATE", "DeleteStmt": "DELETE", "MergeStmt": "MERGE"}


def _data(b: _Builder, n: dict, kind: str | None = None) -> None:
    """Row changes: the target of every INSERT/UPDATE/DELETE/MERGE in the statement (CTEs too)."""
    stack: list = [(kind, n)] if kind else [(None, n)]
    seen = set()
    while stack:
        k, cur = stack.pop()
        if isinstance(cur, dict):
            if k in _DML and cur.get("relation"):
                rv = cur["relation"]
                key = (rv.get("schemaname"), rv.get("relname"), k)
                if key not in seen:
                    seen.add(key)
                    b.add(DATA, rel_obj(rv, TABLE, b.sp), attr=_DML[k], spec=specs.data(k, cur))
            for kk, v in cur.items():
                if isinstance(v, (dict, list)):
                    stack.append((kk, v))
        elif isinstance(cur, list):
            stack.extend((k, v) for v in cur)


def _truncate(b: _Builder, n: dict) -> None:
    for r in n.get("relations", ()):
        b.add(
            DATA,
            rel_obj(r.get("RangeVar"), TABLE, b.sp),
            attr="TRUNCATE",
            cascade=n.get("behavior") == "DROP_CASCADE",
            spec=("data", True, (), ()),
        )


def _copy(b: _Builder, n: dict) -> None:
    if n.get("is_from") and n.get("relation"):
        b.add(DATA, rel_obj(n["relation"], TABLE, b.sp), attr="COPY", spec=("data", False, (), (specs.ANY_COLUMN,)))


_HANDLERS = {
    "CreateStmt": _create_table,
    "CreateTableAsStmt": _create_table_as,
    "SelectStmt": _select,
    "ViewStmt": _view,
    "IndexStmt": _index,
    "CreateSeqStmt": _sequence,
    "AlterSeqStmt": _alter_sequence,
    "CreateFunctionStmt": _function,
    "DefineStmt": _aggregate,
    "CreateTrigStmt": _trigger,
    "CreatePolicyStmt": _policy,
    "AlterPolicyStmt": _alter_policy,
    "RuleStmt": _rule,
    "CreateSchemaStmt": _schema,
    "CreateExtensionStmt": _extension,
    "AlterExtensionStmt": _alter_extension,
    "CompositeTypeStmt": _composite,
    "CreateEnumStmt": _enum,
    "CreateRangeStmt": _range,
    "CreateDomainStmt": _domain,
    "AlterDomainStmt": _alter_domain,
    "AlterEnumStmt": _alter_enum,
    "DropStmt": _drop,
    "DropRoleStmt": _drop_role,
    "CreateRoleStmt": _create_role,
    "AlterTableStmt": _alter_table,
    "RenameStmt": _rename,
    "AlterObjectSchemaStmt": _set_schema,
    "AlterFunctionStmt": _alter_function,
    "AlterOwnerStmt": _alter_owner,
    "GrantStmt": _grant,
    "AlterDefaultPrivilegesStmt": _default_privileges,
    "CommentStmt": _comment,
    "CreateEventTrigStmt": _event_trigger,
    "CreateForeignTableStmt": _foreign_table,
    "CreateForeignServerStmt": _server,
    "CreatePublicationStmt": _publication,
    "InsertStmt": lambda b, n: _data(b, n, "InsertStmt"),
    "UpdateStmt": lambda b, n: _data(b, n, "UpdateStmt"),
    "DeleteStmt": lambda b, n: _data(b, n, "DeleteStmt"),
    "MergeStmt": lambda b, n: _data(b, n, "MergeStmt"),
    "TruncateStmt": _truncate,
    "CopyStmt": _copy,
}


# --- whole files -------------------------------------------------------------------------------


def _search_path(st: Statement) -> str | None:
    """The single schema a ``SET search_path`` (or ``set_config('search_path', ...)``) makes
    unqualified names resolve to; "" when it resets or names several; None when not such a statement."""
    n = st.node
    if st.kind == "VariableSetStmt" and n.get("name") == "search_path":
        if n.get("kind") != "VAR_SET_VALUE":
            return ""
        vals: list[str] = []
        for a in n.get("args", ()):
            c = a.get("A_Const", {})
            v = c.get("sval", {}).get("sval") if "sval" in c else None
            if v is None and "ColumnRef" in a:
                v = (pg.strings(a["ColumnRef"].get("fields")) or [""])[0]
            if v is not None:
                vals.extend(x.strip().strip('"') for x in v.split(","))
        vals = [v for v in vals if v and v not in ("pg_catalog", "pg_temp")]
        return vals[0] if len(vals) == 1 and vals[0] != "$user" else ""
    return None


def _do_unknown(st: Statement, text: str) -> str | None:
    """Why the statements a ``DO`` block runs cannot all be known statically, or None."""
    body = plpgsql.do_body(st, text)
    if body is None:
        return "a DO block in a language other than PL/pgSQL"
    tree = plpgsql.parse_body(body)
    if tree is None:
        return "a DO block whose body does not parse"
    stack = [tree]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            for key, val in cur.items():
                if key in ("PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors") or (
                    key in ("PLpgSQL_stmt_open", "PLpgSQL_stmt_return_query")
                    and isinstance(val, dict)
                    and val.get("dynquery")
                ):
                    q = (val.get("query") or val.get("dynquery") or {}).get("PLpgSQL_expr", {}).get("query", "")
                    literal = plpgsql.decode_literal(q)
                    if literal is None:
                        return "dynamic SQL (EXECUTE of a string built at run time) in a DO block"
                    try:
                        _pgparser.parse_sql_json(literal[0])
                    except (_pgparser.ParseError, RecursionError, ValueError):
                        return "an EXECUTE in a DO block whose SQL does not parse"
                if key == "PLpgSQL_stmt_call":
                    expr = (val.get("expr") or {}).get("PLpgSQL_expr", {}).get("query", "")
                    if not expr.lower().lstrip().startswith("call _migrations."):
                        return "a CALL in a DO block"
                if isinstance(val, (dict, list)):
                    stack.append(val)
        elif isinstance(cur, list):
            stack.extend(cur)
    return None


def effects_of(statements: Iterable[Statement], text: str) -> list[Effect]:
    """Effects of statements in file order (``DO`` blocks followed by their inner statements, as
    ``MigrationFile.all_statements`` gives them). ``text`` is the file's text (for ``DO`` bodies)."""
    out: list[Effect] = []
    sp = ""
    prev: list[Effect] = []
    own_functions: set[str] = set()
    for st in statements:
        new_sp = _search_path(st)
        if new_sp is not None:
            sp = new_sp
            continue
        if st.kind == "SelectStmt" and not st.inner:
            for fc in _set_config_search_path(st.node):
                sp = fc
        if own_functions and (st.kind in ("SelectStmt", "DoStmt") or st.inner):  # (none defined: none called)
            called = own_functions.intersection(_called(st.node))
            if called:
                out.append(
                    Effect(UNKNOWN, None, st, reason=f"calls {sorted(called)[0]}(), a function the same file defines")
                )
        if st.kind == "DoStmt":
            why = _do_unknown(st, text)
            if why:
                out.append(Effect(UNKNOWN, None, st, reason=why))
            continue
        effs = statement_effects(st, sp)
        own_functions.update(
            e.obj.name for e in effs if e.op == CREATE and e.obj is not None and e.obj.kind in ROUTINES
        )
        for e in effs:
            if e.op == CREATE and any(p.op == DROP and p.missing_ok and same(p.obj, e.obj) for p in prev):
                e.recreate = True
        if effs:
            prev = effs
        out.extend(effs)
    return out


def _called(node) -> set[str]:
    """Names of the functions a statement calls."""
    out = set()
    for cur in pg.dicts(node):
        if "FuncCall" in cur:
            names = pg.strings(cur["FuncCall"].get("funcname"))
            if names:
                out.add(names[-1])
    return out


def _set_config_search_path(n: dict) -> list[str]:
    out = []
    for t in n.get("targetList", ()):
        fc = t.get("ResTarget", {}).get("val", {}).get("FuncCall")
        if not fc or pg.strings(fc.get("funcname"))[-1:] != ["set_config"]:
            continue
        args = fc.get("args", [])
        if len(args) >= 2 and args[0].get("A_Const", {}).get("sval", {}).get("sval") == "search_path":
            v = args[1].get("A_Const", {}).get("sval", {}).get("sval")
            if v is not None:
                vals = [x.strip().strip('"') for x in v.split(",") if x.strip() not in ("", "pg_catalog", "pg_temp")]
                out.append(vals[0] if len(vals) == 1 and vals[0] != "$user" else "")
    return out


_FILE_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Loc(FrozenRecord):
    """Where a statement is, without its parse tree: what an ``Effect`` of ``file_effects``
    carries as ``stmt`` (a finding's position is all the cross-file rules take from it)."""

    __slots__ = ("line", "column", "end_line", "end_column")
    line: int
    column: int
    end_line: int
    end_column: int

    def __init__(self, line: int, column: int, end_line: int, end_column: int):
        set_ = object.__setattr__  # (as a frozen dataclass sets its fields: the hot path makes many)
        set_(self, "line", line)
        set_(self, "column", column)
        set_(self, "end_line", end_line)
        set_(self, "end_column", end_column)


def file_effects(f) -> list[Effect]:
    """Effects of every statement of a ``MigrationFile`` (its ``all_statements``), computed once
    per file and memoised on its bytes (``migcheck.summaries``: a pool worker that parsed the file
    hands them to the main process). Their ``stmt`` is a ``Loc``, not the parse tree."""
    cached = _FILE_CACHE.get(f)
    if cached is None:
        from .. import summaries

        cached = summaries.summary(f, "effects", _located_effects)
        _FILE_CACHE[f] = cached
    return cached


def _located_effects(f) -> list[Effect]:
    out = effects_of(f.all_statements, f.text)
    locs: dict[int, Loc] = {}
    for e in out:  # fresh objects: no one else holds them yet
        st = e.stmt
        if st is not None:
            loc = locs.get(id(st))
            if loc is None:
                loc = locs[id(st)] = Loc(st.line, st.column, st.end_line, st.end_column)
            e.stmt = loc
    return out


# --- as JSON, for the cache pack (``migcheck.summaries``) -----------------------------------
# An Effect as a dict of the fields that differ from their defaults (an Obj as a list, a Loc
# as four numbers); decoding checks the types, and anything else raises TypeError/ValueError
# (the entry is then ignored and computed again).

_EFFECT_DEFAULTS = {
    name: p.default
    for name, p in inspect.signature(Effect).parameters.items()
    if p.default is not inspect.Parameter.empty and name != "stmt"
}


def _obj_encode(o: Obj | None):
    if o is None:
        return None
    return [o.kind, o.name, o.schema, _obj_encode(o.parent), None if o.args is None else list(o.args), o.detail]


def _str(v) -> str:
    if type(v) is not str:
        raise TypeError("not a string")
    return v


def _obj_decode(v, depth: int = 0) -> Obj | None:
    if v is None:
        return None
    if type(v) is not list or len(v) != 6 or depth > 50:
        raise ValueError("not an object")
    kind, name, schema, parent, args, detail = v
    return Obj(
        _str(kind),
        _str(name),
        _str(schema),
        _obj_decode(parent, depth + 1),
        None if args is None else tuple(map(_str, args)),
        _str(detail),
    )


def _tuples(v, depth: int = 0):
    """A spec back from JSON: lists as tuples (``analysis.specs``)."""
    if type(v) is list:
        if depth > 8:
            raise ValueError("too deep")
        return tuple(_tuples(x, depth + 1) for x in v)
    return v


def encode_effects(effects: list[Effect]) -> list[dict]:
    out = []
    for e in effects:
        d: dict = {"op": e.op, "obj": _obj_encode(e.obj)}
        if e.stmt is not None:
            s = e.stmt
            d["stmt"] = [s.line, s.column, s.end_line, s.end_column]
        for name, default in _EFFECT_DEFAULTS.items():
            v = getattr(e, name)
            if v != default:
                d[name] = _obj_encode(v) if name in ("new", "on") else sorted(v) if name in ("columns", "refs") else v
        out.append(d)
    return out


_OPS = frozenset({CREATE, DROP, ALTER, RENAME, DATA, COMMENT, UNKNOWN})


def decode_effects(raw) -> list[Effect]:
    if type(raw) is not list:
        raise TypeError("not a list")
    out = []
    for d in raw:
        if type(d) is not dict:
            raise TypeError("not an effect")
        kw = dict(d)
        kw["op"] = _str(kw.get("op"))
        kw["obj"] = _obj_decode(kw.get("obj"))
        if kw["op"] not in _OPS or (kw["obj"] is None and kw["op"] != UNKNOWN):
            raise ValueError("not an effect")  # (the rules read obj of every effect but UNKNOWN)
        if "stmt" in kw:
            loc = kw["stmt"]
            if type(loc) is not list or len(loc) != 4 or any(type(n) is not int for n in loc):
                raise ValueError("not a location")
            kw["stmt"] = Loc(*loc)
        for name in ("new", "on"):
            if name in kw:
                kw[name] = _obj_decode(kw[name])
        for name in ("columns", "refs"):
            if name in kw:
                kw[name] = frozenset(map(_str, kw[name]))
        for name in ("attr", "reason"):
            if name in kw:
                _str(kw[name])
        for name in ("value", "defn"):
            if kw.get(name) is not None:
                _str(kw[name])
        for name in ("replace", "if_not_exists", "missing_ok", "cascade", "guessed", "recreate"):
            if name in kw and type(kw[name]) is not bool:
                raise TypeError("not a flag")
        if "spec" in kw:
            kw["spec"] = _tuples(kw["spec"])
            if not specs.valid(kw["spec"]):
                raise ValueError("not a spec")
        if kw["op"] == RENAME and kw.get("new") is None:
            raise ValueError("a rename without its new name")
        out.append(Effect(**kw))  # an unknown field: TypeError
    return out


def sql_effects(sql: str) -> list[Effect]:
    """Effects of a SQL text (for tests and tools): parsed like a file, DO blocks included."""
    from .. import source

    pos = source.Positions(sql)
    parsed = source.parse(sql, pos)
    stmts: list[Statement] = []
    for st in parsed.statements:
        stmts.append(st)
        if st.kind == "DoStmt":
            stmts.extend(plpgsql.inner_statements(st, sql, pos))
    return effects_of(stmts, sql)


# --- the model: replaying effects ---------------------------------------------------------------


class Entry(Record):
    """One object the model met. ``existed``: before the first phase (True, False, or None when a
    ``CREATE OR REPLACE`` or the re-create idiom leaves it open)."""

    __slots__ = (
        "obj",
        "orig",
        "existed",
        "exists",
        "first_phase",
        "on",
        "columns",
        "refs",
        "guessed",
        "created",
        "defined",
        "replaced",
        "dropped",
        "direct_drop",
        "renamed",
        "altered",
        "touched",
        "if_not_exists",
        "__dict__",
    )
    obj: Obj  # current identity
    orig: Obj  # identity before the first phase
    existed: bool | None
    exists: bool
    first_phase: str
    on: Obj | None
    columns: frozenset
    refs: frozenset
    guessed: bool
    created: dict  # phase -> the CREATE (or revival) effect
    defined: dict  # phase -> the last CREATE effect that defined it
    replaced: dict  # phase -> effect that re-defined a pre-existing object
    dropped: dict  # phase -> the effect that dropped it
    direct_drop: dict  # phase -> True when dropped by name (not by cascade)
    renamed: dict  # phase -> the last RENAME effect
    altered: dict  # phase -> {attr: (first effect, first value, last value)}
    touched: set  # phases that did something to it
    if_not_exists: bool  # first met as a CREATE ... IF NOT EXISTS (``Model.there_before``)

    # (compared and hashed by identity, as the ``@dataclass(eq=False)`` it was)
    __eq__ = object.__eq__
    __hash__ = object.__hash__  # type: ignore[assignment]

    def __init__(
        self,
        obj: Obj,
        orig: Obj,
        existed: bool | None,
        exists: bool,
        first_phase: str,
        on: Obj | None = None,
        columns: frozenset = frozenset(),
        refs: frozenset = frozenset(),
        guessed: bool = False,
        created: dict | None = None,
        defined: dict | None = None,
        replaced: dict | None = None,
        dropped: dict | None = None,
        direct_drop: dict | None = None,
        renamed: dict | None = None,
        altered: dict | None = None,
        touched: set | None = None,
        if_not_exists: bool = False,
    ):
        self.obj = obj
        self.orig = orig
        self.existed = existed
        self.exists = exists
        self.first_phase = first_phase
        self.on = on
        self.columns = columns
        self.refs = refs
        self.guessed = guessed
        self.created = {} if created is None else created
        self.defined = {} if defined is None else defined
        self.replaced = {} if replaced is None else replaced
        self.dropped = {} if dropped is None else dropped
        self.direct_drop = {} if direct_drop is None else direct_drop
        self.renamed = {} if renamed is None else renamed
        self.altered = {} if altered is None else altered
        self.touched = set() if touched is None else touched
        self.if_not_exists = if_not_exists


class Model:
    """Replays effects, phase by phase, over a schema it does not know.

    ``history``, when given, tells what the model cannot see: the CREATE that last defined an
    object before the first phase (from the earlier migrations), so that an index, sequence or
    constraint the migration only renames is known to go with its table. ``existed``, when given,
    tells whether an object was there before the first phase (the schema model over the earlier
    migrations): a ``CREATE ... IF NOT EXISTS`` of such an object does nothing, and nothing is
    left for a rollback to drop. The schemas every database has (``public``) count as there."""

    def __init__(
        self, history: Callable[[Obj], Effect | None] | None = None, existed: Callable[[Obj], bool] | None = None
    ) -> None:
        self.entries: list[Entry] = []
        self.unknown: list[Effect] = []
        self.history = history
        self.existed = existed
        # ``_kill``'s index: name -> the entries that may depend on an object of that name, in
        # ``entries`` order; None when an entry was added or its identity, table, columns or
        # references changed since it was built (``_changed``)
        self._dependents: dict[str, list[Entry]] | None = None

    # lookups
    def live(self, obj: Obj) -> list[Entry]:
        if obj.kind == PRIVILEGE:  # "all" matches any privilege's name
            return [e for e in self.entries if e.exists and same(e.obj, obj)]
        name = obj.name  # (``same`` needs the same name: tested first, it is cheap)
        return [e for e in self.entries if e.exists and e.obj.name == name and same(e.obj, obj)]

    def dead(self, obj: Obj) -> list[Entry]:
        if obj.kind == PRIVILEGE:
            return [e for e in self.entries if not e.exists and same(e.obj, obj)]
        name = obj.name
        return [e for e in self.entries if not e.exists and e.obj.name == name and same(e.obj, obj)]

    def _changed(self) -> None:
        """An entry was added, or what ``_depends`` reads of one changed: ``_kill``'s index is stale."""
        self._dependents = None

    def _new(self, obj: Obj, existed: bool | None, exists: bool, phase: str, eff: Effect | None = None) -> Entry:
        orig = obj
        if existed is True and obj.parent is not None:
            # hanging on a table renamed earlier in this run: originally it hung on the old name
            holder = next((e for e in self.entries if e.exists and same(e.obj, obj.parent)), None)
            if holder is not None and holder.obj != holder.orig:
                orig = obj.replace(parent=holder.orig)
        ent = Entry(obj, orig, existed, exists, phase)
        if eff is not None:
            ent.on, ent.columns, ent.refs, ent.guessed = eff.on, eff.columns, eff.refs, eff.guessed
        elif existed is True and self.history is not None:
            before = self.history(orig)
            if before is not None and before.op == CREATE:
                ent.on, ent.columns, ent.refs = self._current(before.on), before.columns, before.refs
        self.entries.append(ent)
        self._changed()
        return ent

    def _current(self, obj: Obj | None) -> Obj | None:
        """``obj``'s identity now, after the renames replayed so far."""
        if obj is None:
            return None
        for e in self.entries:
            if e.existed is not False and same(e.orig, obj) and e.obj != e.orig:
                return e.obj
        return obj

    def created_in(self, obj: Obj, phase: str, _seen: set | None = None) -> bool:
        """Is ``obj`` (or the table/type it hangs on) an object that ``phase`` created?

        ``_seen``: the objects asked already in this question. The tables things belong to can
        form a cycle (an index named like its own table: relations share one namespace); an
        object asked again adds nothing to the answer."""
        seen = set() if _seen is None else _seen
        if obj in seen:
            return False
        seen.add(obj)
        for ent in self.live(obj):
            if ent.existed is False and ent.first_phase == phase:
                return True
            if ent.on is not None and self.created_in(ent.on, phase, seen):
                return True
        if obj.parent is not None and self.created_in(obj.parent, phase, seen):
            return True
        return False

    def present(self, obj: Obj, besides: Entry | None = None) -> bool:
        """Does another object now carry ``obj``'s name?"""
        return any(e is not besides and e.exists and same(e.obj, obj) for e in self.entries)

    def was_there(self, obj: Obj, besides: Entry | None = None) -> bool:
        """Did another object carry ``obj``'s name before the first phase?"""
        return any(e is not besides and e.existed is True and same(e.orig, obj) for e in self.entries)

    def holders(self, ent: Entry) -> list[Entry]:
        """The entries of the tables ``ent`` hangs on that its own statement created with
        ``IF NOT EXISTS`` (a table's constraints go with the table: a no-op takes them too)."""
        out = []
        for h in (ent.obj.parent, ent.on):
            if h is None:
                continue
            for e in self.entries:
                if (
                    e is not ent
                    and e.if_not_exists
                    and e.existed is False
                    and same(e.obj, h)
                    and ent.created.get("m")
                    and e.created.get("m")
                    and _loc(e.created["m"]) == _loc(ent.created["m"])
                ):
                    out.append(e)
        return out

    def created_holder(self, ent: Entry) -> bool:
        """Does ``ent`` hang on a table the first phase created, which still exists? (Not one its
        ``CREATE ... IF NOT EXISTS`` found there: what hangs on that is judged on its own.)"""
        for h in (ent.obj.parent, ent.on):
            if h is not None and any(
                e is not ent
                and e.exists
                and e.existed is False
                and e.first_phase == "m"
                and same(e.obj, h)
                and not self.there_before(e)
                for e in self.entries
            ):
                return True
        return False

    def rebuilt_holder(self, ent: Entry) -> bool:
        """Did the rollback phase create (or re-create) the table ``ent`` hangs on?"""
        holders = [h for h in (ent.obj.parent, ent.orig.parent, ent.on) if h is not None]
        for h in holders:
            for e in self.entries:
                if e.exists and same(e.obj, h) and ("r" in e.created or "r" in e.replaced):
                    return True
        return False

    def apply(self, effects: Iterable[Effect], phase: str) -> None:
        for eff in effects:
            if eff.obj is None and eff.op != UNKNOWN:
                continue
            if eff.op == CREATE:
                self._create(eff, phase)
            elif eff.op == DROP:
                self._drop(eff, phase)
            elif eff.op == ALTER:
                self._alter(eff, phase)
            elif eff.op == RENAME:
                self._rename(eff, phase)
            elif eff.op == UNKNOWN:
                self.unknown.append(eff)

    def _create(self, eff: Effect, phase: str) -> None:
        obj = eff.obj
        assert obj is not None  # (only UNKNOWN has none: apply)
        live = self.live(obj)
        if live:
            for ent in live:
                ent.touched.add(phase)
                if not (eff.if_not_exists and not eff.replace):
                    ent.defined[phase] = eff
                if ent.first_phase == phase and ent.existed is False:
                    continue  # created earlier in this phase
                if eff.if_not_exists and not eff.replace and ent.first_phase == phase:
                    continue  # already there: IF NOT EXISTS does nothing
                # a re-definition of what existed before this phase (in a later phase: a restore)
                ent.replaced.setdefault(phase, eff)
                self._refresh(ent, eff)
            return
        dead = self.dead(obj)
        if dead:
            for ent in dead:
                ent.exists = True
                ent.touched.add(phase)
                ent.defined[phase] = eff
                self._refresh(ent, eff)
                if ent.first_phase != phase:
                    ent.created[phase] = eff  # a later phase re-creates it: a restore
                elif ent.existed is False:
                    ent.created.setdefault(phase, eff)  # created, dropped, created again
                elif phase in ent.dropped:
                    ent.dropped.pop(phase)
                    ent.direct_drop.pop(phase, None)
                    if (
                        eff.recreate
                        and ent.existed is True
                        and phase not in ent.renamed
                        and phase not in ent.replaced
                        and phase not in ent.altered
                    ):
                        ent.existed = None  # the re-create idiom: DROP ... IF EXISTS x; CREATE x
                        ent.created[phase] = eff
                    else:
                        ent.replaced.setdefault(phase, eff)
                else:
                    ent.replaced.setdefault(phase, eff)
            return
        if eff.if_not_exists and not eff.replace and (obj.kind, obj.name) in BUILTIN:
            ent = self._new(obj, True, True, phase)  # every database has it: nothing is created
            ent.touched.add(phase)
            return
        ent = self._new(obj, None if eff.replace else False, True, phase, eff)
        ent.created[phase] = eff
        ent.defined[phase] = eff
        ent.touched.add(phase)
        ent.if_not_exists = eff.if_not_exists and not eff.replace

    def there_before(self, ent: Entry) -> bool:
        """Did the object ``ent`` names exist before the first phase (``existed``, the schema
        model over the earlier migrations)? Asked only of a ``CREATE ... IF NOT EXISTS`` that
        would be a finding: then it created nothing."""
        return ent.if_not_exists and self.existed is not None and self.existed(ent.orig)

    def _refresh(self, ent: Entry, eff: Effect) -> None:
        ent.on, ent.columns, ent.refs, ent.guessed = eff.on, eff.columns, eff.refs, eff.guessed
        self._changed()

    def _drop(self, eff: Effect, phase: str) -> None:
        obj = eff.obj
        assert obj is not None  # (only UNKNOWN has none: apply)
        live = self.live(obj)
        if obj.kind in ROUTINES and obj.args is None and len(live) > 1:
            return  # "function name is not unique": the statement fails, nothing is dropped
        if not live:
            if self.dead(obj):
                return  # dropped already: fails, or IF EXISTS skips it
            live = [self._new(obj, True, True, phase)]  # there before: the model had not met it
        for ent in live:
            self._kill(ent, eff, phase, direct=True)

    def _kill(self, ent: Entry, eff: Effect, phase: str, direct: bool) -> None:
        if not ent.exists:
            return
        ent.exists = False
        ent.touched.add(phase)
        ent.dropped[phase] = eff
        ent.direct_drop[phase] = direct
        gone = ent.obj
        for other in self._candidates(gone):
            if other is ent or not other.exists:
                continue
            if self._depends(other, gone):
                self._kill(other, eff, phase, direct=False)

    def _candidates(self, gone: Obj) -> list[Entry]:
        """The entries that may depend on ``gone`` (``_depends`` decides), in ``entries`` order.

        Every way ``_depends`` finds a dependent but three needs ``gone``'s name among the
        dependent's own name, its parent's, its table's, its columns or its references: those
        are found through an index by name, built once for a run of drops (a rollback's
        ``DROP TABLE`` after ``DROP TABLE``) instead of comparing every pair of entries. A schema
        (everything in it), a role (its privileges) and a privilege (``all``) go through all."""
        if gone.kind in (SCHEMA, ROLE, PRIVILEGE):
            return list(self.entries)
        index = self._dependents
        if index is None:
            index = self._dependents = {}
            for other in self.entries:
                o = other.obj
                names = {o.name, *other.columns, *other.refs}
                if o.parent is not None:
                    names.add(o.parent.name)
                if other.on is not None:
                    names.add(other.on.name)
                for name in names:
                    if isinstance(name, str):
                        index.setdefault(name, []).append(other)
        return list(index.get(gone.name, ()))

    @staticmethod
    def _depends(other: Entry, gone: Obj) -> bool:
        o = other.obj
        if o.parent is not None and same(o.parent, gone):
            return True
        if other.on is not None and same(other.on, gone):
            return True
        if gone.kind == COLUMN and gone.parent is not None:
            table = gone.parent
            if gone.name in other.columns and (
                (other.on is not None and same(other.on, table)) or (o.parent is not None and same(o.parent, table))
            ):
                return True
        if (
            gone.kind == CONSTRAINT
            and o.kind == INDEX
            and o.name == gone.name
            and gone.parent is not None
            and other.on is not None
            and same(other.on, gone.parent)
        ):
            return True  # the index behind a PRIMARY KEY / UNIQUE constraint
        if gone.kind == SCHEMA:
            schema = o.parent.schema if o.parent is not None else o.schema
            if schema == gone.name or (gone.name == "public" and not schema):
                return True
        if gone.kind in (ROLE,) and o.kind == PRIVILEGE and o.detail == gone.name:
            return True
        if gone.kind not in (COLUMN, CONSTRAINT, PRIVILEGE, ENUM_VALUE) and gone.name in other.refs:
            return True
        return False

    def _alter(self, eff: Effect, phase: str) -> None:
        obj = eff.obj
        assert obj is not None  # (only UNKNOWN has none: apply)
        live = self.live(obj)
        if not live:
            if self.dead(obj):
                return  # altering what is gone: fails, or IF EXISTS skips it
            if self.created_in(obj, phase):
                return
            live = [self._new(obj, True, True, phase)]
        for ent in live:
            ent.touched.add(phase)
            if eff.attr == "owned by":
                ent.on, ent.columns = eff.on, eff.columns  # dropped with that table or column from now on
                self._changed()
            if ent.existed is False and ent.first_phase == phase:
                continue
            if self.created_in(ent.obj, phase):
                continue
            attrs = ent.altered.setdefault(phase, {})
            if eff.attr in attrs:
                first, first_value, _ = attrs[eff.attr]
                attrs[eff.attr] = (first, first_value, eff.value)
            else:
                attrs[eff.attr] = (eff, eff.value, eff.value)

    def _rename(self, eff: Effect, phase: str) -> None:
        obj = eff.obj
        assert obj is not None  # (only UNKNOWN has none: apply)
        live = self.live(obj)
        if not live:
            if self.dead(obj):
                return  # renaming what is gone: fails, or IF EXISTS skips it
            live = [self._new(obj, True, True, phase)]
        new = eff.new
        if new is None:
            return
        moved_schema = new.schema != obj.schema
        self._changed()  # identities, tables and columns follow the new name
        for ent in live:
            old = ent.obj
            ent.touched.add(phase)
            ent.renamed[phase] = eff
            ent.obj = old.replace(name=new.name, schema=new.schema if moved_schema else old.schema)
            # what hangs on it follows it
            for other in self.entries:
                if other is ent:
                    continue
                o = other.obj
                if o.parent is not None and same(o.parent, old):
                    other.obj = o = o.replace(parent=ent.obj)
                if other.on is not None and same(other.on, old):
                    other.on = ent.obj
                if (
                    old.kind == COLUMN
                    and old.name in other.columns
                    and old.parent is not None
                    and (
                        (other.on is not None and same(other.on, old.parent))
                        or (o.parent is not None and same(o.parent, old.parent))
                    )
                ):
                    other.columns = (other.columns - {old.name}) | {ent.obj.name}
                if old.kind == SCHEMA and o.schema == old.name:
                    other.obj = o.replace(schema=ent.obj.name)


# --- what a rollback leaves behind --------------------------------------------------------------


class Leftover(Record):
    """Something the migration did that the rollback does not undo.

    ``what``: ``created`` (still there), ``replaced`` (a pre-existing object re-defined, old
    definition not restored), ``created or replaced`` (``CREATE OR REPLACE`` / the re-create idiom:
    neither dropped nor restored), ``dropped`` (not re-created), ``altered`` (``attr`` not changed
    back), ``renamed`` (not renamed back), ``enum value`` (``ALTER TYPE ... ADD VALUE``: PostgreSQL
    cannot remove an enum value)."""

    __slots__ = ("what", "obj", "effect", "attr", "now", "values", "entry", "__dict__")
    what: str
    obj: Obj  # the object as the migration knew it
    effect: Effect  # the migration's effect
    attr: str
    now: Obj | None  # its identity after the rollback (None: gone)
    values: tuple[str, ...]  # enum values added to one type
    entry: Entry | None

    def __init__(
        self,
        what: str,
        obj: Obj,
        effect: Effect,
        attr: str = "",
        now: Obj | None = None,
        values: tuple[str, ...] = (),
        entry: Entry | None = None,
    ):
        self.what = what
        self.obj = obj
        self.effect = effect
        self.attr = attr
        self.now = now
        self.values = values
        self.entry = entry


# objects that are dropped and re-created to change their definition (views, functions, ...; an
# index, for its columns). A table or constraint dropped and re-created (around a bulk update) is
# usually re-created as it was: not reported.
REDEFINED_KINDS = frozenset({VIEW, MATVIEW, FUNCTION, PROCEDURE, AGGREGATE, TRIGGER, POLICY, RULE, INDEX})

# attributes whose change a rollback must undo (the others: owner, statistics, storage, ... are
# bookkeeping the model records but does not demand back)
REVERSIBLE_ATTRS = frozenset(
    {
        "type",
        "default",
        "not null",
        "identity",
        "generated expression",
        "row level security",
        "force row level security",
        "logged",
        "enabled",
        "triggers enabled",
        "definition",
        "deferrable",
        "options",
    }
)


class Comparison(Record):
    """What replaying a migration then its rollback left changed (``compare``)."""

    __slots__ = ("leftovers", "unknown", "model", "__dict__")
    leftovers: list[Leftover]
    unknown: list[Effect]  # rollback statements the model cannot see through
    model: Model | None  # None once the rules that read it are done with it (``rollback.comparison``)

    def __init__(self, leftovers: list[Leftover], unknown: list[Effect], model: Model | None):
        self.leftovers = leftovers
        self.unknown = unknown
        self.model = model


def compare(
    migration: list[Effect],
    rollback: list[Effect],
    history: Callable[[Obj], Effect | None] | None = None,
    existed: Callable[[Obj], bool] | None = None,
) -> Comparison:
    """Replay the migration, then the rollback: what the rollback leaves changed. ``history``
    and ``existed``: see ``Model``."""
    model = Model(history, existed)
    model.apply(migration, "m")
    seen = len(model.unknown)
    model.apply(rollback, "r")
    r_unknown = model.unknown[seen:]
    out: list[Leftover] = []
    for ent in model.entries:
        if ent.first_phase == "m":
            out.extend(_leftovers(ent, model))
    return Comparison(_prune(out, rollback), r_unknown, model)


def _loc(e: Effect) -> tuple[int, int] | None:
    return (e.stmt.line, e.stmt.column) if e.stmt is not None else None


def _leftovers(ent: Entry, model: Model) -> list[Leftover]:
    restored = "r" in ent.created or "r" in ent.replaced
    now = ent.obj if ent.exists else None
    if ent.existed is False:
        eff = ent.created.get("m")
        if not ent.exists or restored or eff is None:
            return []
        if eff.attr == TEMPORARY:
            return []  # a temporary table: gone when the migration's session ends
        if ent.obj.kind == EXTENSION and eff.if_not_exists:
            return []  # "make sure it is there": extensions are shared, it may well have been there before
        if not same_place(ent.obj, ent.orig) and model.was_there(ent.obj, ent):
            return []  # renamed by the rollback to the name of an object the migration dropped: its stand-in
        if model.created_holder(ent):
            return []  # hangs on a table the migration created: that table is reported, or a stand-in
        if model.there_before(ent) or any(model.there_before(h) for h in model.holders(ent)):
            return []  # IF NOT EXISTS of what was there before (or on a table that was): created nothing
        return [Leftover("enum value" if ent.obj.kind == ENUM_VALUE else "created", ent.orig, eff, now=now, entry=ent)]
    if restored or model.rebuilt_holder(ent):
        return []  # the rollback defines it (or the table it hangs on) anew: its definition is the rollback's
    # there before the migration (or maybe: existed is None). Names count: a rollback that gives the
    # original name back to an object (re-created, or renamed) restores the schema as the
    # application sees it
    if not ent.exists:
        if model.present(ent.orig, ent):
            return []
        if "m" in ent.dropped:
            if ent.direct_drop.get("m") and ent.existed is True:
                return [Leftover("dropped", ent.orig, ent.dropped["m"], entry=ent)]
            return []  # dropped by a cascade, or maybe never there (CREATE OR REPLACE, then DROP)
        if ent.existed is True and "m" in ent.replaced:
            return [Leftover("replaced", ent.orig, ent.replaced["m"], entry=ent)]
        if ent.existed is True and "m" in ent.renamed:
            return [Leftover("renamed", ent.orig, ent.renamed["m"], entry=ent)]
        return []  # only altered by the migration, then dropped by the rollback: not our business
    out: list[Leftover] = []
    if "m" in ent.renamed and not same_place(ent.obj, ent.orig):
        if not (model.present(ent.orig, ent) and model.was_there(ent.obj, ent)):
            out.append(Leftover("renamed", ent.orig, ent.renamed["m"], now=now, entry=ent))
    if ent.existed is None and "m" in ent.created:
        out.append(Leftover("created or replaced", ent.orig, ent.created["m"], now=now, entry=ent))
    elif ent.existed is True and "m" in ent.replaced and ent.obj.kind in REDEFINED_KINDS:
        out.append(Leftover("replaced", ent.orig, ent.replaced["m"], now=now, entry=ent))
    if not same_place(ent.obj, ent.orig):
        return out  # renamed: the attributes of what now has another name are the rename's business
    r_attrs = ent.altered.get("r", {})
    for attr, (eff, first, last) in ent.altered.get("m", {}).items():
        if attr not in REVERSIBLE_ATTRS:
            continue
        if {first, last} == {"on", "off"}:
            continue  # switched and switched back by the migration itself (DISABLE/ENABLE TRIGGER ALL)
        if attr in r_attrs:
            # the rollback sets it again: even to the migration's own value, that may be the old one
            # (a SET NOT NULL the column already had), so any change of the attribute counts
            continue
        out.append(Leftover("altered", ent.orig, eff, attr=attr, now=now, entry=ent))
    return out


def _prune(leftovers: list[Leftover], rollback: list[Effect]) -> list[Leftover]:
    """Leave out what another leftover implies (an index on a created table still there), a
    guessed name (unnamed index or constraint) on a table the rollback does touch, and merge the
    enum values added to one type into one leftover."""
    created = [l.now for l in leftovers if l.what in ("created", "created or replaced") and l.now is not None]

    def holders(l: Leftover) -> list[Obj]:
        obj = l.now or l.obj
        out = [obj.parent] if obj.parent is not None else []
        if l.entry is not None and l.entry.on is not None:
            out.append(l.entry.on)
        return out

    out: list[Leftover] = []
    enums: dict[Obj, Leftover] = {}
    for l in leftovers:
        hs = holders(l)
        if l.what in ("created", "enum value", "created or replaced") and any(
            same(c, h) for c in created if c is not l.now for h in hs
        ):
            continue
        if (
            l.what == "created"
            and l.entry is not None
            and l.entry.columns
            and any(
                c.kind == COLUMN and c.name in l.entry.columns and any(same(c.parent, h) for h in hs)
                for c in created
                if c is not l.now
            )
        ):
            continue  # a constraint, index or sequence on a column that is itself left behind
        if l.entry is not None and l.entry.guessed and any(touches(rollback, h) for h in hs):
            continue
        if l.what == "enum value" and l.obj.parent is not None:
            key = l.obj.parent
            if key in enums:
                enums[key].values += (l.obj.name,)
                continue
            l.values = (l.obj.name,)
            enums[key] = l
        out.append(l)
    return out


def touches(effects: Iterable[Effect], table: Obj, model: Model | None = None) -> bool:
    """Does any of ``effects`` act on ``table`` (rows, definition, or something hanging on it)?
    With ``model``, an index or sequence named without its table (``DROP INDEX i``) counts when
    the model knows it is ``table``'s."""
    ns = _namespace(table.kind)
    for e in effects:
        if e.obj is None:
            continue
        for o in (e.obj, e.obj.parent, e.on, e.new):
            if o is not None and _namespace(o.kind) == ns and same(o, table):
                return True
        if model is not None and e.op in (CREATE, DROP, ALTER, RENAME):
            for ent in model.entries:
                if ent.on is not None and same(ent.on, table) and (same(ent.obj, e.obj) or same(ent.orig, e.obj)):
                    return True
    return False
