from ..analysis import pg, txn
from ..registry import rule


@rule(
    "unbalanced-transaction",
    severity="error",
    group="convention",
    summary="BEGIN without COMMIT, COMMIT without BEGIN, nested BEGIN, or a ROLLBACK that discards the migration.",
)
def check(f, ctx):
    b = txn.analyse(f.statements)
    run = txn.runner(f, ctx.config)
    if run is not None and run.opens_tx and not run.opted_out:
        yield from _nested_in_runner(f, run, b)
        return
    for st in b.nested_begins:
        yield f.hit(
            "BEGIN inside an already open transaction: PostgreSQL ignores it with a warning, "
            "so the first COMMIT ends the whole block",
            "Remove the inner BEGIN; one BEGIN ... COMMIT around all the changes is enough.",
            st,
        )
    for st in b.stray_commits:
        yield f.hit(
            "COMMIT without a matching BEGIN: the statements before it ran outside any transaction",
            "Add `BEGIN;` before the first change, or remove this COMMIT.",
            st,
        )
    for st in b.rollbacks:
        yield f.hit(
            "ROLLBACK discards every change made since BEGIN: the migration undoes itself",
            "End the transaction with COMMIT; put undo steps in the rollback file instead.",
            st,
        )
    if b.unclosed is not None:
        yield f.hit(
            "BEGIN without COMMIT: the transaction is left open and its changes are lost "
            "when the session ends (or kept open holding its locks)",
            "Add `COMMIT;` after the last change.",
            b.unclosed,
        )


def _early_commits(f, run, b):
    """pop runs the file in its transaction and has no opt-out marker: `COMMIT;` ... `BEGIN;` in the
    file is the way to end that transaction early and open the one pop commits; only what does
    not balance that way is a fault."""
    e = txn.early_commits(f.statements)
    for st in e.nested_begins:
        yield f.hit(
            f"BEGIN inside {run.title}'s transaction: {run.title} already runs each migration in a "
            "transaction, so PostgreSQL ignores this BEGIN with a warning and the next COMMIT ends "
            f"{run.title}'s transaction early",
            f"Remove this BEGIN; `COMMIT;` ... `BEGIN;` (in that order) is how a {run.title} migration "
            "ends the transaction early and opens the one it commits.",
            st,
        )
    for st in e.stray_commits:
        yield f.hit(
            "COMMIT with no transaction open: an earlier COMMIT already ended "
            f"{run.title}'s transaction, so the statements since ran outside any transaction block",
            "Remove this COMMIT, or put `BEGIN;` before the statements it should commit.",
            st,
        )
    if e.unreopened is not None:
        word = e.unreopened.text.split()[0].upper() if e.unreopened.text.split() else "COMMIT"
        yield f.hit(
            f"{word} ends {run.title}'s transaction and no BEGIN follows: the rest of the file and "
            f"{run.title}'s own record of the migration run outside a transaction, so a failure "
            "there leaves the migration half applied and unrecorded",
            f"Add `BEGIN;` after the statements that must run outside {run.title}'s transaction: "
            f"{run.title} commits the transaction it opens at the end of the file.",
            e.unreopened,
        )
    for st in b.rollbacks:
        yield f.hit(
            "ROLLBACK discards every change made since BEGIN: the migration undoes itself",
            "End the transaction with COMMIT; put undo steps in the rollback file instead.",
            st,
        )


def _nested_in_runner(f, run, b):
    """The runner already runs the file in a transaction: its own BEGIN nests, its COMMIT ends the
    runner's transaction early."""
    if run.early_commit:
        yield from _early_commits(f, run, b)
        return
    opt_out = f"; to run a migration without a transaction, use `{run.marker}` {run.marker_where}" if run.marker else ""
    for st in f.statements:
        kind = pg.transaction_kind(st)
        if kind in pg.BEGIN_KINDS:
            yield f.hit(
                f"BEGIN inside {run.title}'s transaction: {run.title} already runs each migration in a "
                "transaction, so PostgreSQL ignores this BEGIN with a warning and the next COMMIT ends "
                f"{run.title}'s transaction early",
                f"Remove BEGIN and COMMIT from the file: {run.title} wraps the migration{opt_out}.",
                st,
            )
        elif kind in pg.COMMIT_KINDS:
            yield f.hit(
                f"COMMIT inside {run.title}'s transaction: it commits what ran so far, and the rest of the "
                f"migration, {run.title}'s own bookkeeping included, runs outside any transaction",
                f"Remove the COMMIT (and its BEGIN): {run.title} commits the migration itself{opt_out}.",
                st,
            )
    for st in b.rollbacks:
        yield f.hit(
            "ROLLBACK discards every change made since BEGIN: the migration undoes itself",
            "End the transaction with COMMIT; put undo steps in the rollback file instead.",
            st,
        )
