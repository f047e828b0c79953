"""`migcheck check --fix` and the fix API (fix.py) the editor server uses: exact edits, exact CLI
output, line endings and BOM kept, unsafe fixes refused or discarded, and every fixture fixed
idempotently into a file that parses and no longer has the fixed findings."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from harness import materialise, parse_case

from migcheck import config as config_mod
from migcheck import fix
from migcheck.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "rules"

HEADER = """\
-- =====================================================
-- MIGRATION: Add leads
-- =====================================================
-- Purpose: Store leads.
-- Impact: New table only.
-- Rollback: rollback/20251022_001_rollback.sql
-- Testing: Applied twice on a scratch database.
-- =====================================================
"""


@pytest.fixture
def proj(project):
    (project / ".git").mkdir()
    (project / "migcheck.toml").write_text("changelog = false\n")
    (project / "migrations" / "rollback").mkdir(parents=True)
    (project / "migrations" / "rollback" / "20251022_001_rollback.sql").write_text(
        "BEGIN;\nDROP TABLE IF EXISTS leads;\nCOMMIT;\n"
    )
    return project


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(proj, name, text, newline="\n", bom=False):
    p = proj / "migrations" / name
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.replace("\n", newline).encode())
    return p


# --- the API -----------------------------------------------------------------------------------


def test_compute_returns_the_edits_of_each_finding(proj):
    text = HEADER + "\nBEGIN;\nCREATE TABLE leads (id int);\nDROP VIEW old_leads;\nCOMMIT;\n"
    p = write(proj, "20251022_001_add_leads.sql", text)
    cfg = config_mod.load()
    fixes = fix.compute(text, p, cfg)
    at = len(HEADER) + len("\nBEGIN;\nCREATE TABLE")
    drop = len(HEADER) + len("\nBEGIN;\nCREATE TABLE leads (id int);\nDROP VIEW")
    assert fixes == [
        fix.Fix("missing-if-not-exists", "Add IF NOT EXISTS", 11, 1, (fix.Edit(at, at, " IF NOT EXISTS"),)),
        fix.Fix("missing-if-exists", "Add IF EXISTS", 12, 1, (fix.Edit(drop, drop, " IF EXISTS"),)),
    ]
    assert p.read_text() == text  # pure: nothing written
    fixed = fix.apply(text, [e for f in fixes for e in f.edits])
    assert "CREATE TABLE IF NOT EXISTS leads (id int);\nDROP VIEW IF EXISTS old_leads;" in fixed
    assert fix.compute(fixed, p, cfg) == []


def test_compute_offsets_count_the_bom_and_never_renames(proj):
    text = "\ufeff" + HEADER + "\nBEGIN;\nCREATE INDEX ON leads (email);\nCOMMIT;\n"
    p = write(proj, "Add-Leads.sql", text.lstrip("\ufeff"), bom=True)
    fixes = fix.compute(text, p, config_mod.load())
    at = text.index("INDEX") + len("INDEX")
    assert fixes == [
        fix.Fix(
            "missing-if-not-exists",
            "Name the index leads_email_idx and add IF NOT EXISTS",
            11,
            1,
            (fix.Edit(at, at, " IF NOT EXISTS leads_email_idx"),),
        )
    ]


def test_compute_skips_suppressed_and_disabled(proj):
    text = (
        HEADER + "\nBEGIN;\n-- migcheck: ignore missing-if-not-exists -- created by the app on start\n"
        "CREATE TABLE leads (id int);\nDROP VIEW v;\nCOMMIT;\n"
    )
    p = write(proj, "20251022_001_add_leads.sql", text)
    cfg = config_mod.load()
    assert [f.rule for f in fix.compute(text, p, cfg)] == ["missing-if-exists"]
    assert fix.compute(text, p, cfg.with_cli(ignore="missing-if-exists")) == []


# --- the command ---------------------------------------------------------------------------------


def test_fix_writes_minimal_edits_keeping_crlf_and_bom(proj, capsys):
    body = (
        "-- Step 1: the table\nCREATE TABLE leads (id int);  -- main table\ncreate index on leads (id);\nDROP VIEW v\n"
    )
    p = write(proj, "20251022_001_add_leads.sql", body, newline="\r\n", bom=True)
    code, out, err = run(
        capsys,
        "check",
        "--fix",
        "--select",
        "missing-if-not-exists,missing-if-exists,missing-transaction,missing-header,header-placeholder",
    )
    assert err == (
        "migcheck: fixed migrations/20251022_001_add_leads.sql: missing-header, missing-transaction, "
        "missing-if-not-exists (2), missing-if-exists\n"
    )
    assert (
        p.read_bytes()
        == b"\xef\xbb\xbf"
        + (
            "-- =====================================================\n"
            "-- MIGRATION: Add leads\n"
            "-- =====================================================\n"
            "-- Purpose: TODO(migcheck --fix)\n"
            "-- Impact: TODO(migcheck --fix)\n"
            "-- Rollback: TODO(migcheck --fix)\n"
            "-- Testing: TODO(migcheck --fix)\n"
            "-- =====================================================\n"
            "\n"
            "BEGIN;\n"
            "\n"
            "-- Step 1: the table\n"
            "CREATE TABLE IF NOT EXISTS leads (id int);  -- main table\n"
            "create index if not exists leads_id_idx on leads (id);\n"
            "DROP VIEW IF EXISTS v;\n"
            "\n"
            "COMMIT;\n"
        )
        .replace("\n", "\r\n")
        .encode()
    )
    assert code == 1  # the header's to-do is the author's: one finding for the four fields
    assert [l for l in out.splitlines() if "error[" in l or "warning[" in l] == [
        "migrations/20251022_001_add_leads.sql:4:4: error[header-placeholder] the Purpose, Impact, Rollback and "
        "Testing header fields still hold the TODO that `migcheck check --fix` wrote"
    ]
    # a second run changes nothing
    before = p.read_bytes()
    code, out2, err2 = run(capsys, "check", "--fix")
    assert err2 == "" and p.read_bytes() == before


def test_dry_run_prints_a_diff_and_writes_nothing(proj, capsys):
    text = HEADER + "\nBEGIN;\nDROP VIEW v;\nCOMMIT;\n"
    p = write(proj, "20251022_001_add_leads.sql", text)
    code, out, err = run(capsys, "check", "--fix", "--dry-run")
    assert (code, err) == (1, "migcheck: would fix migrations/20251022_001_add_leads.sql: missing-if-exists\n")
    assert out == (
        "--- a/migrations/20251022_001_add_leads.sql\n"
        "+++ b/migrations/20251022_001_add_leads.sql\n"
        "@@ -8,5 +8,5 @@\n"
        " -- =====================================================\n"
        " \n"
        " BEGIN;\n"
        "-DROP VIEW v;\n"
        "+DROP VIEW IF EXISTS v;\n"
        " COMMIT;\n"
    )
    assert p.read_text() == text
    p.write_text(text.replace("DROP VIEW v", "DROP VIEW IF EXISTS v"))
    assert run(capsys, "check", "--fix", "--dry-run") == (0, "", "")


def test_never_wraps_what_cannot_run_in_a_transaction(proj, capsys):
    text = (
        HEADER
        + "\nCREATE TABLE IF NOT EXISTS leads (id int);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON leads (id);\n"
    )
    p = write(proj, "20251022_001_add_leads.sql", text)
    code, out, err = run(capsys, "check", "--fix", "--select", "missing-transaction")
    assert err == (
        "migcheck: not fixed: migrations/20251022_001_add_leads.sql:10:1: missing-transaction: "
        "the file holds CREATE INDEX CONCURRENTLY, which cannot run in a transaction\n"
    )
    assert code == 1 and p.read_text() == text


def test_a_fix_that_brings_new_findings_is_discarded(proj, capsys):
    # wrapping DDL and a data change in one transaction: update-in-same-transaction-as-ddl
    text = (
        HEADER
        + "\nALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;\nUPDATE leads SET score = 0 WHERE score IS NULL;\n"
    )
    p = write(proj, "20251022_001_add_leads.sql", text)
    out = fix.compute_all(text, p, config_mod.load())
    assert out.fixes == []
    assert out.rejected == [
        ("missing-transaction", 10, 1, "the fixed file would get new findings (update-in-same-transaction-as-ddl)")
    ]


def test_renames_need_unsafe_fixes(proj, capsys):
    text = HEADER + "\nBEGIN;\nSELECT 1;\nCOMMIT;\n"
    p = write(proj, "20251022_1_Add_Leads.sql", text)
    code, out, err = run(capsys, "check", "--fix", "--select", "file-naming")
    assert err == (
        "migcheck: would rename migrations/20251022_1_Add_Leads.sql -> migrations/20251022_001_add_leads.sql "
        "(renaming needs --unsafe-fixes: other tooling may refer to the old name)\n"
    )
    assert code == 1 and p.exists()
    code, out, err = run(
        capsys, "check", "--fix", "--unsafe-fixes", "--select", "file-naming", "migrations/20251022_1_Add_Leads.sql"
    )
    assert err == "migcheck: renamed migrations/20251022_1_Add_Leads.sql -> migrations/20251022_001_add_leads.sql\n"
    assert code == 0 and out == "0 errors, 0 warnings in 1 file\n"
    assert not p.exists() and (proj / "migrations" / "20251022_001_add_leads.sql").read_text() == text


@pytest.mark.parametrize("argv", [["--dry-run"], ["--unsafe-fixes"]])
def test_fix_options_need_fix(proj, capsys, argv):
    code, out, err = run(capsys, "check", *argv)
    assert (code, out) == (2, "")
    assert err == "migcheck: error: --unsafe-fixes and --dry-run go with --fix\n"


def test_files_that_do_not_parse_are_left_alone(proj, capsys):
    text = "CREATE TABLE leads (id int;\nDROP VIEW v;\n"
    p = write(proj, "20251022_001_add_leads.sql", text)
    code, out, err = run(capsys, "check", "--fix", "--select", "missing-if-exists")
    assert p.read_text() == text and code == 1
    assert "parse-error" in out


# --- every fixture ----------------------------------------------------------------------------


def _fixture_files():
    return [pytest.param(fx, id=fx.stem) for fx in sorted(FIXTURES.glob("*.sql"))]


@pytest.mark.parametrize("fixture", _fixture_files())
def test_fixing_every_fixture_is_idempotent_and_clean(fixture):
    case = parse_case(fixture.read_bytes())
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        materialise(case, root, None)
        cfg = config_mod.load(root / "migcheck.toml", cwd=root)
        for rel in case.files:
            p = root / rel
            text = fix.decode(p.read_bytes()) if rel.endswith(".sql") else None
            if text is None:
                continue
            r = fix.fix_text(text, p, cfg)
            if r.new == text:
                continue
            assert fix._trees(r.new.lstrip("\ufeff")) is not None, f"{rel}: the fixed file does not parse"
            again = fix.fix_text(r.new, p, cfg)
            assert again.new == r.new and again.applied == [], f"{rel}: a second run changes it"
            after, _ = fix._findings(r.new.lstrip("\ufeff"), p, cfg, {x.rule for x in r.applied})
            rejected = {x[0] for x in r.rejected}
            left = [x for x in after if x.rule in {a.rule for a in r.applied} and x.rule not in rejected]
            assert left == [], f"{rel}: still reported after the fix"
            if "\r\n" in text:
                assert r.new.count("\r\n") == r.new.count("\n"), f"{rel}: line endings mixed"
            assert r.new.startswith("\ufeff") == text.startswith("\ufeff")


def test_a_locked_migration_is_not_fixed(proj, capsys):
    # fixing it would edit an applied migration: modified-migration would report it
    text = HEADER + "\nBEGIN;\nDROP VIEW v;\nCOMMIT;\n"
    p = write(proj, "20251022_001_add_leads.sql", text)
    assert run(capsys, "lock")[0] == 0
    code, out, err = run(capsys, "check", "--fix", "--select", "missing-if-exists,modified-migration")
    assert err == (
        "migcheck: not fixed: migrations/20251022_001_add_leads.sql:11:1: missing-if-exists: "
        "the fixed file would get new findings (modified-migration)\n"
    )
    assert p.read_text() == text and code == 0


# --- --fix must not make things worse (issue 24) ----------------------------------------------


def test_header_fix_takes_the_title_from_the_file_name_and_leaves_one_todo(proj, capsys):
    text = "-- Add a score to leads (quick fix)\n\nBEGIN;\nALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;\nCOMMIT;\n"
    p = write(proj, "20251027_006_Add-Lead-Score.sql", text)  # a name `file-naming` rejects
    code, out, err = run(capsys, "check", "--fix", "--select", "missing-header,header-placeholder")
    assert err == "migcheck: fixed migrations/20251027_006_Add-Lead-Score.sql: missing-header\n"
    assert p.read_text() == (
        "-- =====================================================\n"
        "-- MIGRATION: Add Lead Score\n"
        "-- =====================================================\n"
        "-- Purpose: TODO(migcheck --fix)\n"
        "-- Impact: TODO(migcheck --fix)\n"
        "-- Rollback: TODO(migcheck --fix)\n"
        "-- Testing: TODO(migcheck --fix)\n"
        "-- =====================================================\n"
        "\n" + text
    )
    # one finding for the author's to-do, not one per field
    assert code == 1
    assert [l for l in out.splitlines() if "error[" in l] == [
        "migrations/20251027_006_Add-Lead-Score.sql:4:4: error[header-placeholder] the Purpose, Impact, Rollback "
        "and Testing header fields still hold the TODO that `migcheck check --fix` wrote"
    ]


def test_examples_fix_brings_no_more_errors_and_says_each_refusal_once(project, capsys):
    import shutil

    shutil.copytree(Path(__file__).resolve().parent.parent / "examples", project / "examples")
    code, before, _ = run(capsys, "check", "--format", "json", "examples/migrations")
    code, out, err = run(capsys, "check", "--fix", "--format", "json", "examples/migrations")
    import json

    def count(doc, severity):
        return sum(1 for f in json.loads(doc)["findings"] if not f["suppressed"] and f["severity"] == severity)

    assert count(out, "error") <= count(before, "error") and count(out, "warning") < count(before, "warning")
    rules = [f["rule"] for f in json.loads(out)["findings"]]
    assert rules.count("missing-header") == 0 and rules.count("header-placeholder") == 2  # 003's, and one TODO
    header = (project / "examples/migrations/20251027_006_Add-Lead-Score.sql").read_text().splitlines()[1]
    assert header == "-- MIGRATION: Add Lead Score"
    refusals = [l for l in err.splitlines() if l.startswith("migcheck: not fixed:")]
    assert refusals == [
        "migcheck: not fixed: examples/migrations/20251027_006_Add-Lead-Score.sql:3:1: "
        "missing-transaction: the file holds CREATE INDEX CONCURRENTLY, which cannot run in a transaction"
    ]


def test_dry_run_says_which_fixes_need_unsafe_fixes(proj, capsys):
    text = HEADER + "\nBEGIN;\nSELECT 1;\nCOMMIT;\n"
    p = write(proj, "20251022_1_Add_Leads.sql", text)
    code, out, err = run(capsys, "check", "--fix", "--dry-run", "--select", "file-naming")
    assert err == (
        "migcheck: would rename migrations/20251022_1_Add_Leads.sql -> migrations/20251022_001_add_leads.sql "
        "(renaming needs --unsafe-fixes: other tooling may refer to the old name)\n"
    )
    assert (code, out) == (0, "")  # `--fix` alone would change nothing
    code, out, err = run(capsys, "check", "--fix", "--dry-run", "--unsafe-fixes", "--select", "file-naming")
    assert (
        err == "migcheck: would rename migrations/20251022_1_Add_Leads.sql -> migrations/20251022_001_add_leads.sql\n"
    )
    assert (code, out) == (1, "") and p.exists()
