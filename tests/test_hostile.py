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


@pytest.mark.parametrize(
    "data",
    [b"", b"-- only a comment\n/* and a block */\n", b"  \n\t\r\n  "],
    ids=["empty", "comments-only", "whitespace-only"],
)
def test_trivial_files_are_clean_under_drop_table(capsys, proj, data):
    put(proj, f"{M}/20250101_001_x.sql", data)
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (0, [])
    assert rep["files"] == [{"path": f"{M}/20250101_001_x.sql", "kind": "migration", "statements": 0}]


@pytest.mark.parametrize(
    "data", [b"", b"-- only a comment\n", b" \n\n"], ids=["empty", "comments-only", "whitespace-only"]
)
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
    assert (code, found(rep)) == (
        1,
        [(f"{M}/20250101_001_x.sql", 1, 1, "drop-table"), (f"{M}/20250101_001_x.sql", 2, 1, "drop-table")],
    )


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


@pytest.mark.parametrize(
    "data, line, col",
    [
        (b"SELECT 1;\nDROP\x00 TABLE a;\n", 2, 5),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3, 1),
        (bytes(range(256)) * 4, 1, 1),
    ],
    ids=["nul-in-sql", "png", "all-bytes"],
)
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
    and 250 MB RSS, 20 MB ~ 250 s and 5 GB RSS, dominated by mixed-changes (analysis/relations.py),
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
    """Nesting the parser accepts but too deep even to load its tree (json.loads: RecursionError):
    a finding at that statement, and the other statements still checked (before, the whole file
    was one finding at 1:1 and the DROP TABLE after it went unchecked). `- ` (not `-`: `--` is a
    comment) before a column: PostgreSQL folds the minus signs of a constant."""
    p = f"{M}/20250101_001_x.sql"
    put(proj, p, "SELECT 1;\nSELECT " + "- " * 5000 + "a FROM t;\nDROP TABLE a;\n")
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (1, [(p, 2, 1, "parse-error"), (p, 3, 1, "drop-table")])
    assert "nested too deeply" in rep["findings"][0]["message"]


# --- unterminated constructs, missing semicolon ---------------------------------------------


@pytest.mark.parametrize(
    "tail, message",
    [
        ("SELECT 'never closed;\nDROP TABLE b;\n", "unterminated quoted string"),
        ("DO $$ BEGIN\nDROP TABLE b;\n", "unterminated dollar-quoted string"),
        ("/* never closed\nDROP TABLE b;\n", "unterminated /* comment"),
        ('SELECT "never closed;\nDROP TABLE b;\n', "unterminated quoted identifier"),
    ],
    ids=["string", "dollar", "comment", "identifier"],
)
def test_unterminated_constructs(capsys, proj, tail, message):
    put(proj, f"{M}/20250101_001_x.sql", "DROP TABLE a;\n" + tail)
    code, rep, _ = run(capsys)
    assert code == 1
    assert found(rep) == [
        (f"{M}/20250101_001_x.sql", 1, 1, "drop-table"),
        (f"{M}/20250101_001_x.sql", 2, rep["findings"][1]["column"], "parse-error"),
    ]
    assert message in rep["findings"][1]["message"]


def test_statement_without_trailing_semicolon(capsys, proj):
    put(proj, f"{M}/20250101_001_x.sql", "SELECT 1;\nDROP TABLE a")
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (1, [(f"{M}/20250101_001_x.sql", 2, 1, "drop-table")])


# --- psql scripts and templates -------------------------------------------------------------


def test_psql_meta_commands_are_findings_and_the_rest_is_checked(capsys, proj):
    put(
        proj,
        f"{M}/20250101_001_x.sql",
        "\\set ON_ERROR_STOP on\nBEGIN;\n\\i other.sql\nDROP TABLE a;\n\\connect db\nDROP TABLE b;\nCOMMIT;\n",
    )
    code, rep, _ = run(capsys)
    assert code == 1
    p = f"{M}/20250101_001_x.sql"
    assert found(rep) == [
        (p, 1, 1, "parse-error"),
        (p, 3, 1, "parse-error"),
        (p, 4, 1, "drop-table"),
        (p, 5, 1, "parse-error"),
        (p, 6, 1, "drop-table"),
    ]
    msgs = [f["message"] for f in rep["findings"] if f["rule"] == "parse-error"]
    assert all("psql meta-command" in m and "psql script" in m for m in msgs)
    assert "`\\set`" in msgs[0] and "`\\i`" in msgs[1] and "`\\connect`" in msgs[2]


