"""Hostile inputs through the command line: never a traceback, never a silent pass, never a lost file.

Each test runs ``migcheck.cli.main`` in a temporary project whose config enables ``drop-table``
(plus the always-on ``parse-error``, ``encoding-error``, ``unreadable-file``), so exit codes are exact:
a good file with ``DROP TABLE`` gives exit 1 through ``drop-table``, and an unreadable file gives
exit 1 through its own finding.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from migcheck import cli

M = "migrations"
CONFIG = 'select = ["drop-table"]\nchangelog = false\n'


@pytest.fixture
def proj(project):
    (project / "migcheck.toml").write_text(CONFIG, encoding="utf-8")
    (project / M).mkdir()
    return project


def put(root: Path, rel: str, data: str | bytes) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return p


def run(capsys, *args: str) -> tuple[int, dict | str, str]:
    """(exit code, parsed JSON report or raw stdout, stderr); never a traceback."""
    code = cli.main(["check", "--format", "json", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "internal error" not in err, err
    try:
        return code, json.loads(out), err
    except ValueError:
        return code, out, err


def found(report: dict) -> list[tuple[str, int, int, str]]:
    return [(f["path"], f["line"], f["column"], f["rule"]) for f in report["findings"]]


# --- empty and trivial files ----------------------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"-- only a comment\n/* and a block */\n", b"  \n\t\r\n  "],
                         ids=["empty", "comments-only", "whitespace-only"])
def test_trivial_files_are_clean_under_drop_table(capsys, proj, data):
    put(proj, f"{M}/20250101_001_x.sql", data)
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (0, [])
    assert rep["files"] == [{"path": f"{M}/20250101_001_x.sql", "kind": "migration", "statements": 0}]


@pytest.mark.parametrize("data", [b"", b"-- only a comment\n", b" \n\n"], ids=["empty", "comments-only", "whitespace-only"])
def test_trivial_migration_is_not_a_silent_pass_with_default_rules(capsys, project, data):
    """With the default rule set, an empty migration fails (no header, no rollback), never passes silently."""
    (project / "migcheck.toml").write_text("changelog = false\n", encoding="utf-8")
    put(project, f"{M}/20250101_001_x.sql", data)
    code, rep, _ = run(capsys)
    assert code == 1
    assert {"missing-header", "missing-rollback-file"} <= {f["rule"] for f in rep["findings"]}


def test_empty_rollback_file_is_a_finding(capsys, project):
    (project / "migcheck.toml").write_text('select = ["empty-rollback"]\nchangelog = false\n', encoding="utf-8")
    put(project, f"{M}/20250101_001_x.sql", "BEGIN;\nCREATE TABLE IF NOT EXISTS t (id int);\nCOMMIT;\n")
    put(project, f"{M}/rollback/20250101_001_rollback.sql", "-- nothing\n")
    code, rep, _ = run(capsys)
    assert (code, [r for *_, r in found(rep)]) == (1, ["empty-rollback"])


# --- encodings ------------------------------------------------------------------------------

def test_utf8_bom_is_skipped_and_positions_unchanged(capsys, proj):
    put(proj, f"{M}/20250101_001_x.sql", b"\xef\xbb\xbfDROP TABLE a;\r\nDROP TABLE b;\r\n")
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (1, [(f"{M}/20250101_001_x.sql", 1, 1, "drop-table"),
                                      (f"{M}/20250101_001_x.sql", 2, 1, "drop-table")])


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
def test_utf16_with_bom_is_decoded_and_checked(capsys, proj, codec):
    data = "SELECT 1;\nDROP TABLE a;\n".encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    put(proj, f"{M}/20250101_001_x.sql", data)
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (1, [(f"{M}/20250101_001_x.sql", 2, 1, "drop-table")])


def test_latin1_is_an_encoding_error_with_the_byte_offset(capsys, proj):
    put(proj, f"{M}/20250101_001_x.sql", "SELECT 1;\nSELECT 'Zürich';\nDROP TABLE a;\n".encode("latin-1"))
    code, rep, _ = run(capsys)
    assert code == 1
    (f,) = rep["findings"]
    assert (f["rule"], f["line"], f["column"]) == ("encoding-error", 2, 10)
    assert "byte 0xfc at byte offset 19" in f["message"] and "Latin-1" in f["message"]


def test_invalid_utf8_sequence(capsys, proj):
    put(proj, f"{M}/20250101_001_x.sql", b"SELECT '\xc3\x28';\n")
    code, rep, _ = run(capsys)
    assert code == 1
    assert [(f["rule"], f["line"], f["column"]) for f in rep["findings"]] == [("encoding-error", 1, 9)]
    assert "byte offset 8" in rep["findings"][0]["message"]


@pytest.mark.parametrize("data, line, col", [
    (b"SELECT 1;\nDROP\x00 TABLE a;\n", 2, 5),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3, 1),
    (bytes(range(256)) * 4, 1, 1),
], ids=["nul-in-sql", "png", "all-bytes"])
def test_nul_bytes_and_binary_are_encoding_errors(capsys, proj, data, line, col):
    put(proj, f"{M}/20250101_001_x.sql", data)
    code, rep, _ = run(capsys)
    assert code == 1
    assert [(f["rule"], f["line"], f["column"]) for f in rep["findings"]] == [("encoding-error", line, col)]
    assert "binary" in rep["findings"][0]["message"]


def test_utf16_bom_but_garbage(capsys, proj):
    put(proj, f"{M}/20250101_001_x.sql", b"\xff\xfeS\x00\x00\xd8")  # lone surrogate
    code, rep, _ = run(capsys)
    assert code == 1
    assert [f["rule"] for f in rep["findings"]] == ["encoding-error"]


# --- size -----------------------------------------------------------------------------------

STMT = "INSERT INTO t (id, name) VALUES (1, 'x');\n"


def test_large_file_is_checked_in_bounded_time(capsys, project):
    """~256 KB / 6,000 statements with the default rule set. Measured (2 CPUs, loaded): 1 MB ~ 13 s
    and 250 MB RSS, 20 MB ~ 250 s and 5 GB RSS, dominated by mixed-changes (rules/_relations.py),
    json.loads of pglast's tree and the scanner tokens in source.comments; see the report."""
    (project / "migcheck.toml").write_text("changelog = false\n", encoding="utf-8")
    n = 256 * 1024 // len(STMT)
    put(project, f"{M}/20250101_001_big.sql", "BEGIN;\n" + STMT * n + "DROP TABLE a;\nCOMMIT;\n")
    t = time.perf_counter()
    code, rep, _ = run(capsys)
    elapsed = time.perf_counter() - t
    assert code == 1
    assert (f"{M}/20250101_001_big.sql", n + 2, 1, "drop-table") in found(rep)
    assert rep["files"][0]["statements"] == n + 3
    assert elapsed < 30, f"{elapsed:.1f}s for {n} statements"


