from ..analysis import locks, safety, timeouts
from ..registry import rule
from ..analysis import locking as lk

# Locks that make every later query on the table queue behind the migration while it waits.
_QUEUEING = {m for m in locks.MODES if locks.STRENGTH[m] >= locks.STRENGTH[locks.SHARE]}


@rule("require-lock-timeout", severity="warning", group="safety", kinds=("migration",),
      summary="A statement that locks an existing table runs with no lock_timeout: while it waits, every query on the table queues.")
def check(f, ctx):
    version = lk.version(ctx)
    sctx = safety.context(f)
    by_function: str | None = None  # set with set_config() in a SELECT
    for st in f.all_statements:
        value = timeouts.setting(st, "lock_timeout")
        if value is not None:
            by_function = value
            continue
        held = [lock for lock in locks.statement_locks(st, version)
                if lock.mode in _QUEUEING and lock.relation and lk.is_existing(f, st, lock.relation)]
        if not held:
            continue
        if not timeouts.disabled(sctx.setting(st, "lock_timeout")) or not timeouts.disabled(by_function):
            continue
        lock = max(held, key=lambda x: locks.STRENGTH[x.mode])
        rel = lk.names(lock.relation.split("."))
        yield f.hit(
            f"`{st.first_line(60)}`{lk.where(st)} {lk.lock_words(lock, rel)}, and no lock_timeout is set before it: "
            f"while it waits for transactions already running on {rel}, every later query on {rel} queues behind it",
            "Start the migration with `SET lock_timeout = '5s';` (SET LOCAL inside the transaction) so that it fails "
            "fast and can be retried instead of stalling the application; reported once per file, at the first such statement.",
            st)
        return
