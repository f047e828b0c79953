"""What a rule reads of the other migrations (issue 14): the schema model (analysis/schema) reads
the effects of only the earlier migrations that name the table or index a rule asks about (renames
included), and mixed-changes in a pool worker defers to the main process only when the directory
matters."""

from pathlib import Path

import pytest

from migcheck import config as cfgmod
from migcheck import engine, registry
from migcheck.analysis import schema as _schema
from migcheck.rules import mixed_changes

HEADER = "-- MIGRATION: {v}\n-- Purpose: test\n-- Impact: none\n-- Rollback: rollback\n-- Testing: staging\n"


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "migcheck.toml").write_text('migrations = ["migrations"]\nchangelog = false\n')
    for name, sql in files.items():
        p = tmp_path / "migrations" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(HEADER.format(v=name[:12]) + "BEGIN;\n" + sql + "\nCOMMIT;\n")
    return tmp_path


def check(root: Path, *paths: str, select: str):
    cfg = cfgmod.load(None, root).with_cli(select=select)
    return engine.check([str(root / p) for p in paths], cfg, root)


@pytest.fixture
def parsed_for_history(monkeypatch):
    """The migrations whose effects the schema model read."""
    seen: list[str] = []
    real = _schema._effects

    def spy(m):
        seen.append(m.name)
        return real(m)

    monkeypatch.setattr(_schema, "_effects", spy)
    return seen


def test_index_followed_through_its_renames_and_its_tables_renames(tmp_path, parsed_for_history):
    root = project(
        tmp_path,
        {
            "20250101_001_leads.sql": "CREATE TABLE IF NOT EXISTS leads (id bigint PRIMARY KEY, email text);\n"
            "CREATE INDEX IF NOT EXISTS leads_email_idx ON leads (email);",
            "20250102_001_unrelated.sql": "CREATE TABLE IF NOT EXISTS audit (id bigint PRIMARY KEY);",
            "20250103_001_rename_index.sql": "ALTER INDEX IF EXISTS leads_email_idx RENAME TO contacts_email_idx;",
            "20250104_001_rename_table.sql": "ALTER TABLE IF EXISTS leads RENAME TO contacts;",
            "20250105_001_drop.sql": "DROP INDEX IF EXISTS contacts_email_idx;",
        },
    )
    res = check(root, "migrations/20250105_001_drop.sql", select="require-concurrent-index-deletion")
    [finding] = res.findings
    assert "lock on contacts" in finding.message, finding.message
    assert "20250102_001_unrelated.sql" not in parsed_for_history
    assert {"20250101_001_leads.sql", "20250103_001_rename_index.sql", "20250104_001_rename_table.sql"} <= set(
        parsed_for_history
    )


def test_column_type_follows_a_chain_of_table_renames_and_skips_the_rest(tmp_path, parsed_for_history):
    root = project(
        tmp_path,
        {
            "20250101_001_leads.sql": "CREATE TABLE IF NOT EXISTS leads (id integer PRIMARY KEY, note varchar(10));",
            "20250102_001_unrelated.sql": "CREATE TABLE IF NOT EXISTS audit (id integer PRIMARY KEY);",
            "20250103_001_rename.sql": "ALTER TABLE IF EXISTS leads RENAME TO contacts;",
            "20250104_001_rename.sql": "ALTER TABLE IF EXISTS contacts RENAME TO people;",
            # varchar(10) -> varchar(20) only widens (no rewrite); integer -> bigint rewrites the table
            "20250105_001_widen.sql": "ALTER TABLE people ALTER COLUMN note TYPE varchar(20);\n"
            "ALTER TABLE people ALTER COLUMN id TYPE bigint;",
        },
    )
    res = check(root, "migrations/20250105_001_widen.sql", select="changing-column-type")
    assert [(f.rule, f.line) for f in res.findings] == [("changing-column-type", 8)]
    assert "20250102_001_unrelated.sql" not in parsed_for_history
    assert "20250101_001_leads.sql" in parsed_for_history


def _mixed(tmp_path, files, target):
    root = project(tmp_path, files)
    cfg = cfgmod.load(None, root).with_cli(select="mixed-changes")
    proj = engine.collect([str(root / "migrations")], cfg, root)
    f = next(x for x in proj.files if x.name == target)
    return f, proj, cfg


def test_mixed_changes_in_a_worker_decides_alone_when_the_directory_cannot_matter(tmp_path):
    f, proj, cfg = _mixed(
        tmp_path,
        {
            "20250101_001_a.sql": "CREATE TABLE IF NOT EXISTS a (id bigint PRIMARY KEY);\n"
            "CREATE INDEX IF NOT EXISTS a_id ON a (id);",
        },
        "20250101_001_a.sql",
    )
    ctx = engine.Context(cfg, proj, partial=True)
    assert len(mixed_changes.changes(f, ctx)) == 1
    assert not ctx.touched  # the project was not read


@pytest.mark.parametrize(
    "sql",
    [
        # an index another migration created names the table: only the directory knows which
        "CREATE TABLE IF NOT EXISTS b (id bigint PRIMARY KEY);\nALTER INDEX IF EXISTS a_id RENAME TO a_id2;",
        # two groups: a foreign key declared elsewhere could tie them
        "CREATE TABLE IF NOT EXISTS b (id bigint PRIMARY KEY);\nCREATE TABLE IF NOT EXISTS c (id bigint PRIMARY KEY);",
    ],
)
def test_mixed_changes_in_a_worker_defers_when_the_directory_can_matter(tmp_path, sql):
    f, proj, cfg = _mixed(
        tmp_path,
        {
            "20250101_001_a.sql": "CREATE TABLE IF NOT EXISTS a (id bigint PRIMARY KEY);\n"
            "CREATE INDEX IF NOT EXISTS a_id ON a (id);",
            "20250102_001_b.sql": sql,
        },
        "20250102_001_b.sql",
    )
    with pytest.raises(registry.Deferred):
        mixed_changes.changes(f, engine.Context(cfg, proj, partial=True))
    # the main process then decides with the directory, as a run in one process does
    whole = mixed_changes.changes(f, engine.Context(cfg, proj))
    assert whole


def test_a_deferred_rule_is_run_again_in_the_main_process(tmp_path):
    f, proj, cfg = _mixed(
        tmp_path,
        {
            "20250101_001_a.sql": "CREATE TABLE IF NOT EXISTS a (id bigint PRIMARY KEY);",
            "20250102_001_b.sql": "CREATE TABLE IF NOT EXISTS b (id bigint PRIMARY KEY);\n"
            "CREATE TABLE IF NOT EXISTS c (id bigint PRIMARY KEY);",
        },
        "20250102_001_b.sql",
    )
    rules = cfg.enabled_rules()
    file_rules = [r for r in rules.values() if r.scope == "file"]
    worker = engine.check_file(f, file_rules, rules, engine.Context(cfg, proj, partial=True))
    assert worker.deferred == ("mixed-changes",) and worker.hits == []
    engine.run_deferred(f, worker, rules, engine.Context(cfg, proj))
    alone = engine.check_file(f, file_rules, rules, engine.Context(cfg, proj))
    assert worker.deferred == () and worker.contextual
    assert sorted(worker.hits) == sorted(alone.hits) and worker.hits