def test_single_one_megabyte_line(capsys, proj):
    line = "SELECT " + ", ".join(["'x'"] * (1024 * 1024 // 5)) + "; DROP TABLE a;"
    put(proj, f"{M}/20250101_001_x.sql", line + "\n")
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (1, [(f"{M}/20250101_001_x.sql", 1, line.index("DROP") + 1, "drop-table")])


def test_deeply_nested_expression(capsys, proj):
    put(proj, f"{M}/20250101_001_x.sql", "SELECT " + "(" * 100_000 + "1" + ")" * 100_000 + ";\nDROP TABLE a;\n")
    code, rep, _ = run(capsys)
    got = found(rep)
    assert code == 1
    assert (f"{M}/20250101_001_x.sql", 2, 1, "drop-table") in got
    assert [g for g in got if g[3] == "parse-error" and g[1] == 1]


def test_deeply_nested_parses_but_too_deep_for_json(capsys, proj):
    """Nesting the parser accepts but that is too deep to walk: a finding, not a crash."""
    put(proj, f"{M}/20250101_001_x.sql", "SELECT " + "-" * 5000 + "1;\nDROP TABLE a;\n")
    code, rep, _ = run(capsys)
    assert code == 1 and rep["findings"]


# --- unterminated constructs, missing semicolon ---------------------------------------------

@pytest.mark.parametrize("tail, message", [
    ("SELECT 'never closed;\nDROP TABLE b;\n", "unterminated quoted string"),
    ("DO $$ BEGIN\nDROP TABLE b;\n", "unterminated dollar-quoted string"),
    ("/* never closed\nDROP TABLE b;\n", "unterminated /* comment"),
    ('SELECT "never closed;\nDROP TABLE b;\n', "unterminated quoted identifier"),
], ids=["string", "dollar", "comment", "identifier"])
def test_unterminated_constructs(capsys, proj, tail, message):
    put(proj, f"{M}/20250101_001_x.sql", "DROP TABLE a;\n" + tail)
    code, rep, _ = run(capsys)
    assert code == 1
    assert found(rep) == [(f"{M}/20250101_001_x.sql", 1, 1, "drop-table"),
                          (f"{M}/20250101_001_x.sql", 2, rep["findings"][1]["column"], "parse-error")]
    assert message in rep["findings"][1]["message"]


def test_statement_without_trailing_semicolon(capsys, proj):
    put(proj, f"{M}/20250101_001_x.sql", "SELECT 1;\nDROP TABLE a")
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (1, [(f"{M}/20250101_001_x.sql", 2, 1, "drop-table")])


# --- psql scripts and templates -------------------------------------------------------------

def test_psql_meta_commands_are_findings_and_the_rest_is_checked(capsys, proj):
    put(proj, f"{M}/20250101_001_x.sql",
        "\\set ON_ERROR_STOP on\nBEGIN;\n\\i other.sql\nDROP TABLE a;\n\\connect db\nDROP TABLE b;\nCOMMIT;\n")
    code, rep, _ = run(capsys)
    assert code == 1
    p = f"{M}/20250101_001_x.sql"
    assert found(rep) == [(p, 1, 1, "parse-error"), (p, 3, 1, "parse-error"), (p, 4, 1, "drop-table"),
                          (p, 5, 1, "parse-error"), (p, 6, 1, "drop-table")]
    msgs = [f["message"] for f in rep["findings"] if f["rule"] == "parse-error"]
    assert all("psql meta-command" in m and "psql script" in m for m in msgs)
    assert "`\\set`" in msgs[0] and "`\\i`" in msgs[1] and "`\\connect`" in msgs[2]


def test_psql_variables_are_a_parse_error_and_the_rest_is_checked(capsys, proj):
    """`:var`, `:'var'` and `:"var"` are psql variables: the message says so."""
    p = f"{M}/20250101_001_x.sql"
    put(proj, p, "SELECT :x;\nCREATE TABLE :\"schema\".t (id int);\nSELECT :'v';\nDROP TABLE a;\n")
    code, rep, _ = run(capsys)
    assert code == 1
    assert found(rep) == [(p, 1, 8, "parse-error"), (p, 2, 14, "parse-error"), (p, 3, 8, "parse-error"),
                          (p, 4, 1, "drop-table")]
    assert all(f["message"].startswith("psql variable `:") and "psql script" in f["message"]
               for f in rep["findings"][:3])


@pytest.mark.parametrize("template, col", [("{{ .Schema }}", 14), ("${schema}", 14)], ids=["go", "shell"])
def test_templating_is_a_parse_error_and_the_rest_is_checked(capsys, proj, template, col):
    p = f"{M}/20250101_001_x.sql"
    put(proj, p, f"SELECT 1;\nCREATE TABLE {template}.t (id int);\nDROP TABLE a;\n")
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (1, [(p, 2, col, "parse-error"), (p, 3, 1, "drop-table")])
    assert rep["findings"][0]["message"].startswith("template placeholder `")


# --- the file system ------------------------------------------------------------------------

def test_symlink_to_a_file_is_checked(capsys, proj):
    put(proj, "elsewhere/real.sql", "DROP TABLE a;\n")
    os.symlink(proj / "elsewhere/real.sql", proj / M / "20250101_001_link.sql")
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (1, [(f"{M}/20250101_001_link.sql", 1, 1, "drop-table")])


def test_dangling_symlink_and_symlink_loop(capsys, proj):
    os.symlink(proj / "nowhere.sql", proj / M / "20250101_001_dangling.sql")
    os.symlink(proj / M / "20250101_002_loop.sql", proj / M / "20250101_002_loop.sql")
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (1, [(f"{M}/20250101_001_dangling.sql", 1, 1, "unreadable-file"),
                                      (f"{M}/20250101_002_loop.sql", 1, 1, "unreadable-file")])


def test_directory_symlink_loop_does_not_hang(capsys, proj):
    put(proj, f"{M}/20250101_001_x.sql", "DROP TABLE a;\n")
    os.symlink(proj / M, proj / M / "loop")
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (1, [(f"{M}/20250101_001_x.sql", 1, 1, "drop-table")])


def test_directory_named_like_a_sql_file(capsys, proj):
    (proj / M / "x.sql").mkdir()
    put(proj, f"{M}/20250101_001_x.sql", "DROP TABLE a;\n")
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (1, [(f"{M}/20250101_001_x.sql", 1, 1, "drop-table")])


def test_directory_named_like_a_sql_file_given_explicitly(capsys, proj):
    (proj / M / "x.sql").mkdir()
    code, rep, err = run(capsys, f"{M}/x.sql")
    assert code in (0, 2) and not (code == 0 and isinstance(rep, dict) and rep["findings"])


@pytest.mark.parametrize("rel", ["my migrations/20250101_001_x.sql", "migrations/dossier é/20250101_001_x.sql",
                                 "миграции/20250101_001_x.sql"], ids=["space", "accent", "cyrillic"])
def test_paths_with_spaces_and_non_ascii(capsys, proj, rel):
    put(proj, rel, "DROP TABLE a;\n")
    code, rep, _ = run(capsys, rel.split("/")[0])
    assert (code, found(rep)) == (1, [(rel, 1, 1, "drop-table")])
    code = cli.main(["check", rel.split("/")[0]])
    out, err = capsys.readouterr()
    assert code == 1 and f"{rel}:1:1: error[drop-table]" in out


def test_file_deleted_between_discovery_and_reading(capsys, proj, monkeypatch):
    put(proj, f"{M}/20250101_001_gone.sql", "DROP TABLE a;\n")
    put(proj, f"{M}/20250101_002_ok.sql", "DROP TABLE b;\n")
    real = Path.read_bytes

    def vanish(self):
        if self.name == "20250101_001_gone.sql":
            self.unlink()
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", vanish)
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (1, [(f"{M}/20250101_001_gone.sql", 1, 1, "unreadable-file"),
                                      (f"{M}/20250101_002_ok.sql", 1, 1, "drop-table")])
    assert "disappeared" in rep["findings"][0]["message"]


def test_thousands_of_files(capsys, proj):
    n = 3000
    for i in range(n):
        day, seq = divmod(i, 999)
        put(proj, f"{M}/202501{day + 1:02d}_{seq + 1:03d}_f.sql", "DROP TABLE a;\n" if i % 3 == 0 else "SELECT 1;\n")
    code, rep, _ = run(capsys)
    assert code == 1
    assert rep["summary"]["files"] == n and len(rep["files"]) == n
    assert rep["summary"]["errors"] == len(rep["findings"]) == 1000
    assert len({f["path"] for f in rep["findings"]}) == 1000


# --- configuration --------------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("select = [\n", "not valid TOML"),
    ("select = \"drop-table\nchangelog = false", "not valid TOML"),
    ("\xff", "cannot read"),
    ("fail-on = 3\n", "'fail-on' must be"),
    ("migrations = 5\n", "'migrations' must be a list"),
    ("postgres-version = \"15\"\n", "'postgres-version' must be"),
    ("severity = \"error\"\n", "'severity' must be"),
    ("select = [\"no-such-rule\"]\n", "unknown rule id 'no-such-rule'"),
    ("selct = [\"drop-table\"]\n", "unknown key 'selct'"),
    ("[severity]\ndrop-table = \"fatal\"\n", "must be one of"),
], ids=["toml-open-list", "toml-open-string", "not-utf8", "fail-on-int", "migrations-int", "pg-version-str",
        "severity-str", "unknown-rule", "unknown-key", "bad-level"])
