"""The rollback rules' shared analysis: a migration and its rollback replayed as schema effects
(``migcheck.analysis.effects``), knowing what the earlier migrations of the directory defined
(``History``). ``rollback-incomplete`` and ``rollback-data-change`` read the same comparison of
each pair; it is computed once and dropped once both have read it.
"""

from __future__ import annotations

import bisect
import weakref

from .. import summaries
from . import effects as fx
from . import relations as rel
from . import schema

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_HISTORIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


_UNITS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def unit(project, f):
    """``(ups in version order, downs in the order the runner runs them)`` of the migration ``f``
    is part of, when the runner reads several files as parts of one migration (popx's conversions
    of fizz migrations: one statement per file, versions sharing their first 14 digits, downs run
    in reverse); None for a migration of its own."""
    from .. import layout

    config = project.config
    if not layout.is_preset(config) or f.mdir not in project.groups:
        return None
    lay = layout.runner_layout(config)
    key = lay.unit_of(f)
    if key is None:
        return None
    per_project = _UNITS.setdefault(project, {})
    per_dir = per_project.get(f.mdir)
    if per_dir is None:
        per_dir = {}
        group = project.groups[f.mdir]
        for m in group.migrations:
            k = lay.unit_of(m)
            if k is not None:
                per_dir.setdefault(k, ([], []))[0].append(m)
        for r in group.rollbacks:
            k = lay.unit_of(r)
            if k is not None and k in per_dir:
                per_dir[k][1].append(r)
        for ups, downs in per_dir.values():
            ups.sort(key=lambda x: x.version)
            downs.sort(key=lambda x: x.version, reverse=True)
        per_project[f.mdir] = per_dir
    found = per_dir.get(key)
    return found if found is not None and len(found[0]) > 1 else None


def pairs(project):
    """(migration, rollback) for every migration with a rollback file, when either is reported.
    A migration made of several files (``unit``) is one pair: its first part and that part's
    rollback (or the first rollback of the unit) stand for all of them."""
    for group in project.groups.values():
        for m in group.migrations:
            u = unit(project, m)
            if u is not None:
                ups, downs = u
                if m is not ups[0] or not downs:
                    continue
                r = project.rollback_of(m) or downs[-1]
                if not any(project.is_reported(x) for x in (*ups, *downs)):
                    continue
                yield m, r
                continue
            r = project.rollback_of(m)
            if r is None or not (project.is_reported(m) or project.is_reported(r)):
                continue
            yield m, r


def readable(f) -> bool:
    """Readable and parsed without a problem: memoised on the bytes (``migcheck.summaries``), so
    the main process knows it from a pool worker's parse without decoding the file again."""
    return summaries.summary(f, "parses", _parses)


def _parses(f) -> bool:
    return f.read_problem is None and not f.problems


def is_tracking(obj: fx.Obj | None) -> bool:
    """The migration tracking tables (``_migrations.schema_migrations`` and friends)."""
    return obj is not None and (obj.schema in rel.TRACKING_SCHEMAS or obj.name in rel.TRACKING_TABLES)


