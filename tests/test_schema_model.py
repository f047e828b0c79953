"""The schema model (migcheck.analysis.schema): the catalog just before a statement, where each
table came from (this file, this change set, existing), why a table is provably empty, and the
facts of each statement it replays (analysis.specs, kept in the per-file effects summary)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migcheck import config as cfgmod
from migcheck import engine
from migcheck.analysis import effects as fx
from migcheck.analysis import schema, specs
from migcheck.analysis.effects import decode_effects, encode_effects, sql_effects


def catalog(sql: str) -> schema.Catalog:
    cat = schema.Catalog()
    for e in sql_effects(sql):
        cat.apply(e, schema.FILE, "m.sql")
    return cat


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "migcheck.toml").write_text('migrations = ["migrations"]\nchangelog = false\n')
    for name, sql in files.items():
        p = tmp_path / "migrations" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("BEGIN;\n" + sql + "\nCOMMIT;\n")
    return tmp_path


def check(root: Path, *paths: str, select: str):
    cfg = cfgmod.load(None, root).with_cli(select=select)
    return engine.check([str(root / p) for p in paths], cfg, root)


# --- what a statement tells the model ------------------------------------------------------------


def test_specs_survive_the_summary_codec():
    effs = sql_effects(
        "CREATE TABLE t (id serial PRIMARY KEY, a varchar(10) NOT NULL DEFAULT '', b int REFERENCES u (id));\n"
        "CREATE UNIQUE INDEX t_a ON t (a, lower(a)) WHERE a <> '';\n"
        "ALTER TABLE t ADD CONSTRAINT t_b_nn CHECK (b IS NOT NULL) NOT VALID, ALTER COLUMN a TYPE text;\n"
        "ALTER TABLE t VALIDATE CONSTRAINT t_b_nn;\n"
        "UPDATE t SET a = x.name FROM u AS x WHERE x.id = t.b;\n"
        "DELETE FROM t;"
    )
    back = decode_effects(__import__("json").loads(__import__("json").dumps(encode_effects(effs))))
    assert [e.spec for e in back] == [e.spec for e in effs]
    assert all(e.spec is None or specs.valid(e.spec) for e in effs)
    table = effs[0].spec
    assert table[2][1] == ("column", "a", ("varchar", (10,), False), True, True, "", False)
    assert table[2][0][5] == specs.SEQUENCE_SERIAL
    assert next(e.spec for e in effs if e.obj.kind == fx.INDEX) == ("index", True, True, ("a", "lower(a)"), False, True)
    update = next(e for e in effs if e.op == fx.DATA and e.attr == "UPDATE")
    assert update.spec == ("data", False, ("u.name",), (("a", "u.name"),))
    assert next(e for e in effs if e.attr == "DELETE").spec == ("data", True, (), ())


def test_a_damaged_spec_is_refused_by_the_codec():
    raw = encode_effects(sql_effects("ALTER TABLE t ALTER COLUMN a TYPE bigint"))
    raw[0]["spec"] = ["type", ["int8", "x", False]]
    with pytest.raises(ValueError):
        decode_effects(raw)


def test_not_null_checks_know_what_they_prove():
    assert specs.not_null_columns(None) == (set(), False)
    spec = sql_effects("ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL AND b IS NOT NULL)")[0].spec
    assert spec[4] == ("a", "b") and spec[5] is True
    spec = sql_effects("ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL AND a <> '')")[0].spec
    assert spec[4] == ("a",) and spec[5] is False


# --- the catalog ------------------------------------------------------------------------------------


def test_columns_constraints_and_indexes_follow_renames_and_drops():
    cat = catalog(
        "CREATE TABLE leads (id int PRIMARY KEY, note varchar(10), email text);\n"
        "ALTER TABLE leads ADD CONSTRAINT leads_email_nn CHECK (email IS NOT NULL) NOT VALID;\n"
        "CREATE UNIQUE INDEX leads_email_idx ON leads (email);\n"
        "ALTER TABLE leads RENAME COLUMN email TO mail;\n"
        "ALTER TABLE leads RENAME TO contacts;\n"
        "ALTER TABLE contacts ALTER COLUMN note TYPE varchar(20);\n"
        "ALTER TABLE contacts VALIDATE CONSTRAINT leads_email_nn;\n"
        "ALTER INDEX leads_email_idx RENAME TO contacts_mail_idx;"
    )
    assert cat.table("leads") is None
    t = cat.table("public.contacts")
    assert t.columns["note"].type == ("varchar", (20,), False)
    assert t.primary_key() == ("id",) and t.columns["id"].not_null
    assert t.validated_not_null_check("mail").name == "leads_email_nn"
    idx = cat.index("contacts_mail_idx")
    assert (idx.table, idx.keys, idx.unique) == ("contacts", ("mail",), True)
    cat2 = catalog(
        "CREATE TABLE t (a int, b int, CONSTRAINT t_ab UNIQUE (a, b));\n"
        "CREATE INDEX t_b ON t (b);\nALTER TABLE t DROP COLUMN b;"
    )
    assert "t_ab" not in cat2.table("t").constraints and cat2.index("t_b") is None and cat2.index("t_ab") is None


def test_provably_empty_and_why():
    cat = catalog("CREATE TABLE notes (id int);")
    assert cat.table("notes").empty.startswith("created earlier in this file")
    cat = catalog("CREATE TABLE notes (id int);\nINSERT INTO notes VALUES (1);")
    assert cat.table("notes").empty is None
    cat = catalog("CREATE TABLE notes AS SELECT 1 AS id;")
    assert cat.table("notes").empty is None
    cat = catalog("CREATE TABLE notes AS SELECT 1 AS id WITH NO DATA;")
    assert cat.table("notes").empty is not None
    cat = catalog("ALTER TABLE leads ADD COLUMN tenant_id bigint NOT NULL;")
    assert "NOT NULL column tenant_id without a DEFAULT" in cat.table("leads").empty
    assert cat.table("leads").origin == schema.EXISTING
    cat = catalog("ALTER TABLE leads ADD COLUMN tenant_id bigint NOT NULL DEFAULT 0;")
    assert cat.table("leads").empty is None
    cat = catalog("TRUNCATE leads;")
    assert "deleted on line 1 (TRUNCATE)" in cat.table("leads").empty
    cat = catalog("DELETE FROM leads WHERE id > 10;")
    assert cat.table("leads") is None
    cat = catalog("CREATE TABLE notes (id int);\nINSERT INTO notes VALUES (1);\nTRUNCATE notes;")
    assert "deleted on line 3" in cat.table("notes").empty
    cat = catalog("CREATE TABLE notes (id int);\nCALL fill_notes();")
    assert cat.table("notes").empty is None  # SQL the model cannot see may have filled it


def test_timeline_follows_do_blocks_and_renames(tmp_path):
    root = project(
        tmp_path,
        {
            "20250101_001_a.sql": (
                "DO $$ BEGIN CREATE TABLE IF NOT EXISTS tmp_leads (id int); END $$;\n"
                "CREATE INDEX i1 ON tmp_leads (id);\n"
                "ALTER TABLE tmp_leads RENAME TO leads2;\n"
                "CREATE INDEX i2 ON leads2 (id);\n"
                "DROP TABLE leads2;\n"
                "CREATE INDEX i3 ON leads2 (id);"
            )
        },
    )
    cfg = cfgmod.load(None, root)
    proj = engine.collect([str(root / "migrations")], cfg, root)
    f = proj.files[0]
    idx = [s for s in f.all_statements if s.kind == "IndexStmt"]
    assert [schema.is_new(f, s, s.node["relation"]["relname"]) for s in idx] == [True, True, False]
    assert schema.provenance(f, idx[0], "tmp_leads").origin == schema.FILE


# --- the change set ------------------------------------------------------------------------------


def test_change_set_is_the_files_given_one_by_one(tmp_path):
    root = project(
        tmp_path,
        {
            "20250101_001_a.sql": "CREATE TABLE IF NOT EXISTS a (id int);",
            "20250102_001_b.sql": "CREATE TABLE IF NOT EXISTS b (id int);",
            "20250103_001_c.sql": "CREATE INDEX IF NOT EXISTS b_id ON b (id);\nCREATE INDEX IF NOT EXISTS a_id ON a (id);",
        },
    )
    cfg = cfgmod.load(None, root)
    whole = engine.collect([str(root / "migrations")], cfg, root)
    assert whole.change_set == frozenset()
    given = engine.collect(
        [str(root / "migrations/20250102_001_b.sql"), str(root / "migrations/20250103_001_c.sql")], cfg, root
    )
    c = next(f for f in given.files if f.name.startswith("20250103"))
    assert [m.name for m in given.changes_before(c)] == ["20250102_001_b.sql"]
    b_idx, a_idx = [s for s in c.statements if s.kind == "IndexStmt"]
    assert schema.is_new(c, b_idx, "b") and not schema.is_new(c, a_idx, "a")
    assert schema.provenance(c, b_idx, "b").origin == schema.CHANGE
    res = check(
        root, "migrations/20250102_001_b.sql", "migrations/20250103_001_c.sql", select="require-concurrent-index"
    )
    assert [(f.path, f.line) for f in res.findings] == [("migrations/20250103_001_c.sql", 3)]
    # every migration of the directory given one by one (a shell glob): the whole history
    every = engine.collect([str(p) for p in sorted((root / "migrations").glob("*.sql"))], cfg, root)
    assert every.changes_before(next(f for f in every.files if f.name.startswith("20250103"))) == []
    res = check(
        root,
        *[f"migrations/{p.name}" for p in sorted((root / "migrations").glob("*.sql"))],
        select="require-concurrent-index",
    )
    assert sorted(f.line for f in res.findings) == [2, 3]


# --- findings the model rewords ---------------------------------------------------------------------


def test_drop_column_says_the_data_was_copied(tmp_path):
    root = project(
        tmp_path,
        {
            "20250101_001_a.sql": (
                "UPDATE leads SET score_v2 = legacy_score, rank_v2 = rank;\n"
                "ALTER TABLE leads DROP COLUMN legacy_score;\n"
                "ALTER TABLE leads DROP COLUMN rank, DROP COLUMN extra;\n"
                "INSERT INTO archive (id, notes) SELECT l.id, l.notes FROM leads AS l;\n"
                "ALTER TABLE leads DROP COLUMN notes;\n"
                "UPDATE leads SET email = lower(email);\n"
                "ALTER TABLE leads DROP COLUMN email;"
            )
        },
    )
    res = check(root, "migrations", select="drop-column")
    copied, partly, qualified, lost = [f.message for f in res.findings]
    assert "its values were copied elsewhere earlier in this file (line 2), so the data is kept" in copied
    assert (
        "the data of extra in every row is lost (the values of rank were copied elsewhere earlier in this "
        "file, line 2)" in partly
    )
    assert "copied elsewhere earlier in this file (line 5)" in qualified
    assert "the data in every row is lost" in lost  # changed in place is not copied elsewhere


def test_a_backfill_on_the_guidelines_layout_is_reported_for_its_second_run(tmp_path):
    # the guidelines re-run migrations by hand: the first run overwrites nothing, a second one would
    root = project(
        tmp_path,
        {
            "20250101_001_a.sql": (
                "ALTER TABLE leads ADD COLUMN IF NOT EXISTS tier integer;\n"
                "UPDATE leads SET tier = 5;\n"
                "UPDATE leads SET score = 0;"
            )
        },
    )
    res = check(root, "migrations", select="update-without-where")
    backfill, plain = [(f.line, f.message, f.help) for f in res.findings]
    assert backfill[0] == 3
    assert (
        "its first run overwrites nothing (tier: it was added earlier in this file and nothing wrote it since), "
        "but the guidelines make a migration re-runnable, and a second run rewrites every value written since"
    ) in backfill[1]
    assert "`WHERE tier IS NULL`" in backfill[2]
    assert plain[0] == 4 and "it rewrites every row of the table" in plain[1]
