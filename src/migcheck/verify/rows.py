"""Generated rows for the tables of the scratch database: the one generator behind ``verify --trace``
(a few rows in the tables a traced migration touches) and ``verify --data`` (tens of rows before a
migration, tens more after it).

Everything comes from the catalog of the throwaway database, never from the SQL text: the column
types (a domain is generated as its base type), ``NOT NULL``, defaults, identity and generated
columns, primary keys, unique constraints and unique indexes, foreign keys and CHECK constraints.

Values are deterministic: row ``i`` of a column is a function of the column and ``i`` only (no
``random()``, no ``now()``, no ``gen_random_uuid()``), so two runs write the same rows. They are
unique per row for every type that has enough values (numbers, text, uuid, dates, ...), which
satisfies primary keys and unique constraints; a foreign key takes the key of the referenced
table's first row (referenced tables are filled first), or of its row ``i`` when the foreign key is
part of a unique key (one profile per user), cycling when that table has fewer rows.
CHECK constraints are not solved: a text column whose CHECK lists literals (``status IN ('new',
'won')``) cycles through those literals, and otherwise a batch the server rejects is tried again
with the columns' own defaults, then row by row, and the rows the server rejects are left out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

# --- the catalog --------------------------------------------------------------------------

_CATALOG = """
SELECT c.oid::bigint, n.nspname, c.relname,
  (SELECT coalesce(json_agg(json_build_array(
            a.attname, format_type(a.atttypid, a.atttypmod), coalesce(bt.typcategory, t.typcategory)::text,
            coalesce(bt.typname, t.typname)::text, coalesce(bt.typtype, t.typtype)::text,
            format_type(coalesce(bt.oid, t.oid), NULL), a.attnotnull OR t.typnotnull,
            CASE WHEN a.attidentity = 'a' OR a.attgenerated <> '' THEN 'always'
                 WHEN a.attidentity = 'd' THEN 'identity'
                 ELSE pg_get_expr(d.adbin, d.adrelid) END,
            (SELECT json_agg(pg_get_constraintdef(dk.oid)) FROM pg_constraint dk
              WHERE dk.contypid = a.atttypid AND dk.contype = 'c'),
            a.atttypmod) ORDER BY a.attnum), '[]')
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT coalesce(json_agg(json_build_array(k.contype::text,
            (SELECT json_agg(a.attname ORDER BY x.ord) FROM unnest(k.conkey) WITH ORDINALITY x(num, ord)
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.num),
            fn.nspname, fc.relname,
            (SELECT json_agg(a.attname ORDER BY x.ord) FROM unnest(k.confkey) WITH ORDINALITY x(num, ord)
               JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = x.num),
            CASE WHEN k.contype = 'c' THEN pg_get_constraintdef(k.oid) END,
            k.confrelid::bigint) ORDER BY k.conname), '[]')
     FROM pg_constraint k
     LEFT JOIN pg_class fc ON fc.oid = k.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
    WHERE k.conrelid = c.oid AND k.contype IN ('p', 'u', 'f', 'c')),
  (SELECT coalesce(json_agg((SELECT json_agg(a.attname ORDER BY x.ord)
                               FROM unnest(i.indkey::int2[]) WITH ORDINALITY x(num, ord)
                               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = x.num)), '[]')
     FROM pg_index i
    WHERE i.indrelid = c.oid AND i.indisunique AND i.indexprs IS NULL AND i.indpred IS NULL
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = c.oid))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.deptype = 'e' AND e.classid = 'pg_class'::regclass
                  AND e.objid = c.oid)
  AND (%(oids)s::bigint[] IS NULL OR c.oid = ANY(%(oids)s::bigint[]))
