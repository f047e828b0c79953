"""Idempotency (shared by missing-if-not-exists and missing-if-exists): which statements lack the
``IF NOT EXISTS`` / ``IF EXISTS`` / ``OR REPLACE`` form PostgreSQL has for them, and the minimal
text edit that adds it (the future ``--fix``).

The edit is found with PostgreSQL's scanner (never a regular expression and never a deparse):
the words go right after a keyword token, in the author's case, and every candidate edit is
checked by parsing the result: its parse tree must differ from the original only in the flag
(plus the name, for an unnamed ``CREATE INDEX``). An edit that cannot be proved that way is
not offered.
"""

from __future__ import annotations

import copy
import functools
import json

from .._pglast import parser as pgparser
from ..model import FrozenRecord, Record, Statement
from . import pg
from .destructive import OBJECT_WORDS, constraint_name, dropped_names, ident, names, relation

NOT_EXISTS = "IF NOT EXISTS"
EXISTS = "IF EXISTS"
REPLACE = "OR REPLACE"

NAMEDATALEN = 64  # PostgreSQL's identifier limit is NAMEDATALEN - 1 bytes


# --- what is missing ---------------------------------------------------------------------------


class Option(FrozenRecord):
    """One way to write the missing words: after a token named in ``anchors`` (moved past the
    tokens in ``follow`` that come right after it), or after one of the ``first`` tokens that
    follow the statement's first token."""

    __slots__ = ("words", "anchors", "follow", "first", "extra")
    words: str
    anchors: frozenset
    follow: frozenset
    first: int
    extra: str  # inserted after the words as is (the name of an unnamed index)

    def __init__(
        self,
        words: str,
        anchors: frozenset = frozenset(),
        follow: frozenset = frozenset(),
        first: int = 0,
        extra: str = "",
    ):
        self._init(words, anchors, follow, first, extra)


class Gap(FrozenRecord):
    """One missing ``IF [NOT] EXISTS`` / ``OR REPLACE`` in a statement.

    ``sets``: the fields of the statement's node the edit sets, as ``(path, value)``;
    ``keys``: the ``(object type, name, table)`` of what the clause is about (for the file's
    history: dropped earlier, created earlier); ``parent``: the relation or type it lives on."""

    __slots__ = ("words", "clause", "noun", "name", "options", "sets", "keys", "parent", "unnamed", "count")
    words: str  # "IF NOT EXISTS", "IF EXISTS", "OR REPLACE"
    clause: str  # "CREATE INDEX", "ADD COLUMN", "DROP CONSTRAINT", ...
    noun: str  # "index", "column", ...
    name: str  # display name, "" when the object has none
    options: tuple[Option, ...]
    sets: tuple[tuple[tuple, object], ...]
    keys: tuple[tuple[str, str, str], ...]
    parent: str
    unnamed: bool  # CREATE INDEX without a name
    count: int  # how many objects the clause names (DROP VIEW a, b: 2)

    def __init__(
        self,
        words: str,
        clause: str,
        noun: str,
        name: str,
        options: tuple[Option, ...],
        sets: tuple[tuple[tuple, object], ...],
        keys: tuple[tuple[str, str, str], ...] = (),
        parent: str = "",
        unnamed: bool = False,
        count: int = 1,
    ):
        self._init(words, clause, noun, name, options, sets, keys, parent, unnamed, count)


def _opt(words: str, *anchors: str, follow: tuple[str, ...] = (), extra: str = "") -> Option:
    return Option(words, frozenset(anchors), frozenset(follow), extra=extra)


_FLAG = ((("if_not_exists",), True),)
_REPLACE = ((("replace",), True),)
_MISSING_OK = ((("missing_ok",), True),)
_AFTER_CREATE = (_opt(REPLACE, "CREATE"),)


def _last(items) -> str:
    parts = pg.strings(items)
    return parts[-1] if parts else ""


def _relname(rv: dict | None) -> str:
    return (rv or {}).get("relname", "")


def _simple(words, clause, noun, name, anchors, sets=_FLAG, key=None, parent="", follow=()):
    return Gap(words, clause, noun, name, (_opt(words, *anchors, follow=follow),), sets, (key,) if key else (), parent)


