"""missing-if-not-exists: a CREATE / ADD COLUMN / ADD VALUE written without the IF NOT EXISTS or
OR REPLACE form PostgreSQL has for it (rules/missing-if-not-exists.md)."""

from ..analysis import idempotency as idem
from ..analysis import pg
from ..analysis.destructive import ident, names, relation
from ..dialects import has_form
from ..registry import rule

_SUFFIX = "so the file can run again (the guidelines: use IF EXISTS / IF NOT EXISTS)"


def _report(f, st, gaps):
    again = f"running the {'rollback' if f.kind == 'rollback' else 'migration'} again"
    g = gaps[0]
    words, clause, noun = g.words, g.clause, g.noun
    if st.kind == "CreateExtensionStmt" and "LANGUAGE" in idem.leading_tokens(st.text, 6):
        words, clause, noun = idem.REPLACE, "CREATE LANGUAGE", "language"  # parsed as CREATE EXTENSION
    rw = idem.rewrite(st.text, gaps)
    fix = f"`{idem.shown(rw)}`" if rw else None
    if g.unnamed:
        table = relation(st.node.get("relation"))
        message = (
            f"CREATE INDEX on {table} has no name, so it cannot have IF NOT EXISTS: {again} creates "
            f"another, duplicate index"
        )
        if fix:
            help = (
                f"Name the index and add IF NOT EXISTS: {fix} ({ident(g.name)} is the name PostgreSQL chose for "
                f"it, unless that name was taken, so a database that already ran the migration keeps its index), "
                f"{_SUFFIX}."
            )
        else:
            help = (
                f"Name the index and add IF NOT EXISTS (`CREATE INDEX IF NOT EXISTS <name> ON {table} ...`), {_SUFFIX}."
            )
        return f.hit(message, help, st)
    if clause == "ADD COLUMN":
        table = relation(st.node.get("relation"))
        cols = [x.name for x in gaps]
        plural = len(cols) > 1
        keyword = "ALTER FOREIGN TABLE" if st.node.get("objtype") == "OBJECT_FOREIGN_TABLE" else "ALTER TABLE"
        exist = "columns already exist" if plural else "column already exists"
        message = (
            f"{keyword} {table} adds {'columns' if plural else 'column'} {idem.listing(cols)} without "
            f"IF NOT EXISTS: {again} fails because the {exist}"
        )
        how = "ADD COLUMN IF NOT EXISTS"
    elif clause == "ADD VALUE":
        message = (
            f"ALTER TYPE {names(pg.strings(st.node.get('typeName')))} ADD VALUE {g.name} has no IF NOT EXISTS: "
            f"{again} fails because the value already exists"
        )
        how = "ADD VALUE IF NOT EXISTS"
    else:
        name = f" {g.name}" if g.name else ""
        message = f"{clause}{name} has no {words}: {again} fails because the {noun} already exists"
        how = f"CREATE {words} {clause.removeprefix('CREATE ')}" if words == idem.REPLACE else f"{clause} {words}"
    if words == idem.REPLACE:
        why = f"it replaces the {noun} with this definition when it exists"
    else:
        why = f"it does nothing when the {noun} already exists"
    help = f"Write {fix or '`' + how + ' ...`'}: {why}, {_SUFFIX}."
    return f.hit(message, help, st)


@rule(
    "missing-if-not-exists",
    severity="warning",
    group="convention",
    kinds=("migration", "rollback"),
    summary="A CREATE or ADD COLUMN that has an IF NOT EXISTS / OR REPLACE form lacks it.",
)
def check(f, ctx):
    version = ctx.config.postgres_version
    dialect = getattr(ctx.config, "dialect", "postgres")
    history = idem.History()
    for st in f.statements:
        gaps = [
            g
            for g in idem.create_gaps(st.kind, st.node, version)
            if not history.excuses_create(g) and has_form(dialect, g.clause, g.words)
        ]  # only the forms the dialect has
        history.note(st)
        if gaps:
            yield _report(f, st, gaps)