class History:
    """The migrations of one directory, in order: for a name, the statements that last created,
    dropped or renamed it, so a pair can be replayed knowing what earlier migrations defined.

    When every migration's summary is already in memory (a run over the directory), one index
    of all of them; otherwise (one file checked in a directory of thousands, pre-commit, the
    editor) each name is looked up in the migrations whose text names it (``schema.relevant``'s
    text filter), so only their summaries are read or computed."""

    def __init__(self, project, mdir):
        self.project, self.mdir = project, mdir
        self.migrations = list(project.groups[mdir].migrations)
        self.position = {f.path: i for i, f in enumerate(self.migrations)}
        self._by_name: dict[str, list[tuple[int, int, fx.Effect]]] | None = None
        self._whole: bool | None = None  # every summary in memory: index them all at once
        self._lazy: dict[tuple[str, str], list[tuple[int, int, fx.Effect]]] = {}

    def _files_naming(self, low: str) -> tuple[int, ...]:
        """The positions of the migrations whose text names ``low`` (from their words, kept in
        the cache: not their text), by the schema model's index of the directory's words."""
        return schema.positions_naming(self.project, self.mdir, low)

    def _entries(self, name: str, also: str = "") -> list[tuple[int, int, fx.Effect]]:
        """The entries for ``name``; without the whole index, from the migrations whose text names
        it (and ``also``, when given: a column's table, a table's column)."""
        if self._whole is None:
            self._whole = all(summaries.memoised(f, "history") for f in self.migrations)
        if self._whole:
            return self._index().get(name, [])
        found = self._lazy.get((name, also))
        if found is None:
            candidates = self._files_naming(name.lower())
            if also:
                both = set(self._files_naming(also.lower()))
                candidates = tuple(i for i in candidates if i in both)
            found = []
            for i in candidates:
                f = self.migrations[i]
                for j, e in summaries.summary(f, "history", history_effects):
                    if e.obj.name == name or (e.op == fx.RENAME and e.new is not None and e.new.name == name):
                        found.append((i, j, e))
            self._lazy[(name, also)] = found
        return found

    def _index(self) -> dict:
        if self._by_name is None:
            by_name: dict[str, list[tuple[int, int, fx.Effect]]] = {}
            for i, f in enumerate(self.migrations):
                for j, e in summaries.summary(f, "history", history_effects):
                    by_name.setdefault(e.obj.name, []).append((i, j, e))
                    if e.op == fx.RENAME and e.new is not None and e.new.name != e.obj.name:
                        by_name.setdefault(e.new.name, []).append((i, j, e))
            self._by_name = by_name
        return self._by_name

    def last_create(self, obj: fx.Obj, m, depth: int = 0) -> fx.Effect | None:
        """The CREATE that last defined ``obj`` before migration ``m`` (following a rename into
        its name), or None when the earlier migrations do not show one."""
        before = self.position.get(m.path, len(self.migrations))
        found = self._last(obj, (before, -1), depth)
        return found[1] if found is not None else None

    def existed(self, obj: fx.Obj, m) -> bool:
        """Was ``obj`` there just before migration ``m``, as the earlier migrations show (created,
        not dropped since)? A column counts when the table's last CREATE had it and nothing
        dropped or added it since."""
        before = (self.position.get(m.path, len(self.migrations)), -1)
        column = obj.kind == fx.COLUMN and obj.parent is not None
        # a column: only the migrations that name its table too (a name like ``status`` is everywhere);
        # its table's CREATE matters only with the column in it
        found = self._last(obj, before, 0, obj.parent.name if column and obj.parent is not None else "")
        if column and obj.parent is not None:
            table = self._last(obj.parent, before, 0, obj.name)
            if (
                table is not None
                and table[1] is not None
                and obj.name in table[1].columns
                and (found is None or found[0] < table[0])
            ):
                return True
        return found is not None and found[1] is not None

    def _last(
        self, obj: fx.Obj, before: tuple[int, int], depth: int, also: str = ""
    ) -> tuple[tuple[int, int], fx.Effect | None] | None:
        """The last event before ``before`` that decides whether ``obj`` is there: ``(place, its
        CREATE)``, or ``(place, None)`` for a DROP (or a rename away); None when there is none.
        ``also``: see ``_entries``."""
        found = self._entries(obj.name, also)
        # entries are in (migration, statement) order: start just before ``before`` (a bisection,
        # not a walk over every later migration's entries: that was quadratic in a large directory)
        stop = bisect.bisect_left(found, before, key=lambda t: (t[0], t[1]))
        for k in range(stop - 1, -1, -1):
            i, j, e = found[k]
            if e.op == fx.CREATE and fx.same(e.obj, obj):
                return (i, j), e
            if e.op == fx.DROP and fx.same(e.obj, obj):
                return (i, j), None
            if e.op == fx.RENAME:
                if e.new is not None and fx.same(e.new, obj):
                    if depth >= 5 or e.obj is None:
                        return None
                    inner = self._last(e.obj, (i, j), depth + 1, also)
                    return ((i, j), inner[1]) if inner is not None else None
                if fx.same(e.obj, obj):
                    return (i, j), None
        return None


def history_effects(f) -> tuple[tuple[int, fx.Effect], ...]:
    """``(index, effect)`` of the CREATE, DROP and RENAME effects of a readable migration (no
    parse tree is kept: an effect's statement is a ``Loc``). Memoised on the file's bytes
    (``migcheck.summaries``)."""
    if not readable(f):
        return ()
    # the same Effect objects as file_effects' (their stmt is a Loc, not a tree): no copies
    return tuple(
        (j, e)
        for j, e in enumerate(fx.file_effects(f))
        if e.op in (fx.CREATE, fx.DROP, fx.RENAME) and e.obj is not None
    )