def create_gaps(kind: str, node: dict, postgres_version: int = 15) -> list[Gap]:
    """The ``IF NOT EXISTS`` / ``OR REPLACE`` a CREATE-like statement lacks (none when it has no
    such form at ``postgres_version``)."""
    n = node
    v = postgres_version
    if kind == "CreateStmt" and not n.get("if_not_exists"):
        rel = n.get("relation")
        return [
            _simple(NOT_EXISTS, "CREATE TABLE", "table", relation(rel), ("TABLE",), key=("table", _relname(rel), ""))
        ]
    if kind == "CreateTableAsStmt" and not n.get("if_not_exists"):
        rel = (n.get("into") or {}).get("rel")
        if n.get("objtype") == "OBJECT_MATVIEW":
            return [
                _simple(
                    NOT_EXISTS,
                    "CREATE MATERIALIZED VIEW",
                    "materialized view",
                    relation(rel),
                    ("VIEW",),
                    key=("materialized view", _relname(rel), ""),
                )
            ]
        if n.get("objtype") == "OBJECT_TABLE":
            return [
                _simple(
                    NOT_EXISTS, "CREATE TABLE", "table", relation(rel), ("TABLE",), key=("table", _relname(rel), "")
                )
            ]
        return []
    if kind == "CreateForeignTableStmt" and not (n.get("base") or {}).get("if_not_exists"):
        rel = (n.get("base") or {}).get("relation")
        return [
            _simple(
                NOT_EXISTS,
                "CREATE FOREIGN TABLE",
                "foreign table",
                relation(rel),
                ("TABLE",),
                sets=((("base", "if_not_exists"), True),),
                key=("foreign table", _relname(rel), ""),
            )
        ]
    if kind == "IndexStmt" and not n.get("if_not_exists"):
        table = _relname(n.get("relation"))
        if n.get("idxname"):
            return [
                _simple(
                    NOT_EXISTS,
                    "CREATE INDEX",
                    "index",
                    ident(n["idxname"]),
                    ("INDEX",),
                    key=("index", n["idxname"], ""),
                    parent=table,
                    follow=("CONCURRENTLY",),
                )
            ]
        name = default_index_name(n)
        options = (_opt(NOT_EXISTS, "INDEX", follow=("CONCURRENTLY",), extra=ident(name)),) if name else ()
        sets = _FLAG + (((("idxname",), name),) if name else ())
        return [Gap(NOT_EXISTS, "CREATE INDEX", "index", name or "", options, sets, (), table, unnamed=True)]
    if kind == "CreateSchemaStmt" and not n.get("if_not_exists") and not n.get("schemaElts"):
        # CREATE SCHEMA IF NOT EXISTS cannot include schema elements: no such form then
        name = n.get("schemaname") or (n.get("authrole") or {}).get("rolename") or ""
        return [_simple(NOT_EXISTS, "CREATE SCHEMA", "schema", ident(name), ("SCHEMA",), key=("schema", name, ""))]
    if kind == "CreateSeqStmt" and not n.get("if_not_exists"):
        rel = n.get("sequence")
        return [
            _simple(
                NOT_EXISTS,
                "CREATE SEQUENCE",
                "sequence",
                relation(rel),
                ("SEQUENCE",),
                key=("sequence", _relname(rel), ""),
            )
        ]
    if kind == "CreateExtensionStmt" and not n.get("if_not_exists"):
        name = n.get("extname", "")
        # plain CREATE LANGUAGE x is parsed as CREATE EXTENSION x; its OR REPLACE sets the same flag
        return [
            Gap(
                NOT_EXISTS,
                "CREATE EXTENSION",
                "extension",
                ident(name),
                (_opt(NOT_EXISTS, "EXTENSION"), _opt(REPLACE, "CREATE")),
                _FLAG,
                (("extension", name, ""),),
            )
        ]
    if kind == "CreateForeignServerStmt" and not n.get("if_not_exists"):
        name = n.get("servername", "")
        return [_simple(NOT_EXISTS, "CREATE SERVER", "server", ident(name), ("SERVER",), key=("server", name, ""))]
    if kind == "CreateUserMappingStmt" and not n.get("if_not_exists"):
        user = (n.get("user") or {}).get("rolename") or "CURRENT_USER"
        name = f"FOR {ident(user)} SERVER {ident(n.get('servername', ''))}"
        return [_simple(NOT_EXISTS, "CREATE USER MAPPING", "user mapping", name, ("MAPPING",))]
    if kind == "DefineStmt" and n.get("kind") == "OBJECT_COLLATION" and not n.get("if_not_exists") and v >= 10:
        parts = pg.strings(n.get("defnames"))
        return [
            _simple(
                NOT_EXISTS,
                "CREATE COLLATION",
                "collation",
                names(parts),
                ("COLLATION",),
                key=("collation", parts[-1] if parts else "", ""),
            )
        ]
    if kind == "CreateStatsStmt" and not n.get("if_not_exists") and n.get("defnames") and v >= 10:
        parts = pg.strings(n.get("defnames"))
        return [
            _simple(
                NOT_EXISTS,
                "CREATE STATISTICS",
                "statistics object",
                names(parts),
                ("STATISTICS",),
                key=("statistics", parts[-1], ""),
            )
        ]
    if (
        kind == "AlterEnumStmt"
        and n.get("newVal") is not None
        and not n.get("oldVal")
        and not n.get("skipIfNewValExists")
    ):
        typ = pg.strings(n.get("typeName"))
        value = "'" + n["newVal"].replace("'", "''") + "'"
        return [
            _simple(
                NOT_EXISTS,
                "ADD VALUE",
                "value",
                value,
                ("VALUE_P",),
                sets=((("skipIfNewValExists",), True),),
                parent=typ[-1] if typ else "",
            )
        ]
    if kind == "AlterTableStmt" and n.get("objtype") in ("OBJECT_TABLE", "OBJECT_FOREIGN_TABLE"):
        table = _relname(n.get("relation"))
        out = []
        dropped_here: set[str] = set()
        for i, cmd in enumerate(n.get("cmds") or ()):
            c = cmd.get("AlterTableCmd", {})
            if c.get("subtype") == "AT_DropColumn":
                dropped_here.add(c.get("name", ""))
            elif c.get("subtype") == "AT_AddColumn" and not c.get("missing_ok"):
                col = (c.get("def") or {}).get("ColumnDef", {}).get("colname", "")
                if col in dropped_here:  # DROP COLUMN c, ADD COLUMN c: re-created in place
                    continue
                out.append(
                    _simple(
                        NOT_EXISTS,
                        "ADD COLUMN",
                        "column",
                        ident(col),
                        ("ADD_P",),
                        sets=((("cmds", i, "AlterTableCmd", "missing_ok"), True),),
                        key=("column", col, table),
                        parent=table,
                        follow=("COLUMN",),
                    )
                )
        return out
    # OR REPLACE
    if kind == "CreateFunctionStmt" and not n.get("replace"):
        word = "PROCEDURE" if n.get("is_procedure") else "FUNCTION"
        parts = pg.strings(n.get("funcname"))
        return [
            Gap(
                REPLACE,
                f"CREATE {word}",
                word.lower(),
                names(parts),
                _AFTER_CREATE,
                _REPLACE,
                ((word.lower(), parts[-1] if parts else "", ""),),
            )
        ]
    if kind == "ViewStmt" and not n.get("replace"):
        rel = n.get("view")
        return [
            Gap(REPLACE, "CREATE VIEW", "view", relation(rel), _AFTER_CREATE, _REPLACE, (("view", _relname(rel), ""),))
        ]
    if kind == "CreateTrigStmt" and not n.get("replace") and not n.get("isconstraint") and v >= 14:
        table = _relname(n.get("relation"))
        name = f"{ident(n.get('trigname', ''))} ON {relation(n.get('relation'))}"
        return [
            Gap(
                REPLACE,
                "CREATE TRIGGER",
                "trigger",
                name,
                _AFTER_CREATE,
                _REPLACE,
                (("trigger", n.get("trigname", ""), table),),
                table,
            )
        ]
    if kind == "RuleStmt" and not n.get("replace"):
        table = _relname(n.get("relation"))
        return [
            Gap(
                REPLACE,
                "CREATE RULE",
                "rule",
                f"{ident(n.get('rulename', ''))} ON {relation(n.get('relation'))}",
                _AFTER_CREATE,
                _REPLACE,
                (("rule", n.get("rulename", ""), table),),
                table,
            )
        ]
    if kind == "DefineStmt" and n.get("kind") == "OBJECT_AGGREGATE" and not n.get("replace") and v >= 12:
        parts = pg.strings(n.get("defnames"))
        return [
            Gap(
                REPLACE,
                "CREATE AGGREGATE",
                "aggregate",
                names(parts),
                _AFTER_CREATE,
                _REPLACE,
                (("aggregate", parts[-1] if parts else "", ""),),
            )
        ]
    if kind == "CreatePLangStmt" and not n.get("replace"):
        name = n.get("plname", "")
        return [
            Gap(REPLACE, "CREATE LANGUAGE", "language", ident(name), _AFTER_CREATE, _REPLACE, (("language", name, ""),))
        ]
    if kind == "CreateTransformStmt" and not n.get("replace"):
        typ_name = names([p for p in pg.strings((n.get("type_name") or {}).get("names")) if p != "pg_catalog"])
        return [
            Gap(
                REPLACE,
                "CREATE TRANSFORM",
                "transform",
                f"FOR {typ_name} LANGUAGE {ident(n.get('lang', ''))}",
                _AFTER_CREATE,
                _REPLACE,
            )
        ]
    return []


