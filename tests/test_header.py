"""Unit tests of migcheck.analysis.header, and the changelog layouts a fixture cannot express."""

import time

from harness import actual, parse_case, run_case
from hypothesis import given, settings
from hypothesis import strategies as st

from migcheck.analysis import header as hdr
from migcheck.source import Positions


def parse(text, first=None):
    return hdr.header(text, first, Positions(text))


TEMPLATE = """\
-- =====================================================
-- MIGRATION: [Brief Title]
-- =====================================================
-- Purpose: [What does this migration do?]
-- Impact: [What will change? Any downtime?]
-- Rollback: [How to rollback if needed]
-- Testing: [How was this tested?]
-- =====================================================

BEGIN;
"""


def test_the_guidelines_template():
    h = parse(TEMPLATE, TEMPLATE.index("BEGIN"))
    assert h.present
    assert h.fields == {
        "migration": ("[Brief Title]", 2),
        "purpose": ("[What does this migration do?]", 4),
        "impact": ("[What will change? Any downtime?]", 5),
        "rollback": ("[How to rollback if needed]", 6),
        "testing": ("[How was this tested?]", 7),
    }


def test_header_ends_at_the_first_statement():
    text = "-- Purpose: x\nBEGIN;\n-- Impact: y\n"
    assert set(parse(text, text.index("BEGIN")).fields) == {"purpose"}


def test_header_ends_at_anything_that_is_not_a_comment():
    text = "-- Purpose: x\nSELECT 1\n-- Impact: y\n"  # the first statement unknown: stop anyway
    assert set(parse(text).fields) == {"purpose"}


def test_crlf_and_cr_line_ends_count_lines_like_the_file():
    h = parse("\r\n-- Purpose: a\r\n-- Impact: b\r-- Testing: c\n")
    assert h.fields == {"purpose": ("a", 2), "impact": ("b", 3), "testing": ("c", 4)}


def test_no_comment_no_header():
    h = parse("BEGIN;\n", 0)
    assert not h.present and not h.fields
    assert not parse("").present


def test_values_over_several_lines():
    h = parse("-- Rollback:\n--   DROP TABLE x;\n-- Step 2: drop y\n--\n-- Testing: z\n")
    assert h.fields["rollback"] == ("DROP TABLE x; Step 2: drop y", 1)
    assert h.fields["testing"] == ("z", 5)


def test_indented_name_value_line_continues_a_value():
    h = parse("-- Impact: adds a column\n--   Note: no rewrite\n-- Rollback: none\n")
    assert h.fields["impact"] == ("adds a column Note: no rewrite", 1)
    assert "note" not in h.fields


def test_template_field_names_always_start_a_field():
    h = parse("-- MIGRATION: x\n--    Purpose: indented more than the title\n")
    assert h.fields["purpose"] == ("indented more than the title", 2)


def test_rule_lines_and_blank_lines_end_a_value():
    h = parse("-- Purpose:\n-- =====\n-- some note\n")
    assert h.fields["purpose"] == ("", 1)
    h = parse("-- Purpose:\n\n-- some note\n")
    assert h.fields["purpose"] == ("", 1)


def test_block_comments():
    h = parse("/*\n * MIGRATION: a\n * Purpose: b */\n/* Impact: c */\n")
    assert h.fields == {"migration": ("a", 2), "purpose": ("b", 3), "impact": ("c", 4)}
    h = parse("/* outer /* nested */\nPurpose: still inside\n*/\n-- Impact: x\n")
    assert h.fields == {"purpose": ("still inside", 2), "impact": ("x", 4)}


def test_decoration_before_and_after_names():
    h = parse("-- ===== MIGRATION: t =====\n-- **Purpose**: p\n-- * Impact: i\n-- 📋 Testing: t\n")
    assert h.fields == {"migration": ("t", 1), "purpose": ("p", 2), "impact": ("i", 3), "testing": ("t", 4)}


def test_a_dash_value_is_kept():
    assert parse("-- Impact: -\n").fields["impact"] == ("-", 1)


def test_not_fields():
    h = parse("-- migcheck: ignore-file x -- why\n-- see https://example.com\n-- SELECT a::int\n")
    assert h.fields == {}  # a URL's colon and a cast's :: do not make a field
    assert parse("-- This migration has no real header. Its purpose: none\n").fields == {}


def test_first_field_wins():
    h = parse("-- Purpose: first\n-- Purpose: second\n")
    assert h.fields["purpose"] == ("first", 1)


