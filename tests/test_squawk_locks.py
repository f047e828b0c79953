"""The locks of the squawk-parity rules' statements, measured on a real PostgreSQL (issue 27):
REINDEX, CLUSTER and DETACH PARTITION with `migcheck verify --trace`, which reads pg_locks inside
the statement's transaction; VACUUM FULL and DETACH PARTITION CONCURRENTLY cannot run in a
transaction block, so the trace reports them "not traced", and a blocking probe measures them
instead: a second session holds ACCESS SHARE on one relation, and pg_locks shows the lock the
statement waits for there (and what it holds by then). Both are held to the static lock model
(migcheck.analysis.locks), which `migcheck locks` and the rules' messages print.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from test_stats import shop  # noqa: F401  (a project with a statistics snapshot)
from test_trace import needs_server, pg, postgres  # noqa: F401  (pg: the module's temporary cluster)
from test_trace import traced as trace_after

from migcheck import cli, config, files
from migcheck.analysis import locks as lock_model

BASE = """\
BEGIN;
CREATE TABLE IF NOT EXISTS leads (id bigint PRIMARY KEY, email text, created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS leads_email_idx ON leads (email);
CREATE TABLE IF NOT EXISTS events (id bigint NOT NULL, day date NOT NULL) PARTITION BY RANGE (day);
CREATE TABLE IF NOT EXISTS events_2020 PARTITION OF events FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE TABLE IF NOT EXISTS events_2021 PARTITION OF events FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
INSERT INTO leads (id, email) SELECT g, 'lead' || g || '@example.com' FROM generate_series(1, 50) AS g ON CONFLICT DO NOTHING;
INSERT INTO events VALUES (1, '2020-05-01'), (2, '2021-05-01');
COMMIT;
"""

_MODE = {
    "AccessShareLock": lock_model.ACCESS_SHARE,
    "RowShareLock": lock_model.ROW_SHARE,
    "RowExclusiveLock": lock_model.ROW_EXCLUSIVE,
    "ShareUpdateExclusiveLock": lock_model.SHARE_UPDATE_EXCLUSIVE,
    "ShareLock": lock_model.SHARE,
    "ShareRowExclusiveLock": lock_model.SHARE_ROW_EXCLUSIVE,
    "ExclusiveLock": lock_model.EXCLUSIVE,
    "AccessExclusiveLock": lock_model.ACCESS_EXCLUSIVE,
}


def static(sql: str, version: int = 15) -> dict[str, tuple[str, bool, bool]]:
    """The static model's prediction for the one statement of ``sql``: relation -> (mode, rewrite, scan)."""
    f = files.MigrationFile(Path("x.sql"), "x.sql", "migration", Path("."), config.Config(root=Path(".")))
    f.__dict__["_loaded"] = (sql, None, None, None)
    (st,) = f.statements
    return {lk.relation: (lk.mode, lk.rewrite, lk.scan) for lk in lock_model.statement_locks(st, version)}


def traced(pg, project, capsys, migration: str):
    """``verify --trace`` of ``migration`` after BASE: the traced file's statements, by line."""
    _, entry, _ = trace_after(pg, project, capsys, migration, "--ignore", "not-idempotent,rollback-mismatch", base=BASE)
    return {t["line"]: t for t in entry["trace"]}


def seen(t: dict) -> dict[str, str]:
    return {lk["relation"]: lk["mode"] for lk in t["locks"]}


@postgres
@needs_server
def test_reindex_and_cluster_locks_agree_with_the_trace(pg, project, capsys):
    # one transaction each: a lock taken earlier in a transaction is held, and not taken again
    t = traced(
        pg,
        project,
        capsys,
        """\
        SET lock_timeout = '5s';
        REINDEX TABLE leads;
        REINDEX INDEX leads_email_idx;
        CLUSTER leads USING leads_pkey;
        ALTER TABLE events DETACH PARTITION events_2021;
        """,
    )
    reindex_table, reindex_index, cluster_, detach = t[2], t[3], t[4], t[5]
    # REINDEX TABLE: SHARE on the table (writes wait), read in full; each index ACCESS EXCLUSIVE
    assert seen(reindex_table) == {"public.leads": "SHARE"} and reindex_table["scans"] == ["public.leads"]
    assert static("REINDEX TABLE leads") == {"leads": (lock_model.SHARE, False, True)}
    # REINDEX INDEX: the index ACCESS EXCLUSIVE and rebuilt into a new file; the table SHARE
    assert seen(reindex_index) == {"public.leads_email_idx": "ACCESS EXCLUSIVE", "public.leads": "SHARE"}
    assert "public.leads_email_idx" in reindex_index["rewrites"]
    assert static("REINDEX INDEX leads_email_idx") == {"leads_email_idx": (lock_model.ACCESS_EXCLUSIVE, True, False)}
    # CLUSTER: ACCESS EXCLUSIVE, the table rewritten
    assert seen(cluster_) == {"public.leads": "ACCESS EXCLUSIVE"} and "public.leads" in cluster_["rewrites"]
    assert static("CLUSTER leads USING leads_pkey") == {"leads": (lock_model.ACCESS_EXCLUSIVE, True, False)}
    # DETACH PARTITION: ACCESS EXCLUSIVE on the parent and on the partition
    assert seen(detach) == {"public.events": "ACCESS EXCLUSIVE", "public.events_2021": "ACCESS EXCLUSIVE"}
    for each in (reindex_table, reindex_index, cluster_, detach):
        assert each["model"] == "agrees", each["differences"]


@postgres
@needs_server
def test_vacuum_full_and_detach_concurrently_are_not_traced_but_predicted(pg, project, capsys):
    t = traced(
        pg,
        project,
        capsys,
        """\
        SET lock_timeout = '5s';
        VACUUM FULL leads;
        ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;
        """,
    )
    for line, what in ((2, "VACUUM"), (3, "DETACH PARTITION CONCURRENTLY")):
        assert (t[line]["traced"], t[line]["model"]) == (False, "not traced")
        assert t[line]["reason"].startswith(f"{what} cannot run in a transaction block")
    assert [(s["relation"], s["mode"], s["rewrite"]) for s in t[2]["static"]] == [("leads", "ACCESS EXCLUSIVE", True)]
    assert [(s["relation"], s["mode"]) for s in t[3]["static"]] == [
        ("events", "SHARE UPDATE EXCLUSIVE"),
        ("events_2020", "ACCESS EXCLUSIVE"),
    ]


def blocked_on(dsn: str, statement: str, hold: str) -> tuple[tuple[str, str], dict[str, str]]:
    """Run ``statement`` while another session holds ACCESS SHARE on ``hold``: the (relation,
    mode) it waits for, and the relation locks it holds by then."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as a, psycopg.connect(dsn) as b:
        b.execute(f"LOCK TABLE {hold} IN ACCESS SHARE MODE")
        pid = a.info.backend_pid
        failed: list[Exception] = []

        def run():
            try:
                a.execute(statement)
            except Exception as exc:  # reported by the assertion below
                failed.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        waiting, held = None, {}
        deadline = time.monotonic() + 30
        while waiting is None and time.monotonic() < deadline and not failed:
            time.sleep(0.02)
            rows = b.execute(
                "SELECT c.relname, l.mode, l.granted FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE l.pid = %s AND l.locktype = 'relation'",
                (pid,),
            ).fetchall()
            held = {rel: _MODE[mode] for rel, mode, granted in rows if granted}
            waiting = next(((rel, _MODE[mode]) for rel, mode, granted in rows if not granted), None)
        b.rollback()
        worker.join(60)
        assert not failed, failed
        assert waiting is not None, f"{statement} never waited for a lock on {hold}"
        return waiting, held


@postgres
@needs_server
def test_vacuum_full_and_detach_concurrently_locks_agree_with_a_blocking_probe(pg):
    import psycopg

    with pg.database() as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(BASE.replace("BEGIN;\n", "").replace("COMMIT;\n", ""))
        # VACUUM FULL: ACCESS EXCLUSIVE on the table
        waiting, _ = blocked_on(dsn, "VACUUM FULL leads", "leads")
        assert waiting == ("leads", lock_model.ACCESS_EXCLUSIVE)
        assert static("VACUUM FULL leads") == {"leads": (lock_model.ACCESS_EXCLUSIVE, True, False)}
        # DETACH ... CONCURRENTLY: SHARE UPDATE EXCLUSIVE on the parent; the partition ends ACCESS EXCLUSIVE
        waiting, held = blocked_on(dsn, "ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY", "events_2020")
        assert waiting == ("events_2020", lock_model.ACCESS_EXCLUSIVE)
        assert held.get("events") == lock_model.SHARE_UPDATE_EXCLUSIVE
        predicted = static("ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY")
        assert {rel: mode for rel, (mode, _, _) in predicted.items()} == {
            "events": lock_model.SHARE_UPDATE_EXCLUSIVE,
            "events_2020": lock_model.ACCESS_EXCLUSIVE,
        }
        # the plain DETACH, for contrast: ACCESS EXCLUSIVE on the parent before anything else
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                "ALTER TABLE events ATTACH PARTITION events_2020 FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')"
            )
        waiting, _ = blocked_on(dsn, "ALTER TABLE events DETACH PARTITION events_2020", "events")
        assert waiting == ("events", lock_model.ACCESS_EXCLUSIVE)
        # CLUSTER: ACCESS EXCLUSIVE (measured in a transaction by the trace test too)
        waiting, _ = blocked_on(dsn, "CLUSTER leads USING leads_pkey", "leads")
        assert waiting == ("leads", lock_model.ACCESS_EXCLUSIVE)


@postgres
@needs_server
def test_reindex_schema_cannot_run_in_a_transaction_block(pg):
    """Why analysis.pg.non_transactional lists REINDEX SCHEMA (concurrently-in-transaction)."""
    import psycopg

    with pg.database() as dsn, psycopg.connect(dsn) as conn:
        with pytest.raises(
            psycopg.errors.ActiveSqlTransaction, match="REINDEX SCHEMA cannot run inside a transaction block"
        ):
            conn.execute("REINDEX SCHEMA public")


@postgres
@needs_server
def test_create_table_partition_of_and_inherits_lock_the_parent(pg, project, capsys):
    """Found by the trace of require-concurrent-partition-detach's fixture: creating a partition
    locks the partitioned table ACCESS EXCLUSIVE; a child with INHERITS, its parent SHARE UPDATE
    EXCLUSIVE."""
    t = traced(
        pg,
        project,
        capsys,
        """\
        SET lock_timeout = '5s';
        CREATE TABLE IF NOT EXISTS events_2022 PARTITION OF events FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
        CREATE TABLE IF NOT EXISTS leads_archive (archived_at timestamptz) INHERITS (leads);
        """,
    )
    assert seen(t[2]) == {"public.events": "ACCESS EXCLUSIVE"} and t[2]["model"] == "agrees", t[2]["differences"]
    assert seen(t[3]) == {"public.leads": "SHARE UPDATE EXCLUSIVE"} and t[3]["model"] == "agrees", t[3]["differences"]


def test_migcheck_locks_shows_the_new_rules_statements(project, capsys):
    """`migcheck locks` prints the static model for REINDEX, DETACH PARTITION and CREATE TABLE ...
    PARTITION OF as the trace measured them."""
    (project / "m.sql").write_text(
        "REINDEX INDEX leads_email_idx;\nREINDEX TABLE leads;\n"
        "ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;\n"
        "CREATE TABLE IF NOT EXISTS events_2022 PARTITION OF events FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');\n"
    )
    assert cli.main(["locks", "--format", "json", "m.sql"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    got = [
        [(lk["relation"], lk["mode"], lk["rewrite"], lk["scan"]) for lk in st["locks"]] for st in entry["statements"]
    ]
    assert got == [
        [("leads_email_idx", "ACCESS EXCLUSIVE", True, False)],
        [("leads", "SHARE", False, True)],
        [("events", "SHARE UPDATE EXCLUSIVE", False, False), ("events_2020", "ACCESS EXCLUSIVE", False, False)],
        [("events", "ACCESS EXCLUSIVE", False, False)],
    ]


def test_reindex_and_detach_follow_the_production_risk(shop, capsys):
    """With a statistics snapshot (docs/stats.md), the two new lock rules take the table's risk:
    an error on a large, busy table, info on a small idle one, like the other lock rules."""
    from test_stats import by_rule, findings, migration

    big = migration(shop, "REINDEX TABLE orders;\n", "20251022_001_big.sql")
    small = migration(shop, "REINDEX TABLE settings;\n", "20251022_002_small.sql")
    (f,) = by_rule(findings(capsys, big)[0], "require-concurrent-reindex")
    assert f["severity"] == "error" and "(`orders`: 41 M rows, 12 GB" in f["message"]
    (f,) = by_rule(findings(capsys, small)[0], "require-concurrent-reindex")
    assert f["severity"] == "info"
    detach = migration(shop, "ALTER TABLE orders DETACH PARTITION orders_2020;\n", "20251022_003_detach.sql")
    (f,) = by_rule(findings(capsys, detach)[0], "require-concurrent-partition-detach")
    assert f["severity"] == "error"
