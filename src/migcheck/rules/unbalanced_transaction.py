from .. import txn
from ..registry import rule


@rule("unbalanced-transaction", severity="error", group="convention",
      summary="BEGIN without COMMIT, COMMIT without BEGIN, nested BEGIN, or a ROLLBACK that discards the migration.")
def check(f, ctx):
    b = txn.analyse(f.statements)
    for st in b.nested_begins:
        yield f.hit("BEGIN inside an already open transaction: PostgreSQL ignores it with a warning, "
                    "so the first COMMIT ends the whole block",
                    "Remove the inner BEGIN; one BEGIN ... COMMIT around all the changes is enough.", st)
    for st in b.stray_commits:
        yield f.hit("COMMIT without a matching BEGIN: the statements before it ran outside any transaction",
                    "Add `BEGIN;` before the first change, or remove this COMMIT.", st)
    for st in b.rollbacks:
        yield f.hit("ROLLBACK discards every change made since BEGIN: the migration undoes itself",
                    "End the transaction with COMMIT; put undo steps in the rollback file instead.", st)
    if b.unclosed is not None:
        yield f.hit("BEGIN without COMMIT: the transaction is left open and its changes are lost "
                    "when the session ends (or kept open holding its locks)",
                    "Add `COMMIT;` after the last change.", b.unclosed)
