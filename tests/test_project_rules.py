"""file-naming, duplicate-version, sequence-order and sequence-gap beyond what a fixture can say:
single files checked among their siblings (pre-commit), names a fixture cannot hold, and the
wording of messages and suggested names."""

import pytest
from harness import parse_case, run_case

from migcheck.analysis import naming as _naming

RULES = ["file-naming", "duplicate-version", "sequence-order", "sequence-gap"]


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch):
    monkeypatch.setattr(_naming, "today", lambda: "20251101")


def run(tmp_path, text, paths=None, select=RULES):
    result = run_case(parse_case(text.encode()), tmp_path, select, paths=paths)
    assert not result.errors, result.errors
    return result


def got(result):
    return sorted((f.path, f.rule) for f in result.findings)


def by_path(result, rule):
    return {f.path.rsplit("/", 1)[-1]: f for f in result.findings if f.rule == rule}


PROJECT = """
-- file: migrations/20251022_001_add_score.sql
SELECT 1;
-- file: migrations/20251022_001_add_rank.sql
SELECT 1;
-- file: migrations/20251023_005_add_notes.sql
SELECT 1;
-- file: migrations/20251024_004_add_index.sql
SELECT 1;
-- file: migrations/20251025_009_add_view.sql
SELECT 1;
"""


def test_whole_directory(tmp_path):
    assert got(run(tmp_path, PROJECT)) == [
        ("migrations/20251022_001_add_score.sql", "duplicate-version"),
        ("migrations/20251024_004_add_index.sql", "sequence-gap"),
        ("migrations/20251024_004_add_index.sql", "sequence-order"),
        ("migrations/20251025_009_add_view.sql", "sequence-gap"),
    ]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("20251022_001_add_rank.sql", []),  # the first of the two: nothing to report on it
        ("20251022_001_add_score.sql", ["duplicate-version"]),
        ("20251024_004_add_index.sql", ["sequence-gap", "sequence-order"]),
        ("20251023_005_add_notes.sql", []),
        ("20251025_009_add_view.sql", ["sequence-gap"]),
    ],
)
def test_single_file_sees_its_siblings(tmp_path, name, expected):
    result = run(tmp_path, PROJECT, paths=[f"migrations/{name}"])
    assert sorted(f.rule for f in result.findings) == expected
    assert all(f.path == f"migrations/{name}" for f in result.findings)


def test_messages_name_the_other_file_and_suggest_a_free_version(tmp_path):
    r = run(tmp_path, PROJECT)
    dup = by_path(r, "duplicate-version")["20251022_001_add_score.sql"]
    assert "20251022_001_add_rank.sql" in dup.message and "first in path order" in dup.message
    assert "`20251025_010_add_score.sql`" in dup.help
    order = by_path(r, "sequence-order")["20251024_004_add_index.sql"]
    assert "`20251023_005_add_notes.sql`" in order.message and "lower than 005" in order.message
    assert "`20251025_010_add_index.sql`" in order.help
    gaps = by_path(r, "sequence-gap")
    # gaps are between numbers (001, 004, 005, 009), whatever the dates say (sequence-order's business)
    assert "sequence numbers 002 and 003 are skipped" in gaps["20251024_004_add_index.sql"].message
    assert "`20251022_001_add_rank.sql`" in gaps["20251024_004_add_index.sql"].message
    assert "006 to 008" in gaps["20251025_009_add_view.sql"].message
    # the newest migration: the help gives the name that closes the gap
    assert "`20251025_006_add_view.sql`" in gaps["20251025_009_add_view.sql"].help
    assert "rename" not in gaps["20251024_004_add_index.sql"].help


def test_three_files_with_one_version_get_distinct_suggestions(tmp_path):
    r = run(
        tmp_path,
        """
-- file: migrations/20251022_001_a.sql
SELECT 1;
-- file: migrations/20251022_001_b.sql
SELECT 1;
-- file: migrations/20251022_001_c.sql
SELECT 1;
""",
    )
    found = by_path(r, "duplicate-version")
    assert sorted(found) == ["20251022_001_b.sql", "20251022_001_c.sql"]
    assert all("20251022_001_a.sql" in f.message for f in found.values())
    assert "`20251022_002_b.sql`" in found["20251022_001_b.sql"].help
    assert "`20251022_003_c.sql`" in found["20251022_001_c.sql"].help


