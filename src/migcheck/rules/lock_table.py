from ..analysis import locking as lk
from ..analysis import locks
from ..registry import rule

# Modes that block the application's writes (or everything) for the rest of the transaction.
_BLOCKING = {m for m in locks.MODES if locks.STRENGTH[m] >= locks.STRENGTH[locks.SHARE]}


@rule(
    "lock-table",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("LockStmt",),
    summary="LOCK TABLE in a mode that blocks writes holds that lock on an existing table until the end of the transaction.",
)
def check(f, ctx):
    version = lk.version(ctx)
    for st in f.all_statements:
        if st.kind != "LockStmt":
            continue
        held = [
            l
            for l in locks.statement_locks(st, version)
            if l.mode in _BLOCKING and l.relation and lk.is_existing(f, st, l.relation)
        ]
        if not held:
            continue
        rel = ", ".join(lk.names(l.relation.split(".")) for l in held)
        mode = held[0].mode
        yield f.hit(
            f"LOCK TABLE {rel} IN {mode} MODE{lk.where(st)} {lk.lock_words(held[0], rel)}, and holds it until the "
            "transaction ends, through every statement after it",
            "Leave the locking to the statements that need it (each takes only the lock it needs, for as long as it "
            "needs), or, if the explicit lock is there to take locks in a fixed order, set `lock_timeout` first, keep "
            "the transaction short, and record why: `-- migcheck: ignore lock-table -- <why>`.",
            st,
        )
