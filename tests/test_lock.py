"""`migcheck lock`, `lock --check`, `lock --update` (exact output) and `modified-migration` from
migcheck.lock, offline, without git."""

from __future__ import annotations

import json

import pytest

from migcheck import lockfile
from migcheck.cli import main

A = "BEGIN;\nCREATE TABLE IF NOT EXISTS a (id int);\nCOMMIT;\n"
B = "BEGIN;\nCREATE TABLE IF NOT EXISTS b (id int);\nCOMMIT;\n"
SA, SB = lockfile.checksum_text(A), lockfile.checksum_text(B)


@pytest.fixture
def proj(project):
    (project / ".git").mkdir()
    (project / "migcheck.toml").write_text('select = ["modified-migration"]\nchangelog = false\n')
    (project / "migrations").mkdir()
    (project / "migrations" / "20251022_001_a.sql").write_text(A)
    (project / "migrations" / "20251022_002_b.sql").write_text(B)
    return project


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def findings(capsys, *paths):
    code, out, err = run(capsys, "check", "--format", "json", *paths)
    assert err == ""
    return code, [(f["rule"], f["path"], f["line"], f["message"]) for f in json.loads(out)["findings"]]


def test_checksum_normalisation():
    assert lockfile.checksum(A.encode()) == SA
    assert lockfile.checksum(A.replace("\n", "\r\n").encode()) == SA  # CRLF checkout
    assert lockfile.checksum(A.replace("\n", "\r").encode()) == SA
    assert lockfile.checksum(b"\xef\xbb\xbf" + A.encode()) == SA  # BOM
    assert lockfile.checksum(A.encode("utf-16")) == SA
    assert lockfile.checksum((A + " ").encode()) != SA  # anything else is an edit
    assert lockfile.checksum(b"caf\xe9\r\n") == lockfile.checksum(b"caf\xe9\n")  # not UTF-8: bytes


def test_lock_writes_sorted_lines(proj, capsys):
    assert run(capsys, "lock") == (0, "migcheck.lock: 2 migrations locked (2 added, 0 updated)\n", "")
    assert (proj / "migcheck.lock").read_text() == lockfile.HEADER + (
        f"20251022_001 {SA} migrations/20251022_001_a.sql\n20251022_002 {SB} migrations/20251022_002_b.sql\n"
    )
    assert run(capsys, "lock", "--check") == (0, "migcheck.lock: up to date (2 migrations)\n", "")
    assert findings(capsys) == (0, [])
    # a CRLF checkout is not an edit
    p = proj / "migrations" / "20251022_001_a.sql"
    p.write_bytes(b"\xef\xbb\xbf" + A.replace("\n", "\r\n").encode())
    assert run(capsys, "lock", "--check")[0] == 0 and findings(capsys) == (0, [])


