"""rollback-incomplete: the rollback leaves in place something its migration created or changed.

The migration's and the rollback's statements are turned into schema effects (``migcheck.analysis.effects``)
and replayed one after the other; what is still changed afterwards is reported on the rollback file
(line 1, column 1, the migration's ``file:line`` in the message). When only the migration is being
checked (pre-commit passes the changed files), the finding goes on the migration's statement
instead, so that editing a migration without its rollback is still caught.
"""

from __future__ import annotations

import re

from .. import summaries
from ..analysis import effects as fx
from ..analysis import perfile
from ..analysis import rollback as ri
from ..registry import rule


@rule(
    "rollback-incomplete",
    severity="warning",
    group="rollback",
    scope="project",
    kinds=("rollback",),
    needs=("effects", "history"),
    summary="The rollback leaves behind something the migration created or changed (table, column, index, "
    "function, trigger, type, constraint, ...).",
)
def check(project, ctx):
    shared = ri.readers(ctx)
    for m, r in ri.pairs(project):
        found = ri.comparison(project, m, r, "rollback-incomplete", shared)
        if found is None:
            continue
        cmp, m_eff, r_eff = found
        if cmp.unknown:
            continue  # the rollback runs SQL the model cannot see (dynamic SQL, CALL): stay quiet
        leftovers = _changed(project, m, cmp.leftovers)
        leftovers = [
            l for l in leftovers if not (_never_there(project, m, l) or _cascaded(project, m, l, m_eff, r_eff))
        ]
        for left in sorted(leftovers, key=lambda l: (l.effect.line, l.obj.label())):
            what, miss, help = describe(left)
            yield ri.where(m, r, project, left.effect, (what, miss), help)


def _changed(project, m, leftovers):
    """Leave out re-definitions that change nothing: the migration drops and re-creates an
    object (or CREATE OR REPLACEs it) exactly as an earlier migration defined it (dropping indexes
    and foreign keys around a bulk update, for example). A plain DROP + CREATE of an object whose
    earlier definition is not in the project cannot be judged: quiet."""
    out = []
    for left in leftovers:
        if left.what in ("replaced", "created or replaced") and left.now is not None and left.entry is not None:
            new = left.entry.defined.get("m")
            before = ri.previous_definition(project, m, left.obj)
            if before is not None and new is not None and new.defn == before:
                continue
            if left.what == "replaced" and before is None:
                continue
        out.append(left)
    return out


def _never_there(project, m, left) -> bool:
    """A ``DROP ... IF EXISTS`` of an object that holds no data (``_NO_DATA``: an index, a view, a
    function, ...)
    that no earlier migration of the directory created: on the databases these migrations build it
    is not there, the drop does nothing, and no definition in the project could re-create it."""
    if left.what != "dropped" or not left.effect.missing_ok or left.obj.kind not in _NO_DATA:
        return False
    hist = ri.history(project, m)
    if hist is None or hist.last_create(left.obj, m) is not None or hist.existed(left.obj, m):
        return False
    return not _maybe_generated(project, m, left.obj)


def _maybe_generated(project, m, obj) -> bool:
    """Could ``obj`` (an index or constraint) be one an earlier migration created without a name?
    PostgreSQL names it ``<table>_<columns>_<idx|key|pkey|fkey|check|excl>``, which the migration's
    text never spells (the history's text filter cannot find it) and which the model can only guess
    (``lower(email)`` is ``t_lower_idx`` to PostgreSQL, ``t_expr_idx`` to the model): yes when an
    earlier migration creates an unnamed one of the same kind (the same suffix) on a table whose
    name starts ``obj``'s name."""
    found = _GENERATED.search(obj.name)
    if obj.kind not in (fx.INDEX, fx.CONSTRAINT) or found is None:
        return False
    suffix = found.group(1)
    first = obj.name.split("_", 1)[0].lower()
    for other in ri.history(project, m).migrations:
        if other is m:
            break
        if not perfile.mentions(other, (first,)):
            continue
        for _, e in summaries.summary(other, "history", ri.history_effects):
            table = e.on if e.on is not None else e.obj.parent
            if (
                e.op == fx.CREATE
                and e.guessed
                and table is not None
                and obj.name.startswith(table.name + "_")
                and (m2 := _GENERATED.search(e.obj.name)) is not None
                and m2.group(1) == suffix
            ):
                return True
    return False


_GENERATED = re.compile(r"_(idx|key|pkey|fkey|check|excl)\d*$")