ORDER BY 2, 3
"""


_LISTING = """
SELECT n.nspname || '.' || c.relname, c.oid::bigint
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
"""


def listing(conn) -> dict[str, int]:
    """Every user table (as ``catalog`` reads them, extension members included): name -> oid.
    One cheap query, to tell which tables appeared or went away."""
    return dict(conn.execute(_LISTING).fetchall())


@dataclass(frozen=True)
class Column:
    """A column as the catalog describes it."""

    name: str
    type: str  # format_type(): what a value is cast to
    category: str  # pg_type.typcategory (of a domain's base type)
    typname: str  # the base type's name
    typtype: str  # the base type's typtype: b, e (enum), r (range), c (composite), ...
    basetype: str  # format_type() of the base type (enum_range() needs the enum, not a domain)
    notnull: bool
    default: str | None  # the default expression; "always": identity ALWAYS or generated; "identity"
    domain_checks: tuple[str, ...] = ()
    typmod: int = -1

    @property
    def auto(self) -> bool:
        """The server fills it: identity, generated, or a sequence default (serial)."""
        d = self.default or ""
        return d in ("always", "identity") or d.startswith("nextval(")

    @property
    def length(self) -> int | None:
        """The declared length of a character type (``varchar(10)``: 10)."""
        if self.category == "S" and self.typmod > 4 and self.typname in ("varchar", "bpchar"):
            return self.typmod - 4
        return None


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    parent_schema: str
    parent_name: str
    parent_columns: tuple[str, ...]
    parent_oid: int = 0

    @property
    def parent(self) -> str:
        return f"{self.parent_schema}.{self.parent_name}"


@dataclass
class Table:
    """A table of the scratch database, its columns and the constraints generated rows must meet."""

    oid: int
    schema: str
    name: str
    columns: list[Column]
    pk: tuple[str, ...] = ()
    uniques: list[tuple[str, ...]] = field(default_factory=list)  # unique constraints and plain unique indexes
    fks: list[ForeignKey] = field(default_factory=list)
    checks: list[tuple[tuple[str, ...], str]] = field(default_factory=list)  # (columns, definition)

    @property
    def display(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def sql(self) -> str:
        return f"{ident(self.schema)}.{ident(self.name)}"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def unique_sets(self) -> list[tuple[str, ...]]:
        return ([self.pk] if self.pk else []) + self.uniques


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _loads(v):
    return json.loads(v) if isinstance(v, str) else v


def catalog(conn, oids=None) -> dict[str, Table]:
    """The user tables of the database (or those of ``oids``), by schema-qualified name: every
    ordinary and partitioned table outside the system schemas and extensions (not partitions:
    rows go in through their parent)."""
    out: dict[str, Table] = {}
    rows = conn.execute(_CATALOG, {"oids": list(oids) if oids is not None else None}).fetchall()
    for oid, schema, name, cols, cons, uidx in rows:
        columns = [
            Column(
                n,
                typ,
                cat or "",
                tn or "",
                tt or "",
                base or typ,
                bool(nn),
                dflt,
                tuple(_loads(dchecks) or ()),
                int(mod if mod is not None else -1),
            )
            for n, typ, cat, tn, tt, base, nn, dflt, dchecks, mod in _loads(cols)
        ]
        t = Table(int(oid), schema, name, columns)
        for contype, keys, pschema, pname, pkeys, definition, poid in _loads(cons):
            keys = tuple(keys or ())
            if contype == "p":
                t.pk = keys
            elif contype == "u":
                t.uniques.append(keys)
            elif contype == "f" and pname:
                t.fks.append(ForeignKey(keys, pschema, pname, tuple(pkeys or ()), int(poid or 0)))
            elif contype == "c":
                t.checks.append((keys, definition or ""))
        t.uniques.extend(tuple(k) for k in _loads(uidx) if k)
        out[t.display] = t
    return out


# --- values -------------------------------------------------------------------------------

_LITERAL = re.compile(r"'((?:[^']|'')*)'")
# types of category N that are object references, not numbers: no value can be made up for them
_OID_ALIASES = {
    "oid",
    "regclass",
    "regproc",
    "regprocedure",
    "regoper",
    "regoperator",
    "regtype",
    "regconfig",
    "regdictionary",
    "regnamespace",
    "regrole",
    "regcollation",
    "xid",
    "cid",
    "tid",
}
EPOCH = "timestamptz '2025-01-01 00:00:00+00'"


def _literals(col: Column, table: Table | None) -> list[str]:
    """String literals of the CHECK constraints on this column alone (and of its domain): the
    values such a constraint most often allows (``status IN ('new', 'won')``)."""
    defs = list(col.domain_checks)
    if table is not None:
        defs += [d for keys, d in table.checks if keys == (col.name,)]
    out: list[str] = []
    for d in defs:
        for m in _LITERAL.finditer(d):
            v = m.group(1).replace("''", "'")
            if v not in out:
                out.append(v)
    return out


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def value(col: Column, table: Table | None = None, i: str = "g.i") -> str | None:
    """An SQL expression for row ``i`` of ``col`` (cast to its type), or None when migcheck cannot
    make one up."""
    typ, cat, tn = col.type, col.category, col.typname
    lits = _literals(col, table) if cat in ("S", "U") else []
    if lits:
        arr = "ARRAY[" + ", ".join(_quote(v) for v in lits) + "]"
        return f"({arr})[1 + ({i} - 1) % {len(lits)}]::{typ}"
    if col.typtype == "e":
        rng = f"enum_range(NULL::{col.basetype})"
        return f"({rng})[1 + ({i} - 1) % cardinality({rng})]::{typ}"
    if tn == "uuid":
        where = _quote(f"{table.display if table else ''}.{col.name}:")
        return f"md5({where} || {i})::uuid::{typ}"
    if tn in ("json", "jsonb"):
        return f"json_build_object({_quote(col.name)}, {i})::{typ}"
    if tn == "bytea":
        return f"convert_to({_quote(col.name + ' ')} || {i}, 'UTF8')::{typ}"
    if tn == "tsvector":
        return f"to_tsvector('simple', {_quote(col.name + ' ')} || {i})::{typ}"
    if tn == "xml":
        return f"xmlparse(content '<v>' || {i} || '</v>')::{typ}"
    if tn in ("macaddr", "macaddr8"):
        return f"('08:00:2b:01:' || lpad(to_hex(({i} / 256) % 256), 2, '0') || ':' || lpad(to_hex({i} % 256), 2, '0'))::{typ}"
    if tn == "point":
        return f"point({i}, {i})::{typ}"
    if cat == "N":
        return None if tn in _OID_ALIASES else f"({i})::{typ}"
    if cat == "S":
        name = col.name.lower()
        text = f"{_quote(col.name)} || {i} || '@example.com'" if "mail" in name else f"{_quote(col.name + ' ')} || {i}"
        return f"({text})::{typ}"
    if cat == "B":
        return f"({i} % 2 = 0)::{typ}"
    if cat == "D":  # columns declared later get later times: CHECK (starts_at < ends_at) holds
        return f"({EPOCH} + ({i}) * interval '1 day' + {len(col.name)} * interval '1 minute')::{typ}"
    if cat == "T":
        return f"(({i}) || ' days')::{typ}"
    if cat == "A":
        return f"'{{}}'::{typ}"
    if cat == "I":
        return f"('10.' || (({i}) / 65536) % 256 || '.' || (({i}) / 256) % 256 || '.' || ({i}) % 256)::{typ}"
    if cat == "V":
        return f"({i})::{typ}"
    return None


def _ref_like(name: str) -> bool:
    low = name.lower()
    return low.endswith("_id") or (low.endswith("id") and low != "id")


# --- inserting ----------------------------------------------------------------------------


@dataclass
class Plan:
    """How to write rows into one table: the SQL for rows ``first..last``, or why not."""

    table: Table
    sql: str | None
    why: str = ""


def insert_sql(
    table: Table,
    first: int,
    last: int,
    *,
    defaults: bool,
    override: dict[str, str] | None = None,
    extra_fks: list[ForeignKey] = (),
    empty: set[str] = frozenset(),
    returning: bool = True,
) -> Plan:
    """``INSERT INTO table ... SELECT ... FROM generate_series(first, last) AS g(i)``.

    ``defaults``: a column with a default gets its default (else a generated value); ``override``:
    column -> SQL expression (``g.i`` is the row); ``extra_fks``: foreign keys the rows should meet
    although the table no longer has them; ``empty``: tables known to have no rows (a reference to
    one stays NULL)."""
    override = override or {}
    cols: list[str] = []
    exprs: list[str] = []
    joins: list[str] = []
    fk_of: dict[str, str] = {}
    for n, fk in enumerate([*table.fks, *extra_fks]):
        if any(c in fk_of or c in override for c in fk.columns) or not fk.columns:
            continue
        if any(table.column(c) is None or table.column(c).auto for c in fk.columns):
            continue
        parent = f"{ident(fk.parent_schema)}.{ident(fk.parent_name)}"
        if fk.parent in empty or (fk.parent == table.display and first == 1):
            if any(table.column(c).notnull and table.column(c).default is None for c in fk.columns):
                return Plan(table, None, f"{fk.parent} has no rows for the foreign key ({', '.join(fk.columns)})")
            for c in fk.columns:
                fk_of[c] = "NULL"
            continue
        alias = f"f{n}"
        keys = ", ".join(f"p.{ident(c)}" for c in fk.parent_columns)
        # the first referenced row (a site, an owner: what a real table mostly points at), or row i
        # when the reference is part of a unique key (one profile per user, one vote per post and user)
        cycle = any(set(fk.columns) <= set(u) for u in table.unique_sets())
        offset = f"(g.i - 1) % greatest((SELECT count(*) FROM {parent}), 1)" if cycle else "0"
        joins.append(
            f"LEFT JOIN LATERAL (SELECT {keys} FROM {parent} p ORDER BY {keys} "
            f"OFFSET {offset} LIMIT 1) AS {alias} ON true"
        )
        for c, pc in zip(fk.columns, fk.parent_columns):
            fk_of[c] = f"{alias}.{ident(pc)}"
    for col in table.columns:
        if col.default == "always":
            continue
        if col.name in override:
            expr = override[col.name]
        elif col.auto:
            continue
        elif col.name in fk_of:
            expr = fk_of[col.name]
            if expr == "NULL":
                continue
        elif defaults and col.default is not None:
            continue
        elif not col.notnull and _ref_like(col.name):
            # a nullable column named like a reference stays NULL: a foreign key added later
            # accepts NULL, and no generated value can match the table it will reference
            continue
        else:
            expr = value(col, table)
            if expr is None:
                if col.notnull and col.default is None:
                    return Plan(table, None, f"no value generated for column {col.name} of type {col.type}")
                continue
        cols.append(ident(col.name))
        exprs.append(expr)
    target = f"{table.sql} AS x" + (f" ({', '.join(cols)})" if cols else "")
    sql = (
        f"INSERT INTO {target} SELECT {', '.join(exprs)} FROM generate_series({first}, {last}) AS g(i)"
        + "".join(f" {j}" for j in joins)
        + (" RETURNING to_jsonb(x)::text" if returning else "")
    )
    return Plan(table, sql)


@dataclass
class Written:
    """What ``write`` put into one table."""

    table: str
    rows: list[dict] = field(default_factory=list)  # each written row, as to_jsonb() read it back
    why: str = ""  # why no row (or not every row) went in
    already: bool = False  # ``fill``: the table had rows by then (a trigger on a table filled before it)


# a batch rejected for these reasons may hold rows the server takes: try them one by one
_ROW_BY_ROW = ("23505", "23514", "23P01")


def message(exc) -> str:
    """PostgreSQL's primary message of ``exc``, on one line."""
    diag = getattr(exc, "diag", None)
    return " ".join(((diag.message_primary if diag else None) or str(exc)).split())


