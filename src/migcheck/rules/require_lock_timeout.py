from ..analysis import locking as lk
from ..analysis import locks, timeouts
from ..registry import rule

# Locks that make every later query on the table queue behind the migration while it waits.
_QUEUEING = {m for m in locks.MODES if locks.STRENGTH[m] >= locks.STRENGTH[locks.SHARE]}


@rule(
    "require-lock-timeout",
    severity="warning",
    group="safety",
    kinds=("migration",),
    summary="A statement that locks an existing table runs with no lock_timeout: while it waits, every query on the table queues.",
)
def check(f, ctx):
    found = timeouts.first_unbounded(f, ctx, lk.version(ctx), "lock_timeout", _QUEUEING)
    if found is not None:
        st, lock, shown = found
        rel = shown or "the index's table"
        yield f.hit(
            f"`{st.first_line(60)}`{lk.where(st)} {lk.lock_words(lock, rel)}, and no lock_timeout is set before it: "
            f"while it waits for transactions already running on {rel}, every later query on {rel} queues behind it",
            "Start the migration with `SET lock_timeout = '5s';` (SET LOCAL inside the transaction) so that it fails "
            "fast and can be retried instead of stalling the application; reported once per file, at the first such statement.",
            st,
        )
