"""The schema model: what the catalog holds just before any statement of a migration, and where
each table came from.

It replays schema effects (``migcheck.analysis.effects``: one walk of each statement, kept per
file as a summary keyed on its bytes, with the ``analysis.specs`` facts) in the runner's order
(``project.groups[mdir].migrations``) into a ``Catalog``: schemas, tables with their columns (type,
NOT NULL, default), constraints (validated or NOT VALID, the columns a CHECK proves NOT NULL),
indexes (columns, unique, partial), foreign keys, views, functions, types, triggers and policies.

Provenance. Each relation carries where it came from (``Table.origin``):

- ``FILE``: created earlier in the migration being checked (new and empty: no one else can hold
  it, nothing waits on its lock);
- ``CHANGE``: created by an earlier migration of the change set (``Project.change_set``: the files
  of a ``--diff`` run, or the files given one by one, as pre-commit passes the staged ones): the
  running application does not use it yet;
- ``EXISTING``: anything else, including a table an earlier migration created when the whole
  history is checked (a directory): it has rows and users.

``Table.empty`` says why a table is provably empty when it is: created in this file or change set
with nothing inserted since (no INSERT, COPY, MERGE, ``CREATE TABLE AS`` with data, nor SQL the
model cannot see, such as dynamic SQL); every row deleted earlier in the file (TRUNCATE, DELETE
without WHERE); or the file added a NOT NULL column without a DEFAULT to it, which only succeeds
on an empty table.

Two ways in, by cost:

- ``Timeline`` (``provenance``, ``is_new``, ``empty``, ``index_table_new``): the file and the earlier
  migrations of its change set only, replayed once per file and asked by bisection: what every
  lock rule asks for every statement. It needs no other file when the whole history is checked,
  and the result cache keys each file on the change-set files before it (``Project.changes_before``).
- ``before(project, f, st, names)``: the full catalog for the objects ``names`` (tables, indexes)
  just before ``st``, from the earlier migrations whose text names one of them (or a name they had
  before a rename), so a directory of thousands is not replayed for one ALTER COLUMN ... TYPE.
  One ``_Directory`` per directory (and process) finds them by an index of the migrations' words
  and keeps the replays it made, so that a later question extends a kept replay instead of
  replaying the same history again (copies share the tables: ``Catalog.copy``).

Names are compared unqualified, as the lock rules always have (``public.t`` and ``app.t`` are one
table here).
"""

from __future__ import annotations

import bisect
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from typing import Any, Protocol

from ..model import FrozenRecord, Record
from . import effects as fx
from . import locks, perfile, pg, specs
from .specs import TypeKey

FILE, CHANGE, EXISTING = "file", "change set", "existing"

TABLE_KINDS = frozenset({fx.TABLE, fx.MATVIEW, fx.FOREIGN_TABLE})  # what holds rows
RELATION_KINDS = TABLE_KINDS | {fx.VIEW}
_DATA_IN = frozenset({"INSERT", "COPY", "MERGE", "CREATE TABLE AS", "SELECT INTO"})


class _File(Protocol):
    """What the model reads of a ``files.MigrationFile``."""

    path: Any
    display: str
    kind: str
    mdir: Any
    version: str | None


def unqualified(name: str) -> str:
    return name.rsplit(".", 1)[-1]


# --- the catalog --------------------------------------------------------------------------------


class Column(Record):
    __slots__ = (
        "name",
        "type",
        "not_null",
        "default",
        "sequence",
        "generated",
        "origin",
        "line",
        "written",
        "copy_of",
        "assumed",
    )
    name: str
    type: TypeKey | None  # None: not known (created outside the migrations, or not plain)
    not_null: bool
    default: bool
    sequence: str  # how it fills itself from a sequence (``specs.SEQUENCE_*``), "" when not known to
    generated: bool  # GENERATED ALWAYS AS (...): computed from the row, no data of its own
    origin: str  # where it was added (``FILE``, ``CHANGE``: no running code wrote it)
    line: int  # and on which line
    written: int  # the line of the last statement that wrote it since it was added there (0: none)
    copy_of: frozenset[str]  # the columns of its table the file or change set copied into it
    assumed: bool  # added by ADD COLUMN IF NOT EXISTS to a table whose columns are not all known: maybe not

    def __init__(
        self,
        name: str,
        type: TypeKey | None = None,
        not_null: bool = False,
        default: bool = False,
        sequence: str = "",
        generated: bool = False,
        origin: str = EXISTING,
        line: int = 0,
        written: int = 0,
        copy_of: frozenset[str] = frozenset(),
        assumed: bool = False,
    ):
        self.name = name
        self.type = type
        self.not_null = not_null
        self.default = default
        self.sequence = sequence
        self.generated = generated
        self.origin = origin
        self.line = line
        self.written = written
        self.copy_of = copy_of
        self.assumed = assumed


class Constraint(Record):
    __slots__ = ("name", "kind", "validated", "keys", "not_null", "only_not_null", "ref", "line", "display")
    name: str
    kind: str  # ``specs.CONTYPES`` values: "primary key", "unique", "foreign key", "check", "exclude"
    validated: bool
    keys: tuple[str, ...]
    not_null: frozenset[str]  # the columns a CHECK proves NOT NULL
    only_not_null: bool  # the CHECK checks nothing but that
    ref: str  # FOREIGN KEY: the referenced table
    line: int
    display: str  # the file that added it

    def __init__(
        self,
        name: str,
        kind: str,
        validated: bool = True,
        keys: tuple[str, ...] = (),
        not_null: frozenset[str] = frozenset(),
        only_not_null: bool = False,
        ref: str = "",
        line: int = 0,
        display: str = "",
    ):
        self.name = name
        self.kind = kind
        self.validated = validated
        self.keys = keys
        self.not_null = not_null
        self.only_not_null = only_not_null
        self.ref = ref
        self.line = line
        self.display = display


class Index(Record):
    __slots__ = (
        "name",
        "table",
        "keys",
        "unique",
        "partial",
        "primary",
        "constraint",
        "plain",
        "origin",
        "line",
        "display",
        "shown",
        "claimed",
    )
    name: str
    table: str
    keys: tuple[str, ...]
    unique: bool
    partial: bool
    primary: bool
    constraint: bool  # the index behind a UNIQUE / PRIMARY KEY constraint
    plain: bool  # btree, default operator classes and ordering, no INCLUDE (``specs.index``)
    origin: str
    line: int
    display: str
    shown: str  # its table as the CREATE INDEX wrote it (schema-qualified when it was), for messages
    claimed: str  # the origin of the constraint that adopted it (ADD CONSTRAINT ... USING INDEX)

    def __init__(
        self,
        name: str,
        table: str,
        keys: tuple[str, ...] = (),
        unique: bool = False,
        partial: bool = False,
        primary: bool = False,
        constraint: bool = False,
        plain: bool = True,
        origin: str = EXISTING,
        line: int = 0,
        display: str = "",
        shown: str = "",
        claimed: str = "",
    ):
        self.name = name
        self.table = table
        self.keys = keys
        self.unique = unique
        self.partial = partial
        self.primary = primary
        self.constraint = constraint
        self.plain = plain
        self.origin = origin
        self.line = line
        self.display = display
        self.shown = shown
        self.claimed = claimed


