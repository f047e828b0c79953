"""Production-aware risk (issue 23): `migcheck stats` (a read-only snapshot of table sizes and
traffic), findings weighted by it, duration estimates, and `migcheck calibrate`.

The first half needs no server: hand-written snapshots drive `check`, `locks` and the hover. The
second half runs on a real throwaway cluster (one per module) holding a table large enough that
its rewrite takes seconds and a 10-row table.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_cli import run
from test_verify import write

from migcheck import config as config_mod
from migcheck import registry
from migcheck.analysis import risk
from migcheck.analysis import stats as stats_mod
from migcheck.files import MigrationFile

postgres = pytest.mark.postgres

HEADER = "-- MIGRATION: x\n-- Purpose: x\n-- Impact: x\n-- Rollback: x\n-- Testing: x\n\n"
NOW = datetime.now(UTC).replace(microsecond=0)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def table(
    name,
    rows,
    heap,
    *,
    schema="public",
    inserts=0,
    updates=0,
    deletes=0,
    seq=0,
    idx=0,
    indexes=(),
    toast=0,
    kind="table",
):
    index_bytes = sum(i["bytes"] for i in indexes)
    return {
        "schema": schema,
        "name": name,
        "kind": kind,
        "rows": rows,
        "heap_bytes": heap,
        "toast_bytes": toast,
        "index_bytes": index_bytes,
        "total_bytes": heap + toast + index_bytes,
        "inserts": inserts,
        "updates": updates,
        "deletes": deletes,
        "seq_scans": seq,
        "index_scans": idx,
        "indexes": list(indexes),
    }


def index(name, nbytes, scans, primary=False, unique=False):
    return {"name": name, "bytes": nbytes, "scans": scans, "unique": unique or primary, "primary": primary}


def snapshot(*tables, days=60, taken=None):
    taken = taken or NOW - timedelta(days=2)
    return {
        "format": "migcheck-stats",
        "version": 1,
        "taken_at": iso(taken),
        "server_version": "15.8",
        "server_version_num": 150008,
        "database": "shop",
        "counters_since": iso(taken - timedelta(days=days)),
        "counters_since_source": "stats_reset",
        "tables": list(tables),
    }


DAY = 86400
SHOP = snapshot(
    # 41 M rows, 12 GB, ~380 writes/s over 60 days
    table(
        "orders",
        41_000_000,
        12 << 30,
        inserts=380 * 60 * DAY,
        updates=0,
        seq=10,
        idx=5_000_000_000,
        indexes=[index("orders_pkey", 900 << 20, 12_600_000, primary=True), index("orders_legacy_idx", 300 << 20, 0)],
    ),
    table("settings", 10, 16 << 10, inserts=10, indexes=[index("settings_pkey", 16 << 10, 3, primary=True)]),
    # middling: neither large nor small, neither busy nor idle
    table("customers", 200_000, 60 << 20, inserts=2 * 60 * DAY),
    table("events", 5, 8 << 10, schema="audit"),
    table("events", 7, 8 << 10, schema="archive"),
)


@pytest.fixture
def shop(project):
    """A project with the SHOP snapshot in its default place."""
    write(
        project, {"migcheck.toml": 'changelog = false\nselect = ["safety"]\n', ".migcheck/stats.json": json.dumps(SHOP)}
    )
    return project


def migration(project, sql: str, name="20251022_001_change.sql") -> str:
    rel = f"migrations/{name}"
    write(project, {rel: HEADER + "BEGIN;\nSET LOCAL lock_timeout = '2s';\n" + textwrap.dedent(sql) + "COMMIT;\n"})
    return rel


def findings(capsys, rel, *extra):
    code, out, err = run(capsys, "check", "--no-cache", "--format", "json", rel, *extra)
    assert code in (0, 1), err
    return json.loads(out), err


def by_rule(doc, rule):
    return [f for f in doc["findings"] if f["rule"] == rule]


# --- the snapshot file ---------------------------------------------------------------------


def test_snapshot_round_trip_and_lookup(tmp_path):
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(SHOP))
    snap = stats_mod.load(path)
    assert snap.server_version == "15.8" and snap.database == "shop"
    assert snap.table("orders").key == "public.orders"
    assert snap.table("public.orders").rows == 41_000_000
    assert snap.table("shop.public.orders").key == "public.orders"  # catalog-qualified
    assert snap.table("audit.events").rows == 5
    assert snap.table("events") is None  # two schemas have one, none is public: unknown, not a guess
    assert snap.table("nosuch") is None
    idx, owner = snap.index("orders_legacy_idx")
    assert (idx.scans, owner.key) == (0, "public.orders")
    assert snap.writes_per_second(snap.table("orders")) == pytest.approx(380)
    # written back, the same document (stable keys and order: it is meant to be committed)
    out = tmp_path / "again.json"
    stats_mod.write(out, snap)
    assert json.loads(out.read_text()) == stats_mod.load(out).to_dict() == snap.to_dict()
    assert [t["name"] for t in json.loads(out.read_text())["tables"]] == [
        "events",
        "events",
        "customers",
        "orders",
        "settings",
    ]


@pytest.mark.parametrize(
    "text, says",
    [
        ("{", "not valid JSON"),
        ('{"format": "something-else", "version": 1}', "not a migcheck stats snapshot"),
        ('{"format": "migcheck-stats", "version": 99, "tables": []}', "version 99"),
        (json.dumps({**SHOP, "tables": [{"schema": "public"}]}), "tables[0]"),
        (json.dumps({**SHOP, "taken_at": "yesterday"}), "taken_at"),
    ],
)
def test_a_broken_snapshot_is_exit_2_with_one_line(shop, capsys, text, says):
    (shop / ".migcheck/stats.json").write_text(text)
    rel = migration(shop, "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);\n")
    code, out, err = run(capsys, "check", "--no-cache", rel)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("migcheck: error: ")
    assert ".migcheck/stats.json" in err and says in err and "migcheck stats --dsn" in err


def test_the_default_snapshot_is_optional_a_configured_one_is_not(project, capsys):
    write(project, {"migcheck.toml": 'changelog = false\nselect = ["safety"]\n'})
    rel = migration(project, "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);\n")
    doc, err = findings(capsys, rel)
    assert [f["severity"] for f in by_rule(doc, "changing-column-type")] == ["warning"]
    assert "stats" not in doc and err == ""
    write(project, {"migcheck.toml": 'changelog = false\nselect = ["safety"]\nstats = "prod/stats.json"\n'})
    code, out, err = run(capsys, "check", "--no-cache", rel)
    assert code == 2 and err.count("\n") == 1
    assert "prod/stats.json" in err and "not found" in err and "migcheck stats --dsn" in err
    write(
        project,
        {
            "migcheck.toml": 'changelog = false\nselect = ["safety"]\nstats = false\n',
            ".migcheck/stats.json": json.dumps(SHOP),
        },
    )
    doc, err = findings(capsys, rel)
    assert "stats" not in doc and "rows" not in by_rule(doc, "changing-column-type")[0]["message"]


@pytest.mark.parametrize(
    "toml, says",
    [
        ("[risk]\nlarge-rowz = 5\n", "unknown key 'risk.large-rowz'"),
        ("[risk]\nlarge-rows = -1\n", "'risk.large-rows'"),
        ('[risk]\nlarge-size = "huge"\n', "'risk.large-size'"),
        ('[risk]\nhigh = "fatal"\n', "'risk.high'"),
        ('[risk]\nbusy-writes = "many"\n', "'risk.busy-writes'"),
        ("stats = 3\n", "'stats'"),
    ],
)
def test_risk_config_is_validated(project, capsys, toml, says):
    write(project, {"migcheck.toml": toml})
    code, out, err = run(capsys, "check", "--no-cache")
    assert code == 2 and says in err, err


def test_risk_config_keys_are_read(tmp_path):
    (tmp_path / "migcheck.toml").write_text(
        textwrap.dedent("""\
        stats = "ops/prod-stats.json"
        [risk]
        large-rows = 5000
        large-size = "2GB"
        busy-writes = 20.5
        max-lock-seconds = 30
        high = "warning"
        low = "warning"
        """)
    )
    cfg = config_mod.load(tmp_path / "migcheck.toml")
    assert cfg.stats == "ops/prod-stats.json"
    t = risk.Thresholds.from_config(cfg)
    assert (t.large_rows, t.large_bytes, t.busy_writes, t.max_lock_seconds, t.high, t.low) == (
        5000,
        2 << 30,
        20.5,
        30.0,
        "warning",
        "warning",
    )
    assert t.small_rows == risk.Thresholds().small_rows  # the others keep their defaults


# --- the figures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "func, value, text",
    [
        ("rows", 1, "1 row"),
        ("rows", 10, "10 rows"),
        ("rows", 12_400, "12 k rows"),
        ("rows", 2_500_000, "2.5 M rows"),
        ("rows", 41_000_000, "41 M rows"),
        ("rows", 3_200_000_000, "3.2 G rows"),
        ("size", 512, "512 bytes"),
        ("size", 16 << 10, "16 kB"),
        ("size", 12 << 30, "12 GB"),
        ("size", 1536 << 20, "1.5 GB"),
        ("duration", 0.004, "< 0.01 s"),
        ("duration", 0.34, "0.3 s"),
        ("duration", 2.44, "2.4 s"),
        ("duration", 40.2, "40 s"),
        ("duration", 150, "2.5 min"),
        ("duration", 5400, "1.5 h"),
        ("count", 12_600_000, "12.6 M"),
        ("count", 999, "999"),
        ("count", 4_500, "4.5 k"),
    ],
)
def test_human_figures(func, value, text):
    assert getattr(stats_mod.human, func)(value) == text


@pytest.mark.parametrize(
    "per_second, what, text",
    [
        (380, "writes", "~380 writes/s"),
        (1234, "writes", "~1.2 k writes/s"),
        (0.3, "writes", "~18 writes/min"),
        (0.002, "writes", "~7 writes/h"),
        (0.00001, "writes", "< 1 write/day"),
        (1 / 86400, "reads", "~1 read/day"),
        (0, "writes", "no writes"),
        (2.46, "reads", "~2.5 reads/s"),
    ],
)
def test_human_rates(per_second, what, text):
    assert stats_mod.human.rate(per_second, what) == text


# --- check with a snapshot -----------------------------------------------------------------


def test_the_same_statement_is_an_error_on_a_large_table_and_an_info_on_a_small_idle_one(shop, capsys):
    big = migration(shop, "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);\n", "20251022_001_big.sql")
    small = migration(shop, "ALTER TABLE settings ALTER COLUMN value TYPE text;\n", "20251022_002_small.sql")
    doc, err = findings(capsys, big)
    (f,) = by_rule(doc, "changing-column-type")
    assert f["severity"] == "error"
    seconds = risk.estimate(
        "rewrite", stats_mod.load(shop / ".migcheck/stats.json").table("orders"), stats_mod.Rates.default()
    )
    assert 30 < seconds < 600  # 12 GB, 41 M rows and two indexes, at the documented default rates
    assert (
        "(`orders`: 41 M rows, 12 GB, ~380 writes/s, ~960 reads/s, large, busy and long lock; "
        f"ACCESS EXCLUSIVE on `orders` for up to ≈ {stats_mod.human.duration(seconds)}, default rates)"
    ) in f["message"]
    assert f["message"].endswith(", default rates)")
    doc, err = findings(capsys, small)
    (f,) = by_rule(doc, "changing-column-type")
    assert f["severity"] == "info"
    assert (
        "(`settings`: 10 rows, 16 kB, < 1 write/day, no reads, small and idle; ACCESS EXCLUSIVE on `settings` for up to < 0.01 s"
        in f["message"]
    )


def test_a_middling_table_keeps_the_rules_severity(shop, capsys):
    rel = migration(shop, "CREATE INDEX customers_email_idx ON customers (email);\n")
    doc, _ = findings(capsys, rel)
    (f,) = by_rule(doc, "require-concurrent-index")
    assert f["severity"] == "warning"
    assert "(`customers`: 200 k rows, 60 MB, ~2 writes/s; SHARE on `customers` for ≈ " in f["message"]


def test_a_table_the_snapshot_does_not_know_is_new_never_small(shop, capsys):
    rel = migration(shop, "ALTER TABLE invoices ALTER COLUMN total TYPE numeric(14,2);\n")
    doc, _ = findings(capsys, rel)
    (f,) = by_rule(doc, "changing-column-type")
    assert f["severity"] == "warning"
    assert f["message"].endswith("(`invoices`: new table, not in the production stats)")
    assert "small" not in f["message"]


def test_busy_alone_is_enough_and_thresholds_are_configurable(shop, capsys):
    rel = migration(shop, "ALTER TABLE customers ALTER COLUMN name TYPE text;\n")
    doc, _ = findings(capsys, rel)
    assert by_rule(doc, "changing-column-type")[0]["severity"] == "warning"
    with open(shop / "migcheck.toml", "a") as fh:
        fh.write("[risk]\nbusy-writes = 1\n")
    doc, _ = findings(capsys, rel)
    (f,) = by_rule(doc, "changing-column-type")
    assert f["severity"] == "error" and ", busy;" in f["message"]
    with open(shop / "migcheck.toml", "a") as fh:
        fh.write('high = "warning"\n')
    doc, _ = findings(capsys, rel)
    assert by_rule(doc, "changing-column-type")[0]["severity"] == "warning"


def test_the_estimate_alone_can_make_it_an_error(shop, capsys):
    rel = migration(shop, "ALTER TABLE customers ALTER COLUMN name TYPE text;\n")
    with open(shop / "migcheck.toml", "a") as fh:
        fh.write("[risk]\nmax-lock-seconds = 0.001\n")
    doc, _ = findings(capsys, rel)
    (f,) = by_rule(doc, "changing-column-type")
    assert f["severity"] == "error" and "long lock" in f["message"]


def test_data_loss_rules_are_annotated_but_keep_their_severity(shop, capsys):
    rel = migration(shop, "DROP TABLE IF EXISTS settings;\nALTER TABLE orders DROP COLUMN IF EXISTS note;\n")
    doc, _ = findings(capsys, rel)
    (drop,) = by_rule(doc, "drop-table")
    assert drop["severity"] == "error" and drop["message"].endswith(
        "(`settings`: 10 rows, 16 kB, < 1 write/day, no reads, small and idle)"
    )
    (col,) = by_rule(doc, "drop-column")
    assert col["severity"] == "error" and "(`orders`: 41 M rows, 12 GB" in col["message"]


def test_a_table_created_earlier_in_the_file_is_new(shop, capsys):
    rel = migration(
        shop,
        "CREATE TABLE IF NOT EXISTS orders_v2 (id bigint PRIMARY KEY);\n"
        "GRANT SELECT ON orders_v2 TO PUBLIC;\nDROP TABLE IF EXISTS orders_v2;\n",
    )
    doc, _ = findings(capsys, rel)
    (drop,) = by_rule(doc, "drop-table")
    assert drop["message"].endswith("(`orders_v2`: new table, created in this migration)")


def test_drop_index_says_how_often_the_index_was_used(shop, capsys):
    used = migration(shop, "DROP INDEX IF EXISTS orders_pkey;\n", "20251022_001_used.sql")
    unused = migration(shop, "DROP INDEX IF EXISTS orders_legacy_idx;\n", "20251022_002_unused.sql")
    since = (NOW - timedelta(days=62)).strftime("%Y-%m-%d")
    doc, _ = findings(capsys, used)
    (f,) = by_rule(doc, "require-concurrent-index-deletion")
    assert f"(`orders_pkey` on `orders`: 12.6 M scans since {since}; `orders`: 41 M rows" in f["message"]
    assert f["severity"] == "error"
    doc, _ = findings(capsys, unused)
    (f,) = by_rule(doc, "drop-object")
    assert f"(`orders_legacy_idx` on `orders`: no scan since {since} (unused); `orders`: 41 M rows" in f["message"]


def test_foreign_key_names_both_tables(shop, capsys):
    rel = migration(
        shop,
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);\n",
    )
    doc, _ = findings(capsys, rel)
    (f,) = by_rule(doc, "constraint-missing-not-valid")
    assert f["severity"] == "error"
    assert "SHARE ROW EXCLUSIVE on `orders` for ≈ " in f["message"] and "`customers`: 200 k rows" in f["message"]


def test_snapshot_age_once_on_stderr_and_in_json(shop, capsys):
    rel = migration(shop, "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);\n")
    code, out, err = run(capsys, "check", "--no-cache", rel)
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith("migcheck: production stats from .migcheck/stats.json, taken 2 days ago (")
    assert "PostgreSQL 15.8" in err and "default rates" in err and "migcheck calibrate" in err
    code, out, err = run(capsys, "check", "--no-cache", "--quiet", rel)
    assert err == ""
    doc, _ = findings(capsys, rel)
    s = doc["stats"]
    assert s["path"] == ".migcheck/stats.json" and s["server_version"] == "15.8" and s["rates"] == "default"
    assert 2 * DAY - 60 <= s["age_seconds"] <= 2 * DAY + 600 and s["taken_at"] == SHOP["taken_at"]


def test_refreshing_the_snapshot_needs_no_recheck(shop, capsys, monkeypatch):
    """The snapshot is applied when the report is assembled, not kept in the cache key: a new
    snapshot changes the findings of a file the cache already holds, without parsing it."""
    rel = migration(shop, "ALTER TABLE customers ALTER COLUMN name TYPE text;\n")
    code, out, _ = run(capsys, "check", "--format", "json", rel)
    assert json.loads(out)["findings"][0]["severity"] == "warning"
    busy = json.loads(json.dumps(SHOP))
    busy["tables"][2]["inserts"] = 500 * 60 * DAY
    (shop / ".migcheck/stats.json").write_text(json.dumps(busy))
    from migcheck import source

    def no_parse(*a, **k):
        raise AssertionError("parsed again")

    monkeypatch.setattr(source, "parse", no_parse)
    code, out, _ = run(capsys, "check", "--format", "json", rel)
    (f,) = json.loads(out)["findings"]
    assert f["severity"] == "error" and "~500 writes/s" in f["message"]


def test_only_lock_rules_follow_the_risk():
    rules = registry.load()
    for rid in risk.LOCK_RULES:
        assert rid in rules and rules[rid].group == "safety", rid
    assert "drop-table" not in risk.LOCK_RULES and "prefer-bigint" not in risk.LOCK_RULES


# --- locks and hover -----------------------------------------------------------------------


def test_locks_shows_figures_and_estimates(shop, capsys):
    rel = migration(
        shop,
        "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_x ON orders (x);\n"
        "ALTER TABLE invoices ADD COLUMN note text;\n",
    )
    code, out, err = run(capsys, "locks", rel)
    assert code == 0, err
    assert "orders: ACCESS EXCLUSIVE (rewrite) -- existing table: blocks everything" in out
    assert "      41 M rows, 12 GB, ~380 writes/s, ~960 reads/s: ACCESS EXCLUSIVE on `orders` for up to ≈ " in out
    assert "default rates" in out
    assert (
        "invoices: ACCESS EXCLUSIVE -- existing table: blocks" in out
        and "      new table, not in the production stats" in out
    )
    code, out, err = run(capsys, "locks", "--format", "json", rel)
    doc = json.loads(out)
    lk = doc[0]["statements"][0]["locks"][0]
    assert lk["relation"] == "orders" and lk["estimate"]["class"] == "rewrite"
    assert lk["estimate"]["seconds"] > 1 and lk["estimate"]["rates"] == "default"
    assert lk["table"] == {
        "key": "public.orders",
        "rows": 41_000_000,
        "total_bytes": SHOP["tables"][0]["total_bytes"],
        "writes_per_second": pytest.approx(380),
        "reads_per_second": pytest.approx(964.5, rel=0.01),
    }
    conc = doc[0]["statements"][1]["locks"][0]
    assert conc["estimate"]["class"] == "index" and conc["estimate"]["seconds"] > 0
    new = doc[0]["statements"][2]["locks"][0]
    assert new["table"] is None and new["estimate"] is None


def test_calibrated_rates_are_used_and_said(shop, capsys):
    rates = stats_mod.Rates.default()
    doubled = stats_mod.Rates(
        {k: stats_mod.Rate(r.per_byte * 2, r.per_row * 2) for k, r in rates.classes.items()},
        source="calibrated",
        measured_at=NOW,
        server_version="15.8",
        where="test",
    )
    stats_mod.write_rates(shop / ".migcheck/calibration.json", doubled)
    rel = migration(shop, "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);\n")
    code, out, err = run(capsys, "locks", "--format", "json", rel)
    est = json.loads(out)[0]["statements"][0]["locks"][0]["estimate"]
    assert est["rates"] == "calibrated"
    snap = stats_mod.load(shop / ".migcheck/stats.json")
    base = risk.estimate("rewrite", snap.table("orders"), rates)
    assert est["seconds"] == pytest.approx(2 * base, rel=1e-6)
    doc, err = findings(capsys, rel)
    assert by_rule(doc, "changing-column-type")[0]["message"].endswith(", calibrated rates)")
    assert "calibrated on " in err


def test_hover_shows_the_same_figures(shop):
    from migcheck.lsp import analysis

    rel = migration(shop, "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);\n")
    cfg = config_mod.load(shop / "migcheck.toml")
    f = MigrationFile(shop / rel, rel, "migration", shop / "migrations", cfg)
    stmt = next(s for s in f.statements if s.kind == "AlterTableStmt")
    text = analysis.lock_hover(f, stmt, cfg)
    assert "41 M rows, 12 GB, ~380 writes/s, ~960 reads/s" in text
    assert "ACCESS EXCLUSIVE on `orders` for up to ≈ " in text and "default rates" in text
    assert "production stats taken 2 days ago" in text


# --- on a real server ----------------------------------------------------------------------

# Enough rows that rewriting `orders` takes seconds on the throwaway cluster of a 2-vCPU machine
# (benchmarks/calibrate_bench.py measures it); built once for the module, in one CREATE TABLE AS
# (under wal_level=minimal it writes no WAL) with its indexes built afterwards.
BIG_ROWS = 2_000_000
SHOP_SQL = f"""
CREATE TABLE orders AS SELECT g::bigint AS id, (g % 5000)::bigint AS customer_id,
       CASE WHEN g % 3 = 0 THEN 'paid' ELSE 'open' END AS status, ((g % 997) * 1.5)::numeric(12,2) AS total,
       timestamptz '2026-01-01' + g * interval '1 second' AS created_at FROM generate_series(1, {BIG_ROWS}) AS g;