_DROP_FIRST = 4  # IF EXISTS follows at most four words after DROP (DROP FOREIGN DATA WRAPPER)

_OTHER_DROPS = {
    "DropRoleStmt": ("DROP ROLE", "role"),
    "DropdbStmt": ("DROP DATABASE", "database"),
    "DropTableSpaceStmt": ("DROP TABLESPACE", "tablespace"),
    "DropSubscriptionStmt": ("DROP SUBSCRIPTION", "subscription"),
    "DropUserMappingStmt": ("DROP USER MAPPING", "user mapping"),
}


def _drop_option() -> tuple[Option, ...]:
    return (Option(EXISTS, first=_DROP_FIRST),)


def drop_gaps(kind: str, node: dict, postgres_version: int = 15) -> list[Gap]:
    """The ``IF EXISTS`` a DROP statement, or the drops of an ``ALTER TABLE`` / ``ALTER TYPE`` /
    ``ALTER DOMAIN``, lack. (Every drop form has had its ``IF EXISTS`` since it exists, so
    ``postgres_version`` changes nothing today.)"""
    n = node
    if kind == "DropStmt" and not n.get("missing_ok"):
        rtype = n.get("removeType", "")
        word = OBJECT_WORDS.get(rtype, rtype.replace("OBJECT_", "").replace("_", " "))
        if n.get("concurrent"):
            word += " CONCURRENTLY"
        noun = word.replace(" CONCURRENTLY", "").lower()
        shown = dropped_names(n)
        return [
            Gap(
                EXISTS,
                f"DROP {word}",
                noun,
                ", ".join(shown),
                _drop_option(),
                _MISSING_OK,
                tuple(_drop_keys(n)),
                count=len(n.get("objects") or ()),
            )
        ]
    if kind in _OTHER_DROPS and not n.get("missing_ok"):
        clause, noun = _OTHER_DROPS[kind]
        if kind == "DropRoleStmt":
            name = ", ".join(
                ident((r.get("RoleSpec") or {}).get("rolename") or "CURRENT_USER") for r in n.get("roles") or ()
            )
        elif kind == "DropdbStmt":
            name = ident(n.get("dbname", ""))
        elif kind == "DropTableSpaceStmt":
            name = ident(n.get("tablespacename", ""))
        elif kind == "DropSubscriptionStmt":
            name = ident(n.get("subname", ""))
        else:
            user = (n.get("user") or {}).get("rolename") or "CURRENT_USER"
            name = f"FOR {ident(user)} SERVER {ident(n.get('servername', ''))}"
        return [Gap(EXISTS, clause, noun, name, _drop_option(), _MISSING_OK, count=len(n.get("roles") or ()) or 1)]
    if kind == "AlterDomainStmt" and n.get("subtype") == "X" and not n.get("missing_ok"):
        domain = _last(n.get("typeName"))
        return [
            _simple(
                EXISTS,
                "DROP CONSTRAINT",
                "constraint",
                ident(n.get("name", "")),
                ("CONSTRAINT",),
                sets=_MISSING_OK,
                key=("constraint", n.get("name", ""), domain),
                parent=domain,
            )
        ]
    if (
        kind == "AlterTSConfigurationStmt"
        and n.get("kind") == "ALTER_TSCONFIG_DROP_MAPPING"
        and not n.get("missing_ok")
    ):
        tokens = pg.strings(n.get("tokentype"))
        return [
            _simple(
                EXISTS,
                "DROP MAPPING",
                "mapping",
                "FOR " + ", ".join(tokens),
                ("MAPPING",),
                sets=_MISSING_OK,
                parent=names(pg.strings(n.get("cfgname"))),
            )
        ]
    if kind == "AlterTableStmt":
        objtype = n.get("objtype")
        table = _relname(n.get("relation"))
        out = []
        for i, cmd in enumerate(n.get("cmds") or ()):
            c = cmd.get("AlterTableCmd", {})
            if c.get("missing_ok"):
                continue
            sub = c.get("subtype")
            sets = ((("cmds", i, "AlterTableCmd", "missing_ok"), True),)
            name = c.get("name", "")
            if sub == "AT_DropColumn" and objtype in ("OBJECT_TABLE", "OBJECT_FOREIGN_TABLE", "OBJECT_TYPE"):
                what = ("DROP ATTRIBUTE", "attribute") if objtype == "OBJECT_TYPE" else ("DROP COLUMN", "column")
                out.append(
                    _simple(
                        EXISTS,
                        what[0],
                        what[1],
                        ident(name),
                        ("DROP",),
                        sets=sets,
                        key=("column", name, table),
                        parent=table,
                        follow=("COLUMN", "ATTRIBUTE"),
                    )
                )
            elif sub == "AT_DropConstraint":
                out.append(
                    _simple(
                        EXISTS,
                        "DROP CONSTRAINT",
                        "constraint",
                        ident(name),
                        ("CONSTRAINT",),
                        sets=sets,
                        key=("constraint", name, table),
                        parent=table,
                    )
                )
            elif sub == "AT_DropIdentity":
                out.append(
                    _simple(
                        EXISTS,
                        "DROP IDENTITY",
                        "identity",
                        ident(name),
                        ("IDENTITY_P",),
                        sets=sets,
                        key=("identity", name, table),
                        parent=table,
                    )
                )
            elif sub == "AT_DropExpression":
                out.append(
                    _simple(
                        EXISTS,
                        "DROP EXPRESSION",
                        "generation expression",
                        ident(name),
                        ("EXPRESSION",),
                        sets=sets,
                        key=("expression", name, table),
                        parent=table,
                    )
                )
        return out
    return []


