from ..analysis import locking as lk
from ..analysis import locks
from ..registry import rule


@rule(
    "require-concurrent-partition-detach",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("AlterTableStmt",),
    summary="ALTER TABLE ... DETACH PARTITION without CONCURRENTLY (PostgreSQL 14+) blocks reads and writes of the partitioned table.",
)
def check(f, ctx):
    version = lk.version(ctx)
    if version < 14:
        return  # DETACH PARTITION ... CONCURRENTLY exists since PostgreSQL 14
    for st in f.all_statements:
        for sub, c in lk.alter_table_cmds(st):
            part_cmd = (c.get("def") or {}).get("PartitionCmd") or {}
            if sub != "AT_DetachPartition" or part_cmd.get("concurrent"):
                continue
            table = lk.table_of(st)
            if not lk.is_existing(f, st, table):
                continue  # a partitioned table created earlier in this file: nothing waits
            lock = lk.lock_on(st, table, version)
            if lock is None:
                continue
            parent, part = lk.table_sql(st), lk.relation(part_cmd.get("name"))
            yield f.hit(
                f"DETACH PARTITION {part} from {parent}{lk.where(st)} without CONCURRENTLY {lk.lock_words(lock, parent)}, "
                f"and an ACCESS EXCLUSIVE lock on {part}: every query on {parent} and its partitions waits",
                f"Detach it with `ALTER TABLE {parent} DETACH PARTITION {part} CONCURRENTLY;` (PostgreSQL 14+), which "
                f"holds {locks.SHARE_UPDATE_EXCLUSIVE} on {parent} and waits for the queries that use it instead of "
                "blocking them. It cannot run inside a transaction block (a migration of its own without BEGIN/COMMIT), "
                f"it is refused when {parent} has a DEFAULT partition, and an interrupted one is completed with "
                f"`ALTER TABLE {parent} DETACH PARTITION {part} FINALIZE;`.",
                st,
            )
