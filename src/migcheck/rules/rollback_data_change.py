"""rollback-data-change: the migration changes rows of a table its rollback never touches."""

from __future__ import annotations

from ..analysis import effects as fx
from ..analysis import rollback as ri
from ..registry import rule


def _created_or_dropped(model: fx.Model, table: fx.Obj) -> bool:
    """Did the migration create the table (its rows go with it) or drop it (rollback-incomplete
    reports that)?"""
    for ent in model.entries:
        if ent.first_phase != "m" or fx._namespace(ent.orig.kind) != "relation":
            continue
        if not (fx.same(ent.orig, table) or fx.same(ent.obj, table)):
            continue
        if ent.existed is False or "m" in ent.dropped:
            return True
    return False


def _backfill(model: fx.Model, e: fx.Effect) -> bool:
    """Is ``e`` an UPDATE that only sets columns the migration itself added (a backfill of a new
    column)? No value that was there before changes: undoing the columns (rollback-incomplete's
    business) undoes it. An UPDATE of an older summary, without the columns it sets, is not."""
    spec = e.spec
    if e.attr != "UPDATE" or spec is None or spec[0] != "data" or len(spec) < 4 or not spec[3]:
        return False
    for w in spec[3]:
        column = w[0] if w else "*"
        if column == "*" or not any(
            ent.obj.kind == fx.COLUMN
            and ent.obj.name == column
            and ent.existed is False
            and ent.first_phase == "m"
            and fx.same(ent.obj.parent, e.obj)
            and not model.there_before(ent)  # (last: it may read the history)
            for ent in model.entries
        ):
            return False
    return True


def _catalog(obj: fx.Obj) -> bool:
    """A system catalog (``UPDATE pg_index SET indisready ...``): not the application's data."""
    return obj.schema in ("pg_catalog", "information_schema") or (not obj.schema and obj.name.startswith("pg_"))


@rule(
    "rollback-data-change",
    severity="info",
    group="rollback",
    scope="project",
    kinds=("rollback",),
    needs=("effects", "history"),
    summary="The migration changes rows (INSERT/UPDATE/DELETE/TRUNCATE/COPY) of a table its rollback never touches.",
)
def check(project, ctx):
    shared = ri.readers(ctx)
    for m, r in ri.pairs(project):
        found = ri.comparison(project, m, r, "rollback-data-change", shared)
        if found is None:
            continue
        cmp, m_eff, r_eff = found
        if cmp.unknown:
            continue
        by_table: dict[fx.Obj, list[fx.Effect]] = {}
        for e in m_eff:
            if e.op != fx.DATA or ri.is_tracking(e.obj) or _catalog(e.obj) or _backfill(cmp.model, e):
                continue
            key = next((k for k in by_table if fx.same(k, e.obj)), e.obj)
            by_table.setdefault(key, []).append(e)
        for table, effs in by_table.items():
            if _created_or_dropped(cmp.model, table) or fx.touches(r_eff, table, cmp.model):
                continue
            verbs = "/".join(dict.fromkeys(e.attr for e in effs))
            first = effs[0]
            name = table.qualified()
            yield ri.where(
                m,
                r,
                project,
                first,
                (
                    f"changes rows of {name} ({verbs})",
                    f"never touches {name}: a data change cannot be inverted statically, so nothing shows it is undone",
                ),
                "If the old rows or values must come back, write the inverse statement in the rollback, restoring "
                f"from a copy the migration keeps (for example `CREATE TABLE {table.name}_backup AS SELECT ...` "
                "before the change); if nothing needs undoing, record why: "
                "`-- migcheck: ignore-file rollback-data-change -- <why the change can stay>`.",
            )
