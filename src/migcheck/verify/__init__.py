"""``migcheck verify``: run each migration, twice, then its rollback, on a throwaway PostgreSQL.

The static engine stays free of database code; this package only borrows its discovery and
pairing (``engine.collect``, ``Project.rollback_of``), its parsed statements (for statement-by-
statement execution and error positions) and its finding model (``model.Finding`` in an
``engine.Result``), so every reporter renders verify findings like ``check`` findings.

- ``cluster``: where the server comes from: a private temporary cluster (``initdb`` into a temp
  dir, Unix socket only, stopped and deleted at the end, even on Ctrl-C) or an existing server
  (``--dsn``), on which a fresh database with a random name is created and dropped.
- ``runner``: applies files statement by statement and maps PostgreSQL errors to file:line.
- ``snapshot``: the schema as a dict object-key -> definition, from catalog queries, and its diff.
- ``rows``: the generator of rows that meet the tables' constraints (``--trace``, ``--data``).
- ``data``: ``--data``: each rollback run again with rows in the tables, the rows compared.
- ``trace``: ``--trace``: the locks, rewrites and scans each statement really takes, held to the
  static lock model (``migcheck.analysis.locks``), with the findings only a measurement can give.
- ``guard``: what verify refuses to run (host access; with ``--dsn``, cluster-wide statements),
  decided before anything runs.
- ``limits``: the per-statement and per-file timeouts (a watchdog that cancels the query).
- ``procedure``: the per-migration procedure (apply, apply again, rollback, diff, re-apply).
- ``command``: the click command ``migcheck verify``.

psycopg 3 (``pip install 'migcheck[verify]'``) is imported only when a database is used.
"""

from __future__ import annotations

# reported only with `migcheck verify --data` (the rollback run again with rows in the tables)
DATA_RULES = ("rollback-fails-with-data", "rollback-loses-rows", "rollback-discards-new-data")
ROLLBACK_RULES = ("verify-apply-failed", "not-idempotent", "verify-rollback-failed", "rollback-mismatch") + DATA_RULES
# reported only with `migcheck verify --trace` (group safety: they are about locks, not rollbacks)
TRACE_RULES = ("lock-model-mismatch", "lock-held-across-statements", "table-rewritten", "lock-without-timeout")
# reported instead of running anything, whatever --select says: what verify must never run (guard)
GUARD_RULES = ("verify-refused",)
RULES = ROLLBACK_RULES + TRACE_RULES + GUARD_RULES