GUIDELINES = """
-- file: migrations/20251022_000_migration_tracking_schema.sql
SELECT 1;
-- file: migrations/20251022_001_backfill_existing_migrations.sql
SELECT 1;
-- file: migrations/20251023_002_add_email_validation_trigger.sql
SELECT 1;
-- file: migrations/20251024_003_add_task_date_validation_trigger.sql
SELECT 1;
-- file: migrations/migration.sql
SELECT 1;
-- file: migrations/fix_bug.sql
SELECT 1;
-- file: migrations/20251022_add_feature.sql
SELECT 1;
-- file: migrations/2025-10-22_add_feature.sql
SELECT 1;
"""


def test_guidelines_examples_messages(tmp_path):
    found = by_path(run(tmp_path, GUIDELINES), "file-naming")
    assert sorted(found) == ["2025-10-22_add_feature.sql", "20251022_add_feature.sql", "fix_bug.sql", "migration.sql"]
    assert "no date and no sequence number" in found["migration.sql"].message
    assert "`migration` is ambiguous" in found["migration.sql"].help
    assert "`fix_bug` is ambiguous" in found["fix_bug.sql"].help
    assert "sequence number is missing" in found["20251022_add_feature.sql"].message
    assert "not in YYYYMMDD form (write `20251022`)" in found["2025-10-22_add_feature.sql"].message
    helps = {n: f.help.split("`")[1] for n, f in found.items()}
    # dated names first (moved to the newest date so the sequence stays in date order), then the undated
    assert helps == {
        "2025-10-22_add_feature.sql": "20251024_004_add_feature.sql",
        "20251022_add_feature.sql": "20251024_005_add_feature.sql",
        "fix_bug.sql": "20251101_006_fix_bug.sql",
        "migration.sql": "20251101_007_migration.sql",
    }
    assert all((f.line, f.column) == (1, 1) for f in found.values())


@pytest.mark.parametrize(
    "name, phrase, suggestion",
    [
        ("20251022_001_add feature.sql", "has spaces", "20251022_001_add_feature.sql"),
        ("20251022_001_Add_Feature.sql", "has uppercase letters", "20251022_001_add_feature.sql"),
        ("20251022_001_addFeature.sql", "has uppercase letters", "20251022_001_add_feature.sql"),
        ("20251022_001_add-feature.sql", "has dashes", "20251022_001_add_feature.sql"),
        ("20251022_001_add_feature.SQL", "not lowercase `.sql`", "20251022_001_add_feature.sql"),
        ("20251022_001_add_feature.txt", "the extension is `.txt`", "20251022_001_add_feature.sql"),
        ("20251022_001_add_feature.sql.bak", "the extension is `.bak`", "20251022_001_add_feature.sql"),
        ("20251022_001_add_feature", "no `.sql` extension", "20251022_001_add_feature.sql"),
        ("20251022 001 add_feature.sql", "a space instead of `_`", "20251022_001_add_feature.sql"),
        ("20251022__001_x.sql", "`__` instead of a single `_`", "20251022_001_x.sql"),
        ("20251022_1000_x.sql", "does not fit in 3 digits", "20251022_001_x.sql"),
        ("20251022_٠٠١_x.sql", "not ASCII", "20251022_001_x.sql"),
        ("20250230_001_x.sql", "February 2025 has no day 30", "20251101_001_x.sql"),
        ("20251000_001_x.sql", "October 2025 has no day 00", "20251101_001_x.sql"),
        ("20250010_000_x.sql", "there is no month 00", "20251101_001_x.sql"),
        ("20252210_001_x.sql", "did you mean `20251022`?", "20251022_001_x.sql"),
    ],
)
def test_names_a_fixture_cannot_hold(tmp_path, name, phrase, suggestion):
    """Explicit paths: names with spaces, other extensions (a directory walk takes only *.sql)."""
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / name).write_text("SELECT 1;\n")
    result = run(
        tmp_path,
        "-- file: migrations/20251021_000_base.sql\nSELECT 1;\n",
        paths=[f"migrations/{name}"],
        select=["file-naming"],
    )
    assert [f.rule for f in result.findings] == ["file-naming"], result.findings
    f = result.findings[0]
    assert phrase in f.message, f.message
    assert f"`{suggestion}`" in f.help, f.help


def test_empty_file_with_a_bad_name(tmp_path):
    result = run(tmp_path, "-- file: migrations/Empty.sql (empty)\n", select=["file-naming"])
    assert [(f.path, f.line, f.column) for f in result.findings] == [("migrations/Empty.sql", 1, 1)]


