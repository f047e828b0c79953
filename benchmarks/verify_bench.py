"""How long `migcheck verify` takes: cluster start once, then the cost per migration.

    .venv/bin/python benchmarks/verify_bench.py            # examples/migrations + 50 synthetic pairs
    .venv/bin/python benchmarks/verify_bench.py --n 200    # more synthetic migrations

Measures, on a private temporary cluster (as `migcheck verify` without --dsn):

- finding the binaries, ``initdb``, server start, scratch database create/drop;
- ``examples/migrations`` with the Supabase preset and a prelude that creates the tables the
  examples build on (``leads``, ``companies``, ...), so every migration gets the full procedure;
- N synthetic migration/rollback pairs (a table, an index, a function, a trigger, a policy each,
  every one clean): the steady-state cost per migration, split into snapshots and applies.

Needs psycopg and the PostgreSQL server binaries, like `migcheck verify`.

Measured (PostgreSQL 15, 2 shared vCPUs, other jobs running; three runs):

- cluster start, once per run: 1.2-2.0 s, of which initdb 1.1-1.9 s and server start ~50 ms;
  stop and delete ~50 ms; scratch database create + drop 0.14-0.31 s;
- examples/migrations (7 migrations, preset + prelude): 1.1-1.2 s including the scratch database
  and the prelude; 40-250 ms per migration (the first ones pay the server's cold caches);
  `migcheck verify examples/migrations` end to end: 2.8-3.6 s wall, `check`: 0.3 s;
- synthetic clean pairs, steady state: ~105 ms per migration at 50 migrations (4 snapshots of
  ~12 ms, 4 file runs of ~15 ms each: apply, apply again, rollback, re-apply, each on a new
  connection), ~130 ms at 150 (a snapshot reads the whole schema, ~22 ms at that size).

`verify --trace` against `verify` (the last section; median of 3 alternating runs, load average
5-9 on the 2 shared vCPUs, so absolute times are about 3x the ones above):

- examples/migrations: 2.51 s -> 2.97 s, x1.18 (24 statements traced, seeding 159 ms);
- 50 synthetic pairs: 18.4 s -> 26.2 s, x1.42 (400 statements traced, seeding 0.8 s);
- 150 migrations of benchmarks/gen_corpus.py: 11.6 s -> 16.2 s, x1.40 (most of that corpus fails
  to apply early, on tables it assumes: only 20 statements traced; the cost there is seeding).

`verify --data` against `verify` (the last section, or alone with `--data-only`; `--repo DIR
--repo-preset P` adds a real project; median of 3 alternating runs, load about 3):

- examples/migrations: 0.88 s -> 1.12 s, x1.26 (4 rounds with rows);
- 50 synthetic pairs: 6.40 s -> 8.61 s, x1.35;
- Lemmy's 342 diesel pairs (LemmyNet/lemmy 439734dd, `migrations/` exported): 43.6 s -> 66.4 s,
  x1.52 (236 rounds with rows, 26 s in them; 70 pairs skipped: no statement reads or writes rows).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from migcheck import config as config_mod  # noqa: E402
from migcheck import engine, files  # noqa: E402
from migcheck.verify import DATA_RULES, TRACE_RULES, cluster, procedure  # noqa: E402
from migcheck.verify.command import PRESET_PRELUDES, PRESETS, enabled_rules  # noqa: E402

EXAMPLES_PRELUDE = """\
-- The tables the example migrations build on (they predate the migration history).
CREATE TABLE IF NOT EXISTS companies (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL);
CREATE TABLE IF NOT EXISTS user_profiles (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), full_name text);
CREATE TABLE IF NOT EXISTS leads (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id uuid REFERENCES companies (id),
  email text,
  source text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS legacy_leads (id uuid PRIMARY KEY);
CREATE TABLE IF NOT EXISTS lead_imports_tmp (id uuid PRIMARY KEY);
"""

MIGRATION = """\
-- MIGRATION: synthetic {i}
BEGIN;
CREATE TABLE IF NOT EXISTS t{i} (id bigint PRIMARY KEY, email text, status text DEFAULT 'new', updated_at timestamptz);
CREATE INDEX IF NOT EXISTS idx_t{i}_email ON t{i} (email);
CREATE OR REPLACE FUNCTION touch_t{i}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS trg_t{i} ON t{i};
CREATE TRIGGER trg_t{i} BEFORE UPDATE ON t{i} FOR EACH ROW EXECUTE FUNCTION touch_t{i}();
ALTER TABLE t{i} ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS p_t{i} ON t{i};
CREATE POLICY p_t{i} ON t{i} FOR SELECT USING (status <> 'hidden');
COMMIT;
"""

ROLLBACK = """\
BEGIN;
DROP TABLE IF EXISTS t{i};
DROP FUNCTION IF EXISTS touch_t{i}();
COMMIT;
"""


def _project(paths: list[str], root: Path, preset: str | None = None):
    cfg = config_mod.Config(root=root, changelog=False)
    if preset:
        cfg = cfg.with_cli(preset=preset)
    return cfg, engine.collect(paths, cfg, root)


def _prelude(path: Path, label: str, cfg) -> tuple[str, files.MigrationFile]:
    return label, files.MigrationFile(path, label, "other", path.parent, cfg)


def _run(server, paths, root, prelude_paths, trace=False, data=False, preset=None):
    cfg, project = _project(paths, root, preset)
    preludes = [_prelude(p, p.name, cfg) for p in prelude_paths]
    timings = procedure.Timings()
    enabled = enabled_rules(cfg, None, None)
    t0 = time.perf_counter()
    with server.database() as conninfo:
        t1 = time.perf_counter()
        result = procedure.verify_project(
            project,
            cfg,
            conninfo,
            preludes=preludes,
            timings=timings,
            enabled=enabled,
            trace=trace,
            server_version=server.server_version() // 10000,
            data=data,
        )
        t2 = time.perf_counter()
    t3 = time.perf_counter()
    timings.database = (t1 - t0) + (t3 - t2)
    return result, timings, t3 - t0


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="synthetic migration pairs (default 50)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument(
        "--corpus",
        type=int,
        default=150,
        help="migrations of benchmarks/gen_corpus.py to verify with and without --trace (default 150; 0: skip)",
    )
    ap.add_argument("--repeat", type=int, default=3, help="runs of each --trace/--data comparison (default 3, median)")
    ap.add_argument("--data-only", action="store_true", help="measure only verify --data against verify")
    ap.add_argument(
        "--repo",
        type=Path,
        metavar="DIR",
        help="also compare verify --data with verify on this project (its migration directory as "
        "the preset says), e.g. an export of a real repository's migrations",
    )
    ap.add_argument("--repo-preset", default=None, help="the runner preset of --repo (e.g. diesel)")
    args = ap.parse_args(argv)

    figures: dict = {}
    if args.data_only:
        pg = cluster.TempCluster()
        pg.start()
        try:
            figures["data"] = _data_cost(pg, args, [PRESETS["supabase"]])
        finally:
            pg.stop()
        _print_data(figures["data"]) if not args.json else print(json.dumps(figures, indent=2))
        return 0
    t = time.perf_counter()
    bindir = cluster.find_bindir()
    figures["find_binaries_s"] = time.perf_counter() - t
    pg = cluster.TempCluster(bindir)
    t = time.perf_counter()
    pg.start()
    try:
        figures["cluster_start_total_s"] = time.perf_counter() - t
        figures["initdb_s"] = pg.timings["initdb"]
        figures["server_start_s"] = pg.timings["start"]
        figures["server_version"] = pg.server_version()

        # scratch database create + drop
        samples = []
        for _ in range(5):
            t = time.perf_counter()
            with pg.database():
                pass
            samples.append(time.perf_counter() - t)
        figures["scratch_database_s"] = statistics.median(samples)

        # the examples, with what they need
        with tempfile.TemporaryDirectory() as tmp:
            prelude = Path(tmp) / "examples_prelude.sql"
            prelude.write_text(EXAMPLES_PRELUDE)
            result, tm, total = _run(pg, ["examples/migrations"], REPO, [PRESETS["supabase"], prelude])
        figures["examples"] = {
            "migrations": len(tm.per_migration),
            "total_s": total,
            "database_s": tm.database,
            "prelude_s": tm.prelude,
            "per_migration_s": tm.per_migration,
            "findings": [f"{f.path}:{f.line} {f.rule}" for f in result.findings],
        }

        # synthetic clean pairs: the steady-state cost
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            _synthetic(root, args.n)
            result, tm, total = _run(pg, ["migrations"], root, [])
        per = list(tm.per_migration.values())
        figures["synthetic"] = {
            "migrations": len(per),
            "findings": len(result.findings),
            "total_s": total,
            "per_migration_median_s": statistics.median(per),
            "per_migration_mean_s": statistics.fmean(per),
            "per_migration_max_s": max(per),
            "snapshots": tm.snapshots,
            "snapshot_mean_s": tm.snapshot_time / tm.snapshots,
            "applies": tm.applies,
            "apply_mean_s": tm.apply_time / tm.applies,
        }
        figures["trace"] = _trace_cost(pg, args, [PRESETS["supabase"]])
        figures["data"] = _data_cost(pg, args, [PRESETS["supabase"]])
    finally:
        t = time.perf_counter()
        pg.stop()
        figures["cluster_stop_s"] = time.perf_counter() - t

    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    ex, sy = figures["examples"], figures["synthetic"]
    print(f"PostgreSQL {figures['server_version'] // 10000} ({bindir})")
    print("cluster (once per run)")
    print(f"  initdb                    {_fmt(figures['initdb_s'])}")
    print(f"  server start              {_fmt(figures['server_start_s'])}")
    print(f"  stop + delete             {_fmt(figures['cluster_stop_s'])}")
    print(f"  scratch database          {_fmt(figures['scratch_database_s'])}  (create + drop)")
    print(f"examples/migrations ({ex['migrations']} migrations, Supabase preset + examples prelude)")
    print(f"  prelude                   {_fmt(ex['prelude_s'])}")
    for name, s in ex["per_migration_s"].items():
        print(f"  {Path(name).name:<46} {_fmt(s)}")
    print(f"  total (with database)     {_fmt(ex['total_s'])}")
    print(f"  findings: {', '.join(ex['findings']) or 'none'}")
    print(f"synthetic ({sy['migrations']} clean pairs: table, index, function, trigger, policy)")
    print(f"  per migration, median     {_fmt(sy['per_migration_median_s'])}")
    print(
        f"  per migration, mean       {_fmt(sy['per_migration_mean_s'])}  (max {sy['per_migration_max_s'] * 1000:.1f} ms)"
    )
    print(f"  snapshot, mean            {_fmt(sy['snapshot_mean_s'])}  x {sy['snapshots']}")
    print(f"  file apply, mean          {_fmt(sy['apply_mean_s'])}  x {sy['applies']}")
    print(f"  total                     {_fmt(sy['total_s'])}  ({sy['findings']} findings)")
    print("verify --trace against verify (median of runs, alternating; trace = first apply statement by statement)")
    for name, w in figures["trace"].items():
        print(
            f"  {name:<26} {_fmt(w['plain_s'])} -> {_fmt(w['trace_s'])}  x{w['ratio']:.2f}  "
            f"({w['migrations']} migrations, {w['traced_statements']} statements traced, "
            f"seeding {w['seed_s'] * 1000:.0f} ms)"
        )
    _print_data(figures["data"])
    return 0


def _print_data(data: dict) -> None:
    print("verify --data against verify (median of runs, alternating)")
    for name, w in data.items():
        print(
            f"  {name:<26} {_fmt(w['plain_s'])} -> {_fmt(w['data_s'])}  x{w['ratio']:.2f}  "
            f"({w['migrations']} migrations, {w['rounds']} rounds with rows, {w['round_s']:.1f} s in them; "
            f"findings {w['data_findings']})"
        )


def _synthetic(root: Path, n: int) -> None:
    """``n`` synthetic migration/rollback pairs under ``root/migrations``."""
    (root / "migrations" / "rollback").mkdir(parents=True)
    for i in range(1, n + 1):
        v = f"20250101_{i:03d}"
        (root / "migrations" / f"{v}_synthetic_{i}.sql").write_text(MIGRATION.format(i=i))
        (root / "migrations" / "rollback" / f"{v}_rollback.sql").write_text(ROLLBACK.format(i=i))


def _workloads(tmp: Path, args, preset) -> dict:
    """name -> (paths, root, preludes, runner preset): the examples and the synthetic pairs."""
    prelude = tmp / "examples_prelude.sql"
    prelude.write_text(EXAMPLES_PRELUDE)
    _synthetic(tmp / "synthetic", args.n)
    return {
        "examples/migrations": (["examples/migrations"], REPO, preset + [prelude], None),
        f"synthetic ({args.n})": (["migrations"], tmp / "synthetic", [], None),
    }


def _alternate(pg, workload, repeat: int, **variant):
    """Plain verify and verify with ``variant`` (trace=True, data=True), alternating, ``repeat``
    times each: (plain times, variant times, the last variant's result and timings)."""
    paths, root, preludes, preset = workload
    plain, other = [], []
    for _ in range(repeat):
        plain.append(_run(pg, paths, root, preludes, preset=preset)[2])
        result, tm, total = _run(pg, paths, root, preludes, preset=preset, **variant)
        other.append(total)
    return plain, other, result, tm


def _data_cost(pg, args, preset) -> dict:
    """verify with and without --data on the examples, the synthetic pairs and --repo."""
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        workloads = _workloads(Path(tmp), args, preset)
        if args.repo:
            repo = args.repo.resolve()
            pre = [PRESET_PRELUDES[args.repo_preset]] if args.repo_preset in PRESET_PRELUDES else []
            cfg, _ = _project(["."], repo, args.repo_preset)
            workloads[f"{repo.name} ({args.repo_preset or 'guidelines'})"] = (
                list(cfg.migrations),
                repo,
                pre,
                args.repo_preset,
            )
        for name, workload in workloads.items():
            plain, data, result, tm = _alternate(pg, workload, args.repeat, data=True)
            p, d = statistics.median(plain), statistics.median(data)
            out[name] = {
                "plain_s": p,
                "data_s": d,
                "ratio": d / p,
                "plain_runs": plain,
                "data_runs": data,
                "migrations": len(tm.per_migration),
                "rounds": tm.data_rounds,
                "round_s": tm.data_time,
                "data_findings": dict(Counter(f.rule for f in result.findings if f.rule in DATA_RULES)),
            }
    return out


def _trace_cost(pg, args, preset) -> dict:
    """verify with and without --trace on the examples, the synthetic pairs and a generated corpus."""
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        workloads = _workloads(tmp, args, preset)
        gen = REPO / "benchmarks" / "gen_corpus.py"
        if args.corpus and gen.is_file():
            import subprocess

            corpus = tmp / "corpus"
            subprocess.run(
                [sys.executable, str(gen), str(corpus), "--n", str(args.corpus)], check=True, capture_output=True
            )
            workloads[f"gen_corpus ({args.corpus})"] = (["migrations"], corpus, [], None)
        for name, workload in workloads.items():
            plain, traced, result, tm = _alternate(pg, workload, args.repeat, trace=True)
            p, t = statistics.median(plain), statistics.median(traced)
            traces = getattr(result, "traces", {})
            out[name] = {
                "plain_s": p,
                "trace_s": t,
                "ratio": t / p,
                "migrations": len(tm.per_migration),
                "traced_statements": sum(len(ft.statements) for ft in traces.values()),
                "seed_s": tm.seed_time,
                "trace_findings": sum(1 for f in result.findings if f.rule in TRACE_RULES),
            }
    return out


if __name__ == "__main__":
    sys.exit(main())
