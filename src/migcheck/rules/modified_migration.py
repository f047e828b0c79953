"""modified-migration: a migration recorded in migcheck.lock, or (with ``--diff REF``) one that
existed at REF, was edited or deleted (rules/modified-migration.md)."""

import os
from pathlib import Path

from .. import layout
from ..model import Hit
from ..registry import rule

LOCK_NAME = "migcheck.lock"  # lockfile.NAME: the module is imported only when the file exists (tests/test_lock.py)


@rule(
    "modified-migration",
    severity="error",
    group="project",
    scope="project",
    kinds=("migration",),
    summary="A migration recorded in migcheck.lock (or, with --diff REF, one that existed at REF) was edited or deleted.",
)
def check(project, ctx):
    seen: set[Path] = set()
    for h in _from_git(project):
        seen.add(h.file.path)
        yield h
    yield from _from_lock(project, ctx.config, seen)


def _from_lock(project, config, seen):
    """Offline: compare the migrations with the checksums of migcheck.lock."""
    if not os.path.lexists(config.root / LOCK_NAME):  # no lock file: lockfile.read would say None
        return
    from .. import lockfile

    path = lockfile.path_of(config)
    checked = [f for f in project.files if project.is_reported(f)]
    reported = [f for f in checked if f.kind == "migration"]
    if not checked:
        return
    try:
        locked = lockfile.read(path)
    except lockfile.LockError as exc:
        yield (reported or checked)[0].hit(
            f"{exc}: migcheck cannot tell which migrations were edited",
            f"Restore {lockfile.NAME} from version control (`git restore {lockfile.NAME}`), or, if every "
            f"locked migration is known to be unchanged, delete it and run `migcheck lock` to write it again.",
            line=1,
            column=1,
        )
        return
    if not locked:
        return
    by_key = {}
    for f in project.files:
        if f.kind == "migration":
            by_key.setdefault(lockfile.key_of(f), f)
    for f in reported:
        if f.path in seen:
            continue
        entry = locked.get(lockfile.key_of(f))
        if entry is None or by_key.get(entry.version) is not f:
            continue
        try:
            now = lockfile.file_checksum(f)
        except OSError:
            continue  # unreadable-file says why
        if now == entry.sha256:
            continue
        yield f.hit(
            f"migration {f.name} was edited after it was recorded in {lockfile.NAME} (locked sha256 "
            f"{entry.sha256[:12]}, now {now[:12]}): databases that applied it will not run it again, so they "
            "drift from the ones that run the new text",
            f"Put the locked text back (`git log -p -- {f.display}` shows the edit) and make the change in a new "
            f"migration (`migcheck new <description>`). If this migration has not been applied anywhere yet, "
            f"record the new text with `migcheck lock --update {entry.version}`.",
            line=1,
            column=1,
        )
    # locked migrations gone from a directory that is being checked
    checked_dirs = {f.mdir for f in checked}
    for version in sorted(locked):
        entry = locked[version]
        if version in by_key:
            continue
        gone = Path(os.path.abspath(config.root / entry.path))
        if gone in seen or gone.exists():
            continue
        from ..files import MigrationFile

        kind, mdir = layout.Layout(config).classify(gone)
        if kind != "migration" or mdir not in checked_dirs:
            continue
        f = MigrationFile(gone, layout.display(gone, Path.cwd()), kind, mdir, config)
        project.deleted.append(f)
        project.reported.add(gone)  # so that the finding on the vanished path is reported
        yield f.hit(
            f"migration {f.name} was recorded in {lockfile.NAME} and was deleted since: databases that "
            "applied it keep its changes, and new databases will not get them",
            f"Restore it (`git restore -- {f.display}`, or from the history). To undo what it did, write a new "
            "migration that reverses it; if it was never applied anywhere, drop it from the lock with "
            f"`migcheck lock --update {version}`.",
            line=1,
            column=1,
        )


def _from_git(project):
    changes = project.changes
    if changes is None:  # only `check --diff REF` knows what the migrations looked like before
        return
    where = f"{changes.ref} (merge base {changes.base[:7]})"
    for f in project.files:
        if f.kind != "migration" or not project.is_reported(f) or not changes.is_modified(f.path):
            continue
        span = changes.locate(f.path) if changes.locate else (1, 1)
        if span is None:  # only the file mode changed: the SQL is the same
            continue
        line, end_line = span
        yield Hit(
            f,
            line,
            1,
            f"migration {f.name} already existed at {where} and was edited since (first change at "
            f"line {line}): databases that applied it will not run it again, so they drift from the "
            "ones that run the new text",
            f"Restore it (`git restore --source {changes.base[:7]} -- {f.display}`) and make the change in a "
            "new migration (`migcheck new <description>`). If this migration has not been applied "
            "anywhere yet, record that: `-- migcheck: ignore-file modified-migration -- <why, who checked>`.",
            end_line=end_line,
        )
    for f in project.deleted:
        if f.kind != "migration":
            continue
        yield f.hit(
            f"migration {f.name} already existed at {where} and was deleted since: databases that "
            "applied it keep its changes, and new databases will not get them",
            f"Restore it (`git restore --source {changes.base[:7]} -- {f.display}`). To undo what it did, "
            "write a new migration that reverses it; to rename it, keep the old file: deploy tools "
            "track migrations by name.",
            line=1,
            column=1,
        )
