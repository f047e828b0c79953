"""Generate a realistic corpus of PostgreSQL migrations (with rollbacks) for benchmarks.

    python benchmarks/gen_corpus.py OUT_DIR [--n 3500] [--seed 1]

Deterministic by seed. Writes ``OUT_DIR/migrations/YYYYMMDD_NNN_<description>.sql`` and, for
most of them, ``OUT_DIR/migrations/rollback/YYYYMMDD_NNN_rollback.sql``, plus a
``migcheck.toml`` (changelog off). The size distribution follows what 3,500 migrations of 13
public projects look like (issue 14): median about 160 bytes, mean about 1.1 KB, a long tail of
large files (PL/pgSQL functions, triggers, RLS policies, backfills) up to tens of KB. About 20%
carry the team's header block and BEGIN/COMMIT; a few are flawed (syntax error, DROP TABLE,
UPDATE without WHERE, non-concurrent index). Prints the count and the size figures.
"""

from __future__ import annotations

import argparse
import datetime
import random
import statistics
from pathlib import Path

WORDS = (
    "lead",
    "company",
    "user",
    "account",
    "invoice",
    "order",
    "item",
    "note",
    "event",
    "tag",
    "project",
    "task",
    "comment",
    "payment",
    "session",
    "audit",
    "profile",
    "team",
    "role",
    "file",
)
TYPES = ("text", "integer", "bigint", "boolean", "timestamptz", "jsonb", "uuid", "numeric(12,2)", "date")


def ident(r: random.Random, n: int = 2) -> str:
    return "_".join(r.choice(WORDS) for _ in range(n))


def header(r: random.Random, version: str, desc: str) -> str:
    return (
        f"-- MIGRATION: {desc.replace('_', ' ')}\n-- Purpose: {desc.replace('_', ' ')} for the {r.choice(WORDS)} screens\n"
        f"-- Impact: short lock on {r.choice(WORDS)}s; no downtime\n-- Rollback: rollback/{version}_rollback.sql\n"
        f"-- Testing: applied and rolled back in dev\n\n"
    )


def tiny(r: random.Random) -> tuple[str, str]:
    """One statement: most real migrations are this (about 60-250 bytes)."""
    t, c = ident(r), ident(r, 1) + "_" + r.choice(("id", "at", "name", "flag", "count"))
    k = r.randrange(7)
    if k == 0:
        return (
            f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {c} {r.choice(TYPES)};\n",
            f"ALTER TABLE {t} DROP COLUMN IF EXISTS {c};\n",
        )
    if k == 1:
        return (
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_{t}_{c} ON {t} ({c});\n",
            f"DROP INDEX CONCURRENTLY IF EXISTS idx_{t}_{c};\n",
        )
    if k == 2:
        return (
            f"CREATE TABLE IF NOT EXISTS {t} (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
            f"  {c} {r.choice(TYPES)},\n  created_at timestamptz NOT NULL DEFAULT now()\n);\n",
            f"DROP TABLE IF EXISTS {t};\n",
        )
    if k == 3:
        return (
            f"COMMENT ON COLUMN {t}.{c} IS 'The {c.replace('_', ' ')} of the {t.replace('_', ' ')}';\n",
            f"COMMENT ON COLUMN {t}.{c} IS NULL;\n",
        )
    if k == 4:
        return (
            f"ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {r.randrange(100)};\n",
            f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT;\n",
        )
    if k == 5:
        return (
            f"ALTER TABLE {t} ADD CONSTRAINT {t}_{c}_check CHECK ({c} IS NOT NULL) NOT VALID;\n",
            f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {t}_{c}_check;\n",
        )
    return (f"GRANT SELECT ON {t} TO app_reader;\n", f"REVOKE SELECT ON {t} FROM app_reader;\n")


def medium(r: random.Random) -> tuple[str, str]:
    """A new table with a few columns, indexes and a foreign key (0.4-2 KB)."""
    t = ident(r)
    cols = [
        f"  {ident(r, 1)}_{i} {r.choice(TYPES)}{r.choice(('', ' NOT NULL', ' DEFAULT 0' if False else ''))}"
        for i in range(r.randrange(3, 14))
    ]
    up = (
        f"CREATE TABLE IF NOT EXISTS {t} (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
        f"  {r.choice(WORDS)}_id bigint REFERENCES {r.choice(WORDS)}s (id) ON DELETE CASCADE,\n"
        + ",\n".join(cols)
        + ",\n  created_at timestamptz NOT NULL DEFAULT now()\n);\n\n"
    )
    down = ""
    for i in range(r.randrange(1, 4)):
        up += f"CREATE INDEX IF NOT EXISTS idx_{t}_{i} ON {t} ({cols[i % len(cols)].split()[0]});\n"
        down += f"DROP INDEX IF EXISTS idx_{t}_{i};\n"
    down += f"DROP TABLE IF EXISTS {t};\n"
    return up, down


