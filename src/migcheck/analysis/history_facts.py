"""Facts of a directory's replayed history that single drops ask about: what a DROP removes that
the schema model (``analysis.schema``) shows is not lost.

Each answer is a reason (a sentence fragment) or None when the history does not show it; None
keeps the finding. Kept apart from ``schema`` (whose catalog and replay these read, not change).

- ``covering_index``: a plain index the same file replaces with a wider one that starts with the
  same columns;
- ``column_not_there``: a ``DROP COLUMN IF EXISTS`` of a column the fully known table does not
  have;
- ``unused_trigger_function``: a trigger function whose every trigger is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import summaries
from . import effects as fx
from . import schema


def covering_index(project: Any, f: Any, st: Any, name: str) -> str | None:
    """Why dropping the plain (not unique, not partial) btree index ``name`` by ``st`` slows
    nothing: this file creates another plain btree index on the same table, not partial, still
    there at the end of the file, whose leading keys are the dropped index's keys in the same
    order (``(a, b, c, d)`` for ``(a, b, c)``). A btree index serves any equality, range or
    ordering on its leading columns, so every query the dropped index served can use the new one
    (a little larger: a judgement of speed, not a guarantee). An index another file built is not
    the replacement a reviewer sees in this change: still reported."""
    cat = schema.before(project, f, st, [name])
    idx = cat.index(name)
    if idx is None or idx.unique or idx.partial or not idx.plain or not idx.keys or "expr" in idx.keys:
        return None
    # the end of the file: only what the file itself does from ``st`` on can change the indexes it
    # created (the only ones that count), so its own effects are replayed on top, not the history
    for e in (*schema.effects_of(f, st), *schema.effects_after(f, st)):
        cat.apply(e, schema.FILE, f.display)
    n = len(idx.keys)
    for other in cat.indexes_on(idx.table):
        if (
            other.name != idx.name
            and other.origin == schema.FILE
            and other.plain
            and not other.partial
            and len(other.keys) > n
            and other.keys[:n] == idx.keys
        ):
            return (
                f"the index {other.name} on ({', '.join(other.keys)}), which this file creates, starts with the "
                "same columns in the same order"
            )
    return None


def column_not_there(history: Callable[[], Any], f: Any, st: Any, table: str, column: str) -> str | None:
    """Why ``ALTER TABLE table DROP COLUMN IF EXISTS column`` at ``st`` drops nothing: ``table``
    was created by the replayed history with its column list (``Table.known``: every column it
    has is known, as ``ADD COLUMN IF NOT EXISTS`` already trusts) and has no such column just
    before ``st`` (no migration added it, or one dropped it already). A table met only through
    ALTER TABLE (an unknown baseline), or created with ``LIKE``, ``AS`` or ``PARTITION OF``, is not
    known: None. ``history`` gives the project (read only when needed: see ``schema.History``)."""
    name = schema.unqualified(table)
    if not name or not column:
        return None
    project = history()
    t = schema.before(project, f, st, [name]).table(name)
    if t is None or not t.known or column in t.columns or not t.display:
        return None
    made_in = next((m for m in (*schema.earlier(project, f), f) if m.display == t.display), None)
    borrowed = summaries.summary(made_in, "borrowed-columns", _borrowed_columns) if made_in is not None else None
    if borrowed is None or (t.line, name) in borrowed or _UNPARSED in borrowed:
        return None  # its CREATE TABLE takes columns from elsewhere: they are not all known
    return f"{name} has no column {column} in the history these migrations replay"


_UNPARSED = (0, "")


def _borrowed_columns(f: Any) -> frozenset[tuple[int, str]]:
    """``(line, table)`` of the CREATE TABLE statements of ``f`` that take columns the statement
    does not list (``LIKE``, ``INHERITS``, ``OF type``, ``PARTITION OF``); memoised on its bytes
    (``migcheck.summaries``). A file that does not parse: every table (not known)."""
    if f.read_problem or f.problems:
        return frozenset({_UNPARSED})
    out = set()
    for st in f.all_statements:
        n = st.node
        if st.kind == "CreateStmt" and (
            n.get("inhRelations")
            or n.get("ofTypename")
            or any("TableLikeClause" in e for e in n.get("tableElts") or ())
        ):
            out.add((st.line, (n.get("relation") or {}).get("relname", "")))
    return frozenset(out)


def unused_trigger_function(project: Any, f: Any, st: Any, name: str) -> str | None:
    """Why dropping function ``name`` by ``st`` breaks nothing: its last definition (the earlier
    migrations of the directory, then this file) ``RETURNS trigger``, which PostgreSQL lets only a
    trigger call (a direct call fails), and every trigger that executed it is gone just before
    ``st`` (dropped by name, or with its table). Read from the migrations whose text names the
    function (a trigger that calls it names it); None when the history does not show the
    function's definition, when a trigger that calls it is still there, or when SQL the model
    cannot read (dynamic SQL) ran in between."""
    fn = schema.unqualified(name)
    # the function as the DROP names it (its argument types, when given, tell overloads apart)
    dropped = next(
        (
            e.obj
            for e in schema.effects_of(f, st)
            if e.op == fx.DROP and e.obj is not None and e.obj.kind == fx.FUNCTION and e.obj.name == fn
        ),
        None,
    )
    if not fn or dropped is None:
        return None
    low = fn.lower()
    stream = [fx.file_effects(m) for m in schema.earlier_naming(project, f, low)]
    stream.append(list(schema.effects_before(f, st)))
    returns_trigger: bool | None = None
    triggers: dict[tuple[str, str], bool] = {}  # (table, trigger) -> it executes ``fn``
    for effects in stream:
        for e in effects:
            obj = e.obj
            if e.op == fx.UNKNOWN:
                return None
            if obj is None:
                continue
            if obj.kind == fx.FUNCTION and obj.name == fn and fx.same(obj, dropped):
                if e.op == fx.CREATE:
                    returns_trigger = "trigger" in e.refs
                elif e.op == fx.DROP:
                    returns_trigger = None
            elif obj.kind == fx.TRIGGER and obj.parent is not None:
                key = (obj.parent.name, obj.name)
                if e.op == fx.CREATE:
                    triggers[key] = fn in e.refs
                elif e.op == fx.DROP:
                    triggers.pop(key, None)
                elif e.op == fx.RENAME and e.new is not None and key in triggers:
                    triggers[(obj.parent.name, e.new.name)] = triggers.pop(key)
            elif obj.kind in schema.RELATION_KINDS:
                if e.op == fx.DROP:
                    for key in [k for k in triggers if k[0] == obj.name]:
                        del triggers[key]
                elif e.op == fx.RENAME and e.new is not None:
                    for key in [k for k in triggers if k[0] == obj.name]:
                        triggers[(e.new.name, key[1])] = triggers.pop(key)
    if not returns_trigger or any(triggers.values()):
        return None
    return f"{fn} returns trigger, which only a trigger can call, and no trigger executes it any more"
