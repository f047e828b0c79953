"""The schema model's one replay per directory (``schema._Directory``) answers ``before`` exactly
as the replay of the relevant earlier migrations for each question did: the same migrations
(``relevant``: the text filter and its closure over renames and index tables), in the same order,
with the same origins, so the same catalog, down to the order of its dicts.

``reference_before`` is that per-question replay, kept here as the oracle: every statement of
every migration of a few multi-file projects, asked about many names (in the order a check asks
and in reverse, so that the kept replays are reused every way), must give the same catalog."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from migcheck import config as cfgmod
from migcheck import engine
from migcheck.analysis import schema

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def reference_before(project, f, st, names) -> schema.Catalog:
    """``schema.before`` as it was: ``relevant`` over ``earlier`` for each question, replayed."""
    own = [
        e for e in schema._effects(f) if st is None or (e.stmt is not None and schema._pos(e.stmt) < schema._pos(st))
    ]
    wanted = {schema.unqualified(n).lower() for n in names if n}
    history = schema.relevant(schema.earlier(project, f), wanted, own)
    changes = {id(m) for m in project.changes_before(f)} if project is not None else set()
    cat = schema.Catalog()
    for m in history:
        origin = schema.CHANGE if id(m) in changes else schema.EXISTING
        for e in schema._effects(m):
            cat.apply(e, origin, m.display)
    for e in own:
        cat.apply(e, schema.FILE, f.display)
    return cat


def dump(cat: schema.Catalog) -> tuple:
    """Everything a catalog holds, in its dicts' order (a reader may take the first match)."""
    return repr(cat.tables), repr(cat.indexes), repr(cat.objects), sorted(cat.changed)


def collect(root: Path, paths: list[str], toml: str = "") -> engine.Project:
    if toml:
        (root / "migcheck.toml").write_text(toml)
    cfg = cfgmod.load(None, root)
    return engine.collect([str(root / p) for p in paths], cfg, root)


def questions(project: engine.Project, names: list[str]):
    """(file, statement or None, names) for every statement of every migration, a few name sets each."""
    rng = random.Random(22)
    out = []
    for group in project.groups.values():
        for f in group.migrations:
            for st in [*f.all_statements, None]:
                for _ in range(3):
                    out.append((f, st, rng.sample(names, rng.randint(1, 3))))
    return out


def same_answers(project: engine.Project, names: list[str]) -> int:
    qs = questions(project, names)
    assert qs
    for order in (qs, qs[::-1], qs):
        for f, st, ns in order:
            assert dump(schema.before(project, f, st, ns)) == dump(reference_before(project, f, st, ns)), (
                f.display,
                st.line if st is not None else None,
                ns,
            )
            # the directory's index answers the text filter's other askers as the plain search does
            wanted = {schema.unqualified(n).lower() for n in ns if n}
            plain = schema.relevant(schema.earlier(project, f), wanted)
            assert schema.relevant_earlier(project, f, wanted) == plain, (f.display, ns)
            for n in wanted:
                naming = [m for m in schema.earlier(project, f) if schema.perfile.mentions(m, (n,))]
                assert schema.earlier_naming(project, f, n) == naming, (f.display, n)
                every = project.groups[f.mdir].migrations
                named = tuple(i for i, m in enumerate(every) if schema.perfile.mentions(m, (n,)))
                assert schema.positions_naming(project, f.mdir, n) == named, (f.display, n)
    return len(qs)


def test_examples_project_answers_as_the_per_question_replay():
    project = collect(EXAMPLES, ["migrations"])
    names = ["leads", "lead_notes", "lead", "notes", "idx_lead_notes_created_by", "schema_migrations", "x"]
    assert same_answers(project, names) > 50


