from ..analysis import pg, safety, txn
from ..registry import rule

# The command name PostgreSQL puts in its error ("<command> cannot run inside a transaction block").
_ERROR_NAME = {"ALTER TYPE ... ADD VALUE (before PostgreSQL 12)": "ALTER TYPE ... ADD"}


def _error_name(st, what: str) -> str:
    if what == "REINDEX SCHEMA/DATABASE/SYSTEM":
        return "REINDEX " + st.node.get("kind", "REINDEX_OBJECT_DATABASE").removeprefix("REINDEX_OBJECT_")
    return _ERROR_NAME.get(what) or what


def _solo(st) -> str:
    text = " ".join(st.text.split())
    return text if len(text) <= 100 else text[:97] + "..."


@rule(
    "concurrently-in-transaction",
    severity="error",
    group="convention",
    kinds=("migration", "rollback"),
    summary="A statement that cannot run in a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...) is inside one.",
)
def check(f, ctx):
    version = ctx.config.postgres_version
    blocks = txn.analyse(f.statements)
    run = txn.runner(f, ctx.config)
    context = None
    gaps = txn.early_commits(f.statements).between if run is not None and run.early_commit else None
    for i, (st, inside) in enumerate(zip(f.statements, blocks.inside)):
        between = gaps is not None and gaps[i]
        what = pg.non_transactional(st, version)
        explicit = inside  # in the file's own BEGIN ... COMMIT
        mode = run.effective if run is not None else None
        if mode is not None:
            if mode == "wrap":
                inside = True  # the runner's transaction
            elif len(f.statements) > 1 and not inside:  # "solo": fine only alone in its file
                if what is not None:
                    yield _not_alone(f, st, what, run)
                elif st.kind == "DoStmt":
                    yield from _in_do(f, st, version, inside)
                continue
        if what is None:
            if st.kind == "DoStmt":
                yield from _in_do(f, st, version, inside)
            continue
        if not inside:
            continue
        if mode == "wrap" and not explicit:
            yield _in_runner_tx(f, st, what, run, ctx.config, between)
            continue
        error = _error_name(st, what)
        help = (
            f"Move it to a migration file of its own, without BEGIN/COMMIT (SET statements and comments "
            f"may stay): `{_solo(st)}`."
        )
        if what == "CREATE INDEX CONCURRENTLY":
            context = context or safety.context(f)
            table = pg.rangevar(st.node.get("relation"))
            if table and context.is_new_table(st, table):
                help = (
                    f"`{table}` is created earlier in this transaction, so no other session can use it yet: "
                    "drop CONCURRENTLY and keep the index in this migration."
                )
            elif f.kind == "migration":
                help += (
                    " Its rollback goes in a file of its own too: "
                    f"`DROP INDEX CONCURRENTLY IF EXISTS {st.node.get('idxname') or '<index>'};`."
                )
        elif what.startswith("ALTER TYPE"):
            help += f" (PostgreSQL 12 and later allow it in a transaction; `postgres-version` is {version}.)"
        label = what if what.startswith("ALTER TYPE") else error
        yield f.hit(
            f"{label} inside a BEGIN ... COMMIT block: PostgreSQL will fail with "
            f'"{error} cannot run inside a transaction block" and roll the migration back',
            help,
            st,
        )


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
        yield f.hit(
            f"{label} inside a DO block: a DO block runs as a function, inside a transaction, so "
            f'PostgreSQL will fail with "{error} {why}"',
            f"Take it out of the DO block and put it in a migration file of its own, without BEGIN/COMMIT: "
            f"`{_solo(st)}`.",
            st,
        )


def _in_runner_tx(f, st, what, run, config, between=False):
    error = _error_name(st, what)
    label = what if what.startswith("ALTER TYPE") else error
    if between:  # after `COMMIT;` in a pop migration: still one query, one implicit transaction
        message = (
            f"{label} after the COMMIT that ends {run.title}'s transaction: {run.title} still sends the "
            "whole file as one query, which PostgreSQL runs as one implicit transaction, so it fails with "
            f'"{error} cannot run inside a transaction block"'
        )
    else:
        message = (
            f"{label} in a migration {run.title} runs in a transaction: PostgreSQL will fail with "
            f'"{error} cannot run inside a transaction block"'
        )
    how = txn.outside_transaction(f, config)
    return f.hit(message, f"{how[0].upper()}{how[1:]}: `{_solo(st)}`.", st)


_SOLO_WHY = {
    "golang-migrate": "golang-migrate sends the whole file as one query, which PostgreSQL runs as one transaction",
    "flyway": (
        "Flyway runs such a statement only in a migration without a transaction, and refuses a migration "
        'that mixes it with other statements ("Detected both transactional and non-transactional '
        'statements within the same migration")'
    ),
    "prisma": (
        "Prisma Migrate sends the whole migration.sql as one query, which PostgreSQL runs as one implicit transaction"
    ),
    "supabase": (
        "the Supabase CLI runs each migration in a transaction: older versions fail, newer ones run this "
        "statement on its own, outside the transaction, so the migration is no longer atomic"
    ),
}


def _not_alone(f, st, what, run):
    error = _error_name(st, what)
    label = what if what.startswith("ALTER TYPE") else error
    if run.opted_out:
        why = (
            f"without a transaction ({run.marker}), {run.title} sends the whole file as one query, which "
            "PostgreSQL runs as one implicit transaction"
        )
    else:
        why = _SOLO_WHY.get(run.preset, f"{run.title} runs each migration in a transaction")
    return f.hit(
        f"{label} shares its migration with other statements: {why}",
        f"Move it to a migration file of its own, with no other statement: `{_solo(st)}`.",
        st,
    )