# what holds no data, nor anything that does (a schema, an extension or a type can: CASCADE
# takes tables or columns with them)
_NO_DATA = frozenset(
    {
        fx.INDEX,
        fx.VIEW,
        fx.FUNCTION,
        fx.PROCEDURE,
        fx.AGGREGATE,
        fx.TRIGGER,
        fx.POLICY,
        fx.RULE,
        fx.CONSTRAINT,
        fx.EVENT_TRIGGER,
    }
)
_VIEWS = frozenset({fx.VIEW, fx.MATVIEW})


def _cascaded(project, m, left, m_eff, r_eff) -> bool:
    """Did a ``DROP ... CASCADE`` of the rollback take ``left`` (an object the migration created)
    with it, through a view the model did not meet: a ``DROP COLUMN ... CASCADE`` or ``DROP TABLE
    ... CASCADE`` drops the views that read the table (which columns a view reads is not known: any
    of them counts, as the model is lenient), and with a view, what refers to it (a function that
    takes its row type, a view on the view). The views are read from the migration itself, else
    from the earlier migrations of the directory (their last CREATE)."""
    if left.what != "created" or left.entry is None or not left.entry.refs:
        return False
    tables = {
        (e.obj.parent if e.obj.kind == fx.COLUMN else e.obj).name
        for e in r_eff
        if e.op == fx.DROP
        and e.cascade
        and e.obj is not None
        and (e.obj.kind == fx.TABLE or (e.obj.kind == fx.COLUMN and e.obj.parent is not None))
    }
    if not tables:
        return False
    hist = ri.history(project, m)

    def view(name: str) -> fx.Effect | None:
        for e in reversed(m_eff):
            if e.op == fx.CREATE and e.obj is not None and e.obj.name == name and e.obj.kind in _VIEWS:
                return e
        e = hist.last_create(fx.Obj(fx.VIEW, name), m) if hist is not None else None
        return e if e is not None and e.obj is not None and e.obj.kind in _VIEWS else None

    def goes(name: str, depth: int) -> bool:
        v = view(name)
        if v is None:
            return False
        return bool(tables & v.refs) or (depth < 3 and any(goes(r, depth + 1) for r in v.refs if r != name))

    return any(goes(r, 0) for r in left.entry.refs)


# --- wording -----------------------------------------------------------------------------------

_DROP_KEYWORD = {
    fx.TABLE: "TABLE",
    fx.VIEW: "VIEW",
    fx.MATVIEW: "MATERIALIZED VIEW",
    fx.INDEX: "INDEX",
    fx.SEQUENCE: "SEQUENCE",
    fx.FOREIGN_TABLE: "FOREIGN TABLE",
    fx.FUNCTION: "FUNCTION",
    fx.PROCEDURE: "PROCEDURE",
    fx.AGGREGATE: "AGGREGATE",
    fx.TYPE: "TYPE",
    fx.DOMAIN: "DOMAIN",
    fx.SCHEMA: "SCHEMA",
    fx.EXTENSION: "EXTENSION",
    fx.ROLE: "ROLE",
    fx.EVENT_TRIGGER: "EVENT TRIGGER",
    fx.SERVER: "SERVER",
    fx.PUBLICATION: "PUBLICATION",
    fx.COLLATION: "COLLATION",
}


def _owner_kw(obj: fx.Obj | None) -> str:
    """ALTER TABLE / ALTER VIEW / ALTER TYPE ... for what a column or constraint hangs on."""
    if obj is None:
        return "TABLE"
    if obj.kind == fx.DOMAIN:
        return "DOMAIN"
    if obj.kind == fx.TYPE:
        return "TYPE"
    return "TABLE" if obj.kind in (fx.TABLE, fx.FOREIGN_TABLE) else _DROP_KEYWORD.get(obj.kind, "TABLE")


def _column_kw(obj: fx.Obj) -> str:
    """COLUMN, or ATTRIBUTE for a composite type's."""
    return "ATTRIBUTE" if obj.parent is not None and obj.parent.kind == fx.TYPE else "COLUMN"


def _parent(obj: fx.Obj) -> str:
    return obj.parent.qualified() if obj.parent is not None else "?"