class Table(Record):
    """A relation (table, view, materialized view, foreign table)."""

    __slots__ = ("name", "schema", "kind", "origin", "display", "line", "columns", "known", "constraints", "empty")
    name: str
    schema: str
    kind: str
    origin: str
    display: str  # the file that created it ("" when not known)
    line: int
    columns: dict[str, Column]
    known: bool  # ``columns`` are all of them (created in the replay with a column list)
    constraints: dict[str, Constraint]
    empty: str | None  # why it is provably empty, or None

    def __init__(
        self,
        name: str,
        schema: str = "",
        kind: str = fx.TABLE,
        origin: str = EXISTING,
        display: str = "",
        line: int = 0,
        columns: dict[str, Column] | None = None,
        known: bool = False,
        constraints: dict[str, Constraint] | None = None,
        empty: str | None = None,
    ):
        self.name = name
        self.schema = schema
        self.kind = kind
        self.origin = origin
        self.display = display
        self.line = line
        self.columns = {} if columns is None else columns
        self.known = known
        self.constraints = {} if constraints is None else constraints
        self.empty = empty

    @property
    def new(self) -> bool:
        return self.origin in (FILE, CHANGE)

    def column(self, name: str) -> Column:
        col = self.columns.get(name)
        if col is None:
            col = self.columns[name] = Column(name)
        return col

    def primary_key(self) -> tuple[str, ...]:
        for c in self.constraints.values():
            if c.kind == "primary key":
                return c.keys
        return ()

    def validated_not_null_check(self, column: str) -> Constraint | None:
        """A validated CHECK that proves ``column`` NOT NULL (PostgreSQL 12+ then skips the scan of
        SET NOT NULL)."""
        for c in self.constraints.values():
            if c.kind == "check" and c.validated and column in c.not_null:
                return c
        return None


def _rename_in(items: dict[str, Any], old: str, new: str) -> Any:
    """Move ``items[old]`` (a Table, Index, Column or Constraint) to its new name."""
    item = items.pop(old)
    item.name = new
    items[new] = item
    return item


# every field of each, in order (a copy is the constructor called on them: the values are immutable)
_COLUMN_FIELDS = attrgetter(*Column.__slots__)
_CONSTRAINT_FIELDS = attrgetter(*Constraint.__slots__)
_INDEX_FIELDS = attrgetter(*Index.__slots__)
_TABLE_FIELDS = attrgetter(*Table.__slots__)


def _copy_table(t: Table) -> Table:
    out = Table(*_TABLE_FIELDS(t))  # (its two dicts are replaced by copies)
    out.columns = {k: Column(*_COLUMN_FIELDS(c)) for k, c in t.columns.items()}
    out.constraints = {k: Constraint(*_CONSTRAINT_FIELDS(c)) for k, c in t.constraints.items()}
    return out


def _key(obj: fx.Obj) -> tuple[str, str, str]:
    """The catalog key of any other object: (namespace, the table it hangs on, name)."""
    parent = obj.parent.name if obj.parent is not None else ""
    ns = fx._namespace(obj.kind)
    return ns, parent, obj.name


