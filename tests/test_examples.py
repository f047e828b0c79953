"""examples/migrations: every planted flaw is found, and nothing else is reported."""

import json
from pathlib import Path

from migcheck.cli import main

REPO = Path(__file__).resolve().parent.parent

EXPECTED = [
    ("20251022_001_add_lead_status.sql", 12, "require-lock-timeout", False),
    ("20251022_001_add_lead_status.sql", 14, "update-in-same-transaction-as-ddl", False),
    ("20251022_001_add_lead_status.sql", 16, "require-concurrent-index", False),
    ("20251023_002_add_email_validation_trigger.sql", 29, "require-lock-timeout", False),
    ("20251024_003_add_lead_notes.sql", 6, "header-placeholder", False),
    ("20251024_003_add_lead_notes.sql", 12, "require-lock-timeout", False),
    ("20251024_003_add_lead_notes.sql", 12, "rls-disabled", False),
    ("20251024_003_add_lead_notes.sql", 22, "missing-if-not-exists", False),
    ("20251024_003_add_lead_notes.sql", 23, "missing-if-not-exists", False),
    ("20251025_004_archive_old_leads.sql", 1, "missing-rollback-file", False),
    ("20251025_004_archive_old_leads.sql", 12, "rls-disabled", False),
    ("20251025_004_archive_old_leads.sql", 17, "delete-statement", False),
    ("20251025_004_archive_old_leads.sql", 20, "drop-table", True),
    ("20251025_004_archive_old_leads.sql", 20, "require-lock-timeout", False),
    ("20251025_004_archive_old_leads.sql", 22, "drop-table", False),
    ("20251025_004_archive_old_leads.sql", 22, "missing-if-exists", False),
    ("20251027_006_Add-Lead-Score.sql", 1, "changelog-missing", False),
    ("20251027_006_Add-Lead-Score.sql", 1, "file-naming", False),
    ("20251027_006_Add-Lead-Score.sql", 1, "missing-header", False),
    ("20251027_006_Add-Lead-Score.sql", 1, "missing-rollback-file", False),
    ("20251027_006_Add-Lead-Score.sql", 1, "sequence-gap", False),
    ("20251027_006_Add-Lead-Score.sql", 3, "missing-if-not-exists", False),
    ("20251027_006_Add-Lead-Score.sql", 3, "missing-transaction", False),
    ("20251027_006_Add-Lead-Score.sql", 3, "require-lock-timeout", False),
    ("20251027_006_Add-Lead-Score.sql", 5, "update-without-where", False),
    ("20251027_006_Add-Lead-Score.sql", 7, "missing-if-not-exists", False),
    ("20251028_007_backfill_lead_source.sql", 1, "changelog-missing", False),
    ("rollback/20251021_099_rollback.sql", 1, "orphan-rollback", False),
    ("rollback/20251023_002_rollback.sql", 1, "rollback-incomplete", False),
    ("rollback/20251028_007_rollback.sql", 1, "empty-rollback", False),
]


def test_examples_findings_are_exactly_the_planted_ones(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    code = main(["check", "--format", "json", "examples/migrations"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    got = [
        (f["path"].removeprefix("examples/migrations/"), f["line"], f["rule"], f["suppressed"]) for f in doc["findings"]
    ]
    assert got == EXPECTED
    assert doc["summary"]["files"] == 13