def test_psql_variables_are_a_parse_error_and_the_rest_is_checked(capsys, proj):
    """`:var`, `:'var'` and `:"var"` are psql variables: the message says so."""
    p = f"{M}/20250101_001_x.sql"
    put(proj, p, "SELECT :x;\nCREATE TABLE :\"schema\".t (id int);\nSELECT :'v';\nDROP TABLE a;\n")
    code, rep, _ = run(capsys)
    assert code == 1
    assert found(rep) == [
        (p, 1, 8, "parse-error"),
        (p, 2, 14, "parse-error"),
        (p, 3, 8, "parse-error"),
        (p, 4, 1, "drop-table"),
    ]
    assert all(
        f["message"].startswith("psql variable `:") and "psql script" in f["message"] for f in rep["findings"][:3]
    )


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
    assert (code, found(rep)) == (
        1,
        [
            (f"{M}/20250101_001_dangling.sql", 1, 1, "unreadable-file"),
            (f"{M}/20250101_002_loop.sql", 1, 1, "unreadable-file"),
        ],
    )


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
    assert (code, rep["files"], rep["findings"]) == (0, [], [])  # a directory: checked recursively, holds nothing


@pytest.mark.parametrize(
    "rel",
    ["my migrations/20250101_001_x.sql", "migrations/dossier é/20250101_001_x.sql", "миграции/20250101_001_x.sql"],
    ids=["space", "accent", "cyrillic"],
)
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
    from migcheck import fsutil

    real = fsutil.read_regular  # (where the engine reads a file)

    def vanish(path, *a, **kw):
        if Path(path).name == "20250101_001_gone.sql":
            Path(path).unlink()
        return real(path, *a, **kw)

    monkeypatch.setattr(fsutil, "read_regular", vanish)
    code, rep, _ = run(capsys)
    assert (code, found(rep)) == (
        1,
        [(f"{M}/20250101_001_gone.sql", 1, 1, "unreadable-file"), (f"{M}/20250101_002_ok.sql", 1, 1, "drop-table")],
    )
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


@pytest.mark.parametrize(
    "text, words",
    [
        ("select = [\n", "not valid TOML"),
        ('select = "drop-table\nchangelog = false', "not valid TOML"),
        ("\xff", "cannot read"),
        ("fail-on = 3\n", "'fail-on' must be"),
        ("migrations = 5\n", "'migrations' must be a list"),
        ('postgres-version = "15"\n', "'postgres-version' must be"),
        ('severity = "error"\n', "'severity' must be"),
        ('select = ["no-such-rule"]\n', "unknown rule id 'no-such-rule'"),
        ('selct = ["drop-table"]\n', "unknown key 'selct'"),
        ('[severity]\ndrop-table = "fatal"\n', "must be one of"),
    ],
    ids=[
        "toml-open-list",
        "toml-open-string",
        "not-utf8",
        "fail-on-int",
        "migrations-int",
        "pg-version-str",
        "severity-str",
        "unknown-rule",
        "unknown-key",
        "bad-level",
    ],
)
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

