"""Click commands ``lock`` and ``status`` (docs/tracking.md); registered in cli.py with
``cli.add_command``. The logic lives in lockfile.py and status.py."""

from __future__ import annotations

import sys
from pathlib import Path

import click


class _Usage(click.ClickException):
    exit_code = 2  # CONVENTIONS.md: usage errors exit 2


def _config(config_path):
    """The configuration, with the runner layout detected as `check` detects it when no preset is
    set, so that `lock`, `status` and `check` agree on what a migration and its version are."""
    from .config import load

    cfg = load(Path(config_path) if config_path else None)
    if cfg.preset is None:
        from . import detect

        cfg = detect.apply(cfg, [], Path.cwd(), lambda line: click.echo(line, err=True))
    return cfg


@click.command("lock")
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Verify migcheck.lock without writing it: exit 1, one line per problem, when a migration "
    "was edited, deleted, renamed or is not locked yet.",
)
@click.option(
    "--update",
    "updates",
    metavar="VERSION",
    multiple=True,
    help="Record the current text of this locked migration (or forget it, when it was deleted). "
    "Only for migrations that were never applied anywhere. Repeatable.",
)
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to use instead of searching.")
def lock(check_only, updates, config_path) -> int:
    """Record the checksum of each migration in migcheck.lock (at the configuration root).

    New migrations are added; a locked migration keeps its checksum, so that `migcheck check`
    reports it (modified-migration) when it is edited or deleted.
    """
    from . import engine, lockfile
    from .fsutil import atomic_write

    cfg = _config(config_path)
    cwd = Path.cwd()
    path = lockfile.path_of(cfg)
    shown = _show(path, cwd)
    try:
        locked = lockfile.read(path)
    except lockfile.LockError as exc:
        raise _Usage(
            f"{exc}; restore it from version control, or delete it and run `migcheck lock` "
            "if every locked migration is known to be unchanged"
        ) from None
    try:
        now = lockfile.current(engine.configured_project(cfg, cwd), cfg)
    except lockfile.DuplicateVersion as exc:
        raise _Usage(str(exc)) from None
    if check_only:
        if updates:
            raise _Usage("--update writes the lock file: it cannot go with --check")
        if locked is None:
            click.echo(f"{shown}: not found (run `migcheck lock` to write it)")
            return 1
        problems = lockfile.compare(locked, now, cfg, cwd)
        for p in problems:
            click.echo(p.line())
        if problems:
            n = len(problems)
            click.echo(f"{shown}: {n} problem{'s' if n != 1 else ''}", err=True)
            return 1
        click.echo(f"{shown}: up to date ({len(locked)} migration{'s' if len(locked) != 1 else ''})")
        return 0
    locked = dict(locked or {})
    unknown = [v for v in updates if v not in locked]
    if unknown:
        raise _Usage(f"--update {unknown[0]}: no such version in {shown} (see `migcheck lock --check`)")
    problems = lockfile.compare(locked, now, cfg, cwd)
    added = updated = 0
    held = []
    for p in problems:
        c = now.get(p.version)
        if p.kind == "unlocked":
            locked[p.version] = lockfile.Entry(c.version, c.sha256, c.path)
            added += 1
        elif p.kind == "renamed":
            locked[p.version] = lockfile.Entry(c.version, c.sha256, c.path)
            updated += 1
        elif p.version in updates:
            if c is None:
                del locked[p.version]
            else:
                locked[p.version] = lockfile.Entry(c.version, c.sha256, c.path)
            updated += 1
        else:
            held.append(p)
    for v in updates:
        if v not in {p.version for p in problems}:
            click.echo(f"{shown}: {v} is unchanged, nothing to update", err=True)
    if added or updated or not path.exists():
        try:
            atomic_write(path, lockfile.render(locked), overwrite=True)
        except OSError as exc:
            raise _Usage(f"cannot write {shown}: {exc.strerror or exc}") from None
    n = len(locked)
    click.echo(f"{shown}: {n} migration{'s' if n != 1 else ''} locked ({added} added, {updated} updated)")
    for p in held:
        click.echo(p.line())
    if held:
        click.echo(
            f"{shown}: kept the locked checksum of {len(held)} migration{'s' if len(held) != 1 else ''} "
            "that changed; `migcheck check` reports them (modified-migration). If one was never applied "
            "anywhere, record it with `migcheck lock --update VERSION`.",
            err=True,
        )
        return 1
    return 0


def _show(path: Path, cwd: Path) -> str:
    from .layout import display

    return display(path, cwd)


@click.command("status")
@click.option(
    "--dsn",
    required=True,
    envvar="MIGCHECK_DSN",
    metavar="DSN",
    help="PostgreSQL connection string (libpq: 'postgresql://user@host/db' or 'host=... dbname=...'); "
    "default: $MIGCHECK_DSN.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to use instead of searching.")
def status(dsn, fmt, config_path) -> int:
    """Compare the migration files with the database's _migrations.schema_migrations (read-only).

    Exit 1 when a migration failed, an applied one is missing on disk, or a file was edited after
    it was applied (checksum drift).
    """
    from . import status as st

    cfg = _config(config_path)
    try:
        report = st.status(cfg, dsn, Path.cwd())
    except st.StatusError as exc:
        raise _Usage(str(exc)) from None
    if fmt == "json":
        sys.stdout.write(st.render_json(report))
    else:
        sys.stdout.write(st.render_text(report, tty=sys.stdout.isatty()))
    return 1 if report.bad else 0
