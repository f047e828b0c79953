from .. import layout, model
from ..analysis import pg, txn
from ..registry import rule


@rule(
    "missing-transaction",
    severity="error",
    group="convention",
    summary="The changes are not wrapped in BEGIN/START TRANSACTION ... COMMIT.",
)
def check(f, ctx):
    version = ctx.config.postgres_version
    changes = [st for st in f.statements if pg.is_change(st)]
    if not changes:
        return
    blocks = txn.analyse(f.statements)
    outside = [st for st, inside in zip(f.statements, blocks.inside) if not inside and pg.is_change(st)]
    if not outside:
        return
    run = txn.runner(f, ctx.config)
    if run is not None:
        yield from _runner(f, ctx, run, outside, version)
        return
    solo = [st for st in outside if pg.non_transactional(st, version)]
    plain = [st for st in outside if not pg.non_transactional(st, version)]
    if not plain:
        if len(solo) == 1 and len(changes) == 1:
            return  # one statement that cannot run in a transaction, alone in its file: correct
        if len(solo) == len(changes) and not blocks.has_begin:
            what = pg.non_transactional(solo[1], version)
            yield f.hit(
                f"{len(solo)} statements that cannot run in a transaction share one file: "
                "if one fails, the ones before it stay applied",
                f"Keep each of them ({what}, ...) in a migration file of its own, outside BEGIN/COMMIT.",
                solo[1],
            )
        return
    first = plain[0]
    if solo:
        what = pg.non_transactional(solo[0], version)
        yield f.hit(
            "the changes are not wrapped in a transaction, and the file also holds "
            f"{what}, which cannot run inside one",
            f"Move the {what} statement to a migration file of its own, then wrap the rest in `BEGIN;` ... `COMMIT;`.",
            first,
        )
    elif blocks.has_begin:
        yield f.hit(
            "this change runs outside the file's BEGIN ... COMMIT block: if it fails, "
            "the changes before it stay applied",
            "Move it between `BEGIN;` and `COMMIT;`.",
            first,
        )
    else:
        yield f.hit(
            "the changes are not wrapped in a transaction: if one statement fails, "
            "the ones before it stay applied and the database is left half-migrated",
            "Put `BEGIN;` before the first change and `COMMIT;` after the last "
            "(SET statements and comments may stay above BEGIN).",
            first,
        )


def _runner(f, ctx, run, outside, version):
    """A runner preset: the runner makes the file atomic (in its transaction, or as one implicit
    transaction), unless the file opted out with the runner's marker."""
    if not run.opted_out or not run.splits:
        return  # in the runner's transaction, or one multi-statement query: atomic either way
    solo = [st for st in outside if pg.non_transactional(st, version)]
    plain = [st for st in outside if not pg.non_transactional(st, version)]
    if not plain or (not solo and len(plain) == 1):
        return
    if solo:
        what = pg.non_transactional(solo[0], version)
        yield f.hit(
            f"this file runs without a transaction (`{run.marker}`) for its {what}, so this change and "
            "the others are not atomic: if one fails, the ones before it stay applied",
            f"Keep only the {what} statement in the file that carries `{run.marker}`; move the other "
            f"changes to a migration {run.title} runs in a transaction.",
            plain[0],
        )
    elif (other := _needed_by_other_section(f, ctx, version)) is not None:
        mine, theirs, what = other
        yield f.hit(
            f"this `{mine}` section runs without a transaction (`{run.marker}` covers both sections of the "
            f"file, and the `{theirs}` section's {what} needs it), so its changes are not atomic: if one "
            "fails, the ones before it stay applied",
            f"Move the {what} statement to a migration of its own that carries `{run.marker}`, so that "
            f"{run.title} runs both sections of this one in a transaction.",
            plain[0],
        )
    elif (line := _validate_line(f, ctx)) is not None:
        yield f.hit(
            f"this file opts out of {run.title}'s transaction (`{run.marker}`), so its changes are not atomic: "
            "if one fails, the ones before it stay applied; the opt-out does let VALIDATE CONSTRAINT "
            f"(line {line}) run without the locks the statements before it took",
            "If that is why, keep the marker and record it: `-- migcheck: ignore-file missing-transaction -- "
            f"<why>`; else remove `{run.marker}` so that {run.title} runs the migration in a transaction.",
            plain[0],
        )
    else:
        yield f.hit(
            f"this file opts out of {run.title}'s transaction (`{run.marker}`), but nothing in it needs to: "
            "if one change fails, the ones before it stay applied",
            f"Remove `{run.marker}` so that {run.title} runs the migration in a transaction.",
            plain[0],
        )


def _needed_by_other_section(f, ctx, version):
    """(this section's marker, the other's, what needs the opt-out) when ``f`` is one section of a
    file whose opt-out covers both (goose's NO TRANSACTION) and the other section holds a statement
    that cannot run in a transaction; None otherwise."""
    other = _other_section(f, ctx)
    if other is None:
        return None
    what = next((w for st in other.statements if (w := pg.non_transactional(st, version))), None)
    if what is None:
        return None
    lay = layout.runner_layout(ctx.config)
    down = getattr(f, "section_of", None) is not None
    return (lay.down_marker, lay.up_marker, what) if down else (lay.up_marker, lay.down_marker, what)


def _other_section(f, ctx):
    """The other section (up or down) of the file ``f`` is one section of (goose, dbmate), or None."""
    project = ctx.project
    if getattr(f, "section_source", None) is None or project is None or not layout.is_preset(ctx.config):
        return None
    group = project.groups.get(f.mdir)
    if group is None:
        return None
    down = getattr(f, "section_of", None) is not None
    want = f.section_of if down else f.path.with_name(f.path.name + "#down")
    other = next((x for x in (group.migrations if down else group.rollbacks) if x.path == want), None)
    return None if other is None or other.problems else other


def _validate_line(f, ctx) -> int | None:
    """The line of the first ``ALTER TABLE ... VALIDATE CONSTRAINT`` of the file (either section
    of a goose file: its opt-out covers both), a reason to run it without a transaction: the
    validation then holds only its own SHARE UPDATE EXCLUSIVE lock, not the locks taken before it."""
    for part in (f, _other_section(f, ctx)):
        if part is None:
            continue
        for st in part.all_statements:
            if st.kind == "AlterTableStmt" and any(
                kind == "AlterTableCmd" and fields.get("subtype") == "AT_ValidateConstraint"
                for kind, fields in model.walk(st.node)
            ):
                return st.line
    return None