# A project made to exercise what the closure and the origins depend on: renames in a chain (and
# back), an index that names its table only through the index, same-version files (not "before"
# each other), a file without a version, dynamic SQL, a drop and a re-create, short names that
# are substrings of longer ones, quoted names that are not word-like, and files whose first
# statement changes a table of the history in place.
TRICKY = {
    "20250101_001_base.sql": """
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text);
CREATE TABLE user_roles (user_id bigint REFERENCES users (id), role text);
CREATE INDEX users_email ON users (email);
CREATE TABLE "Odd-Name" (id int);
""",
    "20250102_002_rename.sql": """
ALTER TABLE users RENAME TO accounts;
ALTER INDEX users_email RENAME TO accounts_email;
ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);
""",
    "20250103_003_dynamic.sql": """
DO $$ BEGIN EXECUTE 'UPDATE ' || 'accounts SET name = 1'; END $$;
CREATE TABLE audit (id int);
""",
    "20250104_004_index.sql": """
CREATE INDEX ix_a ON audit (id);
ALTER TABLE accounts ALTER COLUMN name TYPE varchar(50);
ALTER TABLE accounts ADD CONSTRAINT name_nn CHECK (name IS NOT NULL) NOT VALID;
ALTER TABLE accounts VALIDATE CONSTRAINT name_nn;
""",
    "20250104_004_same_version.sql": """
ALTER TABLE audit RENAME TO audits;
ALTER INDEX ix_a RENAME TO ix_audits;
""",
    "20250105_005_back.sql": """
ALTER TABLE accounts RENAME TO users;
DROP INDEX ix_audits;
ALTER TABLE user_roles ADD COLUMN granted_at timestamp;
""",
    "20250106_006_recreate.sql": """
DROP TABLE "Odd-Name";
CREATE TABLE "Odd-Name" (id bigint, note text);
CREATE UNIQUE INDEX ix_a ON users (lower(email));
ALTER TABLE users RENAME COLUMN name TO full_name;
""",
    "noversion.sql": "CREATE TABLE users (other int);\n",
    # each first changes a table of the history in place (the kept replay must not see it)
    "20250108_008_drop_constraint.sql": "ALTER TABLE users DROP CONSTRAINT name_nn;\n",
    "20250109_009_drop_column.sql": (
        "ALTER TABLE user_role DROP COLUMN granted_at;\n"
        "ALTER TABLE user_role ADD CONSTRAINT role_nn CHECK (role IS NOT NULL) NOT VALID;\n"
    ),
    "20250110_010_validate.sql": "ALTER TABLE user_role VALIDATE CONSTRAINT role_nn;\n",
    "20250107_007_last.sql": """
ALTER TABLE users ALTER COLUMN full_name SET NOT NULL;
ALTER TABLE audits ALTER COLUMN id TYPE bigint;
DROP INDEX ix_a;
ALTER TABLE users DROP CONSTRAINT accounts_email_key;
ALTER TABLE user_roles RENAME TO user_role;
""",
}
TRICKY_NAMES = [
    "users", "accounts", "user_roles", "user_role", "user", "audit", "audits", "ix_a", "ix_audits",
    "users_email", "accounts_email", "accounts_email_key", "Odd-Name", "odd-name", "public.users", "nothing", "role_nn", "name_nn",
]  # fmt: skip


def tricky(tmp_path: Path) -> Path:
    d = tmp_path / "migrations"
    d.mkdir()
    for name, sql in TRICKY.items():
        (d / name).write_text(sql)
    (tmp_path / "migcheck.toml").write_text('migrations = ["migrations"]\nchangelog = false\n')
    return tmp_path


def named(project: engine.Project, name: str):
    return next(f for g in project.groups.values() for f in g.migrations if f.path.name == name)


def test_a_directory_answers_as_the_per_question_replay(tmp_path):
    project = collect(tricky(tmp_path), ["migrations"])
    assert same_answers(project, TRICKY_NAMES) > 100


def test_a_change_set_answers_as_the_per_question_replay(tmp_path):
    """Files given one by one are the change set: what they create is CHANGE, not EXISTING."""
    root = tricky(tmp_path)
    project = collect(
        root,
        [
            "migrations/20250102_002_rename.sql",
            "migrations/20250104_004_index.sql",
            "migrations/20250106_006_recreate.sql",
        ],
    )
    assert any(project.changes_before(f) for g in project.groups.values() for f in g.migrations)
    assert same_answers(project, TRICKY_NAMES) > 100


def test_the_replay_is_rebuilt_for_a_new_project(tmp_path):
    """Kept per project: a second project over changed files does not read the first one's replays."""
    root = tricky(tmp_path)
    first = collect(root, ["migrations"])
    last = named(first, "20250107_007_last.sql")
    assert schema.before(first, last, None, ["users"]).table("users").columns["full_name"].not_null
    (root / "migrations" / "20250106_006_recreate.sql").write_text("ALTER TABLE users RENAME COLUMN name TO nom;\n")
    second = collect(root, ["migrations"])
    last = named(second, "20250107_007_last.sql")
    t = schema.before(second, last, None, ["users"]).table("users")
    assert "nom" in t.columns and t.columns["full_name"].type is None
    assert dump(schema.before(second, last, None, ["users"])) == dump(reference_before(second, last, None, ["users"]))


def test_a_kept_replay_is_not_changed_by_what_a_question_applies(tmp_path):
    """``before`` applies the file's own effects to a copy: the kept replay stays as it was."""
    project = collect(tricky(tmp_path), ["migrations"])
    last = named(project, "20250107_007_last.sql")
    first = dump(schema.before(project, last, last.all_statements[0], ["users"]))
    end = schema.before(project, last, None, ["users"])
    assert end.table("users").columns["full_name"].not_null
    end.table("users").columns.clear()
    assert dump(schema.before(project, last, last.all_statements[0], ["users"])) == first