MIX_CONFIG = 'select = ["drop-table", "truncate", "delete-without-where"]\nchangelog = false\n'
DEEP = "SELECT " + "+".join(["1"] * 150) + ";\n"  # parses, 300+ levels deep: reported, not analysed
# file name -> (content, expected (rule, line, column) and a word of its message); content None: made below
MIX_BAD = {
    "20250102_001_latin1.sql": (
        "SELECT 1;\nSELECT 'Zürich';\n".encode("latin-1"),
        ("encoding-error", 2, 10, "byte offset 19"),
    ),
    "20250102_002_invalid_utf8.sql": (b"SELECT '\xc3\x28';\n", ("encoding-error", 1, 9, "byte offset 8")),
    "20250102_003_nul.sql": (b"SELECT 1;\nDROP\x00 TABLE a;\n", ("encoding-error", 2, 5, "NUL")),
    "20250102_004_png.sql": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ("encoding-error", 3, 1, "binary")),
    # column not pinned: the engine counts it in UTF-8 bytes-as-text (5), the character is the 2nd
    "20250102_005_utf16_garbage.sql": (b"\xff\xfeS\x00\x00\xd8", ("encoding-error", 1, None, "UTF-16")),
    "20250102_006_string.sql": (b"SELECT 1;\nSELECT 'oops;\n", ("parse-error", 2, 8, "unterminated quoted string")),
    "20250102_007_dollar.sql": (
        b"SELECT 1;\nDO $$ BEGIN\n",
        ("parse-error", 2, 4, "unterminated dollar-quoted string"),
    ),
    "20250102_008_comment.sql": (b"SELECT 1;\n/* open\n", ("parse-error", 2, 1, "unterminated /* comment")),
    "20250102_009_psql_i.sql": (b"\\i other.sql\n", ("parse-error", 1, 1, "`\\i`")),
    "20250102_010_psql_set.sql": (b"SELECT 1;\n\\set x 1\n", ("parse-error", 2, 1, "`\\set`")),
    "20250102_011_psql_connect.sql": (b"\\connect db\nSELECT 1;\n", ("parse-error", 1, 1, "`\\connect`")),
    "20250102_012_psql_var.sql": (b"SELECT 1;\nSELECT :'v';\n", ("parse-error", 2, 8, "psql variable")),
    "20250102_013_go_template.sql": (
        b"CREATE TABLE {{ .Schema }}.t (id int);\n",
        ("parse-error", 1, 14, "template placeholder"),
    ),
    "20250102_014_shell_template.sql": (
        b"SELECT 1;\nCREATE TABLE ${s}.t (id int);\n",
        ("parse-error", 2, 14, "template placeholder"),
    ),
    "20250102_015_parser_depth.sql": (
        ("SELECT " + "(" * 50_000 + "1" + ")" * 50_000 + ";\n").encode(),
        ("parse-error", 1, None, "too deeply"),
    ),
    "20250102_016_tree_depth.sql": (b"SELECT 1;\n" + DEEP.encode(), ("parse-error", 2, 1, "too deeply")),
    "20250102_017_gone.sql": (b"DROP TABLE gone;\n", ("unreadable-file", 1, 1, "disappeared")),
    "20250102_018_denied.sql": (b"DROP TABLE denied;\n", ("unreadable-file", 1, 1, "permission denied")),
    "20250102_019_dangling.sql": (None, ("unreadable-file", 1, 1, "")),
    "20250102_020_loop.sql": (None, ("unreadable-file", 1, 1, "")),
}
MIX_GOOD = {
    "20250101_001_empty.sql": b"",
    "20250101_002_comments.sql": b"-- nothing\n/* at all */\n",
    "20250101_003_ws.sql": b" \n\t\r\n",
    "20250101_004_bom.sql": b"\xef\xbb\xbfDROP TABLE a;\r\nTRUNCATE b;\r\n",
    "20250101_005_utf16.sql": "SELECT 'ü';\nDROP TABLE b;\n".encode("utf-16"),
    "20250101_006_nosemi.sql": b"SELECT 1;\nDELETE FROM c",
    "20250101_007_long_line.sql": (
        "SELECT " + "1, " * 35_000 + "1; DROP TABLE d; TRUNCATE e;"
    ).encode(),  # 100 KB; 1 MB: test_single_one_megabyte_line
    "20250101_008_nested_ok.sql": ("SELECT " + "+".join(["1"] * 60) + ";\nDROP TABLE f;\n").encode(),
    "sub dir/20250101_009_space é.sql": b"DROP TABLE g;\n",
    "миграции/20250101_010_x.sql": b"TRUNCATE h;\n",
}


def _mix(root: Path, with_bad: bool) -> None:
    (root / "migcheck.toml").write_text(MIX_CONFIG, encoding="utf-8")
    (root / M).mkdir()
    for name, data in MIX_GOOD.items():
        put(root, f"{M}/{name}", data)
    if not with_bad:
        return
    for name, (data, _) in MIX_BAD.items():
        if data is not None:
            put(root, f"{M}/{name}", data)
    os.symlink(root / "nowhere.sql", root / M / "20250102_019_dangling.sql")
    os.symlink(root / M / "20250102_020_loop.sql", root / M / "20250102_020_loop.sql")
    (root / M / "dir.sql").mkdir()  # a directory named like a migration: not a file, nothing to say


