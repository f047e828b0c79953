"""``migcheck status``: compare the migration files with ``_migrations.schema_migrations``
(docs/tracking.md). Read-only: one READ ONLY transaction, rolled back.

States, per version (file name ``YYYYMMDD_NNN`` or the tracking table's ``version``):

- ``applied``: success and not reverted, file on disk, checksum equal or not recorded;
- ``drifted``: applied, but the recorded checksum differs from the file's (edited after it ran);
- ``missing``: applied, but no migration file has that version;
- ``failed``: not successful, with an error message (shown);
- ``running``: started (``log_migration_start``) and neither completed nor failed;
- ``reverted``: ``reverted_at`` is set;
- ``pending``: a file with no row.

``failed``, ``missing`` and ``drifted`` make the exit code 1. The checksum is the one of
``migcheck lock`` (lockfile.py): SHA-256 of the file as UTF-8 without BOM, line endings as LF;
the tracking table may hold it as 64 hex digits, optionally prefixed ``sha256:``. A checksum of
the raw bytes also matches (tools that hash the file as is). Any other value is shown as
``unrecognised`` and not compared.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import dsnutil, fsutil
from .config import Config

BAD = ("failed", "missing", "drifted")
STATES = ("applied", "drifted", "missing", "failed", "running", "reverted", "pending")
_HEX = re.compile(r"(?:sha256:)?([0-9a-f]{64})")
COLUMNS = (
    "version",
    "description",
    "batch",
    "installed_on",
    "success",
    "error_message",
    "error_detail",
    "reverted_at",
    "reverted_by",
    "checksum",
)


class StatusError(Exception):
    """Cannot compare (no psycopg, no connection, no tracking schema): exit 2 with this message."""


@dataclass
class Row:
    """One migration's line in ``migcheck status``."""

    version: str
    state: str
    file: str | None = None
    description: str | None = None
    batch: int | None = None
    installed_on: str | None = None
    error: str | None = None
    reverted_at: str | None = None
    reverted_by: str | None = None
    checksum_recorded: str | None = None
    checksum_file: str | None = None
    checksum_match: bool | None = None  # None: not compared (not recorded, unrecognised, no file)


@dataclass
class Report:
    """The rows of ``migcheck status``."""

    rows: list[Row] = field(default_factory=list)

    @property
    def bad(self) -> bool:
        return any(r.state in BAD for r in self.rows)

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATES}
        for r in self.rows:
            out[r.state] += 1
        return out


def connect(dsn: str, command: str = "`migcheck status`", error: type[Exception] = StatusError):
    """(psycopg, a connection to ``dsn``); any problem is ``error`` with one line that never
    holds the password (``redact``)."""
    try:
        import psycopg
    except ImportError:
        from .verify.command import INSTALL_HINT

        raise error(f"{command} needs the PostgreSQL driver psycopg: {INSTALL_HINT}") from None
    try:
        conn = psycopg.connect(dsn, connect_timeout=10)
    except psycopg.Error as exc:
        msg = redact(" ".join(str(exc).split()), dsn) or type(exc).__name__
        raise error(f"cannot connect to the database given by --dsn: {msg}") from None
    except Exception as exc:  # a malformed DSN raises ProgrammingError or ValueError-like errors
        raise error(f"cannot use the --dsn value: {redact(' '.join(str(exc).split()), dsn)}") from None
    return psycopg, conn


@contextlib.contextmanager
def read_only(dsn: str, command: str = "`migcheck status`", error: type[Exception] = StatusError):
    """``connect``, in a READ ONLY transaction that is rolled back and closed at the end."""
    psycopg, conn = connect(dsn, command, error)
    try:
        conn.read_only = True  # BEGIN READ ONLY: the server refuses any write
        yield psycopg, conn
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()


def redact(text: str, dsn: str) -> str:
    """``text`` without the password of ``dsn`` (an error message may quote the connection
    string, for example a malformed one): ``dsnutil.redact``."""
    return dsnutil.redact(text, dsn)


def fetch(dsn: str) -> list[dict]:
    """The rows of ``_migrations.schema_migrations`` (the columns it has of COLUMNS)."""
    with read_only(dsn) as (psycopg, conn):
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT to_regclass('_migrations.schema_migrations') IS NOT NULL")
                if not cur.fetchone()[0]:
                    raise StatusError(
                        "the database has no _migrations.schema_migrations table (the guidelines' tracking schema): "
                        "run `migcheck init` to write the migration that creates it, apply that migration, then "
                        "record each migration with _migrations.log_migration_start / log_migration_complete"
                    )
                cur.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = '_migrations' AND table_name = 'schema_migrations'"
                )
                have = {r[0] for r in cur.fetchall()}
                if "version" not in have:
                    raise StatusError(
                        "_migrations.schema_migrations has no `version` column: it is not the "
                        "guidelines' tracking table (see `migcheck init`)"
                    )
                cols = [c for c in COLUMNS if c in have]
                cur.execute(
                    "SELECT "
                    + ", ".join(f"{c}::text" if c in ("installed_on", "reverted_at") else c for c in cols)
                    + " FROM _migrations.schema_migrations ORDER BY version"
                )
                return [dict(zip(cols, r)) for r in cur.fetchall()]
        except psycopg.Error as exc:
            raise StatusError(f"cannot read _migrations.schema_migrations: {escape(redact(str(exc), dsn))}") from None


