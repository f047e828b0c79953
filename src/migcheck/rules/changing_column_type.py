from ..analysis import locks, pg, safety
from ..registry import rule
from ..analysis import locking as lk

# New types that are a catalog-only change from some old types (varchar(n) -> text, ...).
_MAYBE_COERCIBLE = {"text", "varchar", "numeric", "varbit", "inet"}
_TIMESTAMPS = {"timestamp", "timestamptz"}
# Session time zones with a fixed zero offset: timestamp <-> timestamptz is then catalog-only (12+).
_UTC = {"utc", "etc/utc", "gmt", "etc/gmt", "uct", "etc/uct", "universal", "etc/universal", "zulu",
        "etc/zulu", "z", "greenwich", "etc/greenwich", "gmt0", "etc/gmt0", "0", "+0", "-0", "00:00", "+00:00"}


def _plain_using(expr, column: str, new) -> bool:
    """``USING col`` or ``USING col::newtype``: the same as no USING clause."""
    if not expr:
        return True
    cast = expr.get("TypeCast")
    if cast is not None:
        if lk.type_key(cast.get("typeName")) != new:
            return False
        expr = cast.get("arg") or {}
    ref = expr.get("ColumnRef")
    return ref is not None and pg.strings(ref.get("fields")) == [column]


def _utc_session(f, st) -> bool:
    value = safety.context(f).setting(st, "timezone")
    return value is not None and value.strip().strip("'").lower() in _UTC


@rule("changing-column-type", severity="warning", group="safety", kinds=("migration",),
      reads=("AlterTableStmt",),
      summary="ALTER COLUMN ... TYPE rewrites an existing table and rebuilds its indexes under ACCESS EXCLUSIVE.")
def check(f, ctx):
    version = lk.version(ctx)
    for st in f.all_statements:
        if st.kind != "AlterTableStmt":
            continue
        table = lk.table_of(st)
        changes = [c for sub, c in lk.alter_table_cmds(st) if sub == "AT_AlterColumnType"]
        if not changes or not lk.is_existing(f, st, table):
            continue
        risky = []  # (column, old type or None, new type, using clause?)
        for c in changes:
            cd = (c.get("def") or {}).get("ColumnDef", {})
            column = c.get("name", "")
            new = lk.type_key(cd.get("typeName"))
            using = not _plain_using(cd.get("raw_default"), column, new)
            old = lk.column_type(f, ctx, st, table, column)
            if not using and not cd.get("collClause"):
                if lk.binary_coercible(old, new):
                    continue
                # timestamp <-> timestamptz is catalog-only on 12+ when the session time zone is UTC
                if (version >= 12 and new and new[0] in _TIMESTAMPS and not new[2] and _utc_session(f, st)
                        and (old is None or (old[0] in _TIMESTAMPS and not old[2]))):
                    continue
            risky.append((column or "?", old, new, using))
        if not risky:
            continue
        lock = lk.lock_on(st, table, version) or locks.Lock(table, locks.ACCESS_EXCLUSIVE)
        t = lk.table_sql(st)
        col, old, new, using = risky[0]
        shown = ", ".join(f"{lk.ident(c)} TYPE {lk.type_sql(n)}" for c, _, n, _ in risky)
        known = f" (from {lk.type_sql(old)})" if old is not None else ""
        hedge = ""
        if not using and new and not new[2]:
            if old is None and new[0] in _MAYBE_COERCIBLE:
                hedge = (" unless the change is binary-coercible (varchar(n) to text or to a longer varchar is; "
                         "migcheck cannot see the column's current type in the migrations)")
            elif new[0] in _TIMESTAMPS and version >= 12 and (old is None or old[0] in _TIMESTAMPS):
                hedge = (" unless the old type is timestamp (or timestamptz) and the session time zone is UTC: "
                         "then it is catalog-only, which `SET timezone = 'UTC';` before it makes sure of")
        yield f.hit(
            f"ALTER COLUMN {shown}{known} on {t}{lk.where(st)} rewrites {t} and rebuilds its indexes{hedge}, and "
            f"{lk.lock_words(lock, t)}, for the whole rewrite",
            f"Add a new column of the new type, keep it filled (trigger or dual writes), backfill in batches, switch "
            f"the readers, then drop `{col}` in a later release; widening varchar(n) to text or to a longer varchar "
            "needs no rewrite and is not reported when the old type is known.",
            st)
