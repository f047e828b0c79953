from ..analysis import locks, pg, safety
from ..model import walk
from ..registry import rule
from ..analysis import locking as lk

# Locks that make every later query on the table queue behind the migration while it waits.
_QUEUEING = {m for m in locks.MODES if locks.STRENGTH[m] >= locks.STRENGTH[locks.SHARE]}


def _disabled(value: str | None) -> bool:
    """No value, DEFAULT or 0 (0 means: wait forever)."""
    if value is None:
        return True
    v = value.strip().strip("'").lower()
    return v in ("", "0", "0s", "0ms", "default", "?")


def _set_value(node: dict) -> str:
    """The value of ``SET name = value`` ("" for DEFAULT / RESET)."""
    if node.get("kind") != "VAR_SET_VALUE":
        return ""
    for a in node.get("args", ()):
        c = a.get("A_Const", {})
        if "sval" in c:
            return c["sval"].get("sval", "")
        if "ival" in c:
            return str(c["ival"].get("ival", 0))
    return "?"


def _set_config_lock_timeout(st) -> str | None:
    """``SELECT set_config('lock_timeout', '2s', ...)``: its value."""
    if st.kind != "SelectStmt":
        return None
    for kind, fields in walk(st.node):
        if kind == "FuncCall" and (pg.strings(fields.get("funcname"))[-1:] or [""])[0].lower() == "set_config":
            vals = [a.get("A_Const", {}).get("sval", {}).get("sval") for a in fields.get("args", ())[:2]]
            if len(vals) == 2 and vals[0] == "lock_timeout":
                return vals[1] or ""
    return None


@rule("require-lock-timeout", severity="warning", group="safety", kinds=("migration",),
      summary="A statement that locks an existing table runs with no lock_timeout: while it waits, every query on the table queues.")
def check(f, ctx):
    version = lk.version(ctx)
    sctx = safety.context(f)
    by_function: str | None = None  # set with set_config() in a SELECT
    for st in f.all_statements:
        value = _set_config_lock_timeout(st)
        if st.inner and st.kind == "VariableSetStmt" and st.node.get("name") == "lock_timeout":
            value = _set_value(st.node)
        if value is not None:
            by_function = value
            continue
        held = [lock for lock in locks.statement_locks(st, version)
                if lock.mode in _QUEUEING and lock.relation and lk.is_existing(f, st, lock.relation)]
        if not held:
            continue
        if not _disabled(sctx.setting(st, "lock_timeout")) or not _disabled(by_function):
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
