from .. import pg, txn
from ..registry import rule


@rule("missing-transaction", severity="error", group="convention",
      summary="The changes are not wrapped in BEGIN/START TRANSACTION ... COMMIT.")
def check(f, ctx):
    version = ctx.config.postgres_version
    changes = [st for st in f.statements if pg.is_change(st)]
    if not changes:
        return
    blocks = txn.analyse(f.statements)
    outside = [st for st, inside in zip(f.statements, blocks.inside) if not inside and pg.is_change(st)]
    if not outside:
        return
    solo = [st for st in outside if pg.non_transactional(st, version)]
    plain = [st for st in outside if not pg.non_transactional(st, version)]
    if not plain:
        if len(solo) == 1 and len(changes) == 1:
            return  # one statement that cannot run in a transaction, alone in its file: correct
        if len(solo) == len(changes) and not blocks.has_begin:
            what = pg.non_transactional(solo[1], version)
            yield f.hit(f"{len(solo)} statements that cannot run in a transaction share one file: "
                        "if one fails, the ones before it stay applied",
                        f"Keep each of them ({what}, ...) in a migration file of its own, outside BEGIN/COMMIT.",
                        solo[1])
        return
    first = plain[0]
    if solo:
        what = pg.non_transactional(solo[0], version)
        yield f.hit("the changes are not wrapped in a transaction, and the file also holds "
                    f"{what}, which cannot run inside one",
                    f"Move the {what} statement to a migration file of its own, then wrap the rest "
                    "in `BEGIN;` ... `COMMIT;`.", first)
    elif blocks.has_begin:
        yield f.hit("this change runs outside the file's BEGIN ... COMMIT block: if it fails, "
                    "the changes before it stay applied",
                    "Move it between `BEGIN;` and `COMMIT;`.", first)
    else:
        yield f.hit("the changes are not wrapped in a transaction: if one statement fails, "
                    "the ones before it stay applied and the database is left half-migrated",
                    "Put `BEGIN;` before the first change and `COMMIT;` after the last "
                    "(SET statements and comments may stay above BEGIN).", first)