def test_per_day_suggestions(tmp_path):
    r = run(
        tmp_path,
        """
-- config: sequence = "per-day"
-- file: migrations/20251022_001_a.sql
SELECT 1;
-- file: migrations/20251022_002_b.sql
SELECT 1;
-- file: migrations/20251023_001_c.sql
SELECT 1;
-- file: migrations/20251022_add_d.sql
SELECT 1;
-- file: migrations/20251023_001_e.sql
SELECT 1;
""",
    )
    naming = by_path(r, "file-naming")
    assert (
        "`20251022_003_add_d.sql` (003 is the next free sequence number of 20251022)"
        in naming["20251022_add_d.sql"].help
    )
    dup = by_path(r, "duplicate-version")
    assert list(dup) == ["20251023_001_e.sql"]
    assert "`20251023_002_e.sql`" in dup["20251023_001_e.sql"].help
    assert not by_path(r, "sequence-order") and not by_path(r, "sequence-gap")


def test_custom_naming_suggests_a_matching_name(tmp_path):
    r = run(
        tmp_path,
        r"""
-- config: naming = '^(?P<date>\d{8})_(?P<seq>\d{4})_(?P<description>[a-z0-9_]+)\.sql$'
-- file: migrations/20251022_0001_a.sql
SELECT 1;
-- file: migrations/20251022_0002_b.sql
SELECT 1;
-- file: migrations/20251023_0002_c.sql
SELECT 1;
-- file: migrations/20251024_0004_d.sql
SELECT 1;
-- file: migrations/20251024_5_Bad.sql
SELECT 1;
""",
    )
    assert got(r) == [
        ("migrations/20251023_0002_c.sql", "duplicate-version"),
        ("migrations/20251024_0004_d.sql", "sequence-gap"),
        ("migrations/20251024_5_Bad.sql", "file-naming"),
    ]
    f = by_path(r, "file-naming")["20251024_5_Bad.sql"]
    assert "configured naming pattern" in f.message
    assert "`20251024_0005_bad.sql`" in f.help
    assert "`20251024_0006_c.sql`" in by_path(r, "duplicate-version")["20251023_0002_c.sql"].help
    assert "sequence number 0003 is skipped" in by_path(r, "sequence-gap")["20251024_0004_d.sql"].message


def test_rollback_names(tmp_path):
    r = run(
        tmp_path,
        """
-- file: migrations/20251022_001_add_score.sql
SELECT 1;
-- file: migrations/20251022_002_add_notes.sql
SELECT 1;
-- file: migrations/rollback/20251022_001_rollback.sql
SELECT 1;
-- file: migrations/rollback/20251022_001_add_score.sql
SELECT 1;
-- file: migrations/rollback/add_notes_rollback.sql
SELECT 1;
-- file: migrations/rollback/rollback.sql
SELECT 1;
""",
        select=["file-naming"],
    )
    found = by_path(r, "file-naming")
    assert sorted(found) == ["20251022_001_add_score.sql", "add_notes_rollback.sql", "rollback.sql"]
    assert "`add_score` stands where `rollback` belongs" in found["20251022_001_add_score.sql"].message
    assert "`20251022_001_rollback.sql`" in found["20251022_001_add_score.sql"].help
    assert "no version" in found["add_notes_rollback.sql"].message
    assert "`20251022_002_rollback.sql`" in found["add_notes_rollback.sql"].help
    assert "`YYYYMMDD_NNN_rollback.sql`" in found["rollback.sql"].help


def test_one_directory_per_migration(tmp_path):
    r = run(
        tmp_path,
        """
-- file: migrations/2019-02-26-002946_create_user/up.sql
SELECT 1;
-- file: migrations/2019-02-26-002946_create_user/down.sql
SELECT 1;
""",
        select=["file-naming"],
    )
    found = by_path(r, "file-naming")
    assert "`20190226_NNN_create_user.sql` in `migrations/`" in found["up.sql"].help
    assert "`rollback/20190226_NNN_rollback.sql`" in found["down.sql"].help


def test_sequence_gap_can_be_suppressed_file_wide(tmp_path):
    r = run(
        tmp_path,
        """
-- file: migrations/20251022_001_a.sql
SELECT 1;
-- file: migrations/20251023_005_b.sql
-- migcheck: ignore-file sequence-gap -- 002 to 004 were squashed into 001
SELECT 1;
""",
        select=RULES + ["unused-suppression"],
    )
    assert [(f.rule, f.suppressed) for f in r.findings] == [("sequence-gap", True)]


def test_directories_are_separate(tmp_path):
    r = run(
        tmp_path,
        """
-- config: migrations = ["a/migrations", "b/migrations"]
-- file: a/migrations/20251022_001_x.sql
SELECT 1;
-- file: b/migrations/20251022_001_x.sql
SELECT 1;
-- file: b/migrations/20251023_002_y.sql
SELECT 1;
""",
    )
    assert got(r) == []