def _privilege_target(obj: fx.Obj | None) -> str:
    if obj is None:
        return "?"
    if obj.kind == fx.ALL_IN_SCHEMA:
        plural = {
            fx.TABLE: "TABLES",
            fx.SEQUENCE: "SEQUENCES",
            fx.FUNCTION: "FUNCTIONS",
            fx.PROCEDURE: "PROCEDURES",
        }.get(obj.detail, "TABLES")
        return f"ALL {plural} IN SCHEMA {fx.quote_ident(obj.name)}"
    kw = {fx.TABLE: "TABLE", fx.VIEW: "TABLE", fx.MATVIEW: "TABLE"}.get(obj.kind) or _DROP_KEYWORD.get(obj.kind, "")
    return f"{kw} {obj.signature()}".strip()


def _grantee(name: str) -> str:
    return "PUBLIC" if name == "public" else fx.quote_ident(name)


def drop_sql(obj: fx.Obj) -> str:
    """The statement that undoes the creation of ``obj``."""
    k = obj.kind
    if k == fx.COLUMN:
        return (
            f"ALTER {_owner_kw(obj.parent)} {_parent(obj)} DROP {_column_kw(obj)} IF EXISTS {fx.quote_ident(obj.name)};"
        )
    if k == fx.CONSTRAINT:
        return f"ALTER {_owner_kw(obj.parent)} {_parent(obj)} DROP CONSTRAINT IF EXISTS {fx.quote_ident(obj.name)};"
    if k in (fx.TRIGGER, fx.POLICY, fx.RULE):
        return f"DROP {k.upper()} IF EXISTS {fx.quote_ident(obj.name)} ON {_parent(obj)};"
    if k == fx.PRIVILEGE:
        return f"REVOKE {obj.name.upper()} ON {_privilege_target(obj.parent)} FROM {_grantee(obj.detail)};"
    if k == fx.PARTITION:
        return f"ALTER TABLE {_parent(obj)} DETACH PARTITION {obj.qualified()};"
    if k in _DROP_KEYWORD:
        return f"DROP {_DROP_KEYWORD[k]} IF EXISTS {obj.signature()};"
    return f"DROP {k.upper()} IF EXISTS {obj.qualified()};"


def rename_sql(now: fx.Obj, orig: fx.Obj) -> str:
    """The statement that gives ``now`` back its name (or schema) ``orig``."""
    k = now.kind
    if now.name == orig.name and k in _DROP_KEYWORD:
        kw = "TABLE" if k == fx.TABLE else _DROP_KEYWORD[k]
        return f"ALTER {kw} {now.signature()} SET SCHEMA {fx.quote_ident(orig.schema or 'public')};"
    to = fx.quote_ident(orig.name)
    if k == fx.COLUMN:
        return (
            f"ALTER {_owner_kw(now.parent)} {_parent(now)} RENAME {_column_kw(now)} {fx.quote_ident(now.name)} TO {to};"
        )
    if k == fx.CONSTRAINT:
        return f"ALTER {_owner_kw(now.parent)} {_parent(now)} RENAME CONSTRAINT {fx.quote_ident(now.name)} TO {to};"
    if k in (fx.TRIGGER, fx.POLICY):
        return f"ALTER {k.upper()} {fx.quote_ident(now.name)} ON {_parent(now)} RENAME TO {to};"
    if k == fx.RULE:
        return f"ALTER RULE {fx.quote_ident(now.name)} ON {_parent(now)} RENAME TO {to};"
    if k == fx.ENUM_VALUE:
        return f"ALTER TYPE {_parent(now)} RENAME VALUE {now.signature()} TO {orig.signature()};"
    kw = _DROP_KEYWORD.get(k, k.upper())
    return f"ALTER {kw} {now.signature()} RENAME TO {to};"


def _created_what(obj: fx.Obj) -> str:
    if obj.kind == fx.COLUMN:
        return f"adds {obj.label()}"
    if obj.kind == fx.CONSTRAINT:
        return f"adds {obj.label()}"
    if obj.kind == fx.PRIVILEGE:
        return f"grants {obj.name.upper()} on {_privilege_target(obj.parent)} to {_grantee(obj.detail)}"
    if obj.kind == fx.PARTITION:
        return f"attaches partition {obj.qualified()} to {_parent(obj)}"
    return f"creates {obj.label()}"


def _dropped_what(obj: fx.Obj) -> str:
    if obj.kind == fx.PRIVILEGE:
        return f"revokes {obj.name.upper()} on {_privilege_target(obj.parent)} from {_grantee(obj.detail)}"
    if obj.kind == fx.PARTITION:
        return f"detaches partition {obj.qualified()} from {_parent(obj)}"
    return f"drops {obj.label()}"


_HOLDS_DATA = frozenset({fx.TABLE, fx.COLUMN, fx.FOREIGN_TABLE, fx.SEQUENCE})


