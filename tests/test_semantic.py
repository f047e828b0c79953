"""One changed file recomputes that file and what reads it (issue 22): results that read the other
files only through their summaries are kept while those summaries are the same
(engine.SUMMARY_ONLY_RULES, cache.semantic_fp)."""

import json
from pathlib import Path

import pytest

# examples/ plus every rule fixture without a configuration of its own, and the CLI's answer
from test_cache_jobs import realistic, run  # noqa: F401  (realistic: a fixture)

from migcheck import engine, files, registry, summaries

LEADS = "migrations/20251022_001_add_lead_status.sql"


# --- the rules that claim to read other files only through summaries ----------------------------

# What a file holds beyond its identity: reading it of another file makes a result depend on
# that file's bytes, which SUMMARY_ONLY_RULES must not (summaries are computed inside
# summaries.summary, which may read anything).
SEALED = (
    "data",
    "_loaded",
    "_parsed",
    "text",
    "statements",
    "problems",
    "all_statements",
    "comments",
    "header",
    "positions",
    "node_kinds",
    "read_problem",
)


def test_summary_only_rules_read_nothing_else_of_other_files(realistic, capsys, monkeypatch):
    state = {"rule": None, "current": None, "depth": 0}
    seen: set[tuple[str, str]] = set()

    def sealed(name, orig):
        def get(self):
            if state["rule"] in engine.SUMMARY_ONLY_RULES and state["depth"] == 0 and self is not state["current"]:
                seen.add((state["rule"], name))
            return orig.__get__(self, type(self))

        return property(get)

    for name in SEALED:
        monkeypatch.setattr(files.MigrationFile, name, sealed(name, files.MigrationFile.__dict__[name]))
    real_call, real_check, real_summary = engine._call, engine.check_file, summaries.summary
    real_deferred = engine.run_deferred

    def call(rule, target, ctx, *a, **k):
        state["rule"], before = rule.id, state["rule"]
        try:
            return real_call(rule, target, ctx, *a, **k)
        finally:
            state["rule"] = before

    def check_file(f, *a, **k):
        state["current"] = f
        try:
            return real_check(f, *a, **k)
        finally:
            state["current"] = None

    def run_deferred(f, *a, **k):  # (a rule a pool worker deferred, run again on its file)
        state["current"] = f
        try:
            return real_deferred(f, *a, **k)
        finally:
            state["current"] = None

    def summary(f, kind, compute):
        state["depth"] += 1
        try:
            return real_summary(f, kind, compute)
        finally:
            state["depth"] -= 1

    monkeypatch.setattr(engine, "_call", call)
    monkeypatch.setattr(engine, "check_file", check_file)
    monkeypatch.setattr(engine, "run_deferred", run_deferred)
    monkeypatch.setattr(summaries, "summary", summary)
    rules = ",".join(sorted(engine.SUMMARY_ONLY_RULES))
    code, out, err = run(capsys, "check", "--no-cache", "--jobs", "1", "--select", rules, "migrations", "fixtures")
    assert code == 1 and "internal error" not in err
    assert seen == set(), sorted(seen)


def test_a_planted_raw_read_is_caught(realistic, capsys, monkeypatch):
    """The test above fails when a summary-only rule reads another file's text."""
    rules = registry.load()
    real = registry.impl(rules["duplicate-version"])

    def nosy(project, ctx):
        for f in project.files:
            f.text  # noqa: B018  (what a rule must not do)
        yield from real(project, ctx)

    monkeypatch.setitem(registry._RULES, "duplicate-version", rules["duplicate-version"].replace(func=nosy))
    with pytest.raises(AssertionError, match="duplicate-version"):
        test_summary_only_rules_read_nothing_else_of_other_files(realistic, capsys, monkeypatch)


# --- what a changed file recomputes ------------------------------------------------------------


def counting(monkeypatch) -> dict[str, int]:
    """Count the files parsed and the rollback pairs compared."""
    from migcheck import source
    from migcheck.analysis import rollback

    counts = {"parsed": 0, "compared": 0}
    real_parse, real_cmp = source.parse, rollback.comparison

    def parse(*a, **k):
        counts["parsed"] += 1
        return real_parse(*a, **k)

    def comparison(*a, **k):
        counts["compared"] += 1
        return real_cmp(*a, **k)

    monkeypatch.setattr(source, "parse", parse)
    monkeypatch.setattr(rollback, "comparison", comparison)
    return counts


def test_a_comment_added_recomputes_that_file_only(realistic, capsys, monkeypatch):
    run(capsys, "check", "--format", "json", "migrations")
    p = realistic / LEADS
    p.write_text(p.read_text() + "\n-- reviewed again\n")
    counts = counting(monkeypatch)
    after = run(capsys, "check", "--format", "json", "migrations")
    assert counts == {"parsed": 1, "compared": 0}  # the edited file; no rollback pair compared again
    assert after == run(capsys, "check", "--format", "json", "--no-cache", "migrations")


