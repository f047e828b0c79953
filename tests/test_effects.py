"""The schema-effect model (migcheck.analysis.effects) and the rules built on it (rollback-incomplete,
rollback-data-change): what statements do, what a rollback leaves behind, where findings go."""

import pytest
from harness import parse_case, run_case

from migcheck.analysis import effects as fx


def effects(sql, op=None):
    out = fx.sql_effects(sql)
    return [e for e in out if op is None or e.op == op]


def left(migration, rollback, history=None):
    """Leftovers as (what, label) pairs, sorted."""
    cmp = fx.compare(fx.sql_effects(migration), fx.sql_effects(rollback), history)
    return sorted((l.what, l.obj.label()) for l in cmp.leftovers)


# --- statement effects -------------------------------------------------------------------------


def test_create_table_brings_its_constraints_and_serial_sequence():
    got = {
        (e.op, e.obj.label(), e.guessed)
        for e in effects(
            "CREATE TABLE s.t (id serial PRIMARY KEY, a int REFERENCES x, b int CHECK (b > 0), UNIQUE (a, b))"
        )
    }
    assert got == {
        ("create", "table s.t", False),
        ("create", "sequence s.t_id_seq", True),
        ("create", "constraint t_pkey on s.t", True),
        ("create", "constraint t_a_fkey on s.t", True),
        ("create", "constraint t_b_check on s.t", True),
        ("create", "constraint t_a_b_key on s.t", True),
    }


def test_generated_names_follow_postgresql():
    (idx,) = effects("CREATE INDEX ON leads (email, lower(name))")
    assert idx.obj.name == "leads_email_expr_idx" and idx.guessed and idx.on == fx.Obj("table", "leads")
    con = effects("ALTER TABLE modlog ADD CHECK (a = 1 OR b = 2)")[0]
    assert con.obj.name == "modlog_check"  # several columns: no column in the name
    assert fx.generated_name("x" * 40, "y" * 40, "idx") == "x" * 29 + "_" + "y" * 29 + "_idx"
    assert len(fx.generated_name("x" * 40, "y" * 40, "idx")) == 63


def test_routines_by_name_and_argument_types():
    (create,) = effects("CREATE FUNCTION f(a int, OUT b text, VARIADIC c integer[]) LANGUAGE sql AS 'select 1'")
    assert create.obj.args == ("int4", "int4[]")
    assert create.obj.signature() == "f(integer, integer[])"
    drop_all, drop_none, drop_some = effects("DROP FUNCTION f, g(), h(character varying, bool)")
    assert drop_all.obj.args is None and drop_none.obj.args == () and drop_some.obj.args == ("varchar", "bool")
    assert fx.same(drop_all.obj, create.obj)
    assert not fx.same(fx.Obj("function", "f", args=("text",)), create.obj)


def test_names_schemas_and_quotes():
    assert fx.same(fx.Obj("table", "leads", "public"), fx.Obj("table", "leads"))
    assert not fx.same(fx.Obj("table", "leads", "app"), fx.Obj("table", "leads", "public"))
    assert not fx.same(fx.Obj("table", "Leads"), fx.Obj("table", "leads"))
    assert fx.same(fx.Obj("view", "v"), fx.Obj("table", "v"))  # one namespace for relations
    (quoted,) = effects('CREATE TABLE "Lead Notes" (id int)')
    assert quoted.obj.qualified() == '"Lead Notes"'
    after_set = effects("SET search_path TO app; CREATE TABLE t (id int)")
    assert after_set[0].obj.schema == "app"


def test_alter_table_effects():
    got = [
        (e.op, e.obj.label(), e.attr, e.value)
        for e in effects(
            "ALTER TABLE t ADD COLUMN c int, DROP COLUMN d, ALTER COLUMN e TYPE varchar(20), "
            "ALTER COLUMN e SET NOT NULL, ALTER COLUMN e DROP DEFAULT, ENABLE ROW LEVEL SECURITY, "
            "DROP CONSTRAINT k"
        )
    ]
    assert got == [
        ("create", "column t.c", "", None),
        ("drop", "column t.d", "", None),
        ("alter", "column t.e", "type", "varchar(20)"),
        ("alter", "column t.e", "not null", "on"),
        ("alter", "column t.e", "default", "none"),
        ("alter", "table t", "row level security", "on"),
        ("drop", "constraint k on t", "", None),
    ]


