from ..analysis import locks, safety, timeouts
from ..registry import rule
from ..analysis import locking as lk


@rule("require-statement-timeout", severity="warning", group="safety", kinds=("migration",), enabled=False,
      summary="A statement that works on an existing table runs with no statement_timeout (off by default: it kills long safe operations too).")
def check(f, ctx):
    version = lk.version(ctx)
    sctx = safety.context(f)
    by_function: str | None = None  # set with set_config() in a SELECT, or SET in a DO block
    for st in f.all_statements:
        value = timeouts.setting(st, "statement_timeout")
        if value is not None:
            by_function = value
            continue
        held = [lock for lock in locks.statement_locks(st, version)
                if lock.relation and lk.is_existing(f, st, lock.relation)]
        if not held:
            continue
        if not timeouts.disabled(sctx.setting(st, "statement_timeout")) or not timeouts.disabled(by_function):
            continue
        lock = max(held, key=lambda x: locks.STRENGTH[x.mode])
        rel = lk.names(lock.relation.split("."))
        yield f.hit(
            f"`{st.first_line(60)}`{lk.where(st)} works on the existing table {rel} and no statement_timeout is set "
            "before it: nothing bounds how long it (or any later statement of the file) may run",
            "Start the migration with `SET statement_timeout = '5min';` (SET LOCAL inside the transaction), a bound "
            "your longest expected statement stays under; before a statement that is long on purpose (CREATE INDEX "
            "CONCURRENTLY, a backfill), raise it for that statement. Reported once per file, at the first such statement.",
            st)
        return