def write(
    conn,
    table: Table,
    first: int,
    last: int,
    *,
    prefer_defaults: bool = False,
    override: dict[str, str] | None = None,
    extra_fks: list[ForeignKey] = (),
    empty: set[str] = frozenset(),
) -> Written:
    """Insert rows ``first..last`` into ``table``, each attempt in a savepoint of its own (or a
    transaction, on an autocommit connection): the whole batch with generated values, the batch
    with the columns' own defaults, then row by row; a row the server rejects is left out."""
    import psycopg

    out = Written(table.display)
    plans = [
        insert_sql(table, first, last, defaults=d, override=override, extra_fks=extra_fks, empty=empty)
        for d in ((True, False) if prefer_defaults else (False, True))
    ]
    plans = [p for p in plans if p.sql]
    if not plans:
        out.why = (
            insert_sql(table, first, last, defaults=False, override=override, extra_fks=extra_fks, empty=empty).why
            or "no value can be generated"
        )
        return out
    seen = set()
    retry = []
    for p in plans:
        if p.sql in seen:
            continue
        seen.add(p.sql)
        try:
            with conn.transaction():
                out.rows = [json.loads(r[0]) for r in conn.execute(p.sql).fetchall()]
            return out
        except psycopg.Error as exc:
            out.why = f"generated rows were rejected ({message(exc)})"
            state = getattr(exc, "sqlstate", None) or ""
            if state in _ROW_BY_ROW or state.startswith("22"):
                retry.append(p)
    if last > first and retry:  # row by row: keep the rows the server accepts (give up after 3 misses in a row)
        misses = 0
        for i in range(first, last + 1):
            ok = False
            for p in retry:
                one = p.sql.replace(f"generate_series({first}, {last})", f"generate_series({i}, {i})", 1)
                try:
                    with conn.transaction():
                        out.rows += [json.loads(r[0]) for r in conn.execute(one).fetchall()]
                    ok = True
                    break
                except psycopg.Error:
                    continue
            misses = 0 if ok else misses + 1
            if misses >= 3 and not out.rows:
                break
        if out.rows:
            out.why = f"{last - first + 1 - len(out.rows)} of {last - first + 1} rows rejected: " + out.why
    return out