# --- object identity, for the file's history ---------------------------------------------------

_RELATIONS = ("table", "view", "materialized view", "foreign table")


def _drop_keys(node: dict) -> list[tuple[str, str, str]]:
    """``(type, name, table)`` of each object a DropStmt node removes (pg.drop_keys, plus the
    object types it does not know)."""
    st = Statement(0, "DropStmt", node, 0, 0, 1, 1, 1, 1, "")
    keys = pg.drop_keys(st)
    if keys or not node.get("objects"):
        return keys
    word = node.get("removeType", "").replace("OBJECT_", "").replace("_EXT", "").replace("_", " ").lower()
    out = []
    for obj in node.get("objects") or ():
        if "List" in obj:
            parts = pg.strings(obj["List"].get("items"))
        elif "ObjectWithArgs" in obj:
            parts = pg.strings(obj["ObjectWithArgs"].get("objname"))
        elif "String" in obj:
            parts = [obj["String"].get("sval", "")]
        else:
            parts = []
        out.append((word, parts[-1] if parts else "", ""))
    return out


def _same_type(a: str, b: str) -> bool:
    return a == b or {a, b} <= {"function", "procedure"}


# --- what a file drops and creates: the re-create idiom ------------------------------------------
# One account of the objects each statement drops and creates (by ``(type, name, table)``), read
# by the idempotency rules (``History``: a CREATE after a DROP of the same object needs no
# IF NOT EXISTS, a DROP of what the file created needs no IF EXISTS) and by the destructive rules
# (``Recreated``: a DROP whose object the file creates again loses nothing).