def test_directory_mixing_all_bad_inputs(capsys, tmp_path, monkeypatch):
    """The issue's "done when": exit 1, exactly one clear finding per bad file (rule and position),
    and the good files' findings exactly as when the good files are checked alone."""
    alone, mixed = tmp_path / "alone", tmp_path / "mixed"
    alone.mkdir(), mixed.mkdir()
    _mix(alone, with_bad=False)
    _mix(mixed, with_bad=True)
    monkeypatch.chdir(alone)
    code, rep_alone, _ = run(capsys)
    assert code == 1
    good_alone = rep_alone["findings"]
    assert {f["path"].split("/", 1)[1] for f in good_alone} == {
        "20250101_004_bom.sql",
        "20250101_005_utf16.sql",
        "20250101_006_nosemi.sql",
        "20250101_007_long_line.sql",
        "20250101_008_nested_ok.sql",
        "sub dir/20250101_009_space é.sql",
        "миграции/20250101_010_x.sql",
    }

    # a file deleted between discovery and reading; a file we may not read (we may run as root,
    # for whom chmod 000 changes nothing: test_permission_denied_* below test it for real)
    from migcheck import fsutil

    real = fsutil.read_regular  # (where the engine reads a file)
    hooked = set()

    def read_regular(path, *a, **kw):
        self = Path(path)
        if self.name == "20250102_017_gone.sql" and self.exists():
            hooked.add(self.name)
            self.unlink()
        if self.name == "20250102_018_denied.sql":
            hooked.add(self.name)
            raise PermissionError(13, "Permission denied", str(self))
        return real(path, *a, **kw)

    monkeypatch.setattr(fsutil, "read_regular", read_regular)
    monkeypatch.chdir(mixed)
    code, rep, _ = run(capsys)
    assert code == 1
    assert hooked == {"20250102_017_gone.sql", "20250102_018_denied.sql"}, (
        "the engine no longer reads with fsutil.read_regular"
    )
    by_file: dict[str, list[dict]] = {}
    for f in rep["findings"]:
        by_file.setdefault(f["path"].removeprefix(f"{M}/"), []).append(f)
    for name, (_, (rule, line, col, word)) in MIX_BAD.items():
        got = by_file.pop(name, [])
        assert [(f["rule"], f["line"]) for f in got] == [(rule, line)], (name, got)
        assert col is None or got[0]["column"] == col, (name, got)
        assert word in got[0]["message"] and got[0]["help"], (name, got)
    assert [f for fs in by_file.values() for f in fs] == good_alone
    assert rep["summary"]["files"] == len(MIX_BAD) + len(MIX_GOOD)
    assert "dir.sql" not in json.dumps(rep)


# --- deep nesting through every rule ----------------------------------------------------------


def _all_rules_config(root: Path) -> None:
    from migcheck import registry

    ids = ", ".join(f'"{r}"' for r in sorted(registry.load()))
    (root / "migcheck.toml").write_text(f"select = [{ids}]\nchangelog = false\n", encoding="utf-8")


def _nest(shape: str, n: int) -> str:
    plus = "+".join(["a"] * n)
    return {
        "default": f"ALTER TABLE t ADD COLUMN c int DEFAULT ({plus});",
        "check": f"ALTER TABLE t ADD CONSTRAINT c CHECK ({plus} > 0) NOT VALID;",
        "view": f"CREATE VIEW v AS SELECT {plus} AS x FROM t;",
        "trigger": f"CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW WHEN ({plus} > 0) EXECUTE FUNCTION f();",
        "index": f"CREATE INDEX CONCURRENTLY i ON t (a) WHERE {plus} > 0;",
        "atomic": f"CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT {plus}; END;",
        "update": "UPDATE t SET a = " + "CASE WHEN a THEN 1 ELSE " * n + "0" + " END" * n + ";",
        "unary": "SELECT " + "- " * n + "a FROM t;",
        "plpgsql": f"DO $$ BEGIN PERFORM {plus}; ALTER TABLE t ADD COLUMN c int DEFAULT {plus}; END $$;",
        "sql_body": f"CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $$ SELECT {plus} $$;",
    }[shape]