def test_edit_delete_new_and_rename(proj, capsys):
    run(capsys, "lock")
    (proj / "migrations" / "20251022_001_a.sql").write_text(A.replace("id int", "id bigint"))
    (proj / "migrations" / "20251022_002_b.sql").rename(proj / "migrations" / "20251022_002_bee.sql")
    (proj / "migrations" / "20251022_003_c.sql").write_text(B)
    now = lockfile.checksum_text(A.replace("id int", "id bigint"))
    code, out, err = run(capsys, "lock", "--check")
    assert (code, err) == (1, "migcheck.lock: 3 problems\n")
    assert out == (
        f"migrations/20251022_001_a.sql: edited since it was locked (locked sha256 {SA[:12]}, now {now[:12]})\n"
        "migrations/20251022_002_bee.sql: locked as migrations/20251022_002_b.sql (renamed; run `migcheck lock` "
        "to record the new name)\n"
        "migrations/20251022_003_c.sql: 20251022_003 is not in migcheck.lock (run `migcheck lock`)\n"
    )
    code, got = findings(capsys)
    assert code == 1
    assert got == [
        (
            "modified-migration",
            "migrations/20251022_001_a.sql",
            1,
            f"migration 20251022_001_a.sql was edited after it was recorded in migcheck.lock (locked sha256 "
            f"{SA[:12]}, now {now[:12]}): databases that applied it will not run it again, so they drift "
            "from the ones that run the new text",
        )
    ]
    # lock adds and renames, keeps the edited checksum
    code, out, err = run(capsys, "lock")
    assert code == 1
    assert out == (
        "migcheck.lock: 3 migrations locked (1 added, 1 updated)\n"
        f"migrations/20251022_001_a.sql: edited since it was locked (locked sha256 {SA[:12]}, now {now[:12]})\n"
    )
    assert err.startswith("migcheck.lock: kept the locked checksum of 1 migration that changed")
    assert f"20251022_001 {SA} migrations/20251022_001_a.sql\n" in (proj / "migcheck.lock").read_text()
    # --update records it
    assert run(capsys, "lock", "--update", "20251022_001") == (
        0,
        "migcheck.lock: 3 migrations locked (0 added, 1 updated)\n",
        "",
    )
    assert findings(capsys) == (0, [])
    # deleting a locked migration
    (proj / "migrations" / "20251022_003_c.sql").unlink()
    code, got = findings(capsys)
    assert got == [
        (
            "modified-migration",
            "migrations/20251022_003_c.sql",
            1,
            "migration 20251022_003_c.sql was recorded in migcheck.lock and was deleted since: databases "
            "that applied it keep its changes, and new databases will not get them",
        )
    ]
    assert run(capsys, "lock", "--check")[1] == "migrations/20251022_003_c.sql: locked as 20251022_003 but deleted\n"
    assert run(capsys, "lock", "--update", "20251022_003")[0] == 0
    assert "20251022_003" not in (proj / "migcheck.lock").read_text()


def test_suppressed_edit(proj, capsys):
    run(capsys, "lock")
    (proj / "migrations" / "20251022_001_a.sql").write_text(
        "-- migcheck: ignore-file modified-migration -- never deployed (DBA: ana)\n" + A
    )
    code, out, err = run(capsys, "check", "--format", "json")
    assert code == 0 and [f["suppressed"] for f in json.loads(out)["findings"]] == [True]


@pytest.mark.parametrize(
    "content,message",
    [
        (
            "20251022_001 abc migrations/x.sql\n",
            "migcheck.lock line 1: 'abc' is not a SHA-256 checksum (64 lowercase hex digits)",
        ),
        ("# c\n\ngarbage\n", "migcheck.lock line 3: expected `VERSION SHA256 PATH`, found 'garbage'"),
        (
            f"20251022_001 {SA} a.sql\n20251022_001 {SA} b.sql\n",
            "migcheck.lock line 2: version 20251022_001 is locked twice (also on an earlier line)",
        ),
    ],
)
def test_corrupt_lock_is_a_finding_and_a_usage_error(proj, capsys, content, message):
    (proj / "migcheck.lock").write_text(content)
    code, got = findings(capsys)
    assert code == 1
    assert got == [
        (
            "modified-migration",
            "migrations/20251022_001_a.sql",
            1,
            f"{message}: migcheck cannot tell which migrations were edited",
        )
    ]
    for argv in (["lock"], ["lock", "--check"]):
        code, out, err = run(capsys, *argv)
        assert (code, out) == (2, "")
        assert err == (
            f"migcheck: error: {message}; restore it from version control, or delete it and run "
            "`migcheck lock` if every locked migration is known to be unchanged\n"
        )


def test_binary_lock_file(proj, capsys):
    (proj / "migcheck.lock").write_bytes(b"\xff\xfe\x00garbage")
    assert run(capsys, "lock", "--check")[2] == (
        "migcheck: error: migcheck.lock is not UTF-8 text (byte offset 0); restore it from version control, or "
        "delete it and run `migcheck lock` if every locked migration is known to be unchanged\n"
    )