def test_bad_config_is_exit_2_with_a_message(capsys, project, text, words):
    (project / "migcheck.toml").write_bytes(text.encode("latin-1"))
    put(project, f"{M}/20250101_001_x.sql", "DROP TABLE a;\n")
    code, out, err = run(capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("migcheck: error:") and words in err, err


def test_bad_pyproject_is_exit_2(capsys, project):
    (project / "pyproject.toml").write_text("[tool.migcheck\n", encoding="utf-8")
    put(project, f"{M}/20250101_001_x.sql", "DROP TABLE a;\n")
    code, out, err = run(capsys)
    assert code == 2 and "not valid TOML" in err


def test_missing_config_file_and_missing_path_are_exit_2(capsys, proj):
    code, _, err = run(capsys, "--config", "nope.toml")
    assert code == 2 and "config file not found" in err
    code, _, err = run(capsys, "no/such/dir")
    assert code == 2 and "path not found" in err


# --- done when: one directory mixing everything -----------------------------------------------

def test_directory_mixing_all_bad_inputs(capsys, proj, monkeypatch):
    bad = {
        "20250102_001_latin1.sql": ("SELECT 'Zürich';\n".encode("latin-1"), "encoding-error"),
        "20250102_002_binary.sql": (b"\x00\x01\x02\x03", "encoding-error"),
        "20250102_003_utf16_garbage.sql": (b"\xff\xfeS\x00\x00\xd8", "encoding-error"),
        "20250102_004_unterminated.sql": (b"SELECT 'oops;\n", "parse-error"),
        "20250102_005_dollar.sql": (b"DO $$ BEGIN\n", "parse-error"),
        "20250102_006_comment.sql": (b"/* open\n", "parse-error"),
        "20250102_007_psql.sql": (b"\\i other.sql\n", "parse-error"),
        "20250102_008_var.sql": (b"SELECT :x;\n", "parse-error"),
        "20250102_009_template.sql": (b"CREATE TABLE {{ .Schema }}.t (id int);\n", "parse-error"),
        "20250102_010_deep.sql": (("SELECT " + "(" * 50_000 + "1" + ")" * 50_000 + ";\n").encode(), "parse-error"),
        "20250102_011_gone.sql": (b"SELECT 1;\n", "unreadable-file"),
    }
    good = {
        "20250101_001_empty.sql": b"",
        "20250101_002_comments.sql": b"-- nothing\n",
        "20250101_003_ws.sql": b" \n",
        "20250101_004_bom.sql": b"\xef\xbb\xbfDROP TABLE a;\n",
        "20250101_005_utf16.sql": "DROP TABLE b;\n".encode("utf-16"),
        "20250101_006_nosemi.sql": b"SELECT 1;\nDROP TABLE c",
        "20250101_007_long_line.sql": ("SELECT " + "1, " * 300_000 + "1; DROP TABLE d;").encode(),
        "sub dir/20250101_008_space é.sql": b"DROP TABLE e;\n",
    }
    for name, (data, _) in bad.items():
        put(proj, f"{M}/{name}", data)
    for name, data in good.items():
        put(proj, f"{M}/{name}", data)
    (proj / M / "dir.sql").mkdir()
    os.symlink(proj / "nowhere.sql", proj / M / "20250102_012_dangling.sql")
    os.symlink(proj / M / "20250102_013_loop.sql", proj / M / "20250102_013_loop.sql")
    bad["20250102_012_dangling.sql"] = (None, "unreadable-file")
    bad["20250102_013_loop.sql"] = (None, "unreadable-file")
    real = Path.read_bytes

    def vanish(self):
        if self.name == "20250102_011_gone.sql" and self.exists():
            self.unlink()
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", vanish)
    code, rep, _ = run(capsys)
    assert code == 1
    by_file: dict[str, list[str]] = {}
    for f in rep["findings"]:
        by_file.setdefault(f["path"].removeprefix(f"{M}/"), []).append(f["rule"])
    for name, (_, rule) in bad.items():
        assert by_file.get(name) == [rule], (name, by_file.get(name))
    assert by_file["20250101_004_bom.sql"] == ["drop-table"]
    assert by_file["20250101_005_utf16.sql"] == ["drop-table"]
    assert by_file["20250101_006_nosemi.sql"] == ["drop-table"]
    assert by_file["20250101_007_long_line.sql"] == ["drop-table"]
    assert by_file["sub dir/20250101_008_space é.sql"] == ["drop-table"]
    assert not any(n.startswith(("20250101_001", "20250101_002", "20250101_003")) for n in by_file)
    assert rep["summary"]["files"] == len(bad) + len(good)


def test_header_only_migration_is_not_a_silent_pass(capsys, project):
    (project / "migcheck.toml").write_text("changelog = false\n", encoding="utf-8")
    put(project, f"{M}/20250101_001_x.sql",
        "-- =====\n-- MIGRATION: x\n-- =====\n-- Purpose: a\n-- Impact: b\n-- Rollback: c\n-- Testing: d\n-- =====\n")
    put(project, f"{M}/rollback/20250101_001_rollback.sql", "BEGIN;\nDROP TABLE IF EXISTS t;\nCOMMIT;\n")
    code, rep, _ = run(capsys)
    assert code == 1
    assert [f["rule"] for f in rep["findings"]] == ["empty-migration"]