def large(r: random.Random) -> tuple[str, str]:
    """Functions, triggers, RLS policies, a batched backfill (3-40 KB)."""
    up, down = [], []
    for _ in range(r.randrange(4, 48)):
        t = ident(r)
        k = r.randrange(4)
        if k == 0:
            body = "\n".join(
                f"    IF NEW.{ident(r, 1)}_{i} IS NULL THEN\n      NEW.{ident(r, 1)}_{i} := '{r.choice(WORDS)}';\n    END IF;"
                for i in range(r.randrange(2, 20))
            )
            up.append(
                f"CREATE OR REPLACE FUNCTION {t}_defaults() RETURNS trigger\nLANGUAGE plpgsql AS $$\nBEGIN\n{body}\n"
                f"    NEW.updated_at := now();\n    RETURN NEW;\nEND;\n$$;\n\n"
                f"DROP TRIGGER IF EXISTS {t}_defaults ON {t};\n"
                f"CREATE TRIGGER {t}_defaults BEFORE INSERT OR UPDATE ON {t}\n  FOR EACH ROW EXECUTE FUNCTION {t}_defaults();\n"
            )
            down.append(f"DROP TRIGGER IF EXISTS {t}_defaults ON {t};\nDROP FUNCTION IF EXISTS {t}_defaults();\n")
        elif k == 1:
            up.append(
                f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;\n"
                f"DROP POLICY IF EXISTS {t}_owner ON {t};\n"
                f"CREATE POLICY {t}_owner ON {t}\n  FOR ALL TO authenticated\n"
                f"  USING (owner_id = auth.uid() AND deleted_at IS NULL)\n  WITH CHECK (owner_id = auth.uid());\n"
            )
            down.append(f"DROP POLICY IF EXISTS {t}_owner ON {t};\nALTER TABLE {t} DISABLE ROW LEVEL SECURITY;\n")
        elif k == 2:
            c = ident(r, 1) + "_status"
            up.append(
                f"DO $$\nDECLARE\n  batch_size integer := 5000;\n  done integer;\nBEGIN\n  LOOP\n"
                f"    UPDATE {t} SET {c} = 'active'\n    WHERE id IN (SELECT id FROM {t} WHERE {c} IS NULL LIMIT batch_size);\n"
                f"    GET DIAGNOSTICS done = ROW_COUNT;\n    EXIT WHEN done = 0;\n    PERFORM pg_sleep(0.01);\n  END LOOP;\nEND\n$$;\n"
            )
            down.append(f"-- backfill of {t}.{c} is kept\n")
        else:
            cols = ", ".join(f"{ident(r, 1)}_{i}" for i in range(r.randrange(3, 12)))
            up.append(
                f"CREATE OR REPLACE VIEW {t}_summary AS\n  SELECT id, {cols}, count(*) OVER (PARTITION BY {cols.split(',')[0]}) AS n\n"
                f"  FROM {t}\n  WHERE deleted_at IS NULL;\n"
            )
            down.append(f"DROP VIEW IF EXISTS {t}_summary;\n")
    return "\n".join(up), "".join(reversed(down))


FLAWS = (
    "DROP TABLE {t};\n",
    "UPDATE {t} SET archived = true;\n",
    "CREATE INDEX idx_{t}_created ON {t} (created_at);\n",
    "ALTER TABLE {t} ADD COLUMN flag boolean NOT NULL;\n",
    "ALTER TABLE {t} ALTER COLUMN id TYPE bigint;\n",
    "CREATE TABLE {t} (id int PRIMARY KEY, name varchar(40)\n",  # syntax error: no closing paren
)


def generate(out: Path, n: int, seed: int) -> list[int]:
    r = random.Random(seed)
    mdir = out / "migrations"
    (mdir / "rollback").mkdir(parents=True, exist_ok=True)
    (out / "migcheck.toml").write_text('changelog = false\nsequence = "per-day"\n')
    day = datetime.date(2015, 1, 1)
    sizes = []
    seq = 0
    for _ in range(n):
        if r.random() < 0.6:
            day += datetime.timedelta(days=1)
            seq = 0
        seq += 1
        version = f"{day:%Y%m%d}_{seq:03d}"
        desc = f"{r.choice(('add', 'create', 'alter', 'backfill', 'index', 'secure'))}_{ident(r)}"
        roll = r.random()
        if roll < 0.70:
            up, down = tiny(r)
        elif roll < 0.93:
            up, down = medium(r)
        else:
            up, down = large(r)
        if r.random() < 0.03:
            up += "\n" + r.choice(FLAWS).format(t=ident(r))
        if r.random() < 0.2:
            up = header(r, version, desc) + "BEGIN;\n\n" + up + "\nCOMMIT;\n"
            down = "BEGIN;\n" + down + "COMMIT;\n"
        data = up.encode()
        (mdir / f"{version}_{desc}.sql").write_bytes(data)
        sizes.append(len(data))
        if r.random() < 0.9:
            (mdir / "rollback" / f"{version}_rollback.sql").write_text(down)
    return sizes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=3500, help="number of migrations (default 3500)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    sizes = generate(args.out, args.n, args.seed)
    total = sum(1 for _ in (args.out / "migrations").rglob("*.sql"))
    print(
        f"{args.out}: {len(sizes)} migrations, {total} files with rollbacks; migration size median "
        f"{statistics.median(sizes):.0f} B, mean {statistics.mean(sizes):.0f} B, max {max(sizes)} B"
    )


if __name__ == "__main__":
    main()