class Catalog:
    """The schema, as far as the replayed effects show it (``apply``)."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {}
        self.indexes: dict[str, Index] = {}
        self.objects: dict[tuple[str, str, str], str] = {}  # functions, types, triggers, ... -> origin
        self.changed: set[str] = set()  # relation and index names the last ``apply`` changed
        # Copy on write (``copy``): once copied, a catalog shares its tables and indexes with the
        # copy, and changes one in place only when it made it since (``_mine``: ids, of objects it
        # holds): ``_table``/``_index`` copy it first otherwise.
        self._cow = False
        self._mine: set[int] = set()

    def copy(self) -> Catalog:
        """An independent copy (``apply`` to either leaves the other as it was), in the time of
        copying three dicts: the tables and indexes are shared until one of the two changes
        them. The replays of ``before`` are kept and copied, not replayed again."""
        out = Catalog.__new__(Catalog)
        out.tables = dict(self.tables)
        out.indexes = dict(self.indexes)
        out.objects = dict(self.objects)
        out.changed = set(self.changed)
        out._cow = self._cow = True
        out._mine, self._mine = set(), set()
        return out

    def _table(self, name: str) -> Table | None:
        """Table ``name``, to change in place (``tables.get`` is for reading)."""
        t = self.tables.get(name)
        return None if t is None else self._writable(t)

    def _writable(self, t: Table) -> Table:
        """Table ``t`` of this catalog (kept under its name), to change in place."""
        if not self._cow or id(t) in self._mine:
            return t
        t = self.tables[t.name] = _copy_table(t)
        self._mine.add(id(t))
        return t

    def _index(self, name: str) -> Index | None:
        """Index ``name``, to change in place."""
        i = self.indexes.get(name)
        if i is None or not self._cow or id(i) in self._mine:
            return i
        i = self.indexes[name] = Index(*_INDEX_FIELDS(i))
        self._mine.add(id(i))
        return i

    def _made(self, item: Any) -> Any:
        """A table or index this catalog just made: its own to change."""
        if self._cow:
            self._mine.add(id(item))
        return item

    # lookups
    def table(self, name: str) -> Table | None:
        return self.tables.get(unqualified(name))

    def index(self, name: str) -> Index | None:
        return self.indexes.get(unqualified(name))

    def exists(self, obj: fx.Obj) -> bool:
        if obj.kind in RELATION_KINDS:
            return obj.name in self.tables
        if obj.kind == fx.INDEX:
            return obj.name in self.indexes
        return _key(obj) in self.objects

    def indexes_on(self, table: str) -> list[Index]:
        return [i for i in self.indexes.values() if i.table == table]

    def _holder(self, obj: fx.Obj | None, origin: str) -> Table | None:
        """The table a column or constraint hangs on (met for the first time: it existed)."""
        if obj is None or obj.kind not in (fx.TABLE, fx.FOREIGN_TABLE, fx.VIEW, fx.MATVIEW):
            return None
        t = self._table(obj.name)
        if t is None:
            t = self.tables[obj.name] = self._made(Table(obj.name, obj.schema, obj.kind, EXISTING))
            self.changed.add(obj.name)
        return t

    # replay
    def apply(self, e: fx.Effect, origin: str = EXISTING, display: str = "") -> None:
        """Replay one effect. ``origin`` says where the statement runs (``FILE``, ``CHANGE`` or
        ``EXISTING``, for what it creates); ``display`` names its file (for messages)."""
        self.changed.clear()
        op, obj = e.op, e.obj
        if op == fx.UNKNOWN:  # dynamic SQL, CALL, ...: it may have written any table
            for t in list(self.tables.values()):
                if t.empty is None and all(col.origin == EXISTING for col in t.columns.values()):
                    continue
                t = self._writable(t)
                if t.empty is not None:
                    t.empty = None
                    self.changed.add(t.name)
                for col in t.columns.values():
                    if col.origin != EXISTING:
                        col.written = e.line
            return
        if obj is None:
            return
        line = e.line
        spec = e.spec
        if op == fx.CREATE:
            self._create(e, obj, spec, origin, display, line)
        elif op == fx.DROP:
            self._drop(obj)
        elif op == fx.ALTER:
            self._alter(e, obj, spec)
        elif op == fx.RENAME and e.new is not None:
            self._rename(obj, e.new)
        elif op == fx.DATA:
            self._data(e, obj, spec, line, origin)

    def _create(self, e: fx.Effect, obj: fx.Obj, spec: Any, origin: str, display: str, line: int) -> None:
        k = obj.kind
        t: Table | None
        if k in RELATION_KINDS:
            there = self.tables.get(obj.name)
            if there is not None and (e.if_not_exists or e.replace):
                # already there: IF NOT EXISTS does nothing, OR REPLACE keeps what it is. Of a table
                # met only through what altered it, this is the best account of its columns there is
                if not there.known and not there.display and spec is not None and spec[0] == "table":
                    there = self._writable(there)
                    for c in spec[2]:
                        there.columns[c[1]] = _column(c)
                    self.changed.add(obj.name)
                return
            t = self._made(Table(obj.name, obj.schema, k, origin, display, line))
            if spec is not None and spec[0] == "table":
                for c in spec[2]:
                    t.columns[c[1]] = _column(c, origin, line)
                t.known = e.on is None  # a partition's columns are its parent's
                rows = spec[1]
            else:
                rows = k == fx.VIEW
            if k in TABLE_KINDS and not rows:
                t.empty = f"created {_where(origin, display, line)} and nothing inserted since"
            self.tables[obj.name] = t
            self.changed.add(obj.name)
        elif k == fx.INDEX:
            if obj.name in self.indexes and e.if_not_exists:
                return
            on = e.on
            table = on.name if on is not None else ""
            if spec is not None and spec[0] == "index":
                _, unique, partial, keys, primary, plain = spec
            else:
                unique, partial, keys, primary, plain = False, False, (), False, False
            shown = f"{on.schema}.{on.name}" if on is not None and on.schema else table
            self.indexes[obj.name] = self._made(
                Index(obj.name, table, keys, unique, partial, primary, False, plain, origin, line, display, shown)
            )
            self.changed.add(obj.name)
        elif k == fx.COLUMN:
            t = self._holder(obj.parent, origin)
            if t is None:
                return
            if obj.name in t.columns and e.if_not_exists:
                return
            if spec is not None and spec[0] == "column":
                _, name, typ, not_null, default, sequence, generated = spec
                t.columns[obj.name] = _column(spec, origin, line)
                t.columns[obj.name].assumed = e.if_not_exists and not t.known
                if not_null and not default and t.empty is None and t.kind in TABLE_KINDS:
                    t.empty = (
                        f"{_where(origin, display, line)} it gets the NOT NULL column {obj.name} without a "
                        "DEFAULT, which only succeeds on an empty table"
                    )
            else:
                t.columns[obj.name] = Column(
                    obj.name, origin=origin, line=line, assumed=e.if_not_exists and not t.known
                )
            self.changed.add(t.name)
        elif k == fx.CONSTRAINT:
            t = self._holder(obj.parent, origin)
            if t is None or spec is None or spec[0] != "constraint":
                return
            if obj.name in t.constraints and e.if_not_exists:
                return
            _, kind, validated, keys, not_null, only, ref, using = spec
            if using:
                idx = self._index(obj.name if obj.name in self.indexes else using)
                if idx is not None:
                    keys = idx.keys
                    idx.constraint = True
                    idx.primary = kind == "primary key"
                    idx.claimed = origin
            elif kind in ("unique", "primary key", "exclude"):
                self.indexes[obj.name] = self._made(
                    Index(
                        obj.name,
                        t.name,
                        keys,
                        kind != "exclude",
                        False,
                        kind == "primary key",
                        True,
                        kind != "exclude",
                        origin,
                        line,
                        display,
                    )
                )
                self.changed.add(obj.name)
            t.constraints[obj.name] = Constraint(
                obj.name, kind, validated, tuple(keys), frozenset(not_null), only, ref, line, display
            )
            if kind == "primary key":
                for key in keys:
                    t.column(key).not_null = True
            self.changed.add(t.name)
        else:
            self.objects[_key(obj)] = origin

    def _drop(self, obj: fx.Obj) -> None:
        k = obj.kind
        if k in RELATION_KINDS:
            if self.tables.pop(obj.name, None) is not None:
                self.changed.add(obj.name)
            for idx in [i for i in self.indexes.values() if i.table == obj.name]:
                del self.indexes[idx.name]
                self.changed.add(idx.name)
        elif k == fx.INDEX:
            if self.indexes.pop(obj.name, None) is not None:
                self.changed.add(obj.name)
        elif k == fx.COLUMN and obj.parent is not None:
            t = self._table(obj.parent.name)
            if t is None:
                return
            t.columns.pop(obj.name, None)
            for c in [c for c in t.constraints.values() if obj.name in c.keys or obj.name in c.not_null]:
                self._drop_constraint(t, c.name)
            for idx in [
                i for i in self.indexes.values() if i.table == t.name and obj.name in map(specs.key_column, i.keys)
            ]:
                del self.indexes[idx.name]
                self.changed.add(idx.name)
            self.changed.add(t.name)
        elif k == fx.CONSTRAINT and obj.parent is not None:
            t = self._table(obj.parent.name)
            if t is not None:
                self._drop_constraint(t, obj.name)
        else:
            self.objects.pop(_key(obj), None)

    def _drop_constraint(self, t: Table, name: str) -> None:
        c = t.constraints.pop(name, None)
        if c is None:
            return
        idx = self.indexes.get(name)
        if idx is not None and idx.constraint and idx.table == t.name:
            del self.indexes[name]
            self.changed.add(name)
        self.changed.add(t.name)

    def _alter(self, e: fx.Effect, obj: fx.Obj, spec: Any) -> None:
        if obj.kind == fx.COLUMN:
            t = self._holder(obj.parent, EXISTING)
            if t is None:
                return
            col = t.column(obj.name)
            if e.attr == "type" and spec is not None and spec[0] == "type":
                col.type = spec[1]
            elif e.attr == "not null" and e.value in ("on", "off"):
                col.not_null = e.value == "on"
            elif e.attr == "default":
                col.default = e.value != "none"
                col.sequence = spec[1] if spec is not None and spec[0] == "default" else ""
            elif e.attr == "identity" and e.value in ("on", "off"):
                col.sequence = specs.SEQUENCE_IDENTITY if e.value == "on" else ""
            self.changed.add(t.name)
        elif obj.kind == fx.CONSTRAINT and e.attr == "validated" and obj.parent is not None:
            t = self._table(obj.parent.name)
            c = t.constraints.get(obj.name) if t is not None else None
            if c is not None:
                c.validated = True
                self.changed.add(t.name)  # type: ignore[union-attr]

    def _rename(self, obj: fx.Obj, new: fx.Obj) -> None:
        k = obj.kind
        idx: Index | None
        if k in RELATION_KINDS:
            if obj.name not in self.tables:
                return
            self._table(obj.name)
            t = _rename_in(self.tables, obj.name, new.name)
            t.schema = new.schema or t.schema
            for name in [name for name, idx in self.indexes.items() if idx.table == obj.name]:
                idx = self._index(name)
                if idx is not None:
                    idx.table = t.name
                    if new.name != obj.name:
                        idx.shown = t.name
                    self.changed.add(idx.name)
            self.changed |= {obj.name, t.name}
        elif k == fx.INDEX:
            if obj.name not in self.indexes:
                return
            self._index(obj.name)
            idx = _rename_in(self.indexes, obj.name, new.name)
            t = self.tables.get(idx.table)
            if idx.constraint and t is not None and obj.name in t.constraints:
                _rename_in(self._writable(t).constraints, obj.name, new.name)
            self.changed |= {obj.name, new.name}
        elif k == fx.COLUMN and obj.parent is not None:
            t = self.tables.get(obj.parent.name)
            if t is None or obj.name not in t.columns:
                return
            t = self._writable(t)
            _rename_in(t.columns, obj.name, new.name)

            def swap(names: Iterable[str]) -> tuple[str, ...]:
                return tuple(new.name if n == obj.name else n for n in names)

            for c in t.constraints.values():
                c.keys = swap(c.keys)
                c.not_null = frozenset(swap(c.not_null))
            for name in [name for name, idx in self.indexes.items() if idx.table == t.name]:
                idx = self._index(name)
                if idx is not None:
                    idx.keys = tuple(specs.rename_key(k, obj.name, new.name) for k in idx.keys)
            for col in t.columns.values():
                if obj.name in col.copy_of:
                    col.copy_of = frozenset(swap(col.copy_of))
            self.changed.add(t.name)
        elif k == fx.CONSTRAINT and obj.parent is not None:
            t = self.tables.get(obj.parent.name)
            if t is None or obj.name not in t.constraints:
                return
            t = self._writable(t)
            _rename_in(t.constraints, obj.name, new.name)
            if obj.name in self.indexes:
                self._index(obj.name)
                _rename_in(self.indexes, obj.name, new.name)
            self.changed.add(t.name)
        else:
            origin = self.objects.pop(_key(obj), None)
            if origin is not None:
                self.objects[_key(new)] = origin

    def _data(self, e: fx.Effect, obj: fx.Obj, spec: Any, line: int, origin: str = EXISTING) -> None:
        if spec is not None and spec[0] == "data" and spec[1]:  # TRUNCATE, DELETE without WHERE
            t = self._holder(obj, EXISTING)
            if t is not None:
                t.empty = f"every row was deleted on line {line} ({e.attr})"
                self.changed.add(t.name)
            return
        t = self._table(obj.name)
        if t is not None:
            self._written(t, spec, line, origin)
        if t is not None and e.attr in _DATA_IN and t.empty is not None:
            t.empty = None
            self.changed.add(t.name)

    @staticmethod
    def _written(t: Table, spec: Any, line: int, origin: str) -> None:
        """Record what a row change wrote into the columns of ``t`` (``specs.data``'s ``writes``;
        an effect without them, of an older summary, wrote any column)."""
        writes = spec[3] if spec is not None and spec[0] == "data" and len(spec) > 3 else (specs.ANY_COLUMN,)
        for w in writes:
            targets = t.columns.values() if w[0] == "*" else [t.columns[w[0]]] if w[0] in t.columns else []
            for col in targets:
                col.written = line
                if w[0] != "*":
                    sources = frozenset(
                        src.split(".", 1)[1]
                        for src in w[1:]
                        if src.split(".", 1)[0] == t.name and src.split(".", 1)[1] not in ("*", col.name)
                    )
                    col.copy_of = sources if origin != EXISTING else frozenset()


def _column(spec: tuple, origin: str = EXISTING, line: int = 0) -> Column:
    """A ``Column`` from its ``("column", ...)`` spec, added where ``origin`` says."""
    return Column(spec[1], spec[2], spec[3], spec[4], spec[5], spec[6], origin, line)


def _where(origin: str, display: str, line: int) -> str:
    if origin == FILE:
        return f"earlier in this file (line {line})"
    if origin == CHANGE:
        return f"in this change set ({display}:{line})"
    return f"by {display}:{line}" if display else "earlier"


# --- where statements are -----------------------------------------------------------------------


def _pos(st: Any) -> tuple[int, int]:
    """A statement's (or ``effects.Loc``'s) place in its file: statements and the ``DO`` bodies
    after them are in this order in ``all_statements``."""
    return st.line, st.column


def _effects(f: Any) -> list[fx.Effect]:
    if perfile.unreadable(f):  # (from its words summary: a reader of summaries only, for the cache)
        return []
    return fx.file_effects(f)


# --- the cheap view: the file and its change set ---------------------------------------------


class State(FrozenRecord):
    """What the ``Timeline`` knows of a relation or index at one point."""

    __slots__ = ("kind", "origin", "display", "line", "empty", "table")
    kind: str
    origin: str
    display: str
    line: int
    empty: str | None
    table: str  # an index: its table

    def __init__(self, kind: str, origin: str, display: str, line: int, empty: str | None = None, table: str = ""):
        set_ = object.__setattr__  # (as a frozen dataclass sets its fields: the hot path makes many)
        set_(self, "kind", kind)
        set_(self, "origin", origin)
        set_(self, "display", display)
        set_(self, "line", line)
        set_(self, "empty", empty)
        set_(self, "table", table)


class Timeline:
    """Per relation and index name, how its provenance changed through the migrations of the
    change set before the file, then the file itself: ``at(name, f_pos, st)`` by bisection."""

    def __init__(self) -> None:
        self.events: dict[str, tuple[list[tuple[int, int, int]], list[State | None]]] = {}

    def record(self, catalog: Catalog, names: Iterable[str], key: tuple[int, int, int]) -> None:
        for name in names:
            t = catalog.tables.get(name)
            state: State | None
            if t is not None:
                state = State(t.kind, t.origin, t.display, t.line, t.empty)
            else:
                idx = catalog.indexes.get(name)
                state = None if idx is None else State(fx.INDEX, idx.origin, idx.display, idx.line, None, idx.table)
            keys, states = self.events.setdefault(name, ([], []))
            if keys and keys[-1] == key:
                states[-1] = state
            else:
                keys.append(key)
                states.append(state)

    def at(self, name: str, key: tuple[int, int, int]) -> State | None:
        ev = self.events.get(name)
        if not ev:
            return None
        i = bisect.bisect_left(ev[0], key) - 1
        return ev[1][i] if i >= 0 else None


def replay(stream: Iterable[tuple[Iterable[fx.Effect], str, str]]) -> Timeline:
    """The timeline of a sequence of files: ``(effects, origin, display)`` each, in order."""
    tl = Timeline()
    cat = Catalog()
    for i, (effs, origin, display) in enumerate(stream):
        for e in effs:
            cat.apply(e, origin, display)
            if cat.changed:
                tl.record(cat, cat.changed, (i, *_pos(e.stmt)) if e.stmt is not None else (i, 0, 0))
    return tl


def _timeline(f: Any) -> tuple[Timeline, int]:
    """The file's timeline and its own place (the number of change-set files before it),
    computed once per file (kept on it: ``MigrationFile.release`` drops it with its trees)."""
    cached: tuple[Timeline, int] | None = f.__dict__.get("_schema_timeline")
    if cached is not None:
        return cached
    project = getattr(f, "project", None)
    before = list(project.changes_before(f)) if project is not None and f.kind == "migration" else []
    stream = [(_effects(m), CHANGE, m.display) for m in before] + [(_effects(f), FILE, f.display)]
    out = (replay(stream), len(before))
    f.__dict__["_schema_timeline"] = out
    return out


def provenance(f: Any, st: Any, name: str) -> State | None:
    """What the file and its change set say of relation (or index) ``name`` just before ``st``
    (a statement of ``f``, top level or in a DO block): None when they have not created or
    changed it (an existing object, as far as they show)."""
    if not name:
        return None
    tl, me = _timeline(f)
    return tl.at(unqualified(name), (me, *_pos(st)))


def is_new(
    f: Any, st: Any, name: str, kinds: frozenset[str] = TABLE_KINDS, origins: Iterable[str] = (FILE, CHANGE)
) -> bool:
    """Was relation ``name`` created earlier in this file or change set (and is still there)?"""
    s = provenance(f, st, name)
    return s is not None and s.kind in kinds and s.origin in origins


def empty(f: Any, st: Any, name: str) -> str | None:
    """Why table ``name`` is provably empty just before ``st`` (None when it may hold rows)."""
    s = provenance(f, st, name)
    return s.empty if s is not None and s.kind in TABLE_KINDS else None


def index_on_new_table(f: Any, st: Any, index: str) -> bool:
    """Was index ``index`` built earlier in this file or change set on a table they created?"""
    s = provenance(f, st, index)
    if s is None or s.kind != fx.INDEX or not s.table:
        return False
    return is_new(f, st, s.table)


def origin_words(s: State | None) -> str:
    """How ``migcheck locks`` and the editor's hover describe a relation."""
    if s is None or s.origin == EXISTING:
        return "existing table"
    if s.origin == FILE:
        return f"table created in this file (line {s.line}): no one else can hold it"
    return f"table created in this change set ({s.display}:{s.line}): the running application does not use it yet"