Key = tuple[str, str, str]
# the statements create_gaps knows a key of that pg.create_key may not (ALTER TABLE: ``events``)
_GAP_CREATES = frozenset(
    {
        "AlterEnumStmt",
        "CreateExtensionStmt",
        "CreateForeignServerStmt",
        "CreateForeignTableStmt",
        "CreateFunctionStmt",
        "CreatePLangStmt",
        "CreateSchemaStmt",
        "CreateSeqStmt",
        "CreateStatsStmt",
        "CreateStmt",
        "CreateTableAsStmt",
        "CreateTransformStmt",
        "CreateTrigStmt",
        "CreateUserMappingStmt",
        "DefineStmt",
        "IndexStmt",
        "RuleStmt",
        "ViewStmt",
    }
)
_EXTRA_CREATES = {"CreatePublicationStmt": lambda n: ("publication", n.get("pubname", ""), "")}


def events(st: Statement) -> list[tuple[str, Key, bool]]:
    """``("drop" | "create", (type, name, table), IF EXISTS)`` of what ``st`` drops and creates, in
    the order it does (the subcommands of an ALTER TABLE in order). Names are unqualified."""
    kind, node = st.kind, st.node
    if kind == "DropStmt":
        return [("drop", k, bool(node.get("missing_ok"))) for k in _drop_keys(node)]
    out: list[tuple[str, Key, bool]] = []
    created: set[Key] = set()

    def create(key: Key | None) -> None:
        if key is not None and key not in created:
            created.add(key)
            out.append(("create", key, False))

    key = pg.create_key(st)
    create(key)
    if kind in _EXTRA_CREATES:
        create(_EXTRA_CREATES[kind](node))
    if key is None and kind in _GAP_CREATES:
        # the keys create_gaps knows (collation, aggregate, statistics, ...), whatever the flags say
        # (where pg.create_key has one, create_gaps has no other; ALTER TABLE's are below)
        for gap in create_gaps(kind, {k: v for k, v in node.items() if k not in ("if_not_exists", "replace")}):
            for k in gap.keys:
                create(k)
    if kind == "CreateStmt":
        table = _relname(node.get("relation"))
        for elt in node.get("tableElts") or ():
            if "ColumnDef" in elt:
                cd = elt["ColumnDef"]
                create(("column", cd.get("colname", ""), table))
                for con in cd.get("constraints") or ():
                    if con.get("Constraint", {}).get("conname"):
                        create(("constraint", con["Constraint"]["conname"], table))
            elif "Constraint" in elt:
                name = constraint_name(table, elt["Constraint"])
                if name:
                    create(("constraint", name, table))
    elif kind == "AlterTableStmt":
        table = _relname(node.get("relation"))
        for cmd in node.get("cmds") or ():
            c = cmd.get("AlterTableCmd", {})
            sub = c.get("subtype")
            if sub == "AT_AddColumn":
                out.append(
                    ("create", ("column", (c.get("def") or {}).get("ColumnDef", {}).get("colname", ""), table), False)
                )
            elif sub == "AT_AddConstraint":
                name = constraint_name(table, (c.get("def") or {}).get("Constraint", {}))
                if name:
                    out.append(("create", ("constraint", name, table), False))
            elif sub == "AT_DropColumn":
                out.append(("drop", ("column", c.get("name", ""), table), bool(c.get("missing_ok"))))
            elif sub == "AT_DropConstraint":
                out.append(("drop", ("constraint", c.get("name", ""), table), bool(c.get("missing_ok"))))
    elif kind == "AlterDomainStmt" and node.get("subtype") == "X":
        out.append(
            ("drop", ("constraint", node.get("name", ""), _last(node.get("typeName"))), bool(node.get("missing_ok")))
        )
    return out


