from ..analysis import destructive as d
from ..analysis import routines
from ..registry import rule


@rule(
    "delete-statement",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("DeleteStmt", "MergeStmt"),
    summary="DELETE in a migration removes rows that no rollback can bring back.",
)
def check(f, ctx):
    # One finding per statement: a DELETE without WHERE is delete-without-where's (an error),
    # unless that rule is turned off.
    stronger = "delete-without-where" in ctx.config.enabled_rules()
    for st in routines.executed(f):
        found = d.deletes(st)
        if not found:
            continue
        if stronger and d.unbounded_deletes(st):
            continue
        tables = d.listing(list(dict.fromkeys(d.relation(n.get("relation")) for n, _, _ in found)))
        if all(is_merge for _, _, is_merge in found):
            what = f"MERGE INTO {tables} ... THEN DELETE"
        else:
            what = f"DELETE FROM {tables}"
        if all(in_with for _, in_with, _ in found):
            what += " (in a WITH query)"
        yield f.hit(
            f"{what}{d.where(st)} removes rows that no rollback can bring back; {d.REVIEW_REQUIRED}",
            "Check that the WHERE clause selects only the rows meant (run it as a SELECT first) and keep a copy "
            f"if they may be needed (`CREATE TABLE {d.backup_table(found[0][0].get('relation'))} AS SELECT * FROM "
            f"{d.relation(found[0][0].get('relation'))} WHERE ...;`); {d.review('delete-statement', st)}.",
            st,
        )