# --- the full view: the catalog from the earlier migrations ----------------------------------------


def earlier(project: Any, f: Any) -> list[Any]:
    """The migrations of ``f``'s directory that run before it, in the runner's order. Only for
    migrations with a version (the naming orders them; otherwise the order is not known): those
    with an earlier version (a duplicate version is not "before"). The group is in the runner's
    order already (``layout.run_order``: Flyway's 1.2 before 1.10, which a string comparison of
    the versions would not say)."""
    if f.kind != "migration" or not f.version or project is None:
        return []
    group = project.groups.get(f.mdir)
    if group is None:
        return []
    out = []
    for m in group.migrations:
        if m is f:
            break
        if m.version and m.version != f.version:
            out.append(m)
    return out


def _related(effs: Iterable[fx.Effect], names: set[str]) -> set[str]:
    """Names tied to ``names`` by these effects: the other name of a rename, an index's table."""
    out = set()
    for e in effs:
        obj = e.obj
        if obj is None:
            continue
        if e.op == fx.RENAME and e.new is not None and obj.kind in RELATION_KINDS | {fx.INDEX}:
            a, b = obj.name.lower(), e.new.name.lower()
            if a in names or b in names:
                out |= {a, b}
        elif e.op == fx.CREATE and obj.kind == fx.INDEX and obj.name.lower() in names and e.on is not None:
            out.add(e.on.name.lower())
    return out - names