def test_rename_grant_enum_and_data():
    (ren,) = effects("ALTER TABLE t RENAME COLUMN a TO b")
    assert (ren.op, ren.obj.label(), ren.new.label()) == ("rename", "column t.a", "column t.b")
    grants = effects("GRANT SELECT, INSERT ON t TO bob, PUBLIC")
    assert {e.obj.label() for e in grants} == {
        "SELECT privilege on table t for bob",
        "INSERT privilege on table t for bob",
        "SELECT privilege on table t for public",
        "INSERT privilege on table t for public",
    }
    (val,) = effects("ALTER TYPE mood ADD VALUE 'meh'")
    assert val.obj.label() == "value 'meh' of enum mood"
    data = effects("WITH x AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM x", fx.DATA)
    assert sorted((e.obj.name, e.attr) for e in data) == [("a", "DELETE"), ("b", "INSERT")]


def test_what_cannot_be_known():
    (dyn,) = effects("DO $$ BEGIN EXECUTE format('DROP TABLE %I', 't'); END $$")
    assert dyn.op == fx.UNKNOWN and "dynamic SQL" in dyn.reason
    static = effects("DO $$ BEGIN IF true THEN DROP TABLE t; END IF; EXECUTE 'DROP INDEX i'; END $$")
    assert [(e.op, e.obj.label()) for e in static] == [("drop", "table t"), ("drop", "index i")]
    assert effects("CALL admin.cleanup()")[0].op == fx.UNKNOWN
    assert effects("CALL _migrations.log_migration_start('20250101_001', 'x', 1)") == []
    assert effects("SELECT 1; SET lock_timeout = '1s'; BEGIN; COMMIT") == []


# --- what a rollback leaves behind ------------------------------------------------------------


def test_dropping_a_table_drops_what_hangs_on_it():
    m = (
        "CREATE TABLE t (id int PRIMARY KEY, a int); CREATE INDEX i ON t (a); "
        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f(); "
        "CREATE POLICY p ON t USING (true); GRANT SELECT ON t TO bob; ALTER TABLE t ADD COLUMN b int"
    )
    assert left(m, "DROP TABLE t") == []
    assert left(m, "SELECT 1") == [("created", "table t")]  # one finding, not one per index


def test_index_on_an_existing_table():
    assert left("CREATE INDEX i ON leads (email)", "ALTER TABLE leads DROP COLUMN x") == [("created", "index i")]
    assert left("CREATE INDEX i ON leads (email)", "DROP INDEX public.i") == []
    assert left("CREATE INDEX i ON leads (email)", "ALTER TABLE leads DROP COLUMN email") == []


def test_unnamed_index_reported_only_when_its_table_is_untouched():
    assert left("CREATE INDEX ON leads (email)", "SELECT 1; DROP VIEW v") == [("created", "index leads_email_idx")]
    assert left("CREATE INDEX ON leads (email)", "DROP INDEX leads_email_idx1") == [
        ("created", "index leads_email_idx")
    ]
    assert left("CREATE INDEX ON leads (email)", "DROP INDEX leads_email_idx") == []
    assert left("CREATE INDEX ON leads (email)", "ALTER TABLE leads DROP CONSTRAINT x") == []


def test_overloads():
    m = (
        "CREATE FUNCTION f(int) RETURNS int LANGUAGE sql AS 'select 1'; "
        "CREATE FUNCTION f(text) RETURNS int LANGUAGE sql AS 'select 1'"
    )
    assert left(m, "DROP FUNCTION f(integer)") == [("created", "function f(text)")]
    assert left(m, "DROP FUNCTION f(int4), f(text)") == []
    # without argument types PostgreSQL refuses to choose: nothing is dropped
    assert left(m, "DROP FUNCTION f") == [("created", "function f(integer)"), ("created", "function f(text)")]
    assert left("CREATE FUNCTION g(int) RETURNS int LANGUAGE sql AS 'select 1'", "DROP FUNCTION g") == []