def order(tables: list[Table]) -> list[Table]:
    """Referenced tables first (a cycle is broken where it is met)."""
    by_name = {t.display: t for t in tables}
    done: list[Table] = []
    state: dict[str, int] = {}

    def visit(t: Table) -> None:
        if state.get(t.display):
            return
        state[t.display] = 1
        for fk in t.fks:
            p = by_name.get(fk.parent)
            if p is not None and p is not t:
                visit(p)
        state[t.display] = 2
        done.append(t)

    for t in tables:
        visit(t)
    return done


def fill(
    conn, tables: list[Table], rows: int, *, prefer_defaults: bool = False, empty: set[str] | None = None
) -> dict[str, Written]:
    """Rows ``1..rows`` in each of ``tables`` (all empty), referenced tables first; ``empty``:
    every table known to have no rows (updated as tables get rows)."""
    empty = set(empty if empty is not None else (t.display for t in tables))
    out: dict[str, Written] = {}
    wrote = False
    for t in order(tables):
        if wrote and conn.execute(f"SELECT EXISTS (SELECT 1 FROM {t.sql})").fetchone()[0]:
            # a trigger on a table written before filled it (an aggregates table, say)
            out[t.display] = Written(t.display, already=True)
            empty.discard(t.display)
            continue
        w = write(conn, t, 1, rows, prefer_defaults=prefer_defaults, empty=empty)
        out[t.display] = w
        if w.rows:
            wrote = True
            empty.discard(t.display)
    return out