ALTER TABLE orders ADD PRIMARY KEY (id);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE TABLE settings (key text PRIMARY KEY, value varchar(200));
INSERT INTO settings SELECT 'k' || g, 'v' || g FROM generate_series(1, 10) AS g;
ANALYZE orders;
ANALYZE settings;
"""


@pytest.fixture(scope="module")
def pg():
    from migcheck.verify import cluster

    if not cluster.binaries_available():
        pytest.skip("no PostgreSQL server binaries (initdb, postgres) found")
    with cluster.TempCluster() as c:
        import psycopg

        with psycopg.connect(c.admin_conninfo(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE shop")
        with psycopg.connect(c.conninfo("shop"), autocommit=True) as conn:
            for sql in SHOP_SQL.split(";\n"):
                if sql.strip():
                    conn.execute(sql)
            conn.execute("SET enable_seqscan = off")
            conn.execute("SELECT count(*) FROM settings WHERE key = 'k1'")  # a read of settings via its index
        yield c


def fingerprint(conninfo: str) -> tuple:
    """What `stats` must not change: the catalog and every table's row count."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        catalog = conn.execute(
            "SELECT md5(string_agg(concat_ws(':', c.oid, c.relname, c.relkind, c.relfilenode, c.relpages, c.reltuples), ',' "
            "ORDER BY c.oid)) FROM pg_class c"
        ).fetchone()[0]
        attrs = conn.execute(
            "SELECT md5(string_agg(concat_ws(':', attrelid, attname, atttypid), ',' ORDER BY attrelid, attnum)) "
            "FROM pg_attribute"
        ).fetchone()[0]
        others = conn.execute(
            "SELECT (SELECT count(*) FROM pg_constraint), (SELECT count(*) FROM pg_proc), "
            "(SELECT count(*) FROM pg_roles), (SELECT count(*) FROM pg_namespace)"
        ).fetchone()
        rows = (
            conn.execute("SELECT count(*) FROM orders").fetchone()[0],
            conn.execute("SELECT count(*) FROM settings").fetchone()[0],
        )
    return catalog, attrs, others, rows


