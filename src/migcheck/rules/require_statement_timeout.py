from ..analysis import locking as lk
from ..analysis import timeouts
from ..registry import rule


@rule(
    "require-statement-timeout",
    severity="warning",
    group="safety",
    kinds=("migration",),
    enabled=False,
    summary="A statement that works on an existing table runs with no statement_timeout (off by default: it kills long safe operations too).",
)
def check(f, ctx):
    found = timeouts.first_unbounded(f, ctx, lk.version(ctx), "statement_timeout")
    if found is not None:
        st, lock, shown = found
        on = f"the existing table {shown}" if shown else "the index's table"
        yield f.hit(
            f"`{st.first_line(60)}`{lk.where(st)} works on {on} and no statement_timeout is set "
            "before it: nothing bounds how long it (or any later statement of the file) may run",
            "Start the migration with `SET statement_timeout = '5min';` (SET LOCAL inside the transaction), a bound "
            "your longest expected statement stays under; before a statement that is long on purpose (CREATE INDEX "
            "CONCURRENTLY, a backfill), raise it for that statement. Reported once per file, at the first such statement.",
            st,
        )