def _depth(sql: str) -> int:
    """Nesting depth of the statement's parse tree, as source.MAX_DEPTH counts it."""
    from pglast import parser as pg

    (raw,) = json.loads(pg.parse_sql_json(sql))["stmts"]
    best, stack = 0, [(next(iter(raw["stmt"].values())), 1)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        for v in node.values() if isinstance(node, dict) else node:
            if isinstance(v, (dict, list)):
                stack.append((v, d + 1))
    return best


SHAPES = ["default", "check", "view", "trigger", "index", "atomic", "update", "unary", "plpgsql", "sql_body"]


@pytest.mark.parametrize("shape", SHAPES)
def test_deeply_nested_statement_is_a_finding_through_every_rule(capsys, project, shape):
    """Nesting the parser accepts but our recursive walkers (copy.deepcopy in missing-if-not-exists,
    effects.py for the rollback rules) could not follow: one parse-error at the statement, no
    internal error, and the statements around it still checked. Before source.MAX_DEPTH, 250 levels
    of `+` gave RecursionError in three rules (exit 2)."""
    _all_rules_config(project)
    p = f"{M}/20250101_001_x.sql"
    put(project, p, "BEGIN;\nSELECT 1;\n" + _nest(shape, 250) + "\nDROP TABLE z;\nCOMMIT;\n")
    put(project, f"{M}/rollback/20250101_001_rollback.sql", "BEGIN;\nDROP VIEW IF EXISTS v;\nCOMMIT;\n")
    code, rep, err = run(capsys)
    assert code == 1, err
    got = [(f["rule"], f["line"], f["column"]) for f in rep["findings"] if f["path"] == p]
    deep = [g for g in got if g[0] == "parse-error"]
    if shape in ("plpgsql", "sql_body"):  # the body is a string to the file's parser: analysed as far as it goes
        assert deep == []
    else:
        assert deep == [("parse-error", 3, 1)]
    assert ("drop-table", 4, 1) in got


@pytest.mark.parametrize("shape", SHAPES)
def test_nesting_just_under_the_limit_is_analysed_by_every_rule(capsys, project, shape):
    """The limit leaves room: a statement just under source.MAX_DEPTH runs through every rule
    (inside pytest's own deep stack) without an internal error and without a parse-error."""
    from migcheck import source

    _all_rules_config(project)
    p = f"{M}/20250101_001_x.sql"
    if shape in ("plpgsql", "sql_body"):  # the depth that counts is the body's
        sql = _nest(shape, source.MAX_DEPTH // 2 - 10)
    else:  # the deepest nesting of this shape that is still analysed
        n = max(n for n in range(1, source.MAX_DEPTH) if _depth(_nest(shape, n)) <= source.MAX_DEPTH)
        sql = _nest(shape, n)
        assert source.MAX_DEPTH - 6 <= _depth(sql) <= source.MAX_DEPTH
    put(project, p, "BEGIN;\n" + sql + "\nDROP TABLE z;\nCOMMIT;\n")
    put(project, f"{M}/rollback/20250101_001_rollback.sql", "BEGIN;\nDROP VIEW IF EXISTS v;\nCOMMIT;\n")
    code, rep, err = run(capsys)
    assert code == 1, err
    got = [(f["rule"], f["line"], f["column"]) for f in rep["findings"] if f["path"] == p]
    assert not [g for g in got if g[0] == "parse-error"], got
    assert ("drop-table", 3, 1) in got


# --- permission denied, for real ----------------------------------------------------------------

# Root ignores permission bits (CAP_DAC_OVERRIDE): as root, run migcheck without that capability
# (util-linux `setpriv`), so a chmod-000 file is as unreadable to it as to any user.
DROP_DAC = [
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
    "--",
]


def _unprivileged(args: list[str], setup) -> tuple[int, str, str]:
    """Run ``migcheck check`` (a real process) in a fresh project where file permissions apply;
    ``setup(root)`` makes the project and chmods its files."""
    import shutil
    import subprocess
    import sys
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="migcheck-perm-"))
    try:
        (root / "migcheck.toml").write_text(CONFIG, encoding="utf-8")
        (root / M).mkdir()
        setup(root)
        prefix = DROP_DAC if os.geteuid() == 0 else []
        if prefix and not shutil.which("setpriv"):
            pytest.skip("running as root without `setpriv`: cannot make permission bits apply")
        (root / "probe").write_text("x", encoding="utf-8")
        (root / "probe").chmod(0o000)
        probe = subprocess.run([*prefix, sys.executable, "-c", "open('probe').read()"], cwd=root, capture_output=True)
        if probe.returncode == 0:
            pytest.skip("this user reads chmod-000 files (a capability we could not drop): nothing to test")
        (root / "probe").unlink()
        proc = subprocess.run(
            [*prefix, sys.executable, "-m", "migcheck", "check", *args],
            cwd=root,
            capture_output=True,
            text=True,
            env=dict(os.environ, NO_COLOR="1"),
        )
        return proc.returncode, proc.stdout, proc.stderr
    finally:
        for d, dirs, _ in os.walk(root):
            for x in dirs:
                os.chmod(os.path.join(d, x), 0o755)
        shutil.rmtree(root, ignore_errors=True)