EDITS = {
    "comment": lambda t: t + "\n-- a note\n",
    "line above": lambda t: "-- a note\n" + t,  # statement positions move: findings on it move too
    "ddl": lambda t: t.replace("COMMIT;", "ALTER TABLE leads ADD COLUMN IF NOT EXISTS extra text;\nCOMMIT;"),
    "drop": lambda t: t.replace("COMMIT;", "DROP INDEX IF EXISTS idx_leads_status;\nCOMMIT;"),
    "index": lambda t: t.replace("COMMIT;", "CREATE INDEX IF NOT EXISTS idx_x ON leads (id);\nCOMMIT;"),
    "broken": lambda t: t.replace("COMMIT;", "ALTER TABLE leads ADD COLUMN;\nCOMMIT;"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_after_any_edit_the_output_is_that_of_a_fresh_run(realistic, capsys, edit):
    for target in (
        LEADS,
        "migrations/rollback/20251022_001_rollback.sql",
        "migrations/20251024_003_add_lead_notes.sql",
    ):
        run(capsys, "check", "--format", "json", "migrations")
        p = realistic / target
        p.write_text(EDITS[edit](p.read_text()))
        for argv in (["migrations"], [target]):  # the directory, and the one file (pre-commit)
            got = run(capsys, "check", "--format", "json", *argv)
            fresh = run(capsys, "check", "--format", "json", "--no-cache", *argv)
            assert got == fresh, (edit, target, argv)


def test_files_added_and_removed_are_seen(realistic, capsys):
    run(capsys, "check", "--format", "json", "migrations")
    (realistic / "migrations" / "20251029_008_more.sql").write_text("BEGIN;\nDROP TABLE leads;\nCOMMIT;\n")
    got = run(capsys, "check", "--format", "json", "migrations")
    assert got == run(capsys, "check", "--format", "json", "--no-cache", "migrations")
    assert any(f["rule"] == "drop-table" for f in json.loads(got[1])["findings"])
    (realistic / "migrations" / "rollback" / "20251022_001_rollback.sql").unlink()
    got = run(capsys, "check", "--format", "json", "migrations")
    assert got == run(capsys, "check", "--format", "json", "--no-cache", "migrations")


# --- the schema model's readers (the lock rules that read an earlier migration's table) ---------

HISTORY = {
    "20250101_001_create_accounts.sql": "CREATE TABLE accounts (id bigint PRIMARY KEY, score int);\n",
    "20250102_002_widen_score.sql": "ALTER TABLE accounts ALTER COLUMN score TYPE bigint;\n",
}


@pytest.fixture
def history(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    (root / "migrations").mkdir(parents=True)
    for name, sql in HISTORY.items():
        (root / "migrations" / name).write_text(sql)
    (root / "migcheck.toml").write_text('migrations = ["migrations"]\n')
    monkeypatch.chdir(root)
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(tmp_path / "cache"))
    return root


@pytest.mark.parametrize("note", ["\n-- widened later\n", "/* score: see 002 */\n"])
def test_a_comment_in_an_earlier_migration_keeps_what_read_its_table(history, capsys, monkeypatch, note):
    """``changing-column-type`` on 002 reads 001 (the column's old type): a comment added to 001
    (words in it, even the table's and column's names) recomputes 001 only."""
    first = run(capsys, "check", "--format", "json", "migrations")
    assert any(f["rule"] == "changing-column-type" for f in json.loads(first[1])["findings"])
    p = history / "migrations" / "20250101_001_create_accounts.sql"
    p.write_text(p.read_text() + note)
    counts = counting(monkeypatch)
    after = run(capsys, "check", "--format", "json", "migrations")
    assert counts["parsed"] == 1  # the edited file only
    assert after == run(capsys, "check", "--format", "json", "--no-cache", "migrations")


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("score int", "score bigint"),  # the old type changes: the finding goes
        lambda t: t.replace("accounts", "people"),  # the table is another
        lambda t: "-- a note\n" + t,  # positions move
    ],
)
def test_an_edit_of_an_earlier_migration_is_seen_by_what_read_it(history, capsys, edit):
    run(capsys, "check", "--format", "json", "migrations")
    p = history / "migrations" / "20250101_001_create_accounts.sql"
    p.write_text(edit(p.read_text()))
    got = run(capsys, "check", "--format", "json", "migrations")
    assert got == run(capsys, "check", "--format", "json", "--no-cache", "migrations")


def test_after_one_edit_unknown_dependency_reads_no_other_file(realistic, capsys, monkeypatch):
    """``unknown-dependency`` runs again when any file changes: whether each migration may
    declare a dependency comes from the pack (issue 22: it read and normalised every
    migration's text, 0.4 s of one changed file in a 3,500-migration directory)."""
    from migcheck import fsutil
    from migcheck.cache import Cache

    monkeypatch.setattr(Cache, "RACY_NS", 0)  # (the stat memo keeps every file: none is read for its digest)
    run(capsys, "check", "--format", "json", "migrations", "fixtures")
    p = realistic / LEADS
    p.write_text(p.read_text() + "\n-- reviewed again\n")
    read: list[str] = []
    real = fsutil.read_regular
    monkeypatch.setattr(fsutil, "read_regular", lambda path, *a, **k: read.append(str(path)) or real(path, *a, **k))
    after = run(capsys, "check", "--format", "json", "migrations", "fixtures")
    others = {r for r in read if r.endswith(".sql") and r != str(p)}
    # (but those that do declare one: their header is read again)
    assert others and all("depends" in Path(r).read_text().lower() for r in others), sorted(others)
    monkeypatch.setattr(fsutil, "read_regular", real)
    assert after == run(capsys, "check", "--format", "json", "--no-cache", "migrations", "fixtures")
