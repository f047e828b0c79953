"""missing-rollback-file, orphan-rollback and empty-rollback beyond what a fixture can say: single
files checked among their siblings (pre-commit), the paths and names in messages and help, and the
bundled example project. Also the wording of concurrently-in-transaction, mixed-changes and
missing-verification."""

from pathlib import Path

import pytest
from harness import parse_case, run_case

from migcheck import config as config_mod
from migcheck import engine

ROLLBACK_RULES = ["missing-rollback-file", "orphan-rollback", "empty-rollback"]
REPO = Path(__file__).resolve().parent.parent


def run(tmp_path, text, paths=None, select=ROLLBACK_RULES):
    result = run_case(parse_case(text.encode()), tmp_path, select, paths=paths)
    assert not result.errors, result.errors
    return result


def got(result):
    return sorted((f.path, f.rule) for f in result.findings)


def one(result, rule):
    found = [f for f in result.findings if f.rule == rule]
    assert len(found) == 1, found
    return found[0]


PROJECT = """
-- file: migrations/20251022_001_add_score.sql
BEGIN;
ALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;
COMMIT;
-- file: migrations/rollback/20251022_001_rollback.sql
BEGIN;
ALTER TABLE leads DROP COLUMN IF EXISTS score;
COMMIT;
-- file: migrations/20251022_002_add_rank.sql
BEGIN;
ALTER TABLE leads ADD COLUMN IF NOT EXISTS rank int;
COMMIT;
-- file: migrations/20251023_003_backfill.sql
BEGIN;
UPDATE leads SET source = 'import' WHERE source IS NULL;
COMMIT;
-- file: migrations/rollback/20251023_003_rollback.sql
-- nothing to undo
-- file: migrations/rollback/20251021_099_rollback.sql
BEGIN;
DROP TABLE IF EXISTS tmp_import;
COMMIT;
"""


def test_whole_directory(tmp_path):
    assert got(run(tmp_path, PROJECT)) == [
        ("migrations/20251022_002_add_rank.sql", "missing-rollback-file"),
        ("migrations/rollback/20251021_099_rollback.sql", "orphan-rollback"),
        ("migrations/rollback/20251023_003_rollback.sql", "empty-rollback"),
    ]


@pytest.mark.parametrize(
    "path, expected",
    [
        ("migrations/20251022_001_add_score.sql", []),  # its rollback is found beside it
        ("migrations/20251022_002_add_rank.sql", ["missing-rollback-file"]),
        ("migrations/20251023_003_backfill.sql", []),  # the empty rollback is reported on the rollback
        ("migrations/rollback/20251023_003_rollback.sql", ["empty-rollback"]),
        ("migrations/rollback/20251021_099_rollback.sql", ["orphan-rollback"]),
        ("migrations/rollback/20251022_001_rollback.sql", []),  # its migration is found beside it
    ],
)
def test_single_file_sees_its_siblings(tmp_path, path, expected):
    result = run(tmp_path, PROJECT, paths=[path])
    assert sorted(f.rule for f in result.findings) == expected
    assert all(f.path == path for f in result.findings)


def test_single_file_from_inside_the_directory(tmp_path):
    """Run from the migrations directory, as a hook may: paths and help follow the display."""
    case = parse_case(PROJECT.encode())
    run_case(case, tmp_path, ROLLBACK_RULES)
    cfg = config_mod.load(tmp_path / "migcheck.toml", cwd=tmp_path)
    result = engine.check(["20251022_002_add_rank.sql"], cfg, cwd=tmp_path / "migrations")
    f = one(result, "missing-rollback-file")
    assert f.path == "20251022_002_add_rank.sql"
    assert "`rollback/20251022_002_rollback.sql`" in f.help


def test_missing_rollback_message_and_exact_path(tmp_path):
    f = one(run(tmp_path, PROJECT), "missing-rollback-file")
    assert (f.line, f.column) == (1, 1)
    assert "20251022_002" in f.message
    assert "Create `migrations/rollback/20251022_002_rollback.sql`" in f.help