def _matches(a: Key, b: Key) -> bool:
    """Could keys ``a`` and ``b`` name the same object (a table left out matches any)?"""
    (ta, na, ra), (tb, nb, rb) = a, b
    return _same_type(ta, tb) and na == nb and (not ra or not rb or ra == rb)


class History(Record):
    """What the earlier top-level statements of a file dropped and created (``note`` each
    statement in turn; names unqualified, as ``pg.drop_keys`` has them)."""

    __slots__ = ("dropped", "created")

    def __init__(self, dropped: set | None = None, created: set | None = None):
        self.dropped: set = set() if dropped is None else dropped
        self.created: set = set() if created is None else created

    @staticmethod
    def _has(keys: set, key: Key) -> bool:
        return any(_matches(key, k) for k in keys)

    def parent_dropped(self, gap: Gap) -> bool:
        """The relation (the type, for ADD VALUE) the gap's object lives on was dropped earlier."""
        kinds = ("type",) if gap.clause == "ADD VALUE" else _RELATIONS
        return bool(gap.parent) and any(self._has(self.dropped, (t, gap.parent, "")) for t in kinds)

    def excuses_create(self, gap: Gap) -> bool:
        """The object was dropped earlier in the file (the re-create idiom and its longer forms),
        or the relation or type it lives on was: on a second run it does not exist here."""
        if self.parent_dropped(gap):
            return True
        return bool(gap.keys) and all(self._has(self.dropped, k) for k in gap.keys)

    def excuses_drop(self, gap: Gap) -> bool:
        """Every object was created earlier in the file, so it exists whenever the DROP runs."""
        return bool(gap.keys) and all(self._has(self.created, k) for k in gap.keys)

    def note(self, st: Statement) -> None:
        """Record what ``st`` drops and creates."""
        for op, key, _ in events(st):
            (self.dropped if op == "drop" else self.created).add(key)


class Recreated:
    """Which dropped objects the file creates again.

    ``idiom(st, i)``: the i-th object ``st`` drops (the i-th of ``pg.drop_keys``, or of the
    ALTER TABLE's DROP CONSTRAINTs) is dropped with ``IF EXISTS`` and created again by the next
    statement (CONVENTIONS.md, the re-create idiom; statements of a DO block pair among
    themselves), or, for a constraint, by an ADD CONSTRAINT after it in the same ALTER TABLE.
    ``later(st, i)``: it is created again by a later statement of the file (drop the views that
    depend on a column, change the column, re-create the views): nothing is lost either; a
    missing ``IF EXISTS`` is ``missing-if-exists``'s business."""

    def __init__(self, statements: list[Statement]):
        self._state: dict[int, dict[int, str]] = {}  # id(stmt) -> {object index: "idiom" | "later"}
        if not any(
            s.kind == "DropStmt"
            or (
                s.kind == "AlterTableStmt"
                and any(
                    c.get("AlterTableCmd", {}).get("subtype") == "AT_DropConstraint" for c in s.node.get("cmds") or ()
                )
            )
            for s in statements
        ):
            return  # nothing dropped: nothing to re-create (most files)
        steps = [events(s) for s in statements]
        creates: dict[str, list[tuple[int, Key]]] = {}  # name -> (position, key)
        for j, evs in enumerate(steps):
            for op, key, _ in evs:
                if op == "create":
                    creates.setdefault(key[1], []).append((j, key))
        nxt: dict[int, int] = {}  # position -> position of the next statement of its sequence
        last: dict[int | None, int] = {}
        for j, s in enumerate(statements):
            seq = id(s.parent) if s.parent is not None else None
            if seq in last:
                nxt[last[seq]] = j
            last[seq] = j
        for i, st in enumerate(statements):
            if st.kind not in ("DropStmt", "AlterTableStmt"):
                continue
            state: dict[int, str] = {}
            drops = [
                (k, e)
                for k, e in enumerate(steps[i])
                if e[0] == "drop" and (st.kind == "DropStmt" or e[1][0] == "constraint")
            ]
            for n, (at, (_, key, if_exists)) in enumerate(drops):
                # created again in the same statement (ALTER TABLE ... DROP CONSTRAINT c, ADD CONSTRAINT c)
                same = any(op == "create" and _matches(key, k) for op, k, _ in steps[i][at + 1 :])
                after = [j for j, c in creates.get(key[1], ()) if j > i and _matches(key, c)]
                if if_exists and (same or nxt.get(i) in after):
                    state[n] = "idiom"
                elif same or after:
                    state[n] = "later"
            if state:
                self._state[id(st)] = state

    def idiom(self, st: Statement, n: int) -> bool:
        return self._state.get(id(st), {}).get(n) == "idiom"

    def later(self, st: Statement, n: int) -> bool:
        return self._state.get(id(st), {}).get(n) == "later"


# --- the default name of an unnamed index ----------------------------------------------------

_UNSURE = object()