def _files(config: Config, cwd: Path) -> dict[str, tuple[str, str, str]]:
    """version -> (display path, normalised checksum, raw-bytes checksum) of the migration files."""
    from . import engine, lockfile

    out = {}
    for f in engine.configured_project(config, cwd).files:
        if f.kind != "migration":
            continue
        key = lockfile.key_of(f)
        if key in out:
            continue
        try:
            data = fsutil.read_regular(f.path)[0]
        except OSError:
            data = b""
        out[key] = (f.display, lockfile.checksum(data), hashlib.sha256(data).hexdigest())
    return out


def compare(rows: list[dict], files: dict[str, tuple[str, str, str]]) -> Report:
    report = Report()
    by_version = {str(r["version"]): r for r in rows}
    for version in sorted(set(by_version) | set(files)):
        r, f = by_version.get(version), files.get(version)
        if r is None:
            report.rows.append(Row(version, "pending", file=f[0]))
            continue
        row = Row(
            version,
            "applied",
            file=f[0] if f else None,
            description=r.get("description"),
            batch=r.get("batch"),
            installed_on=r.get("installed_on"),
            reverted_at=r.get("reverted_at"),
            reverted_by=r.get("reverted_by"),
            checksum_recorded=r.get("checksum"),
            checksum_file=f[1] if f else None,
        )
        success = r.get("success", True)
        error = r.get("error_message")
        if r.get("reverted_at") is not None:
            row.state = "reverted"
        elif not success and error is not None:
            row.state = "failed"
            detail = r.get("error_detail")
            row.error = error + (f" ({detail})" if detail else "")
        elif not success:
            row.state = "running"
        elif f is None:
            row.state = "missing"
        recorded = (row.checksum_recorded or "").strip().lower()
        m = _HEX.fullmatch(recorded)
        if m and f is not None:
            row.checksum_match = m.group(1) in (f[1], f[2])
            if not row.checksum_match and row.state == "applied":
                row.state = "drifted"
        report.rows.append(row)
    return report


def status(config: Config, dsn: str, cwd: Path) -> Report:
    from .config import ConfigError

    try:
        files = _files(config, cwd)
    except ConfigError as exc:
        raise StatusError(str(exc)) from None
    return compare(fetch(dsn), files)


# --- output --------------------------------------------------------------------------------


def _detail(r: Row) -> str:
    if r.state == "failed":
        return f"error: {r.error}"
    if r.state == "drifted":
        recorded = _HEX.fullmatch((r.checksum_recorded or "").strip().lower())
        return (
            f"edited after it was applied (checksum {recorded.group(1)[:12] if recorded else '?'} in the "
            f"database, {r.checksum_file[:12]} on disk)"
        )
    if r.state == "missing":
        when = f" on {r.installed_on[:16]}" if r.installed_on else ""
        return f"applied{when}, but no file has this version"
    if r.state == "reverted":
        by = f" by {r.reverted_by}" if r.reverted_by else ""
        return f"reverted on {(r.reverted_at or '')[:16]}{by}"
    if r.state == "running":
        return "started, never completed (log_migration_complete was not called)"
    if r.checksum_recorded and r.checksum_match is None and r.file and r.state == "applied":
        return "checksum unrecognised (not a sha256), not compared"
    return ""


# What the tracking table holds is data anyone who can write to the database chose: shown on a
# terminal, an escape sequence in it would be run by the terminal (retitle it, hide lines, fake
# output). Control characters and the bidirectional overrides (which reorder what is shown)
# are shown escaped, as \x1b or \u202e.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape(text: str) -> str:
    """``text`` with the characters a terminal would act on shown escaped."""
    return _UNSAFE.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


_COLOURS = {
    "applied": "green",
    "pending": "cyan",
    "reverted": "yellow",
    "running": "yellow",
    "failed": "red",
    "missing": "red",
    "drifted": "red",
}


def render_text(report: Report, tty: bool = False) -> str:
    import click

    if not report.rows:
        return "no migrations on disk and none recorded in _migrations.schema_migrations\n"
    rows = [(escape(r.version), r.state, escape(r.file or "-"), escape(_detail(r))) for r in report.rows]
    widths = [max(len(x[i]) for x in rows + [("version", "state", "file", "")]) for i in range(3)]
    lines = [f"{'version':<{widths[0]}}  {'state':<{widths[1]}}  {'file':<{widths[2]}}  detail".rstrip()]
    for version, state, file, detail in rows:
        shown = click.style(f"{state:<{widths[1]}}", fg=_COLOURS[state]) if tty else f"{state:<{widths[1]}}"
        lines.append(f"{version:<{widths[0]}}  {shown}  {file:<{widths[2]}}  {detail}".rstrip())
    counts = report.counts()
    n = len(report.rows)
    lines.append("")
    lines.append(f"{n} migration{'s' if n != 1 else ''}: " + ", ".join(f"{counts[s]} {s}" for s in STATES))
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    doc = {
        "version": 1,
        "migrations": [asdict(r) for r in report.rows],
        "summary": report.counts(),
        "ok": not report.bad,
    }
    return json.dumps(doc, indent=2) + "\n"