def test_missing_rollback_of_an_empty_migration(tmp_path):
    result = run(tmp_path, "-- file: migrations/20251022_001_x.sql (empty)\n")
    assert got(result) == [("migrations/20251022_001_x.sql", "missing-rollback-file")]


def test_configured_pattern_in_help(tmp_path):
    result = run(
        tmp_path,
        """-- config: rollback = "down/{version}.down.sql"
-- file: migrations/20251022_001_add_score.sql
SELECT 1;
-- file: migrations/down/20251022_001.down.sql
SELECT 1;
-- file: migrations/20251022_002_add_rank.sql
SELECT 1;
""",
    )
    f = one(result, "missing-rollback-file")
    assert f.path == "migrations/20251022_002_add_rank.sql"
    assert "`migrations/down/20251022_002.down.sql`" in f.help


TYPO = """
-- file: migrations/20251028_008_add_tags.sql
SELECT 1;
-- file: migrations/rollback/20251028_080_rollback.sql
SELECT 1;
-- file: migrations/20251029_009_add_labels.sql
SELECT 1;
-- file: migrations/rollback/20251029_009_add_labels.sql
SELECT 1;
-- file: migrations/20251030_010_add_owner.sql
SELECT 1;
-- file: migrations/rollback/20253010_010_rollback.sql
SELECT 1;
"""


def test_typo_suggestions_both_ways(tmp_path):
    r = run(tmp_path, TYPO)
    orphans = {f.path.rsplit("/", 1)[-1]: f for f in r.findings if f.rule == "orphan-rollback"}
    assert sorted(orphans) == ["20251028_080_rollback.sql", "20253010_010_rollback.sql"]
    o = orphans["20251028_080_rollback.sql"]
    assert "did you mean 20251028_008" in o.message and "`20251028_008_add_tags.sql`" in o.message
    assert "rename it to `migrations/rollback/20251028_008_rollback.sql`" in o.help
    # month and day swapped
    assert "did you mean 20251030_010" in orphans["20253010_010_rollback.sql"].message
    missing = {f.path.rsplit("/", 1)[-1]: f for f in r.findings if f.rule == "missing-rollback-file"}
    assert sorted(missing) == ["20251028_008_add_tags.sql", "20251029_009_add_labels.sql", "20251030_010_add_owner.sql"]
    assert "`migrations/rollback/20251028_080_rollback.sql`" in missing["20251028_008_add_tags.sql"].help
    assert "rename it to `20251028_008_rollback.sql`" in missing["20251028_008_add_tags.sql"].help
    labels = missing["20251029_009_add_labels.sql"].help
    assert "`migrations/rollback/20251029_009_add_labels.sql` looks like this migration's rollback" in labels
    assert "rename it to `20251029_009_rollback.sql`" in labels


def test_orphan_without_a_near_migration(tmp_path):
    f = one(run(tmp_path, PROJECT), "orphan-rollback")
    assert "no migration has the version 20251021_099" in f.message
    assert "did you mean" not in f.message
    assert (f.line, f.column) == (1, 1)


def test_ambiguous_typo_suggests_nothing(tmp_path):
    r = run(
        tmp_path,
        """
-- file: migrations/20251022_001_a.sql
SELECT 1;
-- file: migrations/20251022_003_b.sql
SELECT 1;
-- file: migrations/rollback/20251022_002_rollback.sql
SELECT 1;
""",
    )
    assert "did you mean" not in one(r, "orphan-rollback").message


@pytest.mark.parametrize(
    "body, phrase",
    [
        ("", "is empty"),
        ("\n  \n", "is empty"),
        ("-- nothing\n/* at all */\n", "holds only comments"),
        ("BEGIN;\nCOMMIT;\n", "holds only BEGIN/COMMIT"),
        ("SET lock_timeout = '5s';\nBEGIN;\nSELECT 1;\nCOMMIT;\n", "holds only BEGIN/COMMIT, SET and queries"),
        (
            "UPDATE _migrations.schema_migrations SET reverted_at = now() WHERE version = '20251022_001';\n",
            "only records the revert in the migration tracking table",
        ),
    ],
)
def test_empty_rollback_says_what_it_holds(tmp_path, body, phrase):
    rb = tmp_path / "migrations" / "rollback"
    rb.mkdir(parents=True)
    (rb / "20251022_001_rollback.sql").write_text(body)
    # (a migration that changes something: one that changes nothing needs no undo)
    r = run(tmp_path, "-- file: migrations/20251022_001_add_score.sql\nALTER TABLE leads ADD COLUMN score int;\n")
    f = one(r, "empty-rollback")
    assert phrase in f.message, f.message
    assert "`20251022_001_add_score.sql`" in f.help
    assert "ignore-file empty-rollback" in f.help