def relevant(migrations: list[Any], names: set[str], own: Iterable[fx.Effect] = ()) -> list[Any]:
    """The migrations (in order) whose text names one of ``names`` (lower case), or a name tied to
    one (renamed into or out of it, the table of an index), found until nothing new turns up.
    Identifiers are compared in lower case in the raw text: a superset of the exact matches."""
    names = set(names) | _related(own, set(names))
    keep: dict[int, Any] = {}
    todo = set(names)
    while todo:
        found = set()
        for m in migrations:
            if id(m) in keep:
                continue
            if perfile.mentions(m, todo):  # (from its words, kept in the cache: not its text)
                keep[id(m)] = m
                found |= _related(_effects(m), names)
        names |= found
        todo = found
    return [m for m in migrations if id(m) in keep]


def before(project: Any, f: Any, st: Any, names: Iterable[str]) -> Catalog:
    """The catalog just before ``st`` (None: after the whole file) for the objects ``names``
    (tables, indexes: the others the replay meets are there too, but not necessarily complete):
    the earlier migrations that name them (``relevant``), then ``f`` up to ``st``. A table
    created by an earlier migration is ``CHANGE`` when that migration is in the change set, else
    ``EXISTING``.

    Answered by the directory's ``_Directory``: which earlier migrations are relevant from its
    index of their words, and their replay from the longest replay of the same migrations it
    kept (one replay of the history serves every later question that reads the same migrations,
    and those that add later ones to them)."""
    own = [e for e in _effects(f) if st is None or (e.stmt is not None and _pos(e.stmt) < _pos(st))]
    wanted = {unqualified(n).lower() for n in names if n}
    directory = _directory(project, f)
    if directory is not None:
        return directory.before(project, f, own, wanted | _related(own, wanted))
    cat = Catalog()  # no earlier migrations (``earlier`` is empty)
    for e in own:
        cat.apply(e, FILE, f.display)
    return cat


def relevant_earlier(project: Any, f: Any, names: Iterable[str]) -> list[Any]:
    """``relevant(earlier(project, f), names)`` (names in lower case), in the runner's order,
    from the directory's index of words (``_Directory``) instead of each migration's words."""
    directory = _directory(project, f)
    if directory is None:  # (``earlier`` is empty)
        return []
    return [directory.migrations[i] for i in _bits(directory.relevant(f, set(names)))]


def earlier_naming(project: Any, f: Any, name: str) -> list[Any]:
    """The migrations of ``earlier(project, f)`` whose text names ``name`` (lower case:
    ``perfile.mentions``), in the runner's order, from the directory's index of words."""
    directory = _directory(project, f)
    if directory is None:
        return []
    within, upto = directory.earlier(f)
    return [directory.migrations[i] for i in _bits(directory.naming(name, upto) & within)]


# --- one index and one replay per directory ------------------------------------------------------

_BLOCK = 256  # migrations per block of the word index (built as far as the questions reach)
_KEPT = 128  # replays kept per directory (least recently used dropped): they share most tables
_DIRECTORIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _directory(project: Any, f: Any) -> _Directory | None:
    """The index of ``f``'s directory, built once per project (per process: each pool worker
    has its own), or None when ``earlier(project, f)`` is empty whatever the files say."""
    if f.kind != "migration" or not f.version or project is None:
        return None
    return _directory_of(project, f.mdir)


def _directory_of(project: Any, mdir: Any) -> _Directory | None:
    """The index of the migration directory ``mdir`` of ``project`` (built once per project and
    process), or None when the project has no such directory."""
    group = project.groups.get(mdir)
    if group is None:
        return None
    per_project = _DIRECTORIES.get(project)
    if per_project is None:
        per_project = _DIRECTORIES[project] = {}
    d = per_project.get(mdir)
    if d is None or not d.current(group.migrations):
        d = per_project[mdir] = _Directory(group.migrations)
    return d


def positions_naming(project: Any, mdir: Any, name: str) -> tuple[int, ...]:
    """The positions, in ``project.groups[mdir].migrations``, of the migrations whose text names
    ``name`` (lower case: ``perfile.mentions``), from the directory's index of words."""
    d = _directory_of(project, mdir)
    return tuple(_bits(d.naming(name, len(d.migrations)))) if d is not None else ()