def _altered(left: fx.Leftover) -> tuple[str, str]:
    """(what the migration does, the SQL that undoes it) for an attribute change."""
    obj, e, attr = left.obj, left.effect, left.attr
    now = left.now or obj
    v = e.value
    if obj.kind == fx.COLUMN:
        head = f"ALTER {_owner_kw(now.parent)} {_parent(now)} ALTER COLUMN {fx.quote_ident(now.name)}"
        col = obj.label()
        if attr == "type":
            return (
                f"changes the type of {col}{' to ' + fx.sql_type(v) if v else ''}",
                f"`{head} TYPE <its previous type>;` (with `USING` when the values need converting)",
            )
        if attr == "default":
            if v == "none":
                return f"drops the default of {col}", f"`{head} SET DEFAULT <its previous default>;`"
            return (
                f"sets the default of {col}",
                f"`{head} DROP DEFAULT;` (or `SET DEFAULT <its previous default>` if it had one)",
            )
        if attr == "not null":
            if v == "on":
                return f"makes {col} NOT NULL", f"`{head} DROP NOT NULL;`"
            return f"drops NOT NULL from {col}", f"`{head} SET NOT NULL;` (after fixing any NULLs written since)"
        if attr == "identity":
            if v == "on":
                return f"makes {col} an identity column", f"`{head} DROP IDENTITY IF EXISTS;`"
            return f"changes the identity of {col}", f"the `{head} ... IDENTITY` clause that restores it"
        if attr == "generated expression":
            return f"changes the generation expression of {col}", f"the `{head} ...` statement that restores it"
        return f"changes the {attr} of {col}", f"`{head} ...` restoring its previous {attr}"
    label = obj.label()
    if attr in ("row level security", "force row level security"):
        on = v == "on"
        verb = {"row level security": ("enables", "disables"), "force row level security": ("forces", "stops forcing")}[
            attr
        ][0 if on else 1]
        undo = {
            ("row level security", True): "DISABLE ROW LEVEL SECURITY",
            ("row level security", False): "ENABLE ROW LEVEL SECURITY",
            ("force row level security", True): "NO FORCE ROW LEVEL SECURITY",
            ("force row level security", False): "FORCE ROW LEVEL SECURITY",
        }[(attr, on)]
        return f"{verb} row level security on {label}", f"`ALTER TABLE {now.qualified()} {undo};`"
    if attr == "logged":
        return (
            f"makes {label} {'LOGGED' if v == 'on' else 'UNLOGGED'}",
            f"`ALTER TABLE {now.qualified()} SET {'UNLOGGED' if v == 'on' else 'LOGGED'};`",
        )
    if attr == "enabled" and obj.kind == fx.TRIGGER:
        verb = "disables" if v == "off" else "enables"
        undo = "ENABLE" if v == "off" else "DISABLE"
        return (f"{verb} {label}", f"`ALTER TABLE {_parent(now)} {undo} TRIGGER {fx.quote_ident(now.name)};`")
    if attr == "triggers enabled":
        verb = "disables" if v == "off" else "enables"
        undo = "ENABLE" if v == "off" else "DISABLE"
        return f"{verb} the triggers of {label}", f"`ALTER TABLE {now.qualified()} {undo} TRIGGER ALL;`"
    if attr == "not null" and obj.kind == fx.DOMAIN:
        undo = "DROP NOT NULL" if v == "on" else "SET NOT NULL"
        return (f"{'sets' if v == 'on' else 'drops'} NOT NULL on {label}", f"`ALTER DOMAIN {now.qualified()} {undo};`")
    if attr == "default" and obj.kind == fx.DOMAIN:
        return (
            f"changes the default of {label}",
            f"`ALTER DOMAIN {now.qualified()} DROP DEFAULT;` (or `SET DEFAULT <its previous default>`)",
        )
    if attr == "definition" and obj.kind == fx.POLICY:
        return (
            f"changes {label}",
            f"`ALTER POLICY {fx.quote_ident(now.name)} ON {_parent(now)} ...` with its previous roles and expressions",
        )
    if attr == "options" and obj.kind in fx.ROUTINES:
        return (
            f"changes the options of {label}",
            f"`ALTER {_DROP_KEYWORD[obj.kind]} {now.signature()} ...` restoring its previous options",
        )
    return f"changes the {attr} of {label}", f"the `ALTER` statement that restores its previous {attr}"


