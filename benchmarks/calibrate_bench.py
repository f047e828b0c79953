"""Duration estimates against measurements (issue 23): is `migcheck calibrate` + a stats
snapshot within a factor of 2 of what `migcheck verify --trace` measures?

On one private temporary cluster:

1. database `bench`: the `orders` table (ROWS rows, a primary key and one more index) and
   `customers` (5,000 rows), frozen and analyzed; `migcheck stats` reads it;
2. `migcheck locks --format json` on four migrations (a rewrite, a CHECK scan, an index build, a
   foreign-key validation, each on `orders`): the estimates with the default rates;
3. `migcheck calibrate` on a scratch database of the same cluster, then `locks` again: the
   calibrated estimates;
4. `migcheck verify --trace` with the same tables as a prelude, one run per migration (a fresh
   copy of the tables each time): the measured duration of each statement.

Prints a markdown table (benchmarks/RESULTS.md, "Duration estimates"). No assertion: it records.

    python benchmarks/calibrate_bench.py [--rows 2000000] [--calibrate-rows 400000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from migcheck.cli import main
from migcheck.verify.cluster import TempCluster

HEADER = "-- MIGRATION: x\n-- Purpose: x\n-- Impact: x\n-- Rollback: x\n-- Testing: x\n\n"
PRELUDE = """
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 5000) AS g;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, status text NOT NULL,
                     total numeric(12,2) NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO orders SELECT g, g % 5000 + 1, CASE WHEN g % 3 = 0 THEN 'paid' ELSE 'open' END, (g % 997) * 1.5,
       timestamptz '2026-01-01' + g * interval '1 second' FROM generate_series(1, {rows}) AS g;
CREATE INDEX orders_customer_idx ON orders (customer_id);
VACUUM (FREEZE, ANALYZE) customers;
VACUUM (FREEZE, ANALYZE) orders;
"""
# (name, class, the statement, its rollback). Each runs in a `verify` of its own, on a fresh copy
# of the prelude's tables: verify re-applies a migration after its rollback, so in one run the
# rewrite would meet the index and constraints the earlier cases left (a third index to rebuild),
# and a scan right after a rewrite pays for setting the new rows' hint bits.
CASES = [
    (
        "check",
        "scan",
        "ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0);",
        "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_total_check;",
    ),
    (
        "index",
        "index",
        "CREATE INDEX IF NOT EXISTS orders_created_idx ON orders (created_at);",
        "DROP INDEX IF EXISTS orders_created_idx;",
    ),
    (
        "fk",
        "fk",
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);",
        "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_customer_fk;",
    ),
    # (not numeric(14,2): raising a numeric's precision is binary-coercible, no rewrite)
    (
        "rewrite",
        "rewrite",
        "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,4);",
        "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);",
    ),
]


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def estimates(paths: list[str]) -> dict[str, float]:
    code, out, err = cli("locks", "--format", "json", *paths)
    assert code == 0, err
    got = {}
    for f in json.loads(out):
        for st in f["statements"]:
            for lk in st["locks"]:
                if lk["relation"] == "orders" and lk.get("estimate"):
                    got[f["path"]] = lk["estimate"]["seconds"]
    return got


def main_(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--calibrate-rows", type=int, default=400_000)
    args = ap.parse_args(argv)
    import psycopg

    work = Path(tempfile.mkdtemp(prefix="migcheck-calbench-"))
    os.chdir(work)
    (work / "migcheck.toml").write_text("changelog = false\n")
    paths = []
    for name, _cls, sql, undo in CASES:  # one directory per case: migrations/<name>/
        mig = work / "migrations" / name
        (mig / "rollback").mkdir(parents=True)
        p = mig / f"20260101_001_{name}.sql"
        p.write_text(HEADER + "BEGIN;\n" + sql + "\nCOMMIT;\n")
        (mig / "rollback" / "20260101_001_rollback.sql").write_text("BEGIN;\n" + undo + "\nCOMMIT;\n")
        paths.append(f"migrations/{name}/{p.name}")
    prelude = PRELUDE.format(rows=args.rows)
    (work / "prelude.sql").write_text(prelude)

    with TempCluster() as c:
        with psycopg.connect(c.admin_conninfo(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        t0 = time.perf_counter()
        with psycopg.connect(c.conninfo("bench"), autocommit=True) as conn:
            for sql in prelude.split(";\n"):
                if sql.strip():
                    conn.execute(sql)
        build = time.perf_counter() - t0
        code, out, err = cli("stats", "--dsn", c.conninfo("bench"))
        assert code == 0, err
        print(out.strip(), file=sys.stderr)
        default = estimates(paths)
        t0 = time.perf_counter()
        code, out, err = cli("calibrate", "--dsn", c.admin_conninfo(), "--rows", str(args.calibrate_rows))
        assert code == 0, err
        calibrate_s = time.perf_counter() - t0
        print(out, file=sys.stderr)
        calibrated = estimates(paths)
        t0 = time.perf_counter()
        measured = {}
        for p in paths:
            code, out, err = cli(
                "verify", "--dsn", c.admin_conninfo(), "--trace", "--format", "json", "--prelude", "prelude.sql", p
            )
            assert code in (0, 1), err
            for f in json.loads(out)["files"]:
                for t in f.get("trace", ()):
                    if t["traced"]:
                        measured[f["path"]] = measured.get(f["path"], 0.0) + t["duration_ms"] / 1000
        verify_s = time.perf_counter() - t0
    snap = json.loads((work / ".migcheck/stats.json").read_text())
    orders = next(t for t in snap["tables"] if t["name"] == "orders")
    print(
        f"orders: {orders['rows']:,} rows, heap {orders['heap_bytes'] / 2**20:.0f} MB, "
        f"{len(orders['indexes'])} indexes; {platform.machine()}, {os.cpu_count()} CPUs; build {build:.1f} s, "
        f"calibrate {calibrate_s:.1f} s, verify --trace {verify_s:.1f} s (4 runs); load average "
        f"{os.getloadavg()[0]:.1f}\n"
    )
    print(
        "| statement | class | measured (verify --trace) | estimate, default rates | ratio | "
        "estimate, calibrated | ratio |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for (_name, cls, sql, _), p in zip(CASES, paths):
        m = measured.get(p)
        d, k = default.get(p), calibrated.get(p)
        ratio = lambda e, m=m: f"{e / m:.2f}" if e and m else "-"  # noqa: E731
        print(
            f"| `{sql[:60]}{'...' if len(sql) > 60 else ''}` | {cls} | {m:.2f} s | {d:.2f} s | {ratio(d)} | "
            f"{k:.2f} s | {ratio(k)} |"
        )
    rates = json.loads((work / ".migcheck/calibration.json").read_text())["rates"]
    print(
        "\nfitted rates (s/GB, s/M rows): "
        + ", ".join(
            f"{k} {v['seconds_per_byte'] * 2**30:.2f} / {v['seconds_per_row'] * 1e6:.2f}"
            for k, v in sorted(rates.items())
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main_())