def test_empty_rollback_leaves_unparsable_files_to_parse_error(tmp_path):
    r = run(
        tmp_path,
        """
-- file: migrations/20251022_001_add_score.sql
SELECT 1;
-- file: migrations/rollback/20251022_001_rollback.sql
BEGIN;
ALTER TABLE leads DROP COLUMN IF EXIST score;
COMMIT;
""",
    )
    assert [f.rule for f in r.findings] == ["parse-error"]


def test_example_project_planted_rollback_flaws():
    cfg = config_mod.load(None, cwd=REPO)
    cfg = cfg.with_cli(select=",".join(ROLLBACK_RULES))
    result = engine.check(["examples/migrations"], cfg, cwd=REPO)
    assert not result.errors
    assert got(result) == [
        ("examples/migrations/20251025_004_archive_old_leads.sql", "missing-rollback-file"),
        ("examples/migrations/20251027_006_Add-Lead-Score.sql", "missing-rollback-file"),
        ("examples/migrations/rollback/20251021_099_rollback.sql", "orphan-rollback"),
        ("examples/migrations/rollback/20251028_007_rollback.sql", "empty-rollback"),
    ]


# --- wording of the other rules of this family --------------------------------------------


def test_concurrently_message_and_help(tmp_path):
    r = run(
        tmp_path,
        """
-- file: migrations/20251022_001_a.sql
BEGIN;
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_leads_score ON leads (score);
COMMIT;
-- file: migrations/20251022_002_b.sql
BEGIN;
CREATE TABLE t (id int);
CREATE INDEX CONCURRENTLY idx_t_id ON t (id);
COMMIT;
""",
        select=["concurrently-in-transaction"],
    )
    a, b = sorted(r.findings, key=lambda f: f.path)
    assert a.message.startswith("CREATE INDEX CONCURRENTLY inside a BEGIN ... COMMIT block")
    assert '"CREATE INDEX CONCURRENTLY cannot run inside a transaction block"' in a.message
    assert "migration file of its own, without BEGIN/COMMIT" in a.help
    assert "`CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_leads_score ON leads (score)`" in a.help
    assert "DROP INDEX CONCURRENTLY IF EXISTS idx_leads_score;" in a.help
    assert "drop CONCURRENTLY" in b.help and "`t`" in b.help


def test_mixed_changes_names_the_groups(tmp_path):
    r = run(
        tmp_path,
        """
-- file: migrations/20251022_001_a.sql
BEGIN;
ALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;
UPDATE leads SET score = 0 WHERE score IS NULL;
UPDATE companies SET plan = 'free' WHERE plan IS NULL;
COMMIT;
""",
        select=["mixed-changes"],
    )
    f = one(r, "mixed-changes")
    assert f.line == 4
    assert "`leads` (lines 2, 3)" in f.message and "the data of `companies` (line 4)" in f.message
    assert "`companies`" in f.help and "ignore-file mixed-changes" in f.help


def test_missing_verification_suggests_a_query(tmp_path):
    r = run(
        tmp_path,
        """
-- file: migrations/20251022_001_a.sql
BEGIN;
ALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;
COMMIT;
""",
        select=["missing-verification"],
    )
    f = one(r, "missing-verification")
    assert (f.line, f.severity) == (3, "info")  # at the COMMIT
    assert (
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'leads' AND column_name = 'score';"
    ) in f.help


def test_missing_verification_is_off_by_default(tmp_path):
    r = run(
        tmp_path,
        """
-- file: migrations/20251022_001_a.sql
BEGIN;
ALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;
COMMIT;
""",
        select=None,
    )
    assert "missing-verification" not in {f.rule for f in r.findings}
