"""The static lock model: which table-level lock each statement takes, on which relations, and
whether it rewrites or scans a table.

Sources: PostgreSQL's documentation of explicit locking (chapter "Explicit Locking", table-level
lock modes) and of each command (ALTER TABLE lists the lock of every subcommand). Version
differences are taken from ``postgres_version``. Where the AST alone cannot tell (the volatility of
a user function, whether a type change is binary-coercible), the prediction says so in ``note``
instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import FrozenRecord, Statement
from . import pg

ACCESS_SHARE = "ACCESS SHARE"
ROW_SHARE = "ROW SHARE"
ROW_EXCLUSIVE = "ROW EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"
SHARE = "SHARE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
EXCLUSIVE = "EXCLUSIVE"
ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"

MODES = (
    ACCESS_SHARE,
    ROW_SHARE,
    ROW_EXCLUSIVE,
    SHARE_UPDATE_EXCLUSIVE,
    SHARE,
    SHARE_ROW_EXCLUSIVE,
    EXCLUSIVE,
    ACCESS_EXCLUSIVE,
)
STRENGTH = {m: i for i, m in enumerate(MODES)}

# What a lock held by a migration makes other sessions wait for, in plain words.
BLOCKS = {
    ACCESS_SHARE: "only ACCESS EXCLUSIVE (DDL such as DROP or ALTER TABLE); reads and writes go on",
    ROW_SHARE: "EXCLUSIVE and ACCESS EXCLUSIVE; reads and writes go on",
    ROW_EXCLUSIVE: "CREATE INDEX (non-concurrent) and DDL; reads and writes go on",
    SHARE_UPDATE_EXCLUSIVE: "other schema changes, VACUUM and ANALYZE; reads and writes go on",
    SHARE: "writes (INSERT, UPDATE, DELETE); reads go on",
    SHARE_ROW_EXCLUSIVE: "writes (INSERT, UPDATE, DELETE); reads go on",
    EXCLUSIVE: "writes and SELECT ... FOR UPDATE; plain reads go on",
    ACCESS_EXCLUSIVE: "everything: reads and writes queue behind it",
}

_LOCK_STMT_MODES = {
    1: ACCESS_SHARE,
    2: ROW_SHARE,
    3: ROW_EXCLUSIVE,
    4: SHARE_UPDATE_EXCLUSIVE,
    5: SHARE,
    6: SHARE_ROW_EXCLUSIVE,
    7: EXCLUSIVE,
    8: ACCESS_EXCLUSIVE,
}

# Functions whose result changes per row: as the default of a new column they force a rewrite.
VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuidv4",
        "uuidv7",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "setseed",
        "txid_current",
        "gen_random_bytes",
        "random_normal",
    }
)
# Functions known not to be volatile (immutable or stable): evaluated once for ADD COLUMN.
NON_VOLATILE_FUNCTIONS = frozenset(
    {
        "now",
        "statement_timestamp",
        "transaction_timestamp",
        "current_setting",
        "to_timestamp",
        "lower",
        "upper",
        "coalesce",
        "jsonb_build_object",
        "json_build_object",
        "array",
        "make_date",
        "make_interval",
        "to_jsonb",
        "to_json",
        "concat",
        "length",
        "date_trunc",
        "timezone",
    }
)
SERIAL_TYPES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})


class Lock(FrozenRecord):
    """The lock a statement takes on one relation, and whether it rewrites or scans it."""

    __slots__ = ("relation", "mode", "rewrite", "scan", "note")
    relation: str  # as written in the statement (schema-qualified when it was)
    mode: str
    rewrite: bool  # the table (and its indexes) are rewritten
    scan: bool  # every row is read (validation, index build)
    note: str

    def __init__(self, relation: str, mode: str, rewrite: bool = False, scan: bool = False, note: str = ""):
        set_ = object.__setattr__  # (as a frozen dataclass sets its fields: the hot path makes many)
        set_(self, "relation", relation)
        set_(self, "mode", mode)
        set_(self, "rewrite", rewrite)
        set_(self, "scan", scan)
        set_(self, "note", note)

    @property
    def blocks(self) -> str:
        return BLOCKS[self.mode]


def _volatility(expr) -> bool | None:
    """True when ``expr`` calls a known volatile function, False when it certainly does not,
    None when it calls a function migcheck does not know."""
    unknown = False
    stack = [expr]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            call = cur.get("FuncCall")
            if call is not None:
                name = pg.strings(call.get("funcname"))[-1:] or [""]
                fname = name[0].lower()
                if fname in VOLATILE_FUNCTIONS:
                    return True
                if fname not in NON_VOLATILE_FUNCTIONS:
                    unknown = True
            stack.extend(v for v in cur.values() if isinstance(v, (dict, list)))
        elif isinstance(cur, list):
            stack.extend(cur)
    return None if unknown else False


def _column_def_locks(table: str, col: dict, version: int) -> Lock:
    """ADD COLUMN: always ACCESS EXCLUSIVE; does it rewrite?"""
    name = col.get("colname", "?")
    type_names = [t.lower() for t in pg.strings(col.get("typeName", {}).get("names"))]
    if type_names and type_names[-1] in SERIAL_TYPES:
        return Lock(
            table,
            ACCESS_EXCLUSIVE,
            rewrite=True,
            note=f"ADD COLUMN {name} {type_names[-1]}: the nextval() default fills every row",
        )
    default = None
    for c in col.get("constraints", ()):
        con = c.get("Constraint", {})
        contype = con.get("contype")
        if contype == "CONSTR_GENERATED" and con.get("generated_kind") == "v":
            return Lock(
                table,
                ACCESS_EXCLUSIVE,
                note=f"ADD COLUMN {name} GENERATED ALWAYS AS ... VIRTUAL: catalog-only (PostgreSQL 18)",
            )
        if contype == "CONSTR_GENERATED":
            return Lock(
                table,
                ACCESS_EXCLUSIVE,
                rewrite=True,
                note=f"ADD COLUMN {name} GENERATED ALWAYS AS ... STORED computes every row",
            )
        if contype == "CONSTR_IDENTITY":
            return Lock(
                table, ACCESS_EXCLUSIVE, rewrite=True, note=f"ADD COLUMN {name} GENERATED AS IDENTITY fills every row"
            )
        if contype == "CONSTR_DEFAULT":
            default = con.get("raw_expr")
    if default is None:
        return Lock(table, ACCESS_EXCLUSIVE, note=f"ADD COLUMN {name}: catalog-only change")
    if version < 11:
        return Lock(
            table,
            ACCESS_EXCLUSIVE,
            rewrite=True,
            note=f"ADD COLUMN {name} with a DEFAULT rewrites the table before PostgreSQL 11",
        )
    vol = _volatility(default)
    if vol:
        return Lock(
            table,
            ACCESS_EXCLUSIVE,
            rewrite=True,
            note=f"ADD COLUMN {name} with a volatile DEFAULT computes it for every row",
        )
    if vol is None:
        return Lock(
            table, ACCESS_EXCLUSIVE, note=f"ADD COLUMN {name}: rewrites the table if its DEFAULT function is volatile"
        )
    return Lock(
        table, ACCESS_EXCLUSIVE, note=f"ADD COLUMN {name} with a constant DEFAULT: catalog-only since PostgreSQL 11"
    )


def _column_def_scans(table: str, col: dict) -> list[Lock]:
    """ADD COLUMN constraints that read every row (measured with `migcheck verify --trace` on
    PostgreSQL 15): UNIQUE / PRIMARY KEY build an index; NOT NULL without a DEFAULT is checked."""
    cons = [c.get("Constraint", {}) for c in col.get("constraints", ())]
    kinds = {c.get("contype") for c in cons}
    name = col.get("colname", "?")
    out = []
    if kinds & {"CONSTR_UNIQUE", "CONSTR_PRIMARY"}:
        out.append(
            Lock(table, ACCESS_EXCLUSIVE, scan=True, note=f"ADD COLUMN {name} UNIQUE/PRIMARY KEY builds an index")
        )
    if any(c.get("contype") == "CONSTR_CHECK" and not c.get("skip_validation") for c in cons):
        out.append(Lock(table, ACCESS_EXCLUSIVE, scan=True, note=f"ADD COLUMN {name} CHECK validates every row"))
    if "CONSTR_FOREIGN" in kinds and kinds & {"CONSTR_DEFAULT", "CONSTR_GENERATED"}:
        out.append(
            Lock(
                table,
                ACCESS_EXCLUSIVE,
                scan=True,
                note=f"ADD COLUMN {name} REFERENCES with a DEFAULT validates every row",
            )
        )
    if "CONSTR_NOTNULL" in kinds and not kinds & {"CONSTR_DEFAULT", "CONSTR_IDENTITY", "CONSTR_GENERATED"}:
        out.append(
            Lock(
                table, ACCESS_EXCLUSIVE, scan=True, note=f"ADD COLUMN {name} NOT NULL without DEFAULT checks every row"
            )
        )
    return out


# ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE (PostgreSQL 15 documentation).
_SUBCOMMAND_MODES = {
    "AT_SetStatistics": SHARE_UPDATE_EXCLUSIVE,
    "AT_SetOptions": SHARE_UPDATE_EXCLUSIVE,  # ALTER COLUMN SET (attribute_option = ...)
    "AT_ResetOptions": SHARE_UPDATE_EXCLUSIVE,
    "AT_SetRelOptions": SHARE_UPDATE_EXCLUSIVE,  # SET (fillfactor, autovacuum_*) for most options
    "AT_ResetRelOptions": SHARE_UPDATE_EXCLUSIVE,
    "AT_ClusterOn": SHARE_UPDATE_EXCLUSIVE,
    "AT_DropCluster": SHARE_UPDATE_EXCLUSIVE,
    "AT_ValidateConstraint": SHARE_UPDATE_EXCLUSIVE,
    "AT_AttachPartition": SHARE_UPDATE_EXCLUSIVE,  # on the parent; the partition gets ACCESS EXCLUSIVE
    "AT_EnableTrig": SHARE_ROW_EXCLUSIVE,
    "AT_EnableAlwaysTrig": SHARE_ROW_EXCLUSIVE,
    "AT_EnableReplicaTrig": SHARE_ROW_EXCLUSIVE,
    "AT_DisableTrig": SHARE_ROW_EXCLUSIVE,
    "AT_EnableTrigAll": SHARE_ROW_EXCLUSIVE,
    "AT_DisableTrigAll": SHARE_ROW_EXCLUSIVE,
    "AT_EnableTrigUser": SHARE_ROW_EXCLUSIVE,
    "AT_DisableTrigUser": SHARE_ROW_EXCLUSIVE,
}
_REWRITE_SUBCOMMANDS = {
    "AT_SetLogged": "SET LOGGED rewrites the table",
    "AT_SetUnLogged": "SET UNLOGGED rewrites the table",
    "AT_SetTableSpace": "SET TABLESPACE copies the table to the new tablespace",
    "AT_SetAccessMethod": "SET ACCESS METHOD rewrites the table",
}


def _alter_table(stmt: Statement, version: int, proven: Mapping[str, str]) -> list[Lock]:
    n = stmt.node
    table = pg.rangevar(n.get("relation"))
    locks: list[Lock] = []
    for cmd in n.get("cmds", ()):
        c = cmd.get("AlterTableCmd", {})
        sub = c.get("subtype", "")
        d = c.get("def") or {}
        if sub == "AT_AddColumn" and "ColumnDef" in d:
            locks.append(_column_def_locks(table, d["ColumnDef"], version))
            locks.extend(_column_def_scans(table, d["ColumnDef"]))
            for ref in _references(d["ColumnDef"]):
                if ref != table:
                    locks.append(
                        Lock(ref, SHARE_ROW_EXCLUSIVE, note="referenced table of the new column's foreign key")
                    )
        elif sub == "AT_AlterColumnType":
            locks.append(
                Lock(
                    table,
                    ACCESS_EXCLUSIVE,
                    rewrite=True,
                    note=f"ALTER COLUMN {c.get('name')} TYPE rewrites the table and its indexes unless the change is binary-coercible (e.g. varchar(n) to text)",
                )
            )
        elif sub == "AT_SetNotNull" and c.get("name") in proven:
            locks.append(Lock(table, ACCESS_EXCLUSIVE, note=f"SET NOT NULL on {c.get('name')}: {proven[c['name']]}"))
        elif sub == "AT_SetNotNull":
            locks.append(
                Lock(
                    table,
                    ACCESS_EXCLUSIVE,
                    scan=True,
                    note=f"SET NOT NULL on {c.get('name')} scans every row (skipped since PostgreSQL 12 when a validated CHECK (... IS NOT NULL) exists)",
                )
            )
        elif sub == "AT_AddConstraint" and "Constraint" in d:
            locks.extend(_add_constraint(table, d["Constraint"]))
        elif sub == "AT_ValidateConstraint":
            locks.append(
                Lock(
                    table,
                    SHARE_UPDATE_EXCLUSIVE,
                    scan=True,
                    note=f"VALIDATE CONSTRAINT {c.get('name')} scans every row",
                )
            )
        elif sub in _REWRITE_SUBCOMMANDS:
            locks.append(Lock(table, ACCESS_EXCLUSIVE, rewrite=True, note=_REWRITE_SUBCOMMANDS[sub]))
        elif sub == "AT_DetachPartition":
            part = pg.rangevar(d.get("PartitionCmd", {}).get("name"))
            if d.get("PartitionCmd", {}).get("concurrent"):
                locks.append(Lock(table, SHARE_UPDATE_EXCLUSIVE, note="DETACH PARTITION CONCURRENTLY"))
            else:
                locks.append(Lock(table, ACCESS_EXCLUSIVE, note="DETACH PARTITION"))
            if part:
                locks.append(Lock(part, ACCESS_EXCLUSIVE, note="the detached partition"))
        elif sub == "AT_AttachPartition":
            part = pg.rangevar(d.get("PartitionCmd", {}).get("name"))
            locks.append(Lock(table, SHARE_UPDATE_EXCLUSIVE, note="ATTACH PARTITION (parent)"))
            if part:
                locks.append(
                    Lock(
                        part,
                        ACCESS_EXCLUSIVE,
                        scan=True,
                        note="ATTACH PARTITION scans the partition unless a matching CHECK constraint exists",
                    )
                )
        else:
            mode = _SUBCOMMAND_MODES.get(sub, ACCESS_EXCLUSIVE)
            locks.append(Lock(table, mode, note=sub.removeprefix("AT_")))
    return _merge(locks)


def _add_constraint(table: str, con: dict) -> list[Lock]:
    contype = con.get("contype")
    not_valid = bool(con.get("skip_validation"))
    name = con.get("conname") or ""
    if contype == "CONSTR_FOREIGN":
        other = pg.rangevar(con.get("pktable"))
        scan = not not_valid
        note = "ADD FOREIGN KEY " + ("NOT VALID: no scan" if not_valid else "scans every row to validate")
        out = [Lock(table, SHARE_ROW_EXCLUSIVE, scan=scan, note=note)]
        if other and other != table:
            out.append(Lock(other, SHARE_ROW_EXCLUSIVE, note="referenced table of the new foreign key"))
        return out
    if contype == "CONSTR_CHECK":
        return [
            Lock(
                table,
                ACCESS_EXCLUSIVE,
                scan=not not_valid,
                note=f"ADD CHECK {name}".rstrip() + (" NOT VALID: no scan" if not_valid else ": scans every row"),
            )
        ]
    if contype in ("CONSTR_UNIQUE", "CONSTR_PRIMARY", "CONSTR_EXCLUSION"):
        if con.get("indexname"):
            return [Lock(table, ACCESS_EXCLUSIVE, note="ADD CONSTRAINT ... USING INDEX: catalog-only")]
        kind = {"CONSTR_UNIQUE": "UNIQUE", "CONSTR_PRIMARY": "PRIMARY KEY", "CONSTR_EXCLUSION": "EXCLUDE"}[contype]
        return [Lock(table, ACCESS_EXCLUSIVE, scan=True, note=f"ADD {kind} builds an index while holding the lock")]
    if contype == "CONSTR_NOTNULL":
        return [Lock(table, ACCESS_EXCLUSIVE, scan=not not_valid, note="ADD NOT NULL constraint scans every row")]
    return [Lock(table, ACCESS_EXCLUSIVE, note="ADD CONSTRAINT")]


def _merge(locks: list[Lock]) -> list[Lock]:
    """One entry per relation: the strongest mode, rewrite/scan if any subcommand does."""
    out: dict[str, Lock] = {}
    for lk in locks:
        cur = out.get(lk.relation)
        if cur is None:
            out[lk.relation] = lk
            continue
        mode = lk.mode if STRENGTH[lk.mode] > STRENGTH[cur.mode] else cur.mode
        notes = "; ".join(n for n in (cur.note, lk.note) if n)
        out[lk.relation] = Lock(lk.relation, mode, cur.rewrite or lk.rewrite, cur.scan or lk.scan, notes)
    return list(out.values())


def _references(coldef: dict) -> list[str]:
    return [
        pg.rangevar(c["Constraint"].get("pktable"))
        for c in coldef.get("constraints", ())
        if c.get("Constraint", {}).get("contype") == "CONSTR_FOREIGN"
    ]


def statement_locks(stmt: Statement, version: int = 15, proven: Mapping[str, str] | None = None) -> list[Lock]:
    """The table-level locks ``stmt`` takes. Empty when it locks no existing table (for example
    CREATE TABLE, or a statement migcheck has no model for). ``proven``: the columns whose
    ``SET NOT NULL`` needs no scan of its own, with why (the schema model knows: a validated
    CHECK proves it, or the same ALTER TABLE rewrites the table)."""
    k, n = stmt.kind, stmt.node
    if k == "AlterTableStmt":
        objtype = n.get("objtype")
        if objtype == "OBJECT_INDEX":
            return [Lock(pg.rangevar(n.get("relation")), ACCESS_EXCLUSIVE, note="ALTER INDEX")]
        return _alter_table(stmt, version, proven or {})
    if k == "CreateStmt":
        # a new table locks only the tables its foreign keys reference
        refs = []
        for elt in n.get("tableElts", ()):
            if "ColumnDef" in elt:
                refs.extend(_references(elt["ColumnDef"]))
            elif elt.get("Constraint", {}).get("contype") == "CONSTR_FOREIGN":
                refs.append(pg.rangevar(elt["Constraint"].get("pktable")))
        own = pg.rangevar(n.get("relation"))
        # measured on PostgreSQL 15: PARTITION OF locks the partitioned table ACCESS EXCLUSIVE
        # (ATTACH PARTITION takes less); INHERITS locks each parent SHARE UPDATE EXCLUSIVE
        parents = [pg.rangevar(r.get("RangeVar", r)) for r in n.get("inhRelations", ())]
        if n.get("partbound"):
            inherit = [
                Lock(
                    r,
                    ACCESS_EXCLUSIVE,
                    note="CREATE TABLE ... PARTITION OF locks the partitioned table "
                    "(ATTACH PARTITION takes only SHARE UPDATE EXCLUSIVE)",
                )
                for r in parents
            ]
        else:
            inherit = [Lock(r, SHARE_UPDATE_EXCLUSIVE, note="CREATE TABLE ... INHERITS (parent)") for r in parents]
        return _merge(
            inherit
            + [
                Lock(r, SHARE_ROW_EXCLUSIVE, note="referenced by a foreign key of the new table")
                for r in refs
                if r and r != own
            ]
        )
    if k == "IndexStmt":
        table = pg.rangevar(n.get("relation"))
        if n.get("concurrent"):
            return [
                Lock(
                    table, SHARE_UPDATE_EXCLUSIVE, scan=True, note="CREATE INDEX CONCURRENTLY: two scans, writes go on"
                )
            ]
        return [Lock(table, SHARE, scan=True, note="CREATE INDEX builds the index while holding the lock")]
    if k == "DropStmt":
        rtype = n.get("removeType")
        names = [o.get("List", {}).get("items") for o in n.get("objects", ()) if "List" in o]
        if rtype == "OBJECT_INDEX":
            mode = SHARE_UPDATE_EXCLUSIVE if n.get("concurrent") else ACCESS_EXCLUSIVE
            return [
                Lock(
                    pg.qualified(x),
                    mode,
                    note="DROP INDEX" + (" CONCURRENTLY" if n.get("concurrent") else " (and its table)"),
                )
                for x in names
            ]
        if rtype in ("OBJECT_TABLE", "OBJECT_MATVIEW", "OBJECT_VIEW", "OBJECT_FOREIGN_TABLE", "OBJECT_SEQUENCE"):
            # Not named, because only the catalog knows them (docs/trace.md, known differences):
            # the tables a dropped table's foreign keys reference, and with CASCADE the tables of
            # the dependent objects, are locked ACCESS EXCLUSIVE too.
            note = "DROP"
            if rtype == "OBJECT_TABLE":
                note += "; the tables its foreign keys reference are locked ACCESS EXCLUSIVE too"
            if n.get("behavior") == "DROP_CASCADE":
                note += "; CASCADE drops the objects that depend on it, locking their tables"
            return [Lock(pg.qualified(x), ACCESS_EXCLUSIVE, note=note) for x in names]
        if rtype in ("OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE"):
            # objects of the form table.name: the lock is on the table
            return [
                Lock(".".join(pg.strings(x)[:-1]), ACCESS_EXCLUSIVE, note=f"DROP {rtype.removeprefix('OBJECT_')}")
                for x in names
                if len(pg.strings(x)) > 1
            ]
        return []
    if k == "CreateTrigStmt":
        return [Lock(pg.rangevar(n.get("relation")), SHARE_ROW_EXCLUSIVE, note="CREATE TRIGGER")]
    if k in ("CreatePolicyStmt", "AlterPolicyStmt"):
        return [Lock(pg.rangevar(n.get("table")), ACCESS_EXCLUSIVE, note="CREATE/ALTER POLICY")]
    if k == "RuleStmt":
        return [Lock(pg.rangevar(n.get("relation")), ACCESS_EXCLUSIVE, note="CREATE RULE")]
    if k == "RenameStmt":
        rel = pg.rangevar(n.get("relation"))
        if rel and n.get("renameType") == "OBJECT_INDEX" and version >= 12:
            # ALTER INDEX ... RENAME (PostgreSQL 12+, ALTER INDEX reference page); the table is not
            # locked. Spelled ALTER INDEX on a name that is not an index, it takes ACCESS EXCLUSIVE.
            return [
                Lock(
                    rel,
                    SHARE_UPDATE_EXCLUSIVE,
                    note="ALTER INDEX RENAME (ACCESS EXCLUSIVE when the name is not an index)",
                )
            ]
        if rel:
            return [Lock(rel, ACCESS_EXCLUSIVE, note=f"RENAME {n.get('renameType', '').removeprefix('OBJECT_')}")]
        return []
    if k == "TruncateStmt":
        return [Lock(pg.rangevar(r.get("RangeVar")), ACCESS_EXCLUSIVE, note="TRUNCATE") for r in n.get("relations", ())]
    if k == "LockStmt":
        mode = _LOCK_STMT_MODES.get(n.get("mode", 8), ACCESS_EXCLUSIVE)
        return [Lock(pg.rangevar(r.get("RangeVar")), mode, note="LOCK TABLE") for r in n.get("relations", ())]
    if k == "VacuumStmt":
        full = any(o.get("DefElem", {}).get("defname") == "full" for o in n.get("options", ()))
        rels = [pg.rangevar(r.get("VacuumRelation", {}).get("relation")) for r in n.get("rels", ())]
        if full:
            return [Lock(r, ACCESS_EXCLUSIVE, rewrite=True, note="VACUUM FULL rewrites the table") for r in rels]
        if not n.get("is_vacuumcmd"):  # a sample of rows, not a sequential scan (verify --trace)
            return [Lock(r, SHARE_UPDATE_EXCLUSIVE, note="ANALYZE reads a random sample of rows") for r in rels]
        return [Lock(r, SHARE_UPDATE_EXCLUSIVE, scan=True, note="VACUUM") for r in rels]
    if k == "ClusterStmt":
        rel = pg.rangevar(n.get("relation"))
        return (
            [Lock(rel, ACCESS_EXCLUSIVE, rewrite=True, note="CLUSTER rewrites the table in index order")] if rel else []
        )
    if k == "RefreshMatViewStmt":
        rel = pg.rangevar(n.get("relation"))
        if n.get("concurrent"):
            return [Lock(rel, EXCLUSIVE, scan=True, note="REFRESH MATERIALIZED VIEW CONCURRENTLY: reads go on")]
        return [Lock(rel, ACCESS_EXCLUSIVE, rewrite=True, note="REFRESH MATERIALIZED VIEW replaces its contents")]
    if k == "ReindexStmt":
        rel = pg.rangevar(n.get("relation"))
        conc = any(p.get("DefElem", {}).get("defname") == "concurrently" for p in n.get("params", ()))
        if not rel:
            return []
        if conc:
            return [Lock(rel, SHARE_UPDATE_EXCLUSIVE, note="REINDEX CONCURRENTLY")]
        # measured on PostgreSQL 15 (verify --trace, tests/test_squawk_locks.py): the rebuilt index gets
        # a new file under ACCESS EXCLUSIVE, the table SHARE, and the build reads the whole table
        if n.get("kind") == "REINDEX_OBJECT_INDEX":
            return [
                Lock(
                    rel,
                    ACCESS_EXCLUSIVE,
                    rewrite=True,
                    note="REINDEX INDEX rebuilds the index into a new file (its table gets SHARE)",
                )
            ]
        return [
            Lock(
                rel,
                SHARE,
                scan=True,
                note="REINDEX TABLE blocks writes and reads the table; each index gets ACCESS EXCLUSIVE while rebuilt",
            )
        ]
    if k == "CommentStmt" and n.get("objtype") in ("OBJECT_TABLE", "OBJECT_COLUMN"):
        items = pg.strings(n.get("object", {}).get("List", {}).get("items"))
        rel = ".".join(items if n.get("objtype") == "OBJECT_TABLE" else items[:-1])
        return [Lock(rel, SHARE_UPDATE_EXCLUSIVE, note="COMMENT ON")] if rel else []
    if k in ("InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"):
        rel = pg.rangevar(n.get("relation"))
        verb = k.removesuffix("Stmt").upper()
        scan = k in ("UpdateStmt", "DeleteStmt") and not n.get("whereClause")
        return (
            [Lock(rel, ROW_EXCLUSIVE, scan=scan, note=f"{verb} takes row locks on the rows it changes")] if rel else []
        )
    return []