def test_enum_values_are_one_leftover_per_type():
    cmp = fx.compare(fx.sql_effects("ALTER TYPE mood ADD VALUE 'a'; ALTER TYPE mood ADD VALUE 'b'"), [])
    (only,) = cmp.leftovers
    assert only.what == "enum value" and only.values == ("a", "b")
    assert left("ALTER TYPE mood ADD VALUE 'a'", "DROP TYPE mood CASCADE") == []
    assert (
        left(
            "ALTER TYPE mood ADD VALUE 'a'",
            "ALTER TYPE mood RENAME TO mood_old; CREATE TYPE mood AS ENUM ('x'); DROP TYPE mood_old",
        )
        == []
    )


def test_drops_renames_and_attributes():
    assert left("DROP TABLE legacy", "SELECT 1; DROP VIEW v") == [("dropped", "table legacy")]
    assert left("DROP TABLE legacy", "CREATE TABLE legacy (id int)") == []
    assert left("ALTER TABLE a RENAME TO b", "DROP VIEW v") == [("renamed", "table a")]
    assert left("ALTER TABLE a RENAME TO b", "ALTER TABLE b RENAME TO a") == []
    assert left("ALTER TABLE t SET SCHEMA archive", "ALTER TABLE archive.t SET SCHEMA public") == []
    assert left("ALTER TABLE t SET SCHEMA archive", "DROP VIEW v") == [("renamed", "table t")]
    assert left("ALTER TABLE t ALTER COLUMN c SET NOT NULL", "DROP VIEW v") == [("altered", "column t.c")]
    assert left("ALTER TABLE t ALTER COLUMN c SET NOT NULL", "ALTER TABLE t ALTER COLUMN c DROP NOT NULL") == []
    # the rollback restating the attribute counts: the column may have been NOT NULL before
    assert left("ALTER TABLE t ALTER COLUMN c SET NOT NULL", "ALTER TABLE t ALTER COLUMN c SET NOT NULL") == []
    # switched off and on again by the migration itself
    assert (
        left("ALTER TABLE t DISABLE TRIGGER ALL; UPDATE t SET a = 1; ALTER TABLE t ENABLE TRIGGER ALL", "DROP VIEW v")
        == []
    )
    # comments and owners are not demanded back
    assert left("COMMENT ON TABLE t IS 'x'; ALTER TABLE t OWNER TO bob", "DROP VIEW v") == []


def test_create_or_replace_and_the_recreate_idiom():
    f = "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'"
    assert left(f, "DROP VIEW v") == [("created or replaced", "function f()")]
    assert left(f, "DROP FUNCTION IF EXISTS f()") == []
    assert left(f, f.replace("select 1", "select 0")) == []  # the previous body put back
    idiom = "DROP TRIGGER IF EXISTS tr ON t; CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()"
    assert left(idiom, "DROP TRIGGER IF EXISTS tr ON t") == []
    assert left(idiom, "DROP VIEW v") == [("created or replaced", "trigger tr on t")]


def test_cascade_and_schema():
    m = "CREATE TABLE t (id int); CREATE VIEW v AS SELECT * FROM t; CREATE MATERIALIZED VIEW mv AS SELECT * FROM v"
    assert left(m, "DROP TABLE t CASCADE") == []
    assert (
        left(
            "CREATE SCHEMA s; CREATE TABLE s.t (id int); SET search_path TO s; CREATE TABLE u (id int)",
            "DROP SCHEMA s CASCADE",
        )
        == []
    )
    assert left("CREATE TYPE k AS ENUM ('a'); ALTER TABLE t ADD COLUMN c k", "DROP TYPE k CASCADE") == []