def describe(left: fx.Leftover) -> tuple[str, str, str]:
    """(what the migration does, what the rollback fails to do, help) for one leftover."""
    obj, now = left.obj, left.now
    if left.what == "created":
        cur = now or obj
        miss = (
            "does not revoke it"
            if obj.kind == fx.PRIVILEGE
            else "does not detach it"
            if obj.kind == fx.PARTITION
            else "does not drop it"
        )
        if now is not None and (now.name, now.schema) != (obj.name, obj.schema):
            miss += f" (it is still there as {now.qualified()})"
        help = f"Add `{drop_sql(cur)}` to the rollback"
        if left.entry is not None and left.entry.guessed:
            help += (
                ". The name is the one PostgreSQL generates for an unnamed object; name it in the migration to be sure"
            )
        if obj.kind == fx.EXTENSION:
            help += ", unless other objects outside this migration use it (then record that with a suppression)"
        return _created_what(obj), miss, help + "."
    if left.what == "enum value":
        values = ", ".join("'" + v.replace("'", "''") + "'" for v in left.values)
        typ = _parent(obj)
        many = len(left.values) > 1
        plural, them, stay = ("values", "them", "stay") if many else ("value", "it", "stays")
        return (
            f"adds {plural} {values} to enum {typ}, which PostgreSQL cannot remove",
            f"leaves {them} in place",
            f"Nothing short of re-creating the type takes a value out: either accept that the {plural} "
            f"{stay} (update the rows that use {them} in the rollback) and "
            "record it with `-- migcheck: ignore-file rollback-incomplete -- <enum value stays: why that is "
            f"fine>`, or re-create the type in the rollback: `ALTER TYPE {typ} RENAME TO "
            f"{fx.quote_ident(obj.parent.name + '_old') if obj.parent else 'old'}; CREATE TYPE {typ} AS ENUM (...)`, "
            "`ALTER TABLE ... ALTER COLUMN ... TYPE ... USING col::text::...` for each column, then drop the old type.",
        )
    if left.what == "created or replaced":
        cur = now or obj
        return (
            f"creates or replaces {obj.label()}",
            "neither drops it nor restores its previous definition",
            f"If the migration created it, add `{drop_sql(cur)}` to the rollback; if it replaced an existing "
            "definition, put the previous definition back in the rollback (the `CREATE OR REPLACE` it had "
            "before this migration).",
        )
    if left.what == "replaced":
        miss = (
            "does not restore its previous definition"
            if now is not None
            else "drops it without re-creating its previous definition"
        )
        return (
            f"drops and re-creates {obj.label()}",
            miss,
            "Re-create the previous definition in the rollback (drop the new one, then create it as it was "
            "before this migration).",
        )
    if left.what == "dropped":
        if obj.kind in _HOLDS_DATA:
            what = {"sequence": "its current value"}.get(obj.kind, "its data")
            return (
                _dropped_what(obj),
                f"does not re-create it; {what} cannot come back from the migration itself, so the rollback "
                "must restore it from somewhere",
                f"Re-create {obj.label()} in the rollback and restore {what} from a copy the migration keeps "
                "before dropping (for example `CREATE TABLE <name>_backup AS SELECT ...`) or from a backup.",
            )
        if obj.kind == fx.PRIVILEGE:
            return (
                _dropped_what(obj),
                "does not grant it back",
                f"Add `GRANT {obj.name.upper()} ON {_privilege_target(obj.parent)} TO {_grantee(obj.detail)};` "
                "to the rollback.",
            )
        return (
            _dropped_what(obj),
            "does not re-create it",
            f"Add the statement that re-creates {obj.label()} as it was before the migration (its definition "
            "from the migration that created it) to the rollback.",
        )
    if left.what == "renamed":
        if now is None:
            return (
                f"renames {obj.label()} to {left.effect.new.qualified() if left.effect.new else '?'}",
                "drops it instead of renaming it back",
                "Rename it back in the rollback instead of dropping it; its data is lost otherwise.",
            )
        moved = now.name == obj.name
        what = (
            f"moves {obj.label()} to schema {now.schema or 'public'}"
            if moved
            else f"renames {obj.label()} to {fx.quote_ident(now.name)}"
        )
        return (
            what,
            "does not rename it back" if not moved else "does not move it back",
            f"Add `{rename_sql(now, obj)}` to the rollback.",
        )
    if left.what == "altered":
        what, undo = _altered(left)
        return what, "does not change it back", f"Add {undo} to the rollback."
    return f"changes {obj.label()}", "does not undo it", "Undo the change in the rollback."