@postgres
def test_stats_captures_both_tables(pg, project, capsys):
    code, out, err = run(capsys, "stats", "--dsn", pg.conninfo("shop"))
    assert code == 0, err
    assert out.startswith("wrote .migcheck/stats.json: 2 tables, 3 indexes (database shop, PostgreSQL 15")
    doc = json.loads((project / ".migcheck/stats.json").read_text())
    assert doc["format"] == "migcheck-stats" and doc["version"] == 1
    assert doc["server_version_num"] >= 150000 and doc["database"] == "shop"
    assert doc["counters_since_source"] in ("stats_reset", "server_start")
    tables = {f"{t['schema']}.{t['name']}": t for t in doc["tables"]}
    assert set(tables) == {"public.orders", "public.settings"}
    orders, settings = tables["public.orders"], tables["public.settings"]
    assert orders["rows"] == pytest.approx(BIG_ROWS, rel=0.05) and settings["rows"] == 10
    assert orders["heap_bytes"] > 100 << 20 and orders["total_bytes"] > orders["heap_bytes"] + orders["index_bytes"] - 1
    assert orders["inserts"] == BIG_ROWS and settings["inserts"] == 10
    assert {i["name"]: i["primary"] for i in orders["indexes"]} == {"orders_pkey": True, "orders_customer_idx": False}
    assert [i["scans"] for i in settings["indexes"]] == [1]
    # names only: no column names, no values
    text = (project / ".migcheck/stats.json").read_text()
    for word in ("created_at", "paid", "k1", "v1"):
        assert word not in text


