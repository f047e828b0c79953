"""Click commands ``stats`` and ``calibrate`` (docs/stats.md); registered lazily in cli.py. The
work is in stats_db.py (reading a server's statistics), verify/calibrate.py (measuring rates)
and stats.py (the file formats)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


class _Usage(click.ClickException):
    exit_code = 2  # CONVENTIONS.md: usage errors exit 2


def _snapshot_path(config_path, output) -> Path:
    from .analysis import risk
    from .config import load

    if output:
        return Path(output)
    cfg = load(Path(config_path) if config_path else None)
    path, _ = risk.snapshot_path(cfg)
    if path is None:
        raise _Usage("the configuration sets `stats = false`: give the file to write with --output FILE")
    return path


def _shown(path: Path) -> str:
    from .layout import display

    return display(path, Path.cwd())


@click.command("stats")
@click.option(
    "--dsn",
    required=True,
    envvar="MIGCHECK_DSN",
    metavar="DSN",
    help="PostgreSQL connection string of the database to read (production, a replica, staging); "
    "default: $MIGCHECK_DSN. Read-only: a role with CONNECT and pg_read_all_stats is enough.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(),
    metavar="FILE",
    help="Where to write the snapshot (default: the `stats` config key, else .migcheck/stats.json).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="statement_timeout of each query.",
)
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to use instead of searching.")
def stats(dsn, output, timeout, config_path) -> int:
    """Write a snapshot of the database's table sizes and traffic (read-only) for `check` and `locks`.

    Per table: rows, heap, TOAST and index bytes, inserts, updates, deletes and scans since the
    statistics were reset; per index its size and scans; the server version and the time. Names
    and counters only, never a row. Commit the file or hand it to CI: checks stay offline.
    """
    from . import stats_db
    from .analysis import stats as st

    path = _snapshot_path(config_path, output)
    try:
        snap = stats_db.capture(dsn, timeout)
    except st.StatsError as exc:
        raise _Usage(str(exc)) from None
    try:
        st.write(path, snap)
    except OSError as exc:
        raise _Usage(f"cannot write {_shown(path)}: {exc.strerror or exc}") from None
    n_idx = sum(len(t.indexes) for t in snap.tables)
    since = "stats reset" if snap.counters_since_source == "stats_reset" else "server start"
    click.echo(
        f"wrote {_shown(path)}: {len(snap.tables)} table{'s' if len(snap.tables) != 1 else ''}, "
        f"{n_idx} index{'es' if n_idx != 1 else ''} (database {snap.database}, PostgreSQL "
        f"{snap.server_version}); counters since {st.human.when(snap.counters_since)} ({since})"
    )
    return 0


@click.command("calibrate")
@click.option(
    "--dsn",
    metavar="URL",
    help="Measure on this existing server (migcheck creates a scratch database there and drops it "
    "at the end); default: a private temporary cluster, as `migcheck verify` uses.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(),
    metavar="FILE",
    help="Where to write the rates (default: calibration.json beside the stats snapshot).",
)
@click.option(
    "--rows",
    type=click.IntRange(min=1000),
    default=None,
    metavar="N",
    help="Rows of the larger calibration tables (default 400,000; the smaller ones have a quarter).",
)
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to use instead of searching.")
def calibrate(dsn, output, rows, config_path) -> int:
    """Measure how fast the server rewrites, scans, builds indexes and validates foreign keys, and
    write the rates `check` and `locks` use for their duration estimates."""
    from .analysis import stats as st
    from .verify import calibrate as cal
    from .verify.cluster import DsnServer, TempCluster, VerifyError
    from .verify.command import INSTALL_HINT

    path = Path(output) if output else st.rates_path(_snapshot_path(config_path, None))
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise VerifyError(f"migcheck calibrate needs the PostgreSQL driver psycopg 3: {INSTALL_HINT}") from None
    tty = sys.stderr.isatty()

    def progress(text: str) -> None:
        if tty:
            sys.stderr.write(f"\r\x1b[K{text}")
            sys.stderr.flush()

    try:
        if dsn:
            rates = cal.run(DsnServer(dsn), rows or cal.DEFAULT_ROWS, progress)
        else:
            progress("starting a temporary PostgreSQL cluster...")
            with TempCluster() as server:
                rates = cal.run(server, rows or cal.DEFAULT_ROWS, progress)
    finally:
        if tty:
            sys.stderr.write("\r\x1b[K")
    try:
        st.write_rates(path, rates)
    except OSError as exc:
        raise _Usage(f"cannot write {_shown(path)}: {exc.strerror or exc}") from None
    click.echo(f"{'class':<8}  {'seconds per GB':>14}  {'seconds per M rows':>18}  samples (rows: seconds)")
    for cls in st.CLASSES:
        r = rates.classes[cls]
        got = ", ".join(f"{s['shape']} {s['rows']:,}: {s['seconds']:.3f}" for s in rates.samples if s["class"] == cls)
        click.echo(f"{cls:<8}  {r.per_byte * (1 << 30):>14.2f}  {r.per_row * 1e6:>18.2f}  {got}")
    click.echo(f"wrote {_shown(path)} (PostgreSQL {rates.server_version}, {rates.where})")
    return 0
