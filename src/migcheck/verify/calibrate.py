"""``migcheck calibrate``: measure how fast a PostgreSQL server rewrites, scans, indexes and
validates foreign keys, and fit the per-byte and per-row rates the duration estimates use
(docs/stats.md, "Calibration").

On a scratch database of the server ``verify`` uses (its private temporary cluster, or
``--dsn``), for two table shapes (a narrow one of keys and timestamps, a wide one that adds text,
numeric, jsonb and boolean columns: the usual mix of an application table) at two sizes, it
builds the table with generated rows (no index), freezes and analyzes it (as an old production table is),
then times each class of work three times and keeps the median run (the fastest would be a
best case: a migration on a busy server does not get it):

- ``scan``: ``ADD CONSTRAINT ... CHECK`` on a numeric column (validates every row under ACCESS
  EXCLUSIVE);
- ``index``: ``CREATE INDEX`` on an integer column;
- ``fk``: ``ADD FOREIGN KEY`` to a 1,000-row table (validates every row);
- ``rewrite``: ``ALTER COLUMN ... TYPE`` integer to bigint (and back), and numeric(12,2) to
  numeric(14,4) (and back), the mean of the two, on the table without indexes (a rewrite's index
  rebuilds are estimated with the ``index`` rate, per index).

Each class's rate is the least-squares fit, weighted by relative error and without negative
terms, of seconds = per_byte x table bytes + per_row x rows over the four tables.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from ..analysis.stats import CLASSES, Rate, Rates

SHAPES = {
    "narrow": (
        "id bigint NOT NULL, ref_id bigint NOT NULL, n integer NOT NULL, amount numeric(12,2) NOT NULL, "
        "created_at timestamptz NOT NULL",
        "g, g % 1000 + 1, (g * 7919) % 100000, (g % 99991) / 100.0, timestamptz '2026-01-01' + g * interval '1 second'",
    ),
    "wide": (
        "id bigint NOT NULL, ref_id bigint NOT NULL, n integer NOT NULL, amount numeric(12,2) NOT NULL, "
        "created_at timestamptz NOT NULL, status text NOT NULL, email text, payload jsonb, flag boolean",
        "g, g % 1000 + 1, (g * 7919) % 100000, (g % 99991) / 100.0, "
        "timestamptz '2026-01-01' + g * interval '1 second', 'status-' || (g % 7), 'user' || g || '@example.com', "
        "jsonb_build_object('id', g, 'tag', 'tag-' || (g % 13), 'score', g % 101), g % 2 = 0",
    ),
}
DEFAULT_ROWS = 400_000  # the larger size; the smaller one is a quarter of it
REPEAT = 3  # runs of each timing; the median counts

# (class, [(the timed statement, the statement that undoes it), ...]): a class with several
# statements is sampled as their mean (a rewrite's cost per row depends on the conversion: a
# numeric rescale costs about 1.5 times an integer widening on PostgreSQL 15)
_OPERATIONS = (
    (
        "scan",
        [("ALTER TABLE cal_t ADD CONSTRAINT cal_chk CHECK (amount >= 0)", "ALTER TABLE cal_t DROP CONSTRAINT cal_chk")],
    ),
    ("index", [("CREATE INDEX cal_idx ON cal_t (n)", "DROP INDEX cal_idx")]),
    (
        "fk",
        [
            (
                "ALTER TABLE cal_t ADD CONSTRAINT cal_fk FOREIGN KEY (ref_id) REFERENCES cal_ref (id)",
                "ALTER TABLE cal_t DROP CONSTRAINT cal_fk",
            )
        ],
    ),
    (
        "rewrite",
        [
            ("ALTER TABLE cal_t ALTER COLUMN n TYPE bigint", "ALTER TABLE cal_t ALTER COLUMN n TYPE integer"),
            (
                "ALTER TABLE cal_t ALTER COLUMN amount TYPE numeric(14,4)",
                "ALTER TABLE cal_t ALTER COLUMN amount TYPE numeric(12,2)",
            ),
        ],
    ),
)
# (the way back of a rewrite is a rewrite of the same table too: both count as runs)
_UNDO_IS_A_RUN = {"rewrite"}


@dataclass
class Sample:
    cls: str
    shape: str
    rows: int
    bytes: int
    seconds: float

    def to_dict(self) -> dict:
        return {
            "class": self.cls,
            "shape": self.shape,
            "rows": self.rows,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 6),
        }


def fit(points: list[tuple[int, int, float]]) -> Rate:
    """Seconds = a x bytes + b x rows, a, b >= 0, least squares on relative errors."""
    pts = [(b / s, r / s) for b, r, s in points if s > 0]  # each equation divided by its seconds
    if not pts:
        return Rate(0.0, 0.0)
    sbb = sum(b * b for b, _ in pts)
    srr = sum(r * r for _, r in pts)
    sbr = sum(b * r for b, r in pts)
    sb = sum(b for b, _ in pts)  # (the right-hand side: each scaled equation equals 1)
    sr = sum(r for _, r in pts)
    det = sbb * srr - sbr * sbr
    if det > 1e-12 * sbb * srr:
        a = (sb * srr - sr * sbr) / det
        c = (sr * sbb - sb * sbr) / det
        if a >= 0 and c >= 0:
            return Rate(a, c)
    # one term only: the better of bytes alone and rows alone
    a, c = sb / sbb, sr / srr
    err_a = sum((a * b - 1) ** 2 for b, _ in pts)
    err_c = sum((c * r - 1) ** 2 for _, r in pts)
    return Rate(a, 0.0) if err_a <= err_c else Rate(0.0, c)


def _timed(conn, sql: str) -> float:
    t0 = time.perf_counter()
    conn.execute(sql)
    return time.perf_counter() - t0


def measure(conninfo: str, rows: int = DEFAULT_ROWS, progress=None) -> tuple[list[Sample], str]:
    """Build the tables in the (scratch) database ``conninfo`` and time every operation. Returns
    the samples and the server's version."""
    import psycopg

    sizes = sorted({max(rows // 4, 1000), max(rows, 1000)})
    samples: list[Sample] = []
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=30) as conn:
        version = conn.info.parameter_status("server_version") or ""
        conn.execute("CREATE TABLE cal_ref (id bigint PRIMARY KEY)")
        conn.execute("INSERT INTO cal_ref SELECT g FROM generate_series(1, 1000) AS g")
        conn.execute("VACUUM (FREEZE, ANALYZE) cal_ref")
        for shape, (columns, values) in SHAPES.items():
            for n in sizes:
                if progress:
                    progress(f"calibrating: {shape} table, {n:,} rows")
                conn.execute(f"CREATE TABLE cal_t ({columns})")
                conn.execute(f"INSERT INTO cal_t SELECT {values} FROM generate_series(1::bigint, {n}) AS g")
                conn.execute("VACUUM (FREEZE, ANALYZE) cal_t")
                heap, toast = conn.execute(
                    "SELECT pg_relation_size(c.oid), coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) "
                    "FROM pg_class c WHERE c.oid = 'cal_t'::regclass"
                ).fetchone()
                for cls, statements in _OPERATIONS:
                    typical = []
                    for do, undo in statements:
                        runs = []
                        for _ in range(REPEAT):
                            runs.append(_timed(conn, do))
                            undo_t = _timed(conn, undo)
                            if cls in _UNDO_IS_A_RUN:
                                runs.append(undo_t)
                        typical.append(statistics.median(runs))
                    nbytes = heap + toast if cls == "rewrite" else heap
                    samples.append(Sample(cls, shape, n, int(nbytes), sum(typical) / len(typical)))
                conn.execute("DROP TABLE cal_t")
    return samples, version


def rates_from(samples: list[Sample], version: str, where: str) -> Rates:
    classes = {cls: fit([(s.bytes, s.rows, s.seconds) for s in samples if s.cls == cls]) for cls in CLASSES}
    return Rates(
        classes, "calibrated", datetime.now(UTC).replace(microsecond=0), version, where, [s.to_dict() for s in samples]
    )


def run(server, rows: int = DEFAULT_ROWS, progress=None) -> Rates:
    """Calibrate on ``server`` (a ``cluster.Server``): a scratch database, dropped at the end."""
    import psycopg

    from .cluster import VerifyError, _one_line

    with server.database() as conninfo:
        try:
            samples, version = measure(conninfo, rows, progress)
        except psycopg.Error as exc:
            raise VerifyError(f"calibration failed on {server.description}: {_one_line(exc)}") from None
    return rates_from(samples, version, server.description)