@postgres
def test_same_alter_type_is_an_error_with_an_estimate_on_the_large_table_and_an_info_on_the_small(pg, project, capsys):
    write(project, {"migcheck.toml": 'changelog = false\nselect = ["safety"]\n'})
    assert run(capsys, "stats", "--dsn", pg.conninfo("shop"))[0] == 0
    # (real rewrites: a scale change of a numeric, a shorter varchar; benchmarks/calibrate_bench.py times them)
    big = migration(project, "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,4);\n", "20251022_001_big.sql")
    small = migration(project, "ALTER TABLE settings ALTER COLUMN value TYPE varchar(100);\n", "20251022_002_small.sql")
    doc, err = findings(capsys, big)
    (f,) = by_rule(doc, "changing-column-type")
    assert f["severity"] == "error" and f"`orders`: {stats_mod.human.rows(BIG_ROWS)}, " in f["message"]
    assert "ACCESS EXCLUSIVE on `orders` for up to ≈ " in f["message"] and "large" in f["message"]
    doc, err = findings(capsys, small)
    (f,) = by_rule(doc, "changing-column-type")
    assert f["severity"] == "info" and "`settings`: 10 rows" in f["message"] and "small and idle" in f["message"]


@postgres
def test_stats_never_writes_as_a_role_with_only_pg_read_all_stats(pg, project, capsys):
    import psycopg

    with psycopg.connect(pg.admin_conninfo(), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS watcher")
        conn.execute("CREATE ROLE watcher LOGIN")
        conn.execute("GRANT pg_read_all_stats TO watcher")
        conn.execute("REVOKE CONNECT ON DATABASE shop FROM PUBLIC")
        conn.execute("GRANT CONNECT ON DATABASE shop TO watcher")
    before = fingerprint(pg.conninfo("shop"))
    dsn = f"host={pg.socket_dir} port=5432 user=watcher dbname=shop"
    code, out, err = run(capsys, "stats", "--dsn", dsn, "--output", "snap.json")
    assert code == 0, err
    assert fingerprint(pg.conninfo("shop")) == before
    doc = json.loads((project / "snap.json").read_text())
    assert {t["name"] for t in doc["tables"]} == {"orders", "settings"}
    assert all(t["total_bytes"] > 0 for t in doc["tables"])


@postgres
def test_wrong_password_is_one_line_exit_2_and_never_echoes_it(pg, project, capsys):
    import psycopg

    with psycopg.connect(pg.admin_conninfo(), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS pwuser")
        conn.execute("CREATE ROLE pwuser LOGIN PASSWORD 'right-horse'")
        hba = conn.execute("SHOW hba_file").fetchone()[0]
        text = Path(hba).read_text()
        if "pwuser" not in text:
            Path(hba).write_text("local all pwuser scram-sha-256\n" + text)
        conn.execute("SELECT pg_reload_conf()")
    secret = "Wr0ng-Battery-Staple"
    dsn = f"postgresql://pwuser:{secret}@/shop?host={pg.socket_dir}&port=5432"
    code, out, err = run(capsys, "stats", "--dsn", dsn)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("migcheck: error: cannot connect to the database given by --dsn: ")
    assert "password authentication failed" in err and secret not in err
    assert not (project / ".migcheck").exists()


@postgres
@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://someone:S3cret-Pass@127.0.0.1:1/db?connect_timeout=2",
        "host=/nonexistent-socket-dir dbname=x password=S3cret-Pass connect_timeout=1",
        "postgresql://someone:S3cret-Pass@127.0.0.1:notaport/db",
        "host=x password=S3cret-Pass junk",
    ],
)
def test_unreachable_or_malformed_dsn_is_one_line_exit_2(project, capsys, dsn):
    code, out, err = run(capsys, "stats", "--dsn", dsn)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("migcheck: error: ") and "S3cret-Pass" not in err


