"""The minimal edit that makes a statement idempotent (analysis/idempotency.py; the future --fix).

Every rewrite must parse, and its parse tree must differ from the original's only in the
``if_not_exists`` / ``missing_ok`` / ``replace`` flag (and the name of an unnamed index)."""

import json

import pytest
from pglast import parser

from migcheck.analysis import idempotency as idem


def _tree(sql):
    tree = json.loads(parser.parse_sql_json(sql))
    assert len(tree["stmts"]) == 1
    return tree["stmts"][0]["stmt"]


def _diff(a, b, path=()):
    """Paths where two location-free trees differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k), b.get(k), path + (k,))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += _diff(x, y, path + (i,))
        return out
    return [] if a == b else [path]


def _gaps(sql, version=15):
    kind, node = next(iter(_tree(sql).items()))
    return idem.create_gaps(kind, node, version) + idem.drop_gaps(kind, node, version)


def _check(sql, want, flags, version=15):
    gaps = _gaps(sql, version)
    assert gaps, f"no gap found in {sql!r}"
    rw = idem.rewrite(sql, gaps)
    assert rw is not None, f"no rewrite for {sql!r}"
    assert rw.text == want
    # the insertions, applied to the original text, give the same text (what --fix will do)
    text = sql
    for offset, words in sorted(rw.insertions, reverse=True):
        text = text[:offset] + words + text[offset:]
    assert text == want
    before, after = _tree(sql), _tree(rw.text)
    kind = next(iter(before))
    changed = _diff(idem._strip(before), idem._strip(after))
    assert sorted(changed) == sorted((kind,) + tuple(f) for f in flags), changed
    for f in flags:
        node = after[kind]
        for step in f:
            node = node[step]
        assert node not in (None, False), f


NOT_EXISTS = [
    # (statement, rewritten, fields the edit sets)
    (
        "CREATE INDEX idx_lead_notes_lead_id ON lead_notes(lead_id)",
        "CREATE INDEX IF NOT EXISTS idx_lead_notes_lead_id ON lead_notes(lead_id)",
        [("if_not_exists",)],
    ),
    ("create index idx_a on leads (a);", "create index if not exists idx_a on leads (a);", [("if_not_exists",)]),
    ("Create Index idx_a On leads (a)", "Create Index If Not Exists idx_a On leads (a)", [("if_not_exists",)]),
    (
        "CREATE UNIQUE INDEX CONCURRENTLY idx_u ON public.leads USING btree (lower(email)) WHERE deleted_at IS NULL",
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_u ON public.leads USING btree (lower(email)) WHERE deleted_at IS NULL",
        [("if_not_exists",)],
    ),
    (
        'CREATE INDEX /* why */ CONCURRENTLY -- because\n  "Idx" ON ONLY "My Schema"."Leads" ("Email")',
        'CREATE INDEX /* why */ CONCURRENTLY IF NOT EXISTS -- because\n  "Idx" ON ONLY "My Schema"."Leads" ("Email")',
        [("if_not_exists",)],
    ),
    ("CREATE TABLE leads (id int)", "CREATE TABLE IF NOT EXISTS leads (id int)", [("if_not_exists",)]),
    (
        "create temp table tmp_import (like leads including all) on commit drop",
        "create temp table if not exists tmp_import (like leads including all) on commit drop",
        [("if_not_exists",)],
    ),
    (
        "CREATE GLOBAL TEMPORARY TABLE t (a int)",
        "CREATE GLOBAL TEMPORARY TABLE IF NOT EXISTS t (a int)",
        [("if_not_exists",)],
    ),
    (
        'CREATE UNLOGGED TABLE "Audit Log" (a int)',
        'CREATE UNLOGGED TABLE IF NOT EXISTS "Audit Log" (a int)',
        [("if_not_exists",)],
    ),
    (
        'CREATE TABLE\r\n  sales."Q1"\r\n  PARTITION OF sales.all FOR VALUES FROM (1) TO (2)',
        'CREATE TABLE IF NOT EXISTS\r\n  sales."Q1"\r\n  PARTITION OF sales.all FOR VALUES FROM (1) TO (2)',
        [("if_not_exists",)],
    ),
    (
        'CREATE TABLE "table" ("table" int, "create" text)',
        'CREATE TABLE IF NOT EXISTS "table" ("table" int, "create" text)',
        [("if_not_exists",)],
    ),
    (
        "CREATE TABLE t2 AS SELECT * FROM t WITH NO DATA",
        "CREATE TABLE IF NOT EXISTS t2 AS SELECT * FROM t WITH NO DATA",
        [("if_not_exists",)],
    ),
    (
        "CREATE MATERIALIZED VIEW mv AS SELECT 1",
        "CREATE MATERIALIZED VIEW IF NOT EXISTS mv AS SELECT 1",
        [("if_not_exists",)],
    ),
    # positions other than `location` (ARRAY[...], IN (...)) move too, and are not part of the comparison
    (
        "CREATE TEMPORARY TABLE t AS WITH RECURSIVE q AS (SELECT ARRAY[id] AS b FROM c WHERE k IN (1, 2)) SELECT * FROM q",
        "CREATE TEMPORARY TABLE IF NOT EXISTS t AS WITH RECURSIVE q AS (SELECT ARRAY[id] AS b FROM c WHERE k IN (1, 2)) "
        "SELECT * FROM q",
        [("if_not_exists",)],
    ),
    (
        "CREATE FOREIGN TABLE ft (a int) SERVER s",
        "CREATE FOREIGN TABLE IF NOT EXISTS ft (a int) SERVER s",
        [("base", "if_not_exists")],
    ),
    ("CREATE SCHEMA app", "CREATE SCHEMA IF NOT EXISTS app", [("if_not_exists",)]),
    ("CREATE SCHEMA AUTHORIZATION joe", "CREATE SCHEMA IF NOT EXISTS AUTHORIZATION joe", [("if_not_exists",)]),
    ("CREATE SEQUENCE s START 10", "CREATE SEQUENCE IF NOT EXISTS s START 10", [("if_not_exists",)]),
    ("CREATE TEMP SEQUENCE s", "CREATE TEMP SEQUENCE IF NOT EXISTS s", [("if_not_exists",)]),
    (
        'create extension "uuid-ossp" with schema extensions',
        'create extension if not exists "uuid-ossp" with schema extensions',
        [("if_not_exists",)],
    ),
    (
        "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw",
        "CREATE SERVER IF NOT EXISTS s FOREIGN DATA WRAPPER postgres_fdw",
        [("if_not_exists",)],
    ),
    (
        "CREATE USER MAPPING FOR bob SERVER s",
        "CREATE USER MAPPING IF NOT EXISTS FOR bob SERVER s",
        [("if_not_exists",)],
    ),
    (
        "CREATE COLLATION german (provider = icu, locale = 'de')",
        "CREATE COLLATION IF NOT EXISTS german (provider = icu, locale = 'de')",
        [("if_not_exists",)],
    ),
    (
        "CREATE STATISTICS st (dependencies) ON a, b FROM t",
        "CREATE STATISTICS IF NOT EXISTS st (dependencies) ON a, b FROM t",
        [("if_not_exists",)],
    ),
    (
        "ALTER TYPE status ADD VALUE 'archived' BEFORE 'deleted'",
        "ALTER TYPE status ADD VALUE IF NOT EXISTS 'archived' BEFORE 'deleted'",
        [("skipIfNewValExists",)],
    ),
    (
        "ALTER TABLE leads ADD COLUMN note text DEFAULT 'a, b'",
        "ALTER TABLE leads ADD COLUMN IF NOT EXISTS note text DEFAULT 'a, b'",
        [("cmds", 0, "AlterTableCmd", "missing_ok")],
    ),
    (
        "alter table only leads add score numeric(10, 2), add column if not exists x int, add column y int[] default '{1,2}'",
        "alter table only leads add if not exists score numeric(10, 2), add column if not exists x int, "
        "add column if not exists y int[] default '{1,2}'",
        [("cmds", 0, "AlterTableCmd", "missing_ok"), ("cmds", 2, "AlterTableCmd", "missing_ok")],
    ),
    # a table named like a keyword: the first ADD is its name, not the command
    (
        "ALTER TABLE add ADD COLUMN x int",
        "ALTER TABLE add ADD COLUMN IF NOT EXISTS x int",
        [("cmds", 0, "AlterTableCmd", "missing_ok")],
    ),
    (
        "ALTER TABLE leads ADD CONSTRAINT c CHECK (a > 0), ADD COLUMN b int",
        "ALTER TABLE leads ADD CONSTRAINT c CHECK (a > 0), ADD COLUMN IF NOT EXISTS b int",
        [("cmds", 1, "AlterTableCmd", "missing_ok")],
    ),
    (
        "ALTER FOREIGN TABLE ft ADD COLUMN b int",
        "ALTER FOREIGN TABLE ft ADD COLUMN IF NOT EXISTS b int",
        [("cmds", 0, "AlterTableCmd", "missing_ok")],
    ),
]

OR_REPLACE = [
    (
        "CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN CREATE TABLE x (a int); RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$ BEGIN CREATE TABLE x (a int); RETURN NEW; END $$ LANGUAGE plpgsql",
    ),
    (
        "create function app.add(a int, b int) returns int language sql begin atomic select a + b; end",
        "create or replace function app.add(a int, b int) returns int language sql begin atomic select a + b; end",
    ),
    ("CREATE PROCEDURE p() LANGUAGE sql AS 'select 1'", "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql AS 'select 1'"),
    ("CREATE VIEW v AS SELECT 1 AS a", "CREATE OR REPLACE VIEW v AS SELECT 1 AS a"),
    ("create temp view v as select 1", "create or replace temp view v as select 1"),
    ("CREATE RECURSIVE VIEW v (n) AS SELECT 1", "CREATE OR REPLACE RECURSIVE VIEW v (n) AS SELECT 1"),
    (
        "CREATE TRIGGER check_lead_email_unique\n  BEFORE INSERT OR UPDATE ON leads\n  FOR EACH ROW\n  EXECUTE FUNCTION f()",
        "CREATE OR REPLACE TRIGGER check_lead_email_unique\n  BEFORE INSERT OR UPDATE ON leads\n  FOR EACH ROW\n  EXECUTE FUNCTION f()",
    ),
    (
        "CREATE RULE r AS ON INSERT TO t DO INSTEAD NOTHING",
        "CREATE OR REPLACE RULE r AS ON INSERT TO t DO INSTEAD NOTHING",
    ),
    (
        "CREATE AGGREGATE agg(int) (sfunc = int4pl, stype = int)",
        "CREATE OR REPLACE AGGREGATE agg(int) (sfunc = int4pl, stype = int)",
    ),
    ("CREATE LANGUAGE plx HANDLER h", "CREATE OR REPLACE LANGUAGE plx HANDLER h"),
    (
        "CREATE TRANSFORM FOR hstore LANGUAGE plpython3u (FROM SQL WITH FUNCTION f(internal))",
        "CREATE OR REPLACE TRANSFORM FOR hstore LANGUAGE plpython3u (FROM SQL WITH FUNCTION f(internal))",
    ),
]

IF_EXISTS = [
    ("DROP TABLE legacy_leads", "DROP TABLE IF EXISTS legacy_leads", [("missing_ok",)]),
    ("drop table if_exists cascade", "drop table if exists if_exists cascade", [("missing_ok",)]),
    ("DROP INDEX CONCURRENTLY idx_a", "DROP INDEX CONCURRENTLY IF EXISTS idx_a", [("missing_ok",)]),
    ('DROP INDEX "Idx", public.idx_b', 'DROP INDEX IF EXISTS "Idx", public.idx_b', [("missing_ok",)]),
    ("DROP MATERIALIZED VIEW mv", "DROP MATERIALIZED VIEW IF EXISTS mv", [("missing_ok",)]),
    ("DROP FOREIGN TABLE ft", "DROP FOREIGN TABLE IF EXISTS ft", [("missing_ok",)]),
    ("DROP FOREIGN DATA WRAPPER w", "DROP FOREIGN DATA WRAPPER IF EXISTS w", [("missing_ok",)]),
    ("DROP TEXT SEARCH CONFIGURATION c", "DROP TEXT SEARCH CONFIGURATION IF EXISTS c", [("missing_ok",)]),
    ("DROP FUNCTION f(int, text)", "DROP FUNCTION IF EXISTS f(int, text)", [("missing_ok",)]),
    ("DROP PROCEDURE p", "DROP PROCEDURE IF EXISTS p", [("missing_ok",)]),
    ("DROP TRIGGER t ON leads", "DROP TRIGGER IF EXISTS t ON leads", [("missing_ok",)]),
    ("DROP POLICY p ON leads", "DROP POLICY IF EXISTS p ON leads", [("missing_ok",)]),
    ("DROP RULE r ON leads", "DROP RULE IF EXISTS r ON leads", [("missing_ok",)]),
    ("DROP TYPE status", "DROP TYPE IF EXISTS status", [("missing_ok",)]),
    ("DROP DOMAIN email", "DROP DOMAIN IF EXISTS email", [("missing_ok",)]),
    ("DROP SCHEMA app CASCADE", "DROP SCHEMA IF EXISTS app CASCADE", [("missing_ok",)]),
    ("DROP EXTENSION pgcrypto", "DROP EXTENSION IF EXISTS pgcrypto", [("missing_ok",)]),
    ("DROP SEQUENCE s", "DROP SEQUENCE IF EXISTS s", [("missing_ok",)]),
    ("DROP VIEW v", "DROP VIEW IF EXISTS v", [("missing_ok",)]),
    ("DROP CAST (text AS int)", "DROP CAST IF EXISTS (text AS int)", [("missing_ok",)]),
    ("DROP OPERATOR CLASS c USING btree", "DROP OPERATOR CLASS IF EXISTS c USING btree", [("missing_ok",)]),
    ("DROP EVENT TRIGGER e", "DROP EVENT TRIGGER IF EXISTS e", [("missing_ok",)]),
    ("DROP ACCESS METHOD m", "DROP ACCESS METHOD IF EXISTS m", [("missing_ok",)]),
    ("DROP PROCEDURAL LANGUAGE x", "DROP PROCEDURAL LANGUAGE IF EXISTS x", [("missing_ok",)]),
    ("DROP SERVER s", "DROP SERVER IF EXISTS s", [("missing_ok",)]),
    ("DROP PUBLICATION p", "DROP PUBLICATION IF EXISTS p", [("missing_ok",)]),
    ("DROP STATISTICS st", "DROP STATISTICS IF EXISTS st", [("missing_ok",)]),
    ("DROP COLLATION german", "DROP COLLATION IF EXISTS german", [("missing_ok",)]),
    ("DROP AGGREGATE agg(int)", "DROP AGGREGATE IF EXISTS agg(int)", [("missing_ok",)]),
    (
        "DROP TRANSFORM FOR hstore LANGUAGE plpython3u",
        "DROP TRANSFORM IF EXISTS FOR hstore LANGUAGE plpython3u",
        [("missing_ok",)],
    ),
    ("DROP ROLE app_reader", "DROP ROLE IF EXISTS app_reader", [("missing_ok",)]),
    ("DROP USER bob", "DROP USER IF EXISTS bob", [("missing_ok",)]),
    ("DROP DATABASE scratch", "DROP DATABASE IF EXISTS scratch", [("missing_ok",)]),
    ("DROP TABLESPACE fast", "DROP TABLESPACE IF EXISTS fast", [("missing_ok",)]),
    ("DROP SUBSCRIPTION sub", "DROP SUBSCRIPTION IF EXISTS sub", [("missing_ok",)]),
    ("DROP USER MAPPING FOR bob SERVER s", "DROP USER MAPPING IF EXISTS FOR bob SERVER s", [("missing_ok",)]),
    (
        "ALTER TABLE leads DROP COLUMN fax",
        "ALTER TABLE leads DROP COLUMN IF EXISTS fax",
        [("cmds", 0, "AlterTableCmd", "missing_ok")],
    ),
    (
        "alter table leads drop fax, drop column if exists pager, drop constraint leads_fax_check cascade",
        "alter table leads drop if exists fax, drop column if exists pager, drop constraint if exists leads_fax_check cascade",
        [("cmds", 0, "AlterTableCmd", "missing_ok"), ("cmds", 2, "AlterTableCmd", "missing_ok")],
    ),
    (
        "ALTER TABLE leads DROP CONSTRAINT IF EXISTS a, ADD CONSTRAINT a CHECK (x > 0), DROP CONSTRAINT b",
        "ALTER TABLE leads DROP CONSTRAINT IF EXISTS a, ADD CONSTRAINT a CHECK (x > 0), DROP CONSTRAINT IF EXISTS b",
        [("cmds", 2, "AlterTableCmd", "missing_ok")],
    ),
    (
        "ALTER TABLE leads ALTER COLUMN id DROP IDENTITY",
        "ALTER TABLE leads ALTER COLUMN id DROP IDENTITY IF EXISTS",
        [("cmds", 0, "AlterTableCmd", "missing_ok")],
    ),
    (
        "ALTER TABLE leads ALTER total DROP EXPRESSION",
        "ALTER TABLE leads ALTER total DROP EXPRESSION IF EXISTS",
        [("cmds", 0, "AlterTableCmd", "missing_ok")],
    ),
    (
        "ALTER TYPE address DROP ATTRIBUTE zip",
        "ALTER TYPE address DROP ATTRIBUTE IF EXISTS zip",
        [("cmds", 0, "AlterTableCmd", "missing_ok")],
    ),
    (
        "ALTER FOREIGN TABLE ft DROP COLUMN a",
        "ALTER FOREIGN TABLE ft DROP COLUMN IF EXISTS a",
        [("cmds", 0, "AlterTableCmd", "missing_ok")],
    ),
    (
        "ALTER TEXT SEARCH CONFIGURATION my_english DROP MAPPING FOR email, url",
        "ALTER TEXT SEARCH CONFIGURATION my_english DROP MAPPING IF EXISTS FOR email, url",
        [("missing_ok",)],
    ),
    (
        "ALTER DOMAIN email DROP CONSTRAINT email_check",
        "ALTER DOMAIN email DROP CONSTRAINT IF EXISTS email_check",
        [("missing_ok",)],
    ),
    (
        'DROP /* old */ TABLE -- gone\r\n  "Old Leads"',
        'DROP /* old */ TABLE IF EXISTS -- gone\r\n  "Old Leads"',
        [("missing_ok",)],
    ),
]


@pytest.mark.parametrize("sql,want,flags", NOT_EXISTS, ids=[c[0][:50] for c in NOT_EXISTS])
def test_if_not_exists(sql, want, flags):
    _check(sql, want, flags)


@pytest.mark.parametrize("sql,want", OR_REPLACE, ids=[c[0][:50] for c in OR_REPLACE])
def test_or_replace(sql, want):
    _check(sql, want, [("replace",)])


@pytest.mark.parametrize("sql,want,flags", IF_EXISTS, ids=[c[0][:50] for c in IF_EXISTS])
def test_if_exists(sql, want, flags):
    _check(sql, want, flags)


def test_create_language_without_handler_is_create_extension():
    # PostgreSQL parses plain CREATE LANGUAGE as CREATE EXTENSION; OR REPLACE sets its IF NOT EXISTS
    _check("CREATE LANGUAGE plperl", "CREATE OR REPLACE LANGUAGE plperl", [("if_not_exists",)])


@pytest.mark.parametrize(
    "sql,want,name",
    [
        (
            "CREATE INDEX ON leads (email)",
            "CREATE INDEX IF NOT EXISTS leads_email_idx ON leads (email)",
            "leads_email_idx",
        ),
        (
            "create unique index concurrently on app.leads (lower(email), company_id)",
            "create unique index concurrently if not exists leads_lower_company_id_idx on app.leads (lower(email), company_id)",
            "leads_lower_company_id_idx",
        ),
        (
            'CREATE INDEX ON "Leads" USING gin (data)',
            'CREATE INDEX IF NOT EXISTS "Leads_data_idx" ON "Leads" USING gin (data)',
            "Leads_data_idx",
        ),
    ],
)
def test_unnamed_index_gets_its_default_name(sql, want, name):
    gaps = _gaps(sql)
    assert [g.unnamed for g in gaps] == [True]
    rw = idem.rewrite(sql, gaps)
    assert rw is not None and rw.text == want
    changed = _diff(idem._strip(_tree(sql)), idem._strip(_tree(rw.text)))
    assert sorted(changed) == [("IndexStmt", "idxname"), ("IndexStmt", "if_not_exists")]
    assert _tree(rw.text)["IndexStmt"]["idxname"] == name


# names PostgreSQL 15 gave these unnamed indexes (checked on a server)
@pytest.mark.parametrize(
    "cols,table,name",
    [
        ("(a)", "t", "t_a_idx"),
        ("(a, b)", "t", "t_a_b_idx"),
        ("(lower(b))", "t", "t_lower_idx"),
        ("((a::text))", "t", "t_a_idx"),
        ("((a + 1))", "t", "t_expr_idx"),
        ("((c->>'x'))", "t", "t_expr_idx"),
        ("(a, a)", "t", "t_a_a1_idx"),
        ("(a, (a+1), (a*2))", "t", "t_a_expr_expr1_idx"),
        ("((coalesce(a, 0)))", "t", "t_coalesce_idx"),
        ("((case when a > 0 then b end))", "t", "t_case_idx"),
        ("((case when a > 0 then 'x' else b end))", "t", "t_b_idx"),
        ('("Mixed Col")', "t", "t_Mixed Col_idx"),
        ('(b COLLATE "C")', "t", "t_b_idx"),
        ("(a) INCLUDE (b)", "t", "t_a_b_idx"),
        (
            "(verylongcolumnname_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, verylongcolumnname_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb)",
            "t",
            "t_verylongcolumnname_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_veryl_idx",
        ),
        ("((nullif(a, 0)))", "t", "t_nullif_idx"),
        ("((greatest(a, 1)))", "t", "t_greatest_idx"),
        ("((array[a]))", "t", "t_array_idx"),
        ("((b::varchar(10)))", "t", "t_b_idx"),
        ("((1::int))", "t", "t_int4_idx"),
        ("((a is null))", "t", "t_expr_idx"),
        ("(date_trunc('day', d::timestamp))", "t", "t_date_trunc_idx"),
        ("((e[1]))", "t", "t_e_idx"),
        (
            "(a, b)",
            "a_really_long_table_name_that_goes_on_and_on_and_on_forever_x",
            "a_really_long_table_name_that_goes_on_and_on_and_on_for_a_b_idx",
        ),
        ("(ça)", "tété", "tété_ça_idx"),
    ],
)
def test_default_index_name(cols, table, name):
    node = _tree(f"CREATE INDEX ON ix.{table} {cols}")["IndexStmt"]
    assert idem.default_index_name(node) == name


def test_default_index_name_unsure():
    node = _tree("CREATE INDEX ON t (((SELECT 1)))")["IndexStmt"]
    assert idem.default_index_name(node) is None
    gaps = idem.create_gaps("IndexStmt", node)
    assert gaps and gaps[0].unnamed and idem.rewrite("CREATE INDEX ON t (((SELECT 1)))", gaps) is None


@pytest.mark.parametrize(
    "sql,version",
    [
        ("CREATE TYPE status AS ENUM ('a')", 15),
        ("CREATE TYPE address AS (zip text)", 15),
        ("CREATE DOMAIN email AS text", 15),
        ("CREATE POLICY p ON leads USING (true)", 15),
        ("CREATE CAST (text AS int) WITH INOUT", 15),
        ("CREATE PUBLICATION p FOR ALL TABLES", 15),
        ("CREATE ROLE r", 15),
        ("CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION f()", 15),
        ("CREATE ACCESS METHOD m TYPE TABLE HANDLER h", 15),
        ("CREATE OPERATOR === (function = f, leftarg = int, rightarg = int)", 15),
        ("CREATE TEXT SEARCH CONFIGURATION c (parser = default)", 15),
        ("CREATE SCHEMA s CREATE TABLE x (a int)", 15),  # IF NOT EXISTS cannot include schema elements
        ("CREATE STATISTICS ON a, b FROM t", 16),  # unnamed: IF NOT EXISTS needs a name
        ("CREATE CONSTRAINT TRIGGER t AFTER INSERT ON leads FOR EACH ROW EXECUTE FUNCTION f()", 15),
        ("CREATE TRIGGER t AFTER INSERT ON leads FOR EACH ROW EXECUTE FUNCTION f()", 13),
        ("CREATE AGGREGATE agg(int) (sfunc = int4pl, stype = int)", 11),
        ("ALTER TABLE leads ADD CONSTRAINT c CHECK (a > 0)", 15),
        ("ALTER TYPE address ADD ATTRIBUTE zip text", 15),
        ("ALTER TYPE status RENAME VALUE 'a' TO 'b'", 15),
        ("SELECT * INTO new_table FROM leads", 15),
        ("CREATE TABLE IF NOT EXISTS t (a int)", 15),
        ("CREATE OR REPLACE VIEW v AS SELECT 1", 15),
        ("CREATE INDEX IF NOT EXISTS i ON t (a)", 15),
        ("ALTER TABLE t ADD COLUMN IF NOT EXISTS a int", 15),
        ("ALTER TABLE t DROP COLUMN IF EXISTS a, ADD COLUMN a int", 15),  # re-created in place
        ("DROP OWNED BY bob", 15),
        ("DROP TABLE IF EXISTS t", 15),
        ("ALTER TABLE t ALTER COLUMN a DROP DEFAULT, ALTER COLUMN a DROP NOT NULL", 15),
        ("ALTER TABLE IF EXISTS t RENAME TO u", 15),
    ],
)
def test_no_form_no_gap(sql, version):
    assert _gaps(sql, version) == []


def test_or_replace_trigger_needs_postgres_14():
    sql = "CREATE TRIGGER t AFTER INSERT ON leads FOR EACH ROW EXECUTE FUNCTION f()"
    assert _gaps(sql, 13) == []
    assert [g.words for g in _gaps(sql, 14)] == ["OR REPLACE"]


def test_rewrite_refuses_what_it_cannot_prove():
    sql = "CREATE TABLE t (a int)"
    gap = _gaps(sql)[0]
    wrong_flag = idem.Gap(gap.words, gap.clause, gap.noun, gap.name, gap.options, ((("replace",), True),))
    assert idem.rewrite(sql, [wrong_flag]) is None
    no_anchor = idem.Gap(
        gap.words, gap.clause, gap.noun, gap.name, (idem.Option("IF NOT EXISTS", frozenset({"VIEW"})),), gap.sets
    )
    assert idem.rewrite(sql, [no_anchor]) is None
    assert idem.rewrite("CREATE TABLE (", [gap]) is None
    assert idem.rewrite(sql, []) is None


def test_statement_text_and_shown():
    assert idem.statement_text("DROP TABLE t; -- done\n") == "DROP TABLE t"
    one = "CREATE INDEX i ON t (a) -- note"
    rw = idem.rewrite(one, _gaps(one))
    assert idem.shown(rw) == "CREATE INDEX IF NOT EXISTS i ON t (a);"
    multi = "CREATE TABLE lead_notes (\n  id uuid PRIMARY KEY,\n  note text\n);"
    rw = idem.rewrite(multi, _gaps(multi))
    assert idem.shown(rw) == "CREATE TABLE IF NOT EXISTS lead_notes ( ..."
    alter = "ALTER TABLE leads\r\n  ADD COLUMN a int,\r\n  ADD COLUMN b int;"
    rw = idem.rewrite(alter, _gaps(alter))
    assert idem.shown(rw) == "ALTER TABLE leads ADD COLUMN IF NOT EXISTS a int, ADD COLUMN IF NOT EXISTS b int;"
    commented = "CREATE INDEX /* fast */ -- by company\n  idx ON t (a);"
    rw = idem.rewrite(commented, _gaps(commented))
    assert idem.shown(rw) == "CREATE INDEX IF NOT EXISTS idx ON t (a);"
    func = "create function f() returns int language plpgsql as $$\nbegin return 1; end\n$$;"
    rw = idem.rewrite(func, _gaps(func))
    assert idem.shown(rw) == "create or replace function f() returns int language plpgsql as ..."
    spaced = "DROP   TABLE /* old */ t;"
    rw = idem.rewrite(spaced, _gaps(spaced))
    assert rw.text == "DROP   TABLE IF EXISTS /* old */ t;"
    assert idem.shown(rw) == "DROP TABLE IF EXISTS t;"