def _bits(mask: int) -> Iterator[int]:
    """The positions of the bits set in ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class _Directory:
    """The migrations of one directory in the runner's order, for ``before``:

    - which of them name a word (``relevant``'s text filter), as a bit mask over positions, from
      their ``words`` summaries joined a block at a time and searched once per name;
    - the names each ties to others (``_related``: renames, an index's table);
    - catalogs replayed from sets of them (by the mask of the set and of the change-set members
      among it), the last ``_KEPT`` used: a question whose relevant migrations extend a kept set
      with later ones replays only those, from a copy.

    The answers are ``relevant``'s and the old per-question replay's, exactly (tests/test_schema_replay.py)."""

    def __init__(self, migrations: list[Any]) -> None:
        self.source = migrations
        self.migrations = list(migrations)
        self.position = {id(m): i for i, m in enumerate(self.migrations)}
        self.versioned = 0  # the migrations with a version
        by_version: dict[str, list[int]] = {}
        for i, m in enumerate(self.migrations):
            if m.version:
                self.versioned |= 1 << i
                by_version.setdefault(m.version, []).append(i)
        # the positions of the versions that several migrations share (none is "before" another)
        self.shared = {v: tuple(ps) for v, ps in by_version.items() if len(ps) > 1}
        self._blocks: list[tuple[str, list[int]]] = []  # the joined words of each block, its files' offsets
        self._masks: dict[str, tuple[int, int]] = {}  # name -> (blocks searched, mask)
        self._links: dict[int, tuple[tuple[str, str, str], ...]] = {}
        self._replays: OrderedDict[tuple[int, int], Catalog] = OrderedDict()
        # the file asked about last: by history, how far into its own effects a kept catalog is
        self._file: Any = None
        self._own: dict[tuple[int, int], tuple[list[fx.Effect], Catalog]] = {}

    def current(self, migrations: list[Any]) -> bool:
        """Is this still the index of ``migrations`` (the same files in the same order)?"""
        return migrations is self.source and len(migrations) == len(self.migrations)

    # which migrations name what
    def _block(self, b: int) -> tuple[str, list[int]]:
        while len(self._blocks) <= b:
            parts, starts, at = [], [], 0
            for m in self.migrations[len(self._blocks) * _BLOCK : (len(self._blocks) + 1) * _BLOCK]:
                held = perfile.held_words(m)
                starts.append(at)
                parts.append(held if held is not None else "")
                at += len(parts[-1]) + 1
            self._blocks.append(("\n".join(parts), starts))
        return self._blocks[b]

    def _search(self, name: str, b: int) -> int:
        """The mask of block ``b``'s migrations that name ``name`` (``perfile.mentions``)."""
        first = b * _BLOCK
        out = 0
        if not name or not perfile.wordlike(name):  # "" is in any readable text; others: the text itself
            for i, m in enumerate(self.migrations[first : first + _BLOCK]):
                if perfile.mentions(m, (name,)):
                    out |= 1 << (first + i)
            return out
        text, starts = self._block(b)
        at = text.find(name)
        while at >= 0:
            k = bisect.bisect_right(starts, at) - 1
            out |= 1 << (first + k)
            if k + 1 >= len(starts):
                break
            at = text.find(name, starts[k + 1])
        return out

    def naming(self, name: str, upto: int) -> int:
        """The mask of the migrations before position ``upto`` (at least) whose text names ``name``."""
        done, mask = self._masks.get(name, (0, 0))
        need = -(-upto // _BLOCK)
        if done < need:
            for b in range(done, need):
                mask |= self._search(name, b)
            self._masks[name] = (need, mask)
        return mask

    def _related(self, i: int, names: set[str]) -> set[str]:
        """``_related(_effects(migration i), names)``, from its links kept once."""
        links = self._links.get(i)
        if links is None:
            out = []
            for e in _effects(self.migrations[i]):
                obj = e.obj
                if obj is None:
                    continue
                if e.op == fx.RENAME and e.new is not None and obj.kind in RELATION_KINDS | {fx.INDEX}:
                    out.append(("rename", obj.name.lower(), e.new.name.lower()))
                elif e.op == fx.CREATE and obj.kind == fx.INDEX and e.on is not None:
                    out.append(("index", obj.name.lower(), e.on.name.lower()))
            links = self._links[i] = tuple(out)
        found = set()
        for how, a, b in links:
            if how == "rename":
                if a in names or b in names:
                    found |= {a, b}
            elif a in names:
                found.add(b)
        return found - names

    def earlier(self, f: Any) -> tuple[int, int]:
        """``earlier(project, f)`` as a mask, and how far it reaches."""
        pos = self.position.get(id(f))
        if pos is None:  # (not one of them: every migration with another version)
            out = 0
            for i, m in enumerate(self.migrations):
                if m.version and m.version != f.version:
                    out |= 1 << i
            return out, len(self.migrations)
        mask = self.versioned & ((1 << pos) - 1)
        for i in self.shared.get(f.version, ()):
            mask &= ~(1 << i)
        return mask, pos

    def relevant(self, f: Any, names: set[str]) -> int:
        """``relevant(earlier(project, f), names)`` as a mask: the same search, by the index."""
        within, upto = self.earlier(f)
        names = set(names)
        kept = 0
        todo = set(names)
        while todo:
            found: set[str] = set()
            new = 0
            for n in todo:
                new |= self.naming(n, upto)
            new &= within & ~kept
            for i in _bits(new):
                found |= self._related(i, names)
            kept |= new
            names |= found
            todo = found
        return kept

    # their replay
    def before(self, project: Any, f: Any, own: list[fx.Effect], names: set[str]) -> Catalog:
        """``before``'s catalog: the relevant earlier migrations of ``f`` for ``names`` (closed
        under ``_related`` with ``own`` already), then ``own`` (``f``'s effects before the
        statement). The questions about one file usually come one statement after another: the
        last catalog of each history is kept with the effects it applied, and extended."""
        kept = self.relevant(f, names)
        changes = 0
        for m in project.changes_before(f):
            i = self.position.get(id(m))
            if i is not None:
                changes |= 1 << i
        changes &= kept
        if self._file is not f:
            self._file, self._own = f, {}
        done = self._own.get((kept, changes))
        if done is not None and len(done[0]) <= len(own) and all(a is b for a, b in zip(done[0], own)):
            cat, start = done[1], len(done[0])  # (replaced below: only copies of it were handed out)
        else:
            cat, start = self.replayed(kept, changes), 0
        for e in own[start:]:
            cat.apply(e, FILE, f.display)
        self._own[(kept, changes)] = (own, cat)
        return cat.copy()

    def replayed(self, kept: int, changes: int) -> Catalog:
        """A fresh catalog of the migrations ``kept`` (a mask), replayed as ``before`` replays
        them: those of ``changes`` as ``CHANGE``, the others as ``EXISTING``."""
        order = list(_bits(kept))
        # the longest kept replay of a prefix of them
        start, base = 0, None
        prefix = kept
        for n in range(len(order), 0, -1):
            base = self._replays.get((prefix, changes & prefix))
            if base is not None:
                self._replays.move_to_end((prefix, changes & prefix))
                start = n
                break
            prefix ^= 1 << order[n - 1]
        if start == len(order):
            return base.copy() if base is not None else Catalog()
        cat = base.copy() if base is not None else Catalog()
        for i in order[start:]:
            m = self.migrations[i]
            origin = CHANGE if changes >> i & 1 else EXISTING
            for e in _effects(m):
                cat.apply(e, origin, m.display)
        self._replays[(kept, changes)] = cat
        if len(self._replays) > _KEPT:
            self._replays.popitem(last=False)
        return cat.copy()


def file_before(f: Any, st: Any) -> Catalog:
    """The catalog as the file alone shows it just before ``st`` (no other migration read)."""
    cat = Catalog()
    for e in _effects(f):
        if e.stmt is not None and _pos(e.stmt) >= _pos(st):
            break
        cat.apply(e, FILE, f.display)
    return cat


def effects_before(f: Any, st: Any) -> Iterator[fx.Effect]:
    """The file's effects before ``st``."""
    for e in _effects(f):
        if e.stmt is not None and _pos(e.stmt) >= _pos(st):
            return
        yield e


def effects_after(f: Any, st: Any) -> Iterator[fx.Effect]:
    """The file's effects after ``st`` (its own excluded)."""
    for e in _effects(f):
        if e.stmt is not None and _pos(e.stmt) > _pos(st):
            yield e


def effects_of(f: Any, st: Any) -> list[fx.Effect]:
    """The effects of statement ``st`` itself."""
    return [e for e in _effects(f) if e.stmt is not None and _pos(e.stmt) == _pos(st)]


def copied_before(f: Any, st: Any, table: str, column: str) -> int | None:
    """The line of a statement earlier in the file that copied the values of ``table.column``
    into another column or table (UPDATE ... SET other = column, INSERT ... SELECT column,
    CREATE TABLE ... AS SELECT), or None."""
    want = {f"{unqualified(table)}.{column}", f"{unqualified(table)}.*"}
    for e in effects_before(f, st):
        if e.op == fx.DATA and e.spec is not None and e.spec[0] == "data" and want.intersection(e.spec[2]):
            return e.line
    return None


# --- locks, as the model sees them ---------------------------------------------------------------


def altered_columns(st: Any, subtype: str) -> list[str]:
    """The columns the ``subtype`` commands of an ALTER TABLE name (``AT_SetNotNull``,
    ``AT_DropColumn``, ...)."""
    if st is None or st.kind != "AlterTableStmt":
        return []
    return [
        c.get("AlterTableCmd", {}).get("name", "")
        for c in st.node.get("cmds", ())
        if c.get("AlterTableCmd", {}).get("subtype") == subtype
    ]


def set_not_null_columns(st: Any) -> list[str]:
    """The columns an ALTER TABLE sets NOT NULL."""
    return altered_columns(st, "AT_SetNotNull")


TIMESTAMPS = frozenset({"timestamp", "timestamptz"})
# Session time zones with a fixed zero offset: timestamp <-> timestamptz is then catalog-only (12+).
UTC = frozenset(
    {
        "utc",
        "etc/utc",
        "gmt",
        "etc/gmt",
        "uct",
        "etc/uct",
        "universal",
        "etc/universal",
        "zulu",
        "etc/zulu",
        "z",
        "greenwich",
        "etc/greenwich",
        "gmt0",
        "etc/gmt0",
        "0",
        "+0",
        "-0",
        "00:00",
        "+00:00",
    }
)


def _plain_using(expr: Any, column: str, new: TypeKey | None) -> bool:
    """``USING col`` or ``USING col::newtype``: the same as no USING clause."""
    if not expr:
        return True
    cast = expr.get("TypeCast")
    if cast is not None:
        if specs.type_key(cast.get("typeName")) != new:
            return False
        expr = cast.get("arg") or {}
    ref = expr.get("ColumnRef")
    return ref is not None and pg.strings(ref.get("fields")) == [column]


def _utc_session(f: Any, st: Any) -> bool:
    from . import safety

    value = safety.context(f).setting(st, "timezone")
    return value is not None and value.strip().strip("'").lower() in UTC


def rewriting_type_changes(
    project: Any, f: Any, st: Any, version: int
) -> list[tuple[str, TypeKey | None, TypeKey | None, bool]]:
    """``(column, old type, new type, has USING)`` of each ALTER COLUMN ... TYPE of an ALTER
    TABLE that rewrites the table: not a binary-coercible change of a type the migrations show
    (varchar(n) to text, ...), nor timestamp <-> timestamptz in a UTC session (12+). An old type
    the migrations do not show counts as rewriting."""
    if st.kind != "AlterTableStmt":
        return []
    changes = [
        c.get("AlterTableCmd", {})
        for c in st.node.get("cmds", ())
        if c.get("AlterTableCmd", {}).get("subtype") == "AT_AlterColumnType"
    ]
    if not changes:
        return []
    table = st.node.get("relation", {}).get("relname", "")
    t = before(project, f, st, [table]).table(table) if project is not None else None
    out = []
    for c in changes:
        cd = (c.get("def") or {}).get("ColumnDef", {})
        column = c.get("name", "")
        new = specs.type_key(cd.get("typeName"))
        using = not _plain_using(cd.get("raw_default"), column, new)
        col = t.columns.get(column) if t is not None else None
        old = col.type if col is not None else None
        if not using and not cd.get("collClause"):
            if specs.binary_coercible(old, new):
                continue
            if (
                version >= 12
                and new
                and new[0] in TIMESTAMPS
                and not new[2]
                and _utc_session(f, st)
                and (old is None or (old[0] in TIMESTAMPS and not old[2]))
            ):
                continue
        out.append((column or "?", old, new, using))
    return out


def proven_not_null(project: Any, f: Any, st: Any, version: int) -> dict[str, str]:
    """The columns of this ALTER TABLE's SET NOT NULL that need no scan of their own, with why:
    the same statement rewrites the table (PostgreSQL checks NOT NULL as it writes each row), or
    a validated CHECK proves it (12+)."""
    cols = set_not_null_columns(st)
    if not cols:
        return {}
    if rewriting_type_changes(project, f, st, version):
        return {c: "checked while the same statement rewrites the table: no scan of its own" for c in cols}
    if version < 12 or project is None:
        return {}
    table = st.node.get("relation", {}).get("relname", "")
    t = before(project, f, st, [table]).table(table)
    out = {}
    for c in cols:
        chk = t.validated_not_null_check(c) if t is not None else None
        if chk is not None:
            out[c] = f"the validated CHECK {chk.name} proves it, so PostgreSQL skips the scan (12+)"
    return out


def statement_locks(f: Any, st: Any, version: int) -> list[tuple[locks.Lock, State | None]]:
    """The locks ``st`` takes (``locks.statement_locks``) as the model sees them: a SET NOT NULL
    a validated CHECK proves (or that a rewrite of the same statement checks) scans nothing,
    and each lock with what the file and its change set say of its relation (``provenance``).
    Reads the earlier migrations of ``f.project`` for the CHECKs."""
    proven = proven_not_null(getattr(f, "project", None), f, st, version)
    return [(lk, relation_state(f, st, lk.relation)) for lk in locks.statement_locks(st, version, proven)]


def relation_state(f: Any, st: Any, name: str) -> State | None:
    """``provenance`` of a relation; for an index, of its table."""
    s = provenance(f, st, name)
    if s is not None and s.kind == fx.INDEX:
        return provenance(f, st, s.table) if s.table else None
    return s


# --- drops that lose nothing -------------------------------------------------------------------


def _set_not_null_here(st: Any) -> set[str]:
    return set(set_not_null_columns(st))


def drop_loses_nothing(project: Any, f: Any, st: Any, table: str, name: str, index: bool = False) -> str | None:
    """Why dropping constraint ``name`` of ``table`` (or, with ``index``, index ``name``) by
    ``st`` loses no guarantee, or None when it may:

    - a CHECK that only proves columns NOT NULL, once they are NOT NULL themselves (the
      validated-CHECK route to SET NOT NULL ends with dropping it);
    - a UNIQUE constraint, a unique index or a PRIMARY KEY the same file replaces with another
      on the same columns (a unique index for a constraint or the reverse; a primary key only
      by a primary key), created before or after the drop and still there at the end;
    - a FOREIGN KEY whose columns the same statement drops, or that the same file replaces with
      a validated foreign key on the same columns to the same table (``_foreign_key_kept``)."""
    cat = before(project, f, st, [table, name])
    if index:
        idx = cat.index(name)
        if idx is None or idx.partial:
            return None
        if not idx.unique:
            return _duplicate_index(project, f, idx)
        table, keys, primary = idx.table, idx.keys, idx.primary
    else:
        t = cat.table(table)
        c = t.constraints.get(name) if t is not None else None
        if t is None or c is None:
            return None
        if c.kind == "check":
            if not (c.only_not_null and c.not_null):
                return None
            not_null = {col for col, column in t.columns.items() if column.not_null} | _set_not_null_here(st)
            if c.not_null <= not_null:
                cols = ", ".join(sorted(c.not_null))
                return f"it only proved {cols} NOT NULL, which {'it is' if len(c.not_null) == 1 else 'they are'} now"
            return None
        if c.kind == "foreign key":
            return _foreign_key_kept(project, f, st, t.name, c)
        if c.kind not in ("unique", "primary key"):
            return None
        keys, primary = c.keys, c.kind == "primary key"
        if not keys:
            behind = cat.index(name)
            keys = behind.keys if behind is not None else ()
    if not keys:
        return None
    end = before(project, f, None, [table])
    for idx in end.indexes_on(unqualified(table)):
        if (
            idx.name != name
            and FILE in (idx.origin, idx.claimed)
            and idx.unique
            and not idx.partial
            and (idx.primary or not primary)
        ):
            how = _stricter(idx.keys, keys)
            if how is None:
                continue
            what = "primary key" if idx.primary else "unique constraint" if idx.constraint else "unique index"
            if how:
                return f"the {what} {idx.name} on the same columns, which this file creates, keeps them unique"
            return (
                f"the {what} {idx.name} on ({', '.join(idx.keys)}), which this file creates, is stricter: rows "
                "equal on the old keys are equal on its keys"
            )
    return None


def table_dropped_later(project: Any, f: Any, st: Any, otype: str, name: str, table: str) -> str | None:
    """The table that object ``name`` (an index, or a trigger, policy or rule on ``table``) lives on,
    when a later top-level statement of ``f`` drops that table: dropping the object first loses
    nothing the table's own DROP does not (that one is the loss to review)."""
    if otype == "index":
        idx = before(project, f, st, [name]).index(name)
        table = idx.table if idx is not None else ""
    if not table:
        return None
    want = unqualified(table)
    seen = False
    for other in f.statements:
        if other is st:
            seen = True
        elif seen and other.kind == "DropStmt":
            if any(k[0] == "table" and unqualified(k[1]) == want for k in pg.drop_keys(other)):
                return want
    return None


def _foreign_key_kept(project: Any, f: Any, st: Any, table: str, c: Constraint) -> str | None:
    """Why dropping foreign key ``c`` of ``table`` loses no check: the statement drops its columns
    too (the loss is the column's: drop-column), or this file adds a validated foreign key on the
    same columns to the same table (changing ON DELETE is done that way), still there at the end."""
    if not c.keys:
        return None
    if set(c.keys) <= set(altered_columns(st, "AT_DropColumn")):
        cols = ", ".join(c.keys)
        return f"the statement drops {cols} too: there is nothing left for it to check"
    end = before(project, f, None, [table, c.ref])
    t = end.table(table)
    for other in t.constraints.values() if t is not None else ():
        if (
            other.name != c.name
            and other.kind == "foreign key"
            and other.validated
            and other.keys == c.keys
            and other.ref == c.ref
            and other.display == f.display
        ):
            return f"the foreign key {other.name}, which this file adds, checks the same columns against {c.ref}"
    return None


def _stricter(new: tuple[str, ...], old: tuple[str, ...]) -> bool | None:
    """Does a unique index on ``new`` forbid every duplicate a unique index on ``old`` forbids?
    True: the same keys; False: stricter; None: neither. Each key of ``new`` must be a key of
    ``old``, or ``lower()``/``upper()`` of a column that is one (index expressions are immutable,
    and these two return NULL only for NULL: two rows equal on ``old`` are equal on ``new``).
    Any other expression could map equal keys to NULL, which a unique index never compares."""
    if not new or any(k == "expr" or (k not in old and specs.key_column(k) not in old) for k in new):
        return None
    return set(new) == set(old)


def _duplicate_index(project: Any, f: Any, idx: Index) -> str | None:
    """Why dropping the plain (not unique) index ``idx`` slows nothing: another index on the same
    columns in the same order, both plain btree (``Index.plain``) and neither partial, is still
    there at the end of the file (the index of a UNIQUE constraint, typically)."""
    if not idx.plain or not idx.keys or "expr" in idx.keys:
        return None
    end = before(project, f, None, [idx.table])
    for other in end.indexes_on(idx.table):
        if other.name != idx.name and other.plain and not other.partial and other.keys == idx.keys:
            what = (
                "primary key"
                if other.primary
                else "unique constraint"
                if other.constraint
                else "unique index"
                if other.unique
                else "index"
            )
            return f"the {what} {other.name} indexes the same columns in the same order"
    return None


# --- columns that hold nothing yet, and drops of columns that lose nothing ----------------------
# Decided on the file and its change set first (``local_before``: no other file is read, and the
# result cache keys a migration on its change set anyway); the earlier migrations are read
# (``history()``, a callable that gives the project: a rule passes ``lambda: ctx.project``, so that
# the cache knows the result depends on them) only when an ADD COLUMN IF NOT EXISTS leaves open
# whether the column was there before, or to learn whether a dropped column was generated.

History = Callable[[], Any]


def local_before(f: Any, st: Any) -> Catalog:
    """The catalog as the change set before ``f`` and ``f`` itself show it just before ``st``."""
    project = getattr(f, "project", None)
    cat = Catalog()
    if project is not None and f.kind == "migration":
        for m in project.changes_before(f):
            for e in _effects(m):
                cat.apply(e, CHANGE, m.display)
    for e in effects_before(f, st):
        cat.apply(e, FILE, f.display)
    return cat


def _added(col: Column) -> str:
    return "earlier in this file" if col.origin == FILE else "in this change set"


def _new_column(history: History, f: Any, st: Any, table: str, name: str, local: Table | None) -> Column | None:
    """Column ``table.name`` just before ``st`` when the file or its change set added it (None
    otherwise), the earlier migrations read when its ADD COLUMN IF NOT EXISTS may have added nothing."""
    col = local.columns.get(name) if local is not None else None
    if col is None or col.origin not in (FILE, CHANGE):
        return None
    if col.assumed:
        t = before(history(), f, st, [table]).table(table)
        col = t.columns.get(name) if t is not None else None
        if col is None or col.origin not in (FILE, CHANGE):
            return None
    return col


def is_new_column(history: History, f: Any, st: Any, table: str, column: str) -> bool:
    """Was ``table.column`` added earlier in this file or change set (no deployed code uses it)?"""
    name = unqualified(table)
    return _new_column(history, f, st, name, column, local_before(f, st).table(name)) is not None


def unwritten_new_columns(history: History, f: Any, st: Any, table: str, columns: Iterable[str]) -> str | None:
    """Why setting ``columns`` of ``table`` in every row (an UPDATE without WHERE at ``st``)
    overwrites nothing, or None: each was added earlier in this file or change set (every row
    holds NULL or the DEFAULT that ADD COLUMN just wrote, which nothing has read) and nothing
    wrote it since (an UPDATE of it, rows inserted or copied in: their values would be lost)."""
    cols = list(dict.fromkeys(columns))
    name = unqualified(table)
    if not cols or not name:
        return None
    local = local_before(f, st).table(name)
    where = set()
    for c in cols:
        col = _new_column(history, f, st, name, c, local)
        if col is None or col.written:
            return None
        where.add(_added(col))
    it = "it was" if len(cols) == 1 else "they were"
    return f"{it} added {' and '.join(sorted(where))} and nothing wrote {'it' if len(cols) == 1 else 'them'} since"


def dropped_column_kept(history: History, f: Any, st: Any, table: str, column: str) -> str | None:
    """Why dropping ``table.column`` at ``st`` loses no data, or None when it may:

    - the column was added earlier in this file or change set (a temporary column: the running
      application never wrote it);
    - a generated column that the file adds again, as a generated column, at or after ``st``
      (its values are computed from each row's other columns);
    - its values were copied (``UPDATE t SET new = f(column)``), in this file or change set, into
      a column they added, which takes the dropped column's name later in this file (the column
      is replaced by its converted copy, as ``ALTER COLUMN ... TYPE ... USING`` would)."""
    name = unqualified(table)
    t = local_before(f, st).table(name)
    col = _new_column(history, f, st, name, column, t)
    if col is not None:
        return f"it was added {_added(col)} (line {col.line}{'' if col.origin == FILE else ' of that file'})"
    here = _pos(st)
    after: list[tuple[fx.Effect, fx.Obj, tuple[int, int]]] = []  # this table's column effects from ``st`` on
    for e in _effects(f):
        obj, loc = e.obj, e.stmt
        if (
            loc is not None
            and obj is not None
            and obj.kind == fx.COLUMN
            and obj.parent is not None
            and unqualified(obj.parent.name) == name
            and _pos(loc) >= here
        ):
            after.append((e, obj, _pos(loc)))
    for e, obj, _ in after:
        if e.op == fx.CREATE and obj.name == column and e.spec is not None and e.spec[0] == "column" and e.spec[6]:
            old = before(history(), f, st, [name]).table(name)
            was = old.columns.get(column) if old is not None else None
            if was is not None and was.generated:
                return (
                    f"it is a generated column, added again as one on line {e.line}: its values are computed "
                    "from each row's other columns"
                )
            break
    if t is None:
        return None
    copies = {c.name for c in t.columns.values() if column in c.copy_of}
    for e, obj, pos in after:
        if e.op == fx.RENAME and e.new is not None and obj.name in copies and e.new.name == column and pos > here:
            copy = _new_column(history, f, st, name, obj.name, t)
            if copy is None:
                continue
            where = "file" if copy.origin == FILE else "change set"
            return (
                f"its values were copied into {obj.name}, added in this {where}, which takes its name on line {e.line}"
            )
    return None