def _figure_colname(node: dict | None):
    """PostgreSQL's FigureColnameInternal for an index expression: ``(strength, name)``, or
    ``_UNSURE`` for the expressions this does not model."""
    if not node:
        return 0, None
    k, v = next(iter(node.items()))
    if k == "ColumnRef":
        parts = pg.strings(v.get("fields"))
        return (2, parts[-1]) if parts else (0, None)
    if k == "FuncCall":
        return 2, _last(v.get("funcname"))
    if k == "TypeCast":
        inner = _figure_colname(v.get("arg"))
        if inner is _UNSURE:
            return _UNSURE
        if inner[0] <= 1:
            return 1, _last((v.get("typeName") or {}).get("names"))
        return inner
    if k == "CollateClause":
        return _figure_colname(v.get("arg"))
    if k == "A_Expr":
        return (2, "nullif") if v.get("kind") == "AEXPR_NULLIF" else (0, None)
    if k == "CaseExpr":
        inner = _figure_colname(v.get("defresult"))
        if inner is _UNSURE:
            return _UNSURE
        return (1, "case") if inner[0] <= 1 else inner
    if k == "A_ArrayExpr":
        return 2, "array"
    if k == "RowExpr":
        return 2, "row"
    if k == "CoalesceExpr":
        return 2, "coalesce"
    if k == "MinMaxExpr":
        return 2, "greatest" if v.get("op") == "IS_GREATEST" else "least"
    if k == "A_Indirection":  # the last field name, else what is subscripted
        fields = pg.strings(v.get("indirection"))
        return (2, fields[-1]) if fields else _figure_colname(v.get("arg"))
    if k in (
        "SubLink",
        "GroupingFunc",
        "SQLValueFunction",
        "XmlExpr",
        "XmlSerialize",
        "MergeSupportFunc",
    ) or k.startswith("Json"):
        return _UNSURE
    return 0, None


def _clip(name: str, limit: int) -> str:
    """The longest prefix of ``name`` of at most ``limit`` UTF-8 bytes (pg_mbcliplen)."""
    out = name.encode("utf-8")[:limit]
    return out.decode("utf-8", errors="ignore")


def default_index_name(node: dict) -> str | None:
    """The name PostgreSQL gives an unnamed ``CREATE INDEX`` (ChooseIndexName: table, columns,
    ``idx``, truncated to 63 bytes), assuming it is not taken; None when unsure."""
    table = _relname(node.get("relation"))
    if not table:
        return None
    colnames: list[str] = []
    for item in list(node.get("indexParams") or ()) + list(node.get("indexIncludingParams") or ()):
        elem = item.get("IndexElem", {})
        if elem.get("indexcolname"):
            orig = elem["indexcolname"]
        elif elem.get("name"):
            orig = elem["name"]
        else:
            fig = _figure_colname(elem.get("expr"))
            if fig is _UNSURE:
                return None
            orig = fig[1] or "expr"
        cur, i = orig, 1
        while cur in colnames:
            suffix = str(i)
            cur = _clip(orig, NAMEDATALEN - 1 - len(suffix)) + suffix
            i += 1
        colnames.append(cur)
    if not colnames:
        return None
    addition = ""
    for name in colnames:  # ChooseIndexNameAddition
        if addition:
            addition += "_"
        addition += _clip(name, NAMEDATALEN - 1)
        if len(addition.encode("utf-8")) >= NAMEDATALEN:
            break
    label = "idx"
    n1, n2 = len(table.encode("utf-8")), len(addition.encode("utf-8"))
    avail = NAMEDATALEN - 1 - (1 + len(label) + 1)
    while n1 + n2 > avail:  # makeObjectName: truncate the longer part first
        if n1 > n2:
            n1 -= 1
        else:
            n2 -= 1
    return f"{_clip(table, n1)}_{_clip(addition, n2)}_{label}"


# --- the edit --------------------------------------------------------------------------------

_COMMENTS = ("SQL_COMMENT", "C_COMMENT")


class Rewrite(FrozenRecord):
    """A statement with ``IF [NOT] EXISTS`` (or ``OR REPLACE``) inserted: the fix's text."""

    __slots__ = ("text", "insertions")
    text: str  # the statement with the words inserted
    insertions: tuple[tuple[int, str], ...]  # (offset into the original text, inserted text)

    def __init__(self, text: str, insertions: tuple[tuple[int, str], ...]):
        self._init(text, insertions)


def _parse_one(text: str) -> dict | None:
    try:
        tree = json.loads(pgparser.parse_sql_json(text))
    except (pgparser.ParseError, RecursionError, ValueError):
        return None
    stmts = tree.get("stmts") or []
    return stmts[0]["stmt"] if len(stmts) == 1 else None


@functools.cache
def _position_fields() -> frozenset:
    """The names of the fields that hold a position in the text (``ParseLoc`` in pglast's AST:
    ``location``, ``arg_location``, ``list_start``, ...). Read from pglast's AST classes on first
    use (importing them costs more than a one-file check's parse: migcheck._pglast)."""
    from pglast import ast

    out = {"location", "stmt_location", "stmt_len"}
    for name in dir(ast):
        slots = getattr(getattr(ast, name), "__slots__", None)
        if isinstance(slots, dict):
            out.update(k for k, v in slots.items() if getattr(v, "c_type", v) == "ParseLoc")
    return frozenset(out)