def test_rollback_statements_the_model_cannot_read():
    cmp = fx.compare(
        fx.sql_effects("CREATE TABLE t (id int)"), fx.sql_effects("DO $$ BEGIN EXECUTE 'DROP TABLE ' || 't'; END $$")
    )
    assert cmp.unknown and cmp.leftovers  # the rule stays quiet on cmp.unknown


def test_history_tells_what_an_index_belongs_to():
    earlier = fx.sql_effects("CREATE INDEX idx_reply_recipient ON reply (recipient_id)")[0]
    history = lambda obj: earlier if fx.same(obj, earlier.obj) else None  # noqa: E731
    m = "ALTER TABLE reply RENAME TO notification; ALTER INDEX idx_reply_recipient RENAME TO idx_notification_recipient"
    r = "DROP TABLE notification; CREATE TABLE reply (id int); CREATE INDEX idx_reply_recipient ON reply (recipient_id)"
    assert left(m, r, history) == []
    assert left(m, r) == [("renamed", "index idx_reply_recipient")]  # without history: not known


def test_touches_knows_the_table_of_an_index():
    m = fx.sql_effects("UPDATE t SET a = 1; CREATE INDEX i ON t (a)")
    r = fx.sql_effects("DROP INDEX i")
    cmp = fx.compare(m, r)
    assert not fx.touches(r, fx.Obj("table", "t"))
    assert fx.touches(r, fx.Obj("table", "t"), cmp.model)


# --- the rules: messages and where they go ------------------------------------------------------

PAIR = """-- file: migrations/20250101_001_x.sql
BEGIN;
CREATE INDEX IF NOT EXISTS idx_leads_email ON leads (email);
UPDATE contacts SET email = lower(email);
ALTER TABLE leads ALTER COLUMN score TYPE bigint;
COMMIT;
-- file: migrations/rollback/20250101_001_rollback.sql
BEGIN;
DROP TABLE IF EXISTS lead_notes;
COMMIT;
"""


def _findings(tmp_path, paths=None):
    res = run_case(parse_case(PAIR.encode()), tmp_path, ["rollback-incomplete", "rollback-data-change"], paths)
    assert not res.errors
    return [(f.path, f.line, f.column, f.rule, f.message, f.help) for f in res.findings]


def test_findings_on_the_rollback_point_at_the_migration(tmp_path):
    got = _findings(tmp_path)
    rb = "migrations/rollback/20250101_001_rollback.sql"
    assert [(p, l, c, r) for p, l, c, r, _, _ in got] == [
        (rb, 1, 1, "rollback-data-change"),
        (rb, 1, 1, "rollback-incomplete"),
        (rb, 1, 1, "rollback-incomplete"),
    ]
    msgs = {m: h for _, _, _, _, m, h in got}
    index = "`20250101_001_x.sql:2` creates index idx_leads_email, and this rollback does not drop it"
    assert msgs[index] == "Add `DROP INDEX IF EXISTS idx_leads_email;` to the rollback."
    col = "`20250101_001_x.sql:4` changes the type of column leads.score to bigint, and this rollback does not change it back"
    assert "ALTER TABLE leads ALTER COLUMN score TYPE <its previous type>;" in msgs[col]
    assert any(m.startswith("`20250101_001_x.sql:3` changes rows of contacts (UPDATE)") for m in msgs)


def test_migration_checked_alone_gets_the_findings_on_its_statements(tmp_path):
    got = _findings(tmp_path, ["migrations/20250101_001_x.sql"])
    mig = "migrations/20250101_001_x.sql"
    assert [(p, l, r) for p, l, _, r, _, _ in got] == [
        (mig, 2, "rollback-incomplete"),
        (mig, 3, "rollback-data-change"),
        (mig, 4, "rollback-incomplete"),
    ]
    assert got[0][4] == (
        "this statement creates index idx_leads_email, and its rollback "
        "`migrations/rollback/20250101_001_rollback.sql` does not drop it"
    )


def test_rollback_checked_alone(tmp_path):
    got = _findings(tmp_path, ["migrations/rollback/20250101_001_rollback.sql"])
    assert {p for p, *_ in got} == {"migrations/rollback/20250101_001_rollback.sql"}