def test_lock_check_without_lock(proj, capsys):
    assert run(capsys, "lock", "--check") == (1, "migcheck.lock: not found (run `migcheck lock` to write it)\n", "")
    assert findings(capsys) == (0, [])  # no lock, nothing to compare


def test_update_unknown_version(proj, capsys):
    run(capsys, "lock")
    assert run(capsys, "lock", "--update", "20991231_001") == (
        2,
        "",
        "migcheck: error: --update 20991231_001: no such version in migcheck.lock (see `migcheck lock --check`)\n",
    )
    assert run(capsys, "lock", "--check", "--update", "20251022_001")[0] == 2


def test_duplicate_versions_refused(proj, capsys):
    (proj / "migrations" / "20251022_001_dup.sql").write_text(B)
    assert run(capsys, "lock") == (
        2,
        "",
        (
            "migcheck: error: migrations/20251022_001_a.sql and migrations/20251022_001_dup.sql share the version "
            "20251022_001: give one of them a new number (see `migcheck check`, duplicate-version), then lock\n"
        ),
    )
    assert not (proj / "migcheck.lock").exists()


GOOSE = "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n"
DETECTED = (
    'migcheck: detected goose layout (set preset = "goose" in the configuration, '
    "or pass --preset goose, to silence this)\n"
)


def test_lock_detects_the_runner_layout_like_check(project, capsys):
    """`lock` and `check` must agree on what a migration and its version are: with no preset
    configured both detect the goose layout, so an edit of a locked goose file is reported."""
    (project / "migrations").mkdir()
    goose = project / "migrations" / "00001_a.sql"
    goose.write_text(GOOSE)
    assert run(capsys, "lock") == (0, "migcheck.lock: 1 migration locked (1 added, 0 updated)\n", DETECTED)
    assert (project / "migcheck.lock").read_text() == (
        lockfile.HEADER + f"1 {lockfile.checksum_text(GOOSE)} migrations/00001_a.sql\n"
    )
    goose.write_text(GOOSE + "-- edited\n")
    code, out, err = run(capsys, "check", "--select", "modified-migration", "--format", "json")
    assert code == 1 and err == DETECTED
    assert [(f["rule"], f["path"], f["line"]) for f in json.loads(out)["findings"]] == [
        ("modified-migration", "migrations/00001_a.sql", 1)
    ]


def test_lock_without_a_migrations_directory_says_what_to_configure(project, capsys):
    code, out, err = run(capsys, "lock")
    assert (code, out) == (2, "")
    assert err.startswith("migcheck: error: no migrations directory found (looked for migrations under ")
    assert "set `migrations` in migcheck.toml or [tool.migcheck] of pyproject.toml" in err
    assert "pass paths" not in err  # lock takes no paths: never suggest it


def test_an_edit_of_a_goose_down_section_is_an_edit(project, capsys):
    (project / "migrations").mkdir()
    goose = project / "migrations" / "00001_a.sql"
    goose.write_text(GOOSE)
    assert run(capsys, "lock")[0] == 0
    goose.write_text(GOOSE.replace("DROP TABLE a;", "DROP TABLE IF EXISTS a;"))
    code, out, err = run(capsys, "lock", "--check")
    assert (code, out) == (
        1,
        "migrations/00001_a.sql: edited since it was locked (locked sha256 "
        f"{lockfile.checksum_text(GOOSE)[:12]}, now "
        f"{lockfile.checksum_text(GOOSE.replace('DROP TABLE a;', 'DROP TABLE IF EXISTS a;'))[:12]})\n",
    )


def test_modified_migration_knows_the_lock_file_name():
    """modified-migration checks for the lock file before importing lockfile (one-file speed)."""
    from migcheck import lockfile
    from migcheck.rules import modified_migration

    assert modified_migration.LOCK_NAME == lockfile.NAME
