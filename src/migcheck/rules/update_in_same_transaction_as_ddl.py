from ..analysis import locking as lk
from ..analysis import locks
from ..registry import rule


@rule(
    "update-in-same-transaction-as-ddl",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("UpdateStmt", "DeleteStmt", "MergeStmt"),
    summary="UPDATE / DELETE on a table after DDL that took ACCESS EXCLUSIVE on it in the same transaction keeps the table locked while rows change.",
)
def check(f, ctx):
    version = lk.version(ctx)
    seen: list[tuple[object, str, locks.Lock]] = []  # (statement, table, lock) of ACCESS EXCLUSIVE DDL so far
    reported: set[int] = set()  # DDL statements already reported (one finding per DDL and table)
    for st in f.all_statements:
        if st.kind in ("UpdateStmt", "DeleteStmt", "MergeStmt"):
            table = lk.table_of(st)
            if not table or not lk.is_existing(f, st, table):
                continue
            for prev, ptable, lock in seen:
                if lk.unqualified(ptable) == lk.unqualified(table) and lk.same_transaction(f, prev, st):
                    if id(prev) in reported:
                        break
                    reported.update(id(p) for p, pt, _ in seen if lk.unqualified(pt) == lk.unqualified(table))
                    verb = st.kind.removesuffix("Stmt").upper()
                    t = lk.table_sql(st)
                    yield f.hit(
                        f"{verb} on {t}{lk.where(st)} runs in the same transaction as the DDL on line {prev.line}, "
                        f"which took an ACCESS EXCLUSIVE lock on {t}: the lock, which blocks {lock.blocks}, is held "
                        f"while every row the {verb} touches is changed, until COMMIT",
                        "Commit the schema change first, and change the data in a transaction of its own (in batches "
                        "for a large table): the ROW EXCLUSIVE lock of a plain UPDATE/DELETE lets reads and other writes go on.",
                        st,
                    )
                    break
            continue
        if st.kind in ("InsertStmt", "SelectStmt", "VariableSetStmt", "TransactionStmt"):
            continue
        for lock in locks.statement_locks(st, version):
            if lock.mode == locks.ACCESS_EXCLUSIVE and lock.relation:
                seen.append((st, lock.relation, lock))