_WORDS = ["t", "tt", "t2", "u", "ix", "ixt"]
_STATEMENTS = [
    "CREATE TABLE {a} (id int, v text);",
    "CREATE TABLE IF NOT EXISTS {a} (id int);",
    "CREATE INDEX {b} ON {a} (id);",
    "CREATE UNIQUE INDEX IF NOT EXISTS {b} ON {a} (v);",
    "ALTER TABLE {a} RENAME TO {b};",
    "ALTER INDEX {a} RENAME TO {b};",
    "ALTER TABLE {a} ADD COLUMN w int NOT NULL;",
    "ALTER TABLE {a} ADD CONSTRAINT {b} UNIQUE (id);",
    "ALTER TABLE {a} DROP CONSTRAINT {b};",
    "DROP TABLE {a};",
    "DROP INDEX {a};",
    "INSERT INTO {a} VALUES (1);",
    "TRUNCATE {a};",
    "DO $$ BEGIN EXECUTE 'x'; END $$;",
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hs.lists(
        hs.lists(hs.tuples(hs.sampled_from(_STATEMENTS), hs.sampled_from(_WORDS), hs.sampled_from(_WORDS)), max_size=4),
        min_size=2,
        max_size=7,
    ),
    hs.sets(hs.integers(0, 6), max_size=3),
)
def test_random_projects_answer_as_the_per_question_replay(tmp_path_factory, files, given_alone):
    root = tmp_path_factory.mktemp("p")
    d = root / "migrations"
    d.mkdir()
    for i, stmts in enumerate(files):
        (d / f"20250101_{i // 2 + 1:03}_f{i}.sql").write_text("\n".join(s.format(a=a, b=b) for s, a, b in stmts) + "\n")
    (root / "migcheck.toml").write_text('migrations = ["migrations"]\nchangelog = false\n')
    alone = sorted(f"migrations/{p.name}" for i, p in enumerate(sorted(d.iterdir())) if i in given_alone)
    project = collect(root, alone or ["migrations"])
    for group in project.groups.values():
        for f in group.migrations:
            for st in [*f.all_statements, None]:
                for ns in (["t"], ["tt", "ix"], ["u", "ixt"], ["t2"]):
                    assert dump(schema.before(project, f, st, ns)) == dump(reference_before(project, f, st, ns))


@pytest.mark.parametrize("block", [1, 2, 256])
def test_the_word_index_by_blocks_finds_what_mentions_finds(tmp_path, monkeypatch, block):
    """Blocks of any size (a name found at the end of one block and the start of the next)."""
    monkeypatch.setattr(schema, "_BLOCK", block)
    project = collect(tricky(tmp_path), ["migrations"])
    assert same_answers(project, TRICKY_NAMES) > 100


def test_only_the_migrations_that_name_a_table_are_replayed(tmp_path):
    """Today's semantics, kept: dynamic SQL in a migration that does not name the table (it could
    have written any table) is not replayed for it, so ``Table.empty`` stays as its creation left
    it. A replay of every earlier migration would clear it; on the 16 real repositories this was
    the only difference (5 of 2,334 questions, all hatchet), and no reader of ``before`` reads
    ``empty`` (the lock rules ask the file's own timeline: ``schema.empty``)."""
    d = tmp_path / "migrations"
    d.mkdir()
    (d / "20250101_001_t.sql").write_text("CREATE TABLE t (id int);\n")
    (d / "20250102_002_dynamic.sql").write_text("DO $$ BEGIN EXECUTE 'SELECT 1'; END $$;\n")
    (d / "20250103_003_alter.sql").write_text("ALTER TABLE t ADD COLUMN v int;\n")
    (tmp_path / "migcheck.toml").write_text('migrations = ["migrations"]\nchangelog = false\n')
    project = collect(tmp_path, ["migrations"])
    last = named(project, "20250103_003_alter.sql")
    t = schema.before(project, last, last.all_statements[0], ["t"]).table("t")
    assert t is not None and t.empty is not None and t.empty.startswith("created by migrations/20250101_001_t.sql:1")
    assert dump(schema.before(project, last, None, ["t"])) == dump(reference_before(project, last, None, ["t"]))


def test_a_file_outside_the_directory_list_reads_every_other_version(tmp_path):
    """``earlier`` of a migration its group does not list (it stops at none): every migration
    with a version other than its own, as the per-question replay read them."""
    project = collect(tricky(tmp_path), ["migrations"])
    group = next(iter(project.groups.values()))
    f = named(project, "20250104_004_same_version.sql")
    group.migrations.remove(f)
    schema._DIRECTORIES.pop(project, None)
    for ns in (["audit"], ["ix_a", "users"], ["audits"]):
        for st in [*f.all_statements, None]:
            assert dump(schema.before(project, f, st, ns)) == dump(reference_before(project, f, st, ns))
