"""missing-if-exists: a DROP, or a drop inside ALTER TABLE / ALTER TYPE / ALTER DOMAIN, written
without IF EXISTS (rules/missing-if-exists.md)."""

from ..analysis import idempotency as idem
from ..analysis import pg
from ..analysis.destructive import names, relation
from ..dialects import has_form
from ..registry import rule

_SUFFIX = "so the file can run again (the guidelines: use IF EXISTS / IF NOT EXISTS)"

_ALTER = {"OBJECT_TABLE": "ALTER TABLE", "OBJECT_FOREIGN_TABLE": "ALTER FOREIGN TABLE", "OBJECT_TYPE": "ALTER TYPE"}


def _part(g) -> str:
    if g.clause == "DROP IDENTITY":
        return f"the identity of column {g.name}"
    if g.clause == "DROP EXPRESSION":
        return f"the generation expression of column {g.name}"
    if g.clause == "DROP MAPPING":
        return f"the mapping {g.name.replace('FOR ', 'for ', 1)}"
    return f"{g.noun} {g.name}"


def _report(f, st, gaps):
    again = f"running the {'rollback' if f.kind == 'rollback' else 'migration'} again"
    rw = idem.rewrite(st.text, gaps)
    fix = f"`{idem.shown(rw)}`" if rw else None
    g = gaps[0]
    if st.kind in ("AlterTableStmt", "AlterDomainStmt", "AlterTSConfigurationStmt"):
        if st.kind == "AlterDomainStmt":
            head = f"ALTER DOMAIN {names(pg.strings(st.node.get('typeName')))}"
        elif st.kind == "AlterTSConfigurationStmt":
            head = f"ALTER TEXT SEARCH CONFIGURATION {g.parent}"
        else:
            head = f"{_ALTER.get(st.node.get('objtype'), 'ALTER TABLE')} {relation(st.node.get('relation'))}"
        them = "it is" if len(gaps) == 1 else "they are"
        message = (
            f"{head} drops {idem.listing([_part(x) for x in gaps])} without IF EXISTS: {again} fails "
            f"because {them} already gone"
        )
        how = f"{g.clause} IF EXISTS"
    else:
        gone = "they are" if g.count > 1 else f"the {g.noun} is"
        message = f"{g.clause} {g.name} has no IF EXISTS: {again} fails because {gone} already gone"
        how = f"{g.clause} IF EXISTS"
    help = f"Write {fix or '`' + how + ' ...`'}: it skips what is already gone, {_SUFFIX}."
    return f.hit(message, help, st)


@rule(
    "missing-if-exists",
    severity="warning",
    group="convention",
    kinds=("migration", "rollback"),
    summary="A DROP (statement or ALTER TABLE ... DROP) lacks IF EXISTS.",
)
def check(f, ctx):
    version = ctx.config.postgres_version
    dialect = getattr(ctx.config, "dialect", "postgres")
    history = idem.History()
    for st in f.statements:
        gaps = [
            g
            for g in idem.drop_gaps(st.kind, st.node, version)
            if not history.excuses_drop(g) and has_form(dialect, g.clause, g.words)
        ]  # only the forms the dialect has
        history.note(st)
        if gaps:
            yield _report(f, st, gaps)
