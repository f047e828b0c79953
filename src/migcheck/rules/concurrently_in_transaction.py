from .. import pg, safety, txn
from ..registry import rule

# The command name PostgreSQL puts in its error ("<command> cannot run inside a transaction block").
_ERROR_NAME = {"ALTER TYPE ... ADD VALUE (before PostgreSQL 12)": "ALTER TYPE ... ADD"}


def _error_name(st, what: str) -> str:
    if what == "REINDEX SYSTEM/DATABASE":
        return "REINDEX SYSTEM" if st.node.get("kind") == "REINDEX_OBJECT_SYSTEM" else "REINDEX DATABASE"
    return _ERROR_NAME.get(what) or what


def _solo(st) -> str:
    text = " ".join(st.text.split())
    return text if len(text) <= 100 else text[:97] + "..."


@rule("concurrently-in-transaction", severity="error", group="convention", kinds=("migration", "rollback"),
      summary="A statement that cannot run in a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...) is inside one.")
def check(f, ctx):
    version = ctx.config.postgres_version
    blocks = txn.analyse(f.statements)
    context = None
    for st, inside in zip(f.statements, blocks.inside):
        what = pg.non_transactional(st, version)
        if what is None:
            if st.kind == "DoStmt":
                yield from _in_do(f, st, version, inside)
            continue
        if not inside:
            continue
        error = _error_name(st, what)
        help = (f"Move it to a migration file of its own, without BEGIN/COMMIT (SET statements and comments "
                f"may stay): `{_solo(st)}`.")
        if what == "CREATE INDEX CONCURRENTLY":
            context = context or safety.context(f)
            table = pg.rangevar(st.node.get("relation"))
            if table and context.is_new_table(st, table):
                help = (f"`{table}` is created earlier in this transaction, so no other session can use it yet: "
                        "drop CONCURRENTLY and keep the index in this migration.")
            elif f.kind == "migration":
                help += (" Its rollback goes in a file of its own too: "
                         f"`DROP INDEX CONCURRENTLY IF EXISTS {st.node.get('idxname') or '<index>'};`.")
        elif what.startswith("ALTER TYPE"):
            help += f" (PostgreSQL 12 and later allow it in a transaction; `postgres-version` is {version}.)"
        label = what if what.startswith("ALTER TYPE") else error
        yield f.hit(f"{label} inside a BEGIN ... COMMIT block: PostgreSQL will fail with "
                    f"\"{error} cannot run inside a transaction block\" and roll the migration back",
                    help, st)


def _in_do(f, do, version, inside):
    """A DO block runs as a function, always inside a transaction: these statements fail there."""
    for st in f.all_statements:
        if st.parent is not do:
            continue
        what = pg.non_transactional(st, version)
        if what is None:
            continue
        error = _error_name(st, what)
        why = "cannot run inside a transaction block" if inside else "cannot be executed from a function"
        label = what if what.startswith("ALTER TYPE") else error
        yield f.hit(f"{label} inside a DO block: a DO block runs as a function, inside a transaction, so "
                    f"PostgreSQL will fail with \"{error} {why}\"",
                    f"Take it out of the DO block and put it in a migration file of its own, without BEGIN/COMMIT: "
                    f"`{_solo(st)}`.", st)
