"""`migcheck verify --data`: each rollback run again with rows in the tables, on a real, throwaway
PostgreSQL (one cluster for the module, reached with --dsn, as tests/test_verify.py does).

One test per finding, each with the correct rollback beside it, which draws nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_verify import needs_server, pg, postgres, run, write  # noqa: F401  (pg: the module's temporary cluster)

from migcheck import config
from migcheck.verify import DATA_RULES, ROLLBACK_RULES


def verify(pg, capsys, *args):
    """`verify --data --format json`: (exit code, findings as (path, line, rule), the document)."""
    code, out, err = run(
        capsys,
        "verify",
        "--dsn",
        pg.admin_conninfo(),
        "--data",
        "--format",
        "json",
        *args,
        *(() if any(a.endswith(".sql") or a == "migrations" for a in args) else (UP,)),
    )
    assert code in (0, 1), err
    doc = json.loads(out)
    return code, {(f["path"], f["line"], f["rule"]) for f in doc["findings"]}, doc


def pair(up: str, down: str, base: str = "") -> dict[str, str]:
    """A base migration (and its rollback), then the migration under test and its rollback."""
    return {
        "migrations/20251022_001_base.sql": base
        or """\
            BEGIN;
            CREATE TABLE IF NOT EXISTS leads (id bigint PRIMARY KEY, email text, nickname text NOT NULL);
            COMMIT;
            """,
        "migrations/rollback/20251022_001_rollback.sql": """\
            BEGIN;
            DROP TABLE IF EXISTS leads;
            COMMIT;
            """,
        "migrations/20251023_002_change.sql": up,
        "migrations/rollback/20251023_002_rollback.sql": down,
    }


UP = "migrations/20251023_002_change.sql"
DOWN = "migrations/rollback/20251023_002_rollback.sql"


# --- rollback-fails-with-data --------------------------------------------------------------

MOVE_NICKNAME = """\
    -- Idempotent: no (the UPDATE reads a column the migration drops)
    BEGIN;
    ALTER TABLE leads ADD COLUMN IF NOT EXISTS display_name text;
    UPDATE leads SET display_name = nickname;
    ALTER TABLE leads DROP COLUMN IF EXISTS nickname;
    COMMIT;
    """


@postgres
@needs_server
def test_re_added_not_null_column_without_default_fails_with_rows(pg, project, capsys):
    write(
        project,
        pair(
            MOVE_NICKNAME,
            """\
        BEGIN;
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS nickname text NOT NULL;
        UPDATE leads SET nickname = display_name;
        ALTER TABLE leads DROP COLUMN IF EXISTS display_name;
        COMMIT;
        """,
        ),
    )
    code, got, doc = verify(pg, capsys)
    assert (code, got) == (1, {(DOWN, 2, "rollback-fails-with-data")})
    f = doc["findings"][0]
    assert f["severity"] == "error" and f["column"] == 1
    assert f["message"].startswith(
        'the rollback fails once the tables hold rows: column "nickname" of relation '
        '"leads" contains null values (SQLSTATE 23502) (on empty tables it runs; '
        "public.leads: 20 rows from before the migration, 20 written after it)"
    )
    assert "DEFAULT" in f["help"]
    entry = next(e for e in doc["files"] if e["path"] == UP)
    assert entry["data"]["checked"] is True
    assert entry["data"]["tables"] == [
        {"relation": "public.leads", "rows_before": 20, "generated": True, "written_after": 20}
    ]


@postgres
@needs_server
def test_re_added_not_null_column_filled_before_set_not_null_is_clean(pg, project, capsys):
    write(
        project,
        pair(
            MOVE_NICKNAME,
            """\
        BEGIN;
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS nickname text;
        UPDATE leads SET nickname = display_name;
        ALTER TABLE leads ALTER COLUMN nickname SET NOT NULL;
        ALTER TABLE leads DROP COLUMN IF EXISTS display_name;
        COMMIT;
        """,
        ),
    )
    code, got, doc = verify(pg, capsys)
    assert (code, got) == (0, set())


UNIQUE_BASE = """\
    BEGIN;
    CREATE TABLE IF NOT EXISTS leads (id bigint PRIMARY KEY, email text CONSTRAINT leads_email_key UNIQUE);
    COMMIT;
    """
DROP_UNIQUE = """\
    BEGIN;
    ALTER TABLE leads DROP CONSTRAINT IF EXISTS leads_email_key;
    COMMIT;
    """


@postgres
@needs_server
def test_recreated_unique_constraint_over_duplicates_written_after_the_up(pg, project, capsys):
    write(
        project,
        pair(
            DROP_UNIQUE,
            """\
        BEGIN;
        ALTER TABLE leads ADD CONSTRAINT leads_email_key UNIQUE (email);
        COMMIT;
        """,
            UNIQUE_BASE,
        ),
    )
    code, got, doc = verify(pg, capsys)
    assert (code, got) == (1, {(DOWN, 2, "rollback-fails-with-data")})
    f = doc["findings"][0]
    assert 'could not create unique index "leads_email_key" (SQLSTATE 23505)' in f["message"]
    assert "duplicates" in f["help"] and "PostgreSQL: Key (email)=" in f["help"]


@postgres
@needs_server
def test_recreated_unique_constraint_after_removing_the_later_duplicates_is_clean(pg, project, capsys):
    write(
        project,
        pair(
            DROP_UNIQUE,
            """\
        BEGIN;
        DELETE FROM leads a USING leads b WHERE a.email = b.email AND a.id > b.id;
        ALTER TABLE leads ADD CONSTRAINT leads_email_key UNIQUE (email);
        COMMIT;
        """,
            UNIQUE_BASE,
        ),
    )
    code, got, doc = verify(pg, capsys)
    assert (code, got) == (0, set())


# --- rollback-loses-rows and rollback-discards-new-data: a split column merged back ----------

NAME_BASE = """\
    BEGIN;
    CREATE TABLE IF NOT EXISTS leads (id bigint PRIMARY KEY, full_name text);
    COMMIT;
    """
SPLIT = """\
    -- Idempotent: no (the UPDATE reads a column the migration drops)
    BEGIN;
    ALTER TABLE leads ADD COLUMN IF NOT EXISTS first_name text, ADD COLUMN IF NOT EXISTS last_name text;
    UPDATE leads SET first_name = split_part(full_name, ' ', 1), last_name = split_part(full_name, ' ', 2);
    ALTER TABLE leads DROP COLUMN IF EXISTS full_name;
    COMMIT;
    """


MERGE_ONE_HALF = """\
    BEGIN;
    ALTER TABLE leads ADD COLUMN IF NOT EXISTS full_name text;
    UPDATE leads SET full_name = first_name;
    ALTER TABLE leads DROP COLUMN IF EXISTS first_name, DROP COLUMN IF EXISTS last_name;
    COMMIT;
    """


@postgres
@needs_server
def test_split_column_merged_back_from_one_half(pg, project, capsys):
    write(project, pair(SPLIT, MERGE_ONE_HALF, NAME_BASE))
    code, got, doc = verify(pg, capsys)
    assert (code, got) == (1, {(DOWN, 3, "rollback-loses-rows"), (DOWN, 4, "rollback-discards-new-data")})
    by_rule = {f["rule"]: f for f in doc["findings"]}
    assert by_rule["rollback-loses-rows"]["message"] == (
        "after the rollback, 20 of the 20 rows of public.leads from before the migration are not as before: "
        "20 changed (full_name in 20)"
    )
    assert by_rule["rollback-loses-rows"]["severity"] == "error"
    d = by_rule["rollback-discards-new-data"]
    assert d["severity"] == "info"
    assert d["message"] == (
        "the rollback drops column public.leads.last_name, and 20 of the 20 values written "
        "into it after the migration are not carried into any other column"
    )


@postgres
@needs_server
def test_split_column_merged_back_from_both_halves_is_clean(pg, project, capsys):
    write(
        project,
        pair(
            SPLIT,
            """\
        BEGIN;
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS full_name text;
        UPDATE leads SET full_name = first_name || ' ' || last_name;
        ALTER TABLE leads DROP COLUMN IF EXISTS first_name, DROP COLUMN IF EXISTS last_name;
        COMMIT;
        """,
            NAME_BASE,
        ),
    )
    code, got, doc = verify(pg, capsys)
    assert (code, got) == (0, set())


# --- rollback-loses-rows alone: a column dropped by the up, re-added empty by the down --------


@postgres
@needs_server
def test_dropped_column_re_added_empty_loses_rows(pg, project, capsys):
    write(
        project,
        pair(
            """\
        BEGIN;
        ALTER TABLE leads DROP COLUMN IF EXISTS email;
        COMMIT;
        """,
            """\
        BEGIN;
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS email text;
        COMMIT;
        """,
        ),
    )
    code, got, doc = verify(pg, capsys)
    assert (code, got) == (1, {(DOWN, 2, "rollback-loses-rows")})
    assert "20 changed (email in 20)" in doc["findings"][0]["message"]


@postgres
@needs_server
def test_renamed_column_renamed_back_keeps_rows(pg, project, capsys):
    write(
        project,
        pair(
            """\
        -- Idempotent: no (a rename runs once)
        BEGIN;
        ALTER TABLE leads RENAME COLUMN email TO contact_email;
        COMMIT;
        """,
            """\
        BEGIN;
        ALTER TABLE leads RENAME COLUMN contact_email TO email;
        COMMIT;
        """,
        ),
    )
    code, got, doc = verify(pg, capsys)
    assert (code, got) == (0, set())


# --- rollback-discards-new-data alone: a new table dropped ------------------------------------


@postgres
@needs_server
def test_new_table_dropped_by_the_rollback_discards_its_rows(pg, project, capsys):
    write(
        project,
        pair(
            """\
        BEGIN;
        CREATE TABLE IF NOT EXISTS lead_notes (id bigint PRIMARY KEY, lead_id bigint NOT NULL REFERENCES leads (id),
                                               body text NOT NULL);
        COMMIT;
        """,
            """\
        BEGIN;
        DROP TABLE IF EXISTS lead_notes;
        COMMIT;
        """,
        ),
    )
    code, got, doc = verify(pg, capsys)
    assert (code, got) == (0, {(DOWN, 2, "rollback-discards-new-data")})  # info: exit 0
    assert doc["findings"][0]["message"] == (
        "the rollback drops table public.lead_notes, and 20 of the 20 rows "
        "written into it after the migration are found nowhere after it"
    )
    code, got, doc = verify(pg, capsys, "--fail-on", "info")
    assert code == 1


# --- a rollback that restores everything ----------------------------------------------------


@postgres
@needs_server
def test_a_rollback_that_restores_everything_is_clean(pg, project, capsys):
    write(
        project,
        pair(
            """\
        BEGIN;
        ALTER TABLE leads ALTER COLUMN nickname DROP NOT NULL;
        ALTER TABLE leads ALTER COLUMN email TYPE varchar(320);
        ALTER TABLE leads DROP CONSTRAINT IF EXISTS leads_email_has_at;
        ALTER TABLE leads ADD CONSTRAINT leads_email_has_at CHECK (email LIKE '%@%') NOT VALID;
        CREATE INDEX IF NOT EXISTS idx_leads_email ON leads (email);
        COMMIT;
        """,
            """\
        BEGIN;
        DROP INDEX IF EXISTS idx_leads_email;
        ALTER TABLE leads DROP CONSTRAINT IF EXISTS leads_email_has_at;
        ALTER TABLE leads ALTER COLUMN email TYPE text;
        UPDATE leads SET nickname = '' WHERE nickname IS NULL;
        ALTER TABLE leads ALTER COLUMN nickname SET NOT NULL;
        COMMIT;
        """,
        ),
    )
    code, got, doc = verify(pg, capsys)
    assert (code, got) == (0, set())
    entry = next(e for e in doc["files"] if e["path"] == UP)
    assert entry["data"] == {
        "checked": True,
        "tables": [{"relation": "public.leads", "rows_before": 20, "generated": True, "written_after": 20}],
    }


@postgres
@needs_server
def test_the_same_rollback_without_filling_the_nulls_fails_with_rows(pg, project, capsys):
    """The rows written after the migration hold NULL where it dropped a NOT NULL."""
    write(
        project,
        pair(
            """\
        BEGIN;
        ALTER TABLE leads ALTER COLUMN nickname DROP NOT NULL;
        COMMIT;
        """,
            """\
        BEGIN;
        ALTER TABLE leads ALTER COLUMN nickname SET NOT NULL;
        COMMIT;
        """,
        ),
    )
    code, got, doc = verify(pg, capsys)
    assert (code, got) == (1, {(DOWN, 2, "rollback-fails-with-data")})


@postgres
@needs_server
def test_narrowing_back_a_widened_type_fails_with_rows(pg, project, capsys):
    """The rows written after the migration hold values the old type does not take."""
    write(
        project,
        pair(
            """\
        BEGIN;
        ALTER TABLE leads ALTER COLUMN email TYPE varchar(320);
        COMMIT;
        """,
            """\
        BEGIN;
        ALTER TABLE leads ALTER COLUMN email TYPE varchar(20);
        COMMIT;
        """,
            base="""\
        BEGIN;
        CREATE TABLE IF NOT EXISTS leads (id bigint PRIMARY KEY, email varchar(20));
        COMMIT;
        """,
        ),
    )
    code, got, doc = verify(pg, capsys)
    assert (code, got) == (1, {(DOWN, 2, "rollback-fails-with-data")})
    assert "value too long for type character varying(20) (SQLSTATE 22001)" in doc["findings"][0]["message"]


# --- every runner preset with down migrations, and --trace -----------------------------------

T_UP = "CREATE TABLE t (id bigint PRIMARY KEY, nick text NOT NULL);\n"
T_DOWN = "DROP TABLE t;\n"
MOVE_UP = "ALTER TABLE t ADD COLUMN label text;\nUPDATE t SET label = nick;\nALTER TABLE t DROP COLUMN nick;\n"
BAD_DOWN = (
    "ALTER TABLE t ADD COLUMN nick text NOT NULL;\nUPDATE t SET nick = label;\nALTER TABLE t DROP COLUMN label;\n"
)
GOOD_DOWN = (
    "ALTER TABLE t ADD COLUMN nick text;\nUPDATE t SET nick = label;\nALTER TABLE t ALTER COLUMN nick SET NOT NULL;\n"
    "ALTER TABLE t DROP COLUMN label;\n"
)


def layout(preset: str, down: str) -> tuple[dict[str, str], str, int]:
    """The two migrations in the preset's layout: (files, the second down's path, the line of its
    first statement)."""
    if preset in ("golang-migrate", "sqlx"):
        return (
            {
                "migrations/1_t.up.sql": T_UP,
                "migrations/1_t.down.sql": T_DOWN,
                "migrations/2_move.up.sql": MOVE_UP,
                "migrations/2_move.down.sql": down,
            },
            "migrations/2_move.down.sql",
            1,
        )
    if preset in ("pop", "popx", "maragudk"):  # (pop and popx files are Go templates: plain SQL is one)
        first, second = {
            "pop": ("1_t", "2_move"),
            "popx": ("20240101000000000000_t", "20240102000000000000_move"),
            "maragudk": ("1_t", "2_move"),
        }[preset]
        return (
            {
                f"migrations/{first}.up.sql": T_UP,
                f"migrations/{first}.down.sql": T_DOWN,
                f"migrations/{second}.up.sql": MOVE_UP,
                f"migrations/{second}.down.sql": down,
            },
            f"migrations/{second}.down.sql",
            1,
        )
    if preset == "diesel":
        return (
            {
                "migrations/2024-01-01-000000_t/up.sql": T_UP,
                "migrations/2024-01-01-000000_t/down.sql": T_DOWN,
                "migrations/2024-01-02-000000_move/up.sql": MOVE_UP,
                "migrations/2024-01-02-000000_move/down.sql": down,
            },
            "migrations/2024-01-02-000000_move/down.sql",
            1,
        )
    if preset == "goose":
        return (
            {
                "migrations/1_t.sql": f"-- +goose Up\n{T_UP}-- +goose Down\n{T_DOWN}",
                "migrations/2_move.sql": f"-- +goose Up\n{MOVE_UP}-- +goose Down\n{down}",
            },
            "migrations/2_move.sql",
            6,
        )
    if preset == "dbmate":
        return (
            {
                "db/migrations/1_t.sql": f"-- migrate:up\n{T_UP}-- migrate:down\n{T_DOWN}",
                "db/migrations/2_move.sql": f"-- migrate:up\n{MOVE_UP}-- migrate:down\n{down}",
            },
            "db/migrations/2_move.sql",
            6,
        )
    if preset == "flyway":
        return (
            {
                "db/migration/V1__t.sql": T_UP,
                "db/migration/U1__t.sql": T_DOWN,
                "db/migration/V2__move.sql": MOVE_UP,
                "db/migration/U2__move.sql": down,
            },
            "db/migration/U2__move.sql",
            1,
        )
    assert preset == "sqitch"
    return (
        {
            "sqitch.plan": "%project=x\n\nt 2024-01-01T00:00:00Z a <a@b> # t\nu_move 2024-01-02T00:00:00Z a <a@b> # move\n",
            "deploy/t.sql": f"BEGIN;\n{T_UP}COMMIT;\n",
            "revert/t.sql": f"BEGIN;\n{T_DOWN}COMMIT;\n",
            "deploy/u_move.sql": f"BEGIN;\n{MOVE_UP}COMMIT;\n",
            "revert/u_move.sql": f"BEGIN;\n{down}COMMIT;\n",
        },
        "revert/u_move.sql",
        2,
    )


PRESETS_WITH_DOWNS = [
    "golang-migrate",
    "sqlx",
    "diesel",
    "goose",
    "dbmate",
    "flyway",
    "sqitch",
    "pop",
    "popx",
    "maragudk",
]


@postgres
@needs_server
@pytest.mark.parametrize("trace", [False, True], ids=["plain", "trace"])
@pytest.mark.parametrize("preset", PRESETS_WITH_DOWNS)
def test_every_runner_preset_with_downs(pg, project, capsys, preset, trace):
    files, down_path, line = layout(preset, BAD_DOWN)
    write(project, files)
    # (the first migration's rollback drops t with the rows written after it: an info, not looked at here)
    extra = ["--trace"] if trace else []
    code, out, err = run(
        capsys,
        "verify",
        "--dsn",
        pg.admin_conninfo(),
        "--data",
        "--preset",
        preset,
        "--format",
        "json",
        "--select",
        "rollback",
        "--ignore",
        "rollback-discards-new-data",
        *extra,
        ".",
    )
    doc = json.loads(out)
    got = [(f["path"], f["line"], f["rule"]) for f in doc["findings"]]
    assert got == [(down_path, line, "rollback-fails-with-data")], doc["findings"]
    if trace:  # the plain rollback already ran on the trace's rows: run again on empty tables to tell
        assert "(on empty tables it runs; public.t: 3 rows generated by --trace)" in doc["findings"][0]["message"]
    files, _, _ = layout(preset, GOOD_DOWN)
    write(project, files)
    code, out, err = run(
        capsys,
        "verify",
        "--dsn",
        pg.admin_conninfo(),
        "--data",
        "--preset",
        preset,
        "--format",
        "json",
        "--select",
        "rollback",
        "--ignore",
        "rollback-discards-new-data",
        *extra,
        ".",
    )
    assert (code, json.loads(out)["findings"]) == (0, [])


# --- the command line and the configuration ------------------------------------------------


@postgres
@needs_server
def test_config_key_makes_data_the_default_and_no_data_turns_it_off(pg, project, capsys):
    write(
        project,
        pair(
            DROP_UNIQUE,
            """\
        BEGIN;
        ALTER TABLE leads ADD CONSTRAINT leads_email_key UNIQUE (email);
        COMMIT;
        """,
            UNIQUE_BASE,
        ),
    )
    args = ["verify", "--dsn", pg.admin_conninfo(), UP]
    assert run(capsys, *args) == (0, "0 errors, 0 warnings in 2 files\n", "")
    (project / "migcheck.toml").write_text("verify-data = true\n")
    code, out, err = run(capsys, *args)
    assert code == 1 and "error[rollback-fails-with-data]" in out and err == ""
    assert run(capsys, *args[:-1], "--no-data", UP) == (0, "0 errors, 0 warnings in 2 files\n", "")
    (project / "migcheck.toml").write_text('verify-data = "yes"\n')
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "") and "'verify-data' must be true or false, not str" in err


@postgres
@needs_server
def test_text_output_sample(pg, project, capsys):
    write(project, pair(SPLIT, MERGE_ONE_HALF, NAME_BASE))
    code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "--data", UP)
    assert code == 1 and err == ""
    assert out.splitlines()[0] == (
        "migrations/rollback/20251023_002_rollback.sql:3:1: error[rollback-loses-rows] after the rollback, 20 of "
        "the 20 rows of public.leads from before the migration are not as before: 20 changed (full_name in 20)"
    )
    assert out.splitlines()[2].startswith(
        "migrations/rollback/20251023_002_rollback.sql:4:1: info[rollback-discards-new-data] the rollback drops "
        "column public.leads.last_name"
    )


def test_data_rules_are_rollback_rules():
    from migcheck import registry

    rules = registry.load()
    assert set(DATA_RULES) <= set(ROLLBACK_RULES)
    assert {r: rules[r].severity for r in DATA_RULES} == {
        "rollback-fails-with-data": "error",
        "rollback-loses-rows": "error",
        "rollback-discards-new-data": "info",
    }
    assert all(rules[r].group == "rollback" and rules[r].scope == "verify" for r in DATA_RULES)


def test_config_key_parses():
    assert config.from_dict({"verify-data": True}, Path(".")).verify_data is True
    assert config.Config().verify_data is False
    with pytest.raises(config.ConfigError, match="'verify-data' must be true or false"):
        config.from_dict({"verify-data": 1}, Path("."))


@postgres
@needs_server
def test_column_order_is_not_a_difference(pg, project, capsys):
    """A rollback that adds back a column the migration dropped puts it at the end of the table:
    neither the schema comparison nor the row comparison counts that (only the lost values)."""
    write(
        project,
        pair(
            """\
        -- Idempotent: no
        BEGIN;
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS contact_email text;
        UPDATE leads SET contact_email = email;
        ALTER TABLE leads DROP COLUMN IF EXISTS email;
        COMMIT;
        """,
            """\
        BEGIN;
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS email text;
        UPDATE leads SET email = contact_email;
        ALTER TABLE leads DROP COLUMN IF EXISTS contact_email;
        COMMIT;
        """,
        ),
    )
    code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), UP)  # the schema only
    assert (code, out) == (0, "0 errors, 0 warnings in 2 files\n")
    code, got, doc = verify(pg, capsys)  # and the rows
    assert (code, got) == (0, set())


@postgres
@needs_server
def test_what_is_not_checked_with_rows_is_said(pg, project, capsys):
    """A rollback that fails on the generated rows with an error the restored schema does not raise
    (a division by zero: what the values mean, which generated rows do not know) is noted (JSON
    files[].data, one line on stderr), never reported; a pair of views only is skipped, and says why."""
    write(
        project,
        pair(
            """\
        BEGIN;
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS note text;
        COMMIT;
        """,
            """\
        BEGIN;
        UPDATE leads SET score = 100 / (score - 1);
        ALTER TABLE leads DROP COLUMN IF EXISTS note;
        COMMIT;
        """,
            base="""\
        BEGIN;
        CREATE TABLE IF NOT EXISTS leads (id bigint PRIMARY KEY, score int);
        COMMIT;
        """,
        )
        | {
            "migrations/20251024_003_view.sql": "BEGIN;\nCREATE OR REPLACE VIEW scored AS SELECT id FROM leads;\nCOMMIT;\n",
            "migrations/rollback/20251024_003_rollback.sql": "BEGIN;\nDROP VIEW IF EXISTS scored;\nCOMMIT;\n",
        },
    )
    code, out, err = run(
        capsys,
        "verify",
        "--dsn",
        pg.admin_conninfo(),
        "--data",
        "--format",
        "json",
        UP,
        "migrations/20251024_003_view.sql",
    )
    doc = json.loads(out)
    assert (code, doc["findings"]) == (0, [])
    data = {e["path"]: e["data"] for e in doc["files"] if "data" in e}
    assert data[UP]["checked"] is False
    assert data[UP]["note"] == (
        "not checked with rows: the rollback fails in the data round: division by zero (SQLSTATE 22012) (line 2)"
    )
    assert data["migrations/20251024_003_view.sql"] == {
        "checked": True,
        "note": "rows cannot change what this pair does (no statement reads or writes them)",
        "tables": [],
    }
    assert err == (
        "migcheck: note: --data: 1 of 2 rollbacks not checked with rows (" + UP + ": the rollback fails "
        "in the data round: division by zero (SQLSTATE 22012) (line 2))\n"
    )
    code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "--data", "--quiet", UP)
    assert (code, out, err) == (0, "", "")
