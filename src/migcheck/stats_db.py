"""``migcheck stats --dsn DSN``: read a database's table sizes and traffic counters into a
``stats.Snapshot`` (docs/stats.md).

Read-only by construction: one READ ONLY transaction, rolled back; a short ``statement_timeout``
and ``lock_timeout`` (the size functions take ACCESS SHARE on each table, so a table held by a
running migration makes the capture fail fast instead of queueing). It reads catalog and
statistics views only: names, sizes and counters, never a row of a user table. A role that can
connect and holds ``pg_read_all_stats`` (or nothing more than CONNECT: the views are public) is
enough.
"""

from __future__ import annotations

from datetime import UTC

from . import status
from .analysis.stats import IndexStats, Snapshot, StatsError, TableStats

_INFO = """
SELECT current_setting('server_version'), current_setting('server_version_num')::int, current_database(),
       now(), (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()),
       pg_postmaster_start_time()
"""

_TABLES = r"""
SELECT c.oid::bigint, n.nspname, c.relname, c.relkind::text, c.reltuples::float8,
       pg_relation_size(c.oid), coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0),
       pg_indexes_size(c.oid), pg_total_relation_size(c.oid),
       coalesce(s.n_live_tup, 0), coalesce(s.n_tup_ins, 0), coalesce(s.n_tup_upd, 0), coalesce(s.n_tup_del, 0),
       coalesce(s.seq_scan, 0), coalesce(s.idx_scan, 0)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
 WHERE c.relkind IN ('r', 'p', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
 ORDER BY 2, 3
"""

_INDEXES = """
SELECT i.indexrelid::bigint, i.indrelid::bigint, ci.relname, ci.relkind::text, pg_relation_size(i.indexrelid),
       coalesce(s.idx_scan, 0), i.indisunique, i.indisprimary
  FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid
  LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = i.indexrelid
 WHERE i.indrelid = ANY(%s)
"""

# partitions (of tables and of indexes): a partitioned parent has no storage of its own
_PARTITIONS = "SELECT inhrelid::bigint, inhparent::bigint FROM pg_inherits"

_KINDS = {"r": "table", "p": "partitioned table", "m": "materialized view"}


def capture(dsn: str, timeout: float = 10.0) -> Snapshot:
    """The snapshot of the database ``dsn`` names. StatsError (exit 2) on any problem."""
    with status.read_only(dsn, "`migcheck stats`", StatsError) as (psycopg, conn):
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)",
                    (f"{int(timeout * 1000)}ms", f"{int(min(timeout, 2) * 1000)}ms"),
                )
                version, version_num, database, now, reset, started = cur.execute(_INFO).fetchone()
                tables = cur.execute(_TABLES).fetchall()
                indexes = cur.execute(_INDEXES, ([t[0] for t in tables],)).fetchall()
                edges = cur.execute(_PARTITIONS).fetchall()
        except psycopg.Error as exc:
            msg = status.redact(" ".join(str(exc).split()), dsn)
            hint = {
                "55P03": " (a table is locked, a migration may be running: try again)",
                "57014": " (raise --timeout on a very large catalog)",
            }.get(getattr(exc, "sqlstate", None), "")
            raise StatsError(f"cannot read the statistics of the database given by --dsn: {msg}{hint}") from None
    return _build(version, version_num, database, now, reset, started, tables, indexes, edges)


def _rows(reltuples, live) -> int:
    """The planner's estimate; the statistics' live rows when there is none: a table never
    analyzed has reltuples -1 (PostgreSQL 14+) or 0 (before), and must not look empty, hence
    small. (Not the larger of the two: n_live_tup can count a bulk insert twice when an ANALYZE
    reports before the insert's counters are flushed; seen on PostgreSQL 15.)"""
    if reltuples is not None and reltuples > 0:
        return int(reltuples)
    return int(live or 0)


def _build(version, version_num, database, now, reset, started, tables, indexes, edges) -> Snapshot:
    children: dict[int, list[int]] = {}
    for child, parent in edges:
        children.setdefault(parent, []).append(child)

    def leaves(oid: int, seen=None) -> list[int]:
        seen = seen if seen is not None else set()
        if oid in seen:
            return []
        seen.add(oid)
        kids = children.get(oid)
        if not kids:
            return [oid]
        return [leaf for k in kids for leaf in leaves(k, seen)]

    rows_of = {t[0]: t for t in tables}
    by_table: dict[int, list] = {}
    index_rows = {i[0]: i for i in indexes}
    for i in indexes:
        by_table.setdefault(i[1], []).append(i)

    def index_figures(i) -> tuple[int, int]:
        if i[3] != "I":  # a plain index
            return int(i[4]), int(i[5])
        parts = [index_rows.get(x) for x in leaves(i[0])]  # a partitioned index: its partitions'
        parts = [p for p in parts if p is not None and p[0] != i[0]]
        return sum(int(p[4]) for p in parts), sum(int(p[5]) for p in parts)

    out = []
    for oid, schema, name, kind, reltuples, heap, toast, idx, total, live, ins, upd, dele, seq, iscan in tables:
        rows = _rows(reltuples, live)
        figures = [heap, toast, idx, total, ins, upd, dele, seq, iscan]
        if kind == "p":  # a partitioned table: the sum of its leaf partitions
            parts = [rows_of[x] for x in leaves(oid) if x in rows_of and x != oid]
            rows = sum(_rows(p[4], p[9]) for p in parts)
            figures = [sum(int(p[k]) for p in parts) for k in (5, 6, 7, 8, 10, 11, 12, 13, 14)]
        heap, toast, idx, total, ins, upd, dele, seq, iscan = (int(x) for x in figures)
        idx_stats = []
        for i in by_table.get(oid, ()):
            nbytes, scans = index_figures(i)
            idx_stats.append(IndexStats(i[2], nbytes, scans, bool(i[6]), bool(i[7])))
        out.append(
            TableStats(schema, name, _KINDS[kind], rows, heap, toast, idx, total, ins, upd, dele, seq, iscan, idx_stats)
        )
    since, source = (reset, "stats_reset") if reset is not None else (started, "server_start")
    return Snapshot(
        now.astimezone(UTC).replace(microsecond=0),
        str(version).split()[0],
        int(version_num),
        str(database),
        since.astimezone(UTC).replace(microsecond=0),
        source,
        out,
    )