def history(project, m) -> History | None:
    per_project = _HISTORIES.setdefault(project, {})
    if m.mdir not in project.groups:
        return None
    if m.mdir not in per_project:
        per_project[m.mdir] = History(project, m.mdir)
    return per_project[m.mdir]


# The rules that compare a migration with its rollback. Each pair's comparison is computed once
# for both and dropped once both have read it; only rollback-data-change reads the object model
# (about 9 KB a pair), which is not kept for the others: 88 MB of a 19,005-file run otherwise.
COMPARING = frozenset({"rollback-incomplete", "rollback-data-change"})


def readers(ctx) -> frozenset:
    """The enabled rules of ``COMPARING``: the comparisons ``comparison`` keeps for them."""
    return COMPARING & ctx.config.enabled_rules().keys()


def comparison(project, m, r, reader: str | None = None, readers: frozenset = frozenset()):
    """``(Comparison, migration effects, rollback effects)`` of a pair, or None when the model has
    nothing to say: a file that does not parse (parse-error reports it; what did not parse may be
    the undo), or a rollback that undoes nothing at all (empty-rollback reports it). Rule
    ``reader`` reads it; it is kept until every rule of ``readers`` has."""
    key = (m.path, r.path)
    cached = _CACHE.get(r)
    if cached is not None and cached[0] == key:
        pending = cached[2]
        pending.discard(reader)
        if not pending:
            del _CACHE[r]
        return cached[1]
    result = None
    u = unit(project, m)
    ups, downs = u if u is not None else ([m], [r])
    if all(readable(x) for x in (*ups, *downs)):
        m_eff = [e for x in ups for e in fx.file_effects(x)]
        r_eff = [e for x in downs for e in fx.file_effects(x)]
        if any(not (e.op == fx.DATA and is_tracking(e.obj)) for e in r_eff):
            hist = history(project, m)
            before = (lambda obj: hist.last_create(obj, m)) if hist is not None else None
            there = (lambda obj: hist.existed(obj, m)) if hist is not None else None
            result = (fx.compare(m_eff, r_eff, before, there), m_eff, r_eff)
    pending = set(readers) - {reader}
    if pending:
        kept = result
        if result is not None and "rollback-data-change" not in pending:  # the others read no model
            kept = (fx.Comparison(result[0].leftovers, result[0].unknown, None), result[1], result[2])
        _CACHE[r] = (key, kept, pending)
    return result


def where(m, r, project, effect, message_tail, help):
    """The hit: on the rollback at 1:1 when it is reported, else on the migration's statement.
    For a migration made of several files (``unit``): on the part that holds the statement, and
    on the first of its rollback files that is reported."""
    line = effect.line
    u = unit(project, m)
    if u is not None:
        ups, downs = u
        m = next((x for x in ups if any(e is effect for e in fx.file_effects(x))), m)
        r = next((x for x in downs if project.is_reported(x)), r)
        if project.is_reported(r):
            return r.hit(
                f"`{m.name}:{line}` {message_tail[0]}, and the {len(downs)} rollback files of its "
                f"migration ({len(ups)} parts, versions {ups[0].version}-{ups[-1].version[-6:]}, run in "
                f"reverse) {message_tail[1]}",
                help,
                line=1,
                column=1,
            )
    if project.is_reported(r):
        return r.hit(
            f"`{m.name}:{line}` {message_tail[0]}, and this rollback {message_tail[1]}", help, line=1, column=1
        )
    message = f"this statement {message_tail[0]}, and its rollback `{r.display}` {message_tail[1]}"
    if effect.stmt is None:
        return m.hit(message, help, line=1, column=1)
    return m.hit(message, help, effect.stmt)


def previous_definition(project, m, obj: fx.Obj) -> str | None:
    """The definition ``obj`` had before migration ``m``, from the earlier migrations of its
    directory (the last CREATE of it), or None when they do not show it."""
    hist = history(project, m)
    e = hist.last_create(obj, m) if hist is not None else None
    return e.defn if e is not None else None