def test_find_by_name_or_qualified_name():
    h = parse("-- MIGRATION 20251022_001: t\n-- Rollback plan: r\n-- Rollback: exact\n-- depends_on: 20251021_001\n")
    assert hdr.find(h, "MIGRATION") == ("migration 20251022_001", "t", 1)
    assert hdr.find(h, "Rollback") == ("rollback", "exact", 3)
    assert hdr.find(h, "Depends-On") == ("depends_on", "20251021_001", 4)
    assert hdr.find(h, "Testing") is None


def test_skeleton_is_the_template_and_parses_back():
    sk = hdr.skeleton(hdr.TEMPLATE)
    assert sk + "\n\nBEGIN;\n" == TEMPLATE
    assert hdr.skeleton(["Purpose", "Ticket"]).splitlines()[1:3] == [
        "-- Purpose: [What does this migration do?]",
        "-- Ticket: [...]",
    ]


def test_long_decoration_lines_are_fast():
    text = "-- " + "=" * 5000 + "x\n" + "-- " + "-" * 5000 + ":\n" + "--" + " " * 5000 + "y\n"
    t0 = time.perf_counter()
    parse(text * 20)
    assert time.perf_counter() - t0 < 1


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(list("-/*=: \n\r\tPurpose[]x1_.") + ["--", "/*", "*/", "\r\n", "Impact:"]), max_size=80
    ).map("".join)
)
def test_never_crashes(text):
    h = parse(text)
    for _value, line in h.fields.values():
        assert 1 <= line <= Positions(text).line_count()


# --- changelog-missing with CHANGELOG.md beside the migrations directory -----------------------
# (the fixture harness passes every top-level path of a fixture to `check`, so a top-level
# CHANGELOG.md would be checked as a migration; here only `migrations` is passed, like a user would)

ROOT_CHANGELOG = b"""\
-- config: changelog = true
-- file: .git/HEAD (empty)
-- file: CHANGELOG.md
# Changelog
- 20251022_001: leads.status
-- file: migrations/20251022_001_add_status.sql
BEGIN;
SELECT 1;
COMMIT;
-- file: migrations/20251023_002_add_score.sql
BEGIN; -- expect@1: changelog-missing
SELECT 1;
COMMIT;
"""


def test_changelog_at_the_repository_root(tmp_path):
    case = parse_case(ROOT_CHANGELOG)
    result = run_case(case, tmp_path, ["changelog-missing"], paths=["migrations"])
    assert not result.errors
    assert actual(result) == case.expected
    [finding] = result.findings
    assert finding.message == "20251023_002 is not mentioned in CHANGELOG.md"


def test_changelog_single_file_still_found(tmp_path):
    case = parse_case(ROOT_CHANGELOG)
    result = run_case(case, tmp_path, ["changelog-missing"], paths=["migrations/20251022_001_add_status.sql"])
    assert not result.errors and not result.findings


def test_no_changelog_says_where_it_looked(tmp_path):
    case = parse_case(
        b"-- config: changelog = true\n-- file: .git/HEAD (empty)\n"
        b"-- file: migrations/20251022_001_a.sql\nSELECT 1;\n"
        b"-- file: migrations/20251023_002_b.sql\nSELECT 1;\n"
    )
    result = run_case(case, tmp_path, ["changelog-missing"], paths=["migrations"])
    [finding] = result.findings
    assert finding.path == "migrations/20251022_001_a.sql" and (finding.line, finding.column) == (1, 1)
    assert finding.message == ("no CHANGELOG.md found: looked in migrations/ and ./ (stopped at the repository root)")


def test_changelog_is_read_once_per_directory(tmp_path, monkeypatch):
    from migcheck.rules import changelog_missing

    reads = []
    original = changelog_missing._Changelog.__init__

    def counting(self, path):
        reads.append(path)
        original(self, path)

    monkeypatch.setattr(changelog_missing._Changelog, "__init__", counting)
    files = b"".join(b"-- file: migrations/202510%02d_%03d_m.sql\nSELECT 1;\n" % (d, d) for d in range(1, 21))
    case = parse_case(
        b"-- config: changelog = true\n-- file: .git/HEAD (empty)\n-- file: CHANGELOG.md\n- 20251001_001\n" + files
    )
    result = run_case(case, tmp_path, ["changelog-missing"], paths=["migrations"])
    assert len(result.findings) == 19
    assert len(reads) == 1