def _denied_file(root: Path) -> None:
    put(root, f"{M}/20250101_001_secret.sql", "DROP TABLE a;\n").chmod(0o000)
    put(root, f"{M}/20250101_002_ok.sql", "DROP TABLE b;\n").chmod(0o644)


def test_permission_denied_file_is_a_finding_not_a_pass():
    code, out, err = _unprivileged([], _denied_file)
    assert "Traceback" not in out + err and err == ""
    lines = [line for line in out.splitlines() if ": error[" in line]
    assert code == 1
    assert lines == [
        f"{M}/20250101_001_secret.sql:1:1: error[unreadable-file] permission denied: migcheck cannot read this file",
        f"{M}/20250101_002_ok.sql:1:1: error[drop-table] DROP TABLE b deletes the table and every row in it; "
        "the guidelines require review of destructive statements",
    ]


def _denied_dirs(root: Path) -> None:
    for d in ("closed", "noexec"):
        put(root, f"{M}/{d}/20250101_001_x.sql", "DROP TABLE a;\n").chmod(0o644)
    (root / M / "closed").chmod(0o000)  # cannot list it
    (root / M / "noexec").chmod(0o644)  # can list it, cannot open what is in it
    put(root, f"{M}/20250101_002_ok.sql", "SELECT 1;\n").chmod(0o644)


def test_directory_we_cannot_list_or_enter_is_a_finding():
    """Before: os.walk skipped an unreadable directory silently, so its migrations passed unchecked (exit 0)."""
    code, out, err = _unprivileged([], _denied_dirs)
    assert "Traceback" not in out + err and err == ""
    assert code == 1
    assert [line for line in out.splitlines() if ": error[" in line] == [
        f"{M}/closed:1:1: error[unreadable-file] permission denied: migcheck cannot list this directory, "
        "so the migrations in it are not checked",
        f"{M}/noexec/20250101_001_x.sql:1:1: error[unreadable-file] permission denied: migcheck cannot read this file",
    ]


def test_file_given_inside_a_directory_we_cannot_enter():
    """Before: PermissionError from Path.is_dir in engine.collect, an internal error (exit 2)."""
    code, out, err = _unprivileged([f"{M}/noexec/20250101_001_x.sql"], _denied_dirs)
    assert "Traceback" not in out + err and "internal error" not in err
    assert code == 1
    assert f"{M}/noexec/20250101_001_x.sql:1:1: error[unreadable-file] permission denied" in out


def test_header_only_migration_is_not_a_silent_pass(capsys, project):
    (project / "migcheck.toml").write_text("changelog = false\n", encoding="utf-8")
    put(
        project,
        f"{M}/20250101_001_x.sql",
        "-- =====\n-- MIGRATION: x\n-- =====\n-- Purpose: a\n-- Impact: b\n-- Rollback: c\n-- Testing: d\n-- =====\n",
    )
    put(project, f"{M}/rollback/20250101_001_rollback.sql", "BEGIN;\nDROP TABLE IF EXISTS t;\nCOMMIT;\n")
    code, rep, _ = run(capsys)
    assert code == 1
    assert [f["rule"] for f in rep["findings"]] == ["empty-migration"]
