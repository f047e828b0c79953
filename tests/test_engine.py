"""Files, siblings, suppressions and faults, through the engine."""

import os
from pathlib import Path

import pytest

from migcheck import config as config_mod
from migcheck import engine


def write(root: Path, rel: str, text: str | bytes) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def cfg(root, **kw):
    data = {"select": ["drop-table", "parse-error", "encoding-error", "unreadable-file"], "changelog": False}
    data.update(kw)
    return config_mod.from_dict(data, root=root)


def check(root, paths, **kw):
    return engine.check(paths, cfg(root, **kw), cwd=root)


def test_dangling_symlink_and_loop_are_findings_not_crashes(tmp_path):
    write(tmp_path, "migrations/20251022_001_ok.sql", "SELECT 1;")
    os.symlink(tmp_path / "nowhere.sql", tmp_path / "migrations/20251022_002_dangling.sql")
    os.symlink(tmp_path / "migrations/20251022_003_loop.sql", tmp_path / "migrations/20251022_003_loop.sql")
    r = check(tmp_path, ["migrations"])
    got = {(f.path, f.rule) for f in r.findings}
    assert got == {
        ("migrations/20251022_002_dangling.sql", "unreadable-file"),
        ("migrations/20251022_003_loop.sql", "unreadable-file"),
    }
    assert not r.errors


def test_directory_named_like_a_sql_file_is_skipped(tmp_path):
    (tmp_path / "migrations/weird.sql").mkdir(parents=True)
    write(tmp_path, "migrations/20251022_001_ok.sql", "SELECT 1;")
    r = check(tmp_path, ["migrations"])
    assert [f.display for f in r.files] == ["migrations/20251022_001_ok.sql"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path):
    p = write(tmp_path, "migrations/20251022_001_x.sql", "SELECT 1;")
    p.chmod(0)
    r = check(tmp_path, ["migrations"])
    assert [f.rule for f in r.findings] == ["unreadable-file"]


def test_bad_inputs_never_crash(tmp_path):
    write(tmp_path, "m/20251022_001_empty.sql", "")
    write(tmp_path, "m/20251022_002_ws.sql", "  \n\t\n")
    write(tmp_path, "m/20251022_003_comments.sql", "-- only\n/* comments */\n")
    write(tmp_path, "m/20251022_004_latin1.sql", "SELECT 'Zürich';\n".encode("latin-1"))
    write(tmp_path, "m/20251022_005_binary.sql", b"\x89PNG\r\n\x1a\n\x00\x00")
    write(tmp_path, "m/20251022_006_bom_crlf.sql", b"\xef\xbb\xbfBEGIN;\r\nDROP TABLE x;\r\nCOMMIT;\r\n")
    write(tmp_path, "m/20251022_007_deep.sql", "SELECT " + "(" * 100000 + "1" + ")" * 100000 + ";\nDROP TABLE y;\n")
    r = check(tmp_path, ["m"])
    got = sorted((f.path.split("/")[-1], f.line, f.column, f.rule) for f in r.findings)
    assert ("20251022_004_latin1.sql", 1, 10, "encoding-error") in got
    assert ("20251022_005_binary.sql", 3, 1, "encoding-error") in got
    assert ("20251022_006_bom_crlf.sql", 2, 1, "drop-table") in got
    assert any(g[0] == "20251022_007_deep.sql" and g[3] == "parse-error" for g in got)
    assert ("20251022_007_deep.sql", 2, 1, "drop-table") in got
    assert not any(g[0].startswith(("20251022_001", "20251022_002", "20251022_003")) for g in got)
    assert not r.errors


def test_single_file_sees_siblings_but_reports_only_itself(tmp_path):
    write(tmp_path, "migrations/20251022_001_a.sql", "DROP TABLE a;")
    write(tmp_path, "migrations/20251022_002_b.sql", "DROP TABLE b;")
    write(tmp_path, "migrations/rollback/20251022_001_rollback.sql", "SELECT 1;")
    project = engine.collect(["migrations/20251022_002_b.sql"], cfg(tmp_path), tmp_path)
    assert {f.name for f in project.files} == {"20251022_001_a.sql", "20251022_002_b.sql", "20251022_001_rollback.sql"}
    kinds = {f.name: f.kind for f in project.files}
    assert kinds["20251022_001_rollback.sql"] == "rollback"
    r = engine.run(project, project.config)
    assert [(f.path, f.rule) for f in r.findings] == [("migrations/20251022_002_b.sql", "drop-table")]
    assert [f.display for f in r.files] == ["migrations/20251022_002_b.sql"]


def test_suppression_placement(tmp_path):
    write(
        tmp_path,
        "migrations/20251022_001_a.sql",
        """\
BEGIN;
DROP TABLE a; -- migcheck: ignore drop-table -- same line covers this statement
-- migcheck: ignore drop-table -- own line covers the next statement
DROP TABLE
  b;
DROP TABLE c;
DROP TABLE d, -- migcheck: ignore drop-table -- trailing on the first line of a multi-line statement
  e;
COMMIT;
""",
    )
    r = check(tmp_path, ["migrations"], select=["drop-table", "unused-suppression"])
    assert [(f.line, f.rule, f.suppressed) for f in r.findings] == [
        (2, "drop-table", True),
        (4, "drop-table", True),
        (6, "drop-table", False),
        (7, "drop-table", True),
    ]


def test_ignore_file_suppression(tmp_path):
    write(
        tmp_path,
        "migrations/20251022_001_a.sql",
        "-- migcheck: ignore-file drop-table -- cleanup approved by DBA\nDROP TABLE a;\nDROP TABLE b;\n",
    )
    r = check(tmp_path, ["migrations"])
    assert [(f.line, f.suppressed, f.reason) for f in r.findings] == [
        (2, True, "cleanup approved by DBA"),
        (3, True, "cleanup approved by DBA"),
    ]


def test_findings_sorted_by_path_line_column(tmp_path):
    write(tmp_path, "migrations/20251022_002_b.sql", "DROP TABLE b;\nDROP TABLE a;")
    write(tmp_path, "migrations/20251022_001_a.sql", "SELECT 1;\n DROP TABLE a;")
    r = check(tmp_path, ["migrations"])
    assert [(f.path[-8:], f.line) for f in r.findings] == [("01_a.sql", 2), ("02_b.sql", 1), ("02_b.sql", 2)]


def test_output_is_deterministic(tmp_path):
    for i in range(20):
        write(tmp_path, f"migrations/20251022_{i:03d}_x.sql", f"DROP TABLE t{i};\nSELEC {i};\n")
    a = [f.to_dict() for f in check(tmp_path, ["migrations"]).findings]
    b = [f.to_dict() for f in check(tmp_path, ["migrations"]).findings]
    assert a == b and len(a) == 40


def test_permission_denied_is_a_finding(tmp_path, monkeypatch):
    """Root reads everything, so the refusal is simulated where the engine reads the file."""
    write(tmp_path, "migrations/20251022_001_x.sql", "DROP TABLE a;")
    from migcheck import fsutil

    real = fsutil.read_regular  # (where the engine reads a file)

    def deny(path, *a, **kw):
        if Path(path).name == "20251022_001_x.sql":
            raise PermissionError(13, "Permission denied")
        return real(path, *a, **kw)

    monkeypatch.setattr(fsutil, "read_regular", deny)
    r = check(tmp_path, ["migrations"])
    assert [(f.rule, f.message) for f in r.findings] == [
        ("unreadable-file", "permission denied: migcheck cannot read this file")
    ]