def _strip(node):
    """The tree without its positions (they move when words are inserted)."""
    return _strip_fields(node, _position_fields())


def _strip_fields(node, positions: frozenset):
    if isinstance(node, dict):
        return {
            k: _strip_fields(v, positions)
            for k, v in node.items()
            if k not in positions and not k.endswith("_location")
        }
    if isinstance(node, list):
        return [_strip_fields(v, positions) for v in node]
    return node


def _set(node: dict, path: tuple, value) -> None:
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def _cased(words: str, sample: str) -> str:
    """``words`` in the case of the keyword they follow."""
    if sample.islower():
        return words.lower()
    if sample[:1].isupper() and sample[1:].islower():
        return words.title()
    return words


def _candidates(text: str, tokens, option: Option):
    seen = set()
    if option.first:
        spots = [(i, 0) for i in range(1, min(option.first, len(tokens) - 1) + 1)]
    else:
        spots = [(i, i) for i, t in enumerate(tokens) if t.name in option.anchors]
    for at, anchor in spots:
        j = at
        while option.follow and j + 1 < len(tokens) and tokens[j + 1].name in option.follow:
            j += 1
        offset = tokens[j].end + 1
        if offset in seen:
            continue
        seen.add(offset)
        sample = text[tokens[anchor].start : tokens[anchor].end + 1]
        inserted = " " + _cased(option.words, sample) + (" " + option.extra if option.extra else "")
        yield offset, inserted


def _apply(text: str, insertions) -> str:
    for offset, words in sorted(insertions, reverse=True):
        text = text[:offset] + words + text[offset:]
    return text


def rewrite(text: str, gaps: list[Gap]) -> Rewrite | None:
    """``text`` (one statement) with the words of every gap inserted, or None when no edit can be
    proved right: the result must parse to the original tree with exactly the gaps' fields set."""
    tree = _parse_one(text)
    if tree is None or not gaps:
        return None
    kind = next(iter(tree))
    try:
        tokens = [t for t in pgparser.scan(text) if t.name not in _COMMENTS]
    except pgparser.ParseError:
        return None
    expected = copy.deepcopy(tree)
    chosen: list[tuple[int, str]] = []
    for gap in gaps:
        try:
            for path, value in gap.sets:
                _set(expected[kind], path, value)
        except (KeyError, IndexError, TypeError):
            return None
        target = _strip(expected)
        for option in gap.options:
            found = next(
                (
                    c
                    for c in _candidates(text, tokens, option)
                    if _strip(_parse_one(_apply(text, chosen + [c]))) == target
                ),
                None,
            )
            if found:
                chosen.append(found)
                break
        else:
            return None
    return Rewrite(_apply(text, chosen), tuple(sorted(chosen)))


def statement_text(text: str) -> str:
    """The statement without what follows its last token (white space, comments, the ``;``)."""
    try:
        tokens = [t for t in pgparser.scan(text) if t.name not in _COMMENTS]
    except pgparser.ParseError:
        return text.strip()
    while tokens and tokens[-1].name == "ASCII_59":
        tokens.pop()
    return text[: tokens[-1].end + 1] if tokens else text.strip()


def shown(rw: Rewrite) -> str:
    """The rewritten statement as the help shows it, ending with ``;``: exactly, when it is one
    line without comments; else its tokens up to the end of the line of the token after the last
    edit, comments left out and the space between tokens collapsed, ending with `...` when there
    is more."""
    body = statement_text(rw.text)
    if "\n" not in body and "\r" not in body and "--" not in body and "/*" not in body:
        return body + ";"
    try:
        tokens = [t for t in pgparser.scan(body) if t.name not in _COMMENTS]
    except pgparser.ParseError:
        return body + ";"
    last = max(offset for offset, _ in rw.insertions) + sum(len(w) for _, w in rw.insertions)
    after = next((t.end + 1 for t in tokens if t.start >= last), last)  # show the token after the edit
    breaks = [k for k in (body.find("\n", after), body.find("\r", after)) if k >= 0]
    cut = min(breaks) if breaks else len(body)
    out, prev = [], None
    for t in tokens:
        if t.end >= cut:
            break
        if prev is not None and t.start > prev.end + 1:
            out.append(" ")
        out.append(body[t.start : t.end + 1])
        prev = t
    return "".join(out) + (";" if len(out) and prev is tokens[-1] else " ...")


def leading_tokens(text: str, count: int) -> list[str]:
    """The names of the first ``count`` tokens of ``text`` (comments skipped)."""
    try:
        return [t.name for t in pgparser.scan(text) if t.name not in _COMMENTS][:count]
    except pgparser.ParseError:
        return []


def listing(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