@postgres
def test_calibrate_fits_rates_beside_the_snapshot(pg, project, capsys):
    code, out, err = run(capsys, "calibrate", "--dsn", pg.admin_conninfo(), "--rows", "4000")
    assert code == 0, err
    doc = json.loads((project / ".migcheck/calibration.json").read_text())
    assert doc["format"] == "migcheck-calibration" and doc["version"] == 1
    assert set(doc["rates"]) == {"rewrite", "scan", "index", "fk"}
    for r in doc["rates"].values():
        assert r["seconds_per_byte"] >= 0 and r["seconds_per_row"] >= 0
        assert r["seconds_per_byte"] + r["seconds_per_row"] > 0
    sizes = {s["rows"] for s in doc["samples"]}
    assert len(sizes) >= 2 and {s["class"] for s in doc["samples"]} == {"rewrite", "scan", "index", "fk"}
    assert "rewrite" in out and "wrote .migcheck/calibration.json" in out
    rates = stats_mod.load_rates(project / ".migcheck/calibration.json")
    assert rates.source == "calibrated" and rates.where.startswith("the server at")


def test_capture_sums_partitions_and_never_reads_a_table_as_empty():
    """A partitioned table has no storage of its own: its figures are its leaf partitions'. A
    table never analyzed (reltuples -1, or 0 before PostgreSQL 14) takes the statistics' count;
    an analyzed one keeps the planner's, even when n_live_tup is off."""
    from migcheck import stats_db

    # oid, schema, name, kind, reltuples, heap, toast, indexes, total, live, ins, upd, del, seq, idx
    tables = [
        (1, "public", "events", "p", -1.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        # n_live_tup twice the rows: an ANALYZE reported before the insert's counters (PostgreSQL 15)
        (2, "public", "events_2025", "r", 1000.0, 8192 * 10, 0, 8192, 8192 * 11, 2000, 1000, 5, 0, 2, 7),
        (3, "public", "events_2026", "r", -1.0, 8192 * 20, 0, 8192 * 2, 8192 * 22, 400, 400, 0, 1, 1, 3),
        (4, "public", "fresh", "r", 0.0, 8192, 0, 0, 8192, 250, 250, 0, 0, 0, 0),
    ]
    # indexrelid, indrelid, name, relkind, bytes, scans, unique, primary
    indexes = [
        (10, 1, "events_pkey", "I", 0, 0, True, True),
        (11, 2, "events_2025_pkey", "i", 8192, 4, True, True),
        (12, 3, "events_2026_pkey", "i", 16384, 6, True, True),
    ]
    edges = [(2, 1), (3, 1), (11, 10), (12, 10)]
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    snap = stats_db._build("15.8 (Debian)", 150008, "app", now, None, now - timedelta(days=1), tables, indexes, edges)
    events = snap.table("events")
    assert (events.kind, events.rows, events.heap_bytes, events.index_bytes, events.inserts, events.reads) == (
        "partitioned table",
        1400,
        8192 * 30,
        8192 * 3,
        1400,
        13,
    )
    assert [(i.name, i.bytes, i.scans) for i in events.indexes] == [("events_pkey", 24576, 10)]
    assert snap.table("events_2026").rows == 400 and snap.table("fresh").rows == 250
    assert (snap.server_version, snap.counters_since_source) == ("15.8", "server_start")


def test_markdown_report_shows_the_snapshot_and_the_estimates(shop, capsys):
    rel = migration(
        shop, "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);\nALTER TABLE invoices ADD COLUMN note text;\n"
    )
    code, out, err = run(capsys, "check", "--no-cache", "--format", "markdown", rel)
    assert "_production stats from .migcheck/stats.json, taken 2 days ago (" in out
    assert "| line | statement | lock | rewrite / scan | estimate |" in out
    row = next(line for line in out.splitlines() if line.startswith("| 9 |"))
    assert row.endswith(
        "| rewrite | ACCESS EXCLUSIVE on `orders` for up to ≈ "
        f"{stats_mod.human.duration(risk.estimate('rewrite', stats_mod.load(shop / '.migcheck/stats.json').table('orders'), stats_mod.Rates.default()))}"
        " (default rates) |"
    )
    assert next(line for line in out.splitlines() if line.startswith("| 10 |")).endswith("|  |  |")


def test_the_snapshot_survives_the_baseline(shop, capsys):
    rel = migration(shop, "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);\n")
    assert run(capsys, "check", "--no-cache", rel, "--write-baseline")[0] == 0
    doc, err = findings(capsys, rel)
    assert doc["findings"] == [] and doc["summary"]["baselined"] >= 1
    assert doc["stats"]["path"] == ".migcheck/stats.json" and "production stats from" in err


@pytest.mark.parametrize("argv", [["stats", "--dsn", "dbname=x"], ["calibrate"]])
def test_without_psycopg_stats_and_calibrate_say_how_to_install_it(project, capsys, monkeypatch, argv):
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` raises ImportError
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert f"migcheck {argv[0]}" in err and "needs the PostgreSQL driver psycopg" in err and "pip install" in err