@pytest.mark.parametrize(
    "sql, expected",
    [
        ("CREATE TABLE t (id int)", "DROP TABLE IF EXISTS t;"),
        ("ALTER TABLE t ADD COLUMN c int", "ALTER TABLE t DROP COLUMN IF EXISTS c;"),
        (
            "CREATE FUNCTION f(int, text) RETURNS int LANGUAGE sql AS 'select 1'",
            "DROP FUNCTION IF EXISTS f(integer, text);",
        ),
        ("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", "DROP TRIGGER IF EXISTS tr ON t;"),
        ("ALTER TABLE t ADD CONSTRAINT k UNIQUE (a)", "ALTER TABLE t DROP CONSTRAINT IF EXISTS k;"),
        ("GRANT SELECT ON t TO bob", "REVOKE SELECT ON TABLE t FROM bob;"),
        ('CREATE TABLE "Odd Name" (id int)', 'DROP TABLE IF EXISTS "Odd Name";'),
    ],
)
def test_drop_sql(sql, expected):
    from migcheck.rules import rollback_incomplete as ri

    eff = fx.sql_effects(sql)[0]
    assert ri.drop_sql(eff.obj) == expected


def test_extension_if_not_exists_and_own_function_calls():
    assert left("CREATE EXTENSION IF NOT EXISTS pgcrypto", "DROP VIEW v") == []
    assert left("CREATE EXTENSION pgcrypto", "DROP VIEW v") == [("created", "extension pgcrypto")]
    r = "CREATE FUNCTION undo() RETURNS void LANGUAGE sql AS 'DROP TABLE t'; SELECT undo(); DROP FUNCTION undo()"
    cmp = fx.compare(fx.sql_effects("CREATE TABLE t (id int)"), fx.sql_effects(r))
    assert cmp.unknown and "undo()" in cmp.unknown[0].reason


def test_drop_schema_public_takes_unqualified_objects():
    assert (
        left("CREATE TABLE t (id int); CREATE INDEX i ON t (id)", "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        == []
    )


def test_effects_survive_the_cache_pack_json():
    """The rollback rules' per-file effects are kept in the cache pack (migcheck.summaries): for
    every fixture and example file, encode -> JSON -> decode gives the same effects."""
    import copy
    import json as _json
    from pathlib import Path as _Path

    from harness import parse_case

    repo = _Path(__file__).resolve().parent.parent
    texts = [p.read_text() for p in sorted((repo / "examples").rglob("*.sql"))]
    for fx_file in sorted((repo / "tests" / "fixtures" / "rules").glob("*.sql")):
        texts += [data.decode("utf-8", "replace") for data in parse_case(fx_file.read_bytes()).files.values()]
    total = 0
    for text in texts:
        try:
            effs = fx.sql_effects(text)
        except Exception:  # a fixture that does not parse: parse-error's business
            continue
        located = []
        for e in effs:  # (the effect as file_effects keeps it: at a Loc, without the statement)
            e = copy.copy(e)
            e.stmt = None if e.stmt is None else fx.Loc(e.stmt.line, e.stmt.column, e.stmt.end_line, e.stmt.end_column)
            located.append(e)
        assert fx.decode_effects(_json.loads(_json.dumps(fx.encode_effects(located)))) == located
        total += len(located)
    assert total > 500


@pytest.mark.parametrize(
    "raw",
    [
        5,
        [5],
        [{"op": 1, "obj": None}],
        [{"op": "create", "obj": ["t"]}],
        [{"op": "create", "obj": None, "stmt": [1, 2]}],
        [{"op": "create", "obj": None, "nonsense": 1}],
        [{"op": "create", "obj": None, "columns": [1]}],
        [{"op": "create", "obj": None, "cascade": "yes"}],
    ],
)
def test_damaged_effects_from_the_pack_are_refused(raw):
    with pytest.raises((TypeError, ValueError)):
        fx.decode_effects(raw)
