from ..analysis import locking as lk
from ..analysis import pg, txn
from ..registry import rule

_NOT_A_USE = ("CommentStmt", "VariableSetStmt", "TransactionStmt", "AlterEnumStmt", "CreateEnumStmt")


def _enums_created(f, st) -> set[str]:
    """Enum types created earlier in the same transaction block (their new values may be used)."""
    out = set()
    for s in f.all_statements:
        if s is st:
            break
        if s.kind == "CreateEnumStmt" and lk.same_transaction(f, s, st):
            out.add((pg.strings(s.node.get("typeName"))[-1:] or [""])[0])
    return out


@rule(
    "alter-enum-in-transaction",
    severity="error",
    group="safety",
    kinds=("migration",),
    reads=("AlterEnumStmt",),
    summary="ALTER TYPE ... ADD VALUE fails in a transaction block before PostgreSQL 12, and its new value cannot be used in the same transaction after.",
)
def check(f, ctx):
    version = lk.version(ctx)
    stmts = f.all_statements
    for i, st in enumerate(stmts):
        if st.kind != "AlterEnumStmt" or not st.node.get("newVal"):
            continue
        type_parts = pg.strings(st.node.get("typeName"))
        type_name = lk.names(type_parts)
        value = st.node["newVal"]
        if lk.block_of(f, st) is None and not st.inner:
            continue
        if version < 12:
            if "concurrently-in-transaction" in ctx.config.enabled_rules():
                continue  # it reports statements that cannot run in a transaction block; one finding is enough
            yield f.hit(
                f"ALTER TYPE {type_name} ADD VALUE '{value}'{lk.where(st)} runs inside a transaction block"
                f"{' (a DO block is one)' if st.inner else ''}, which "
                f"PostgreSQL {version} refuses (ADD VALUE can run in a transaction block only since PostgreSQL 12)",
                f"Run `ALTER TYPE {type_name} ADD VALUE IF NOT EXISTS '{value}';` outside a transaction block: "
                f"{txn.outside_transaction(f, ctx.config)}.",
                st,
            )
            continue
        if type_parts[-1:] and type_parts[-1] in _enums_created(f, st):
            continue  # an enum created in the same transaction may use its new values at once
        for later in stmts[i + 1 :]:
            if later.kind in _NOT_A_USE or not lk.same_transaction(f, st, later):
                continue
            if value in lk.string_constants(later.node):
                yield f.hit(
                    f"ALTER TYPE {type_name} ADD VALUE '{value}'{lk.where(st)} is followed on line {later.line} by a "
                    f"statement of the same transaction that uses '{value}', which fails with \"unsafe use of new "
                    f'value": a new enum value cannot be used before its transaction commits',
                    f"Commit between them: move the statement that uses '{value}' to a later migration (or after "
                    "COMMIT, in a transaction of its own).",
                    st,
                )
                break
