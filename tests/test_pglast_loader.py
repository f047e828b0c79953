"""migcheck._pglast: the parser without pglast's package import (issue 14, the one-file check),
and pglast still whole for any other code in the process. Each case runs in a fresh interpreter:
this test process has imported pglast long ago."""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(code: str) -> str:
    r = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO / "examples",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_a_check_imports_neither_pglast_ast_nor_enums():
    out = run("""
        import contextlib, io, sys
        from migcheck.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["check", "--no-cache", "migrations/20251022_001_add_lead_status.sql"])
        loaded = sorted(m for m in sys.modules if m.split(".")[0] == "pglast")
        print(code, loaded)
    """)
    code, loaded = out.strip().split(" ", 1)
    assert code in ("0", "1")
    assert "pglast.parser" in loaded
    assert "pglast.ast" not in loaded and "pglast.enums" not in loaded, loaded


def test_pglast_is_whole_for_other_code_after_migcheck_loaded_it():
    out = run("""
        from migcheck._pglast import parser
        import json
        assert json.loads(parser.parse_sql_json("SELECT 1"))["stmts"]
        import pglast
        assert pglast.__version__.startswith("v8"), pglast.__version__
        stmt = pglast.parse_sql("SELECT a FROM b")[0].stmt        # Node objects: pglast.ast, through the parser
        assert type(stmt).__name__ == "SelectStmt" and type(stmt).__module__ == "pglast.ast"
        from pglast import enums, prettify
        assert enums.SetOperation.SETOP_NONE is not None
        assert prettify("select a from b where c=1") == "SELECT a\\nFROM b\\nWHERE c = 1"
        try:
            parser.parse_sql_json("SELEC 1")
        except pglast.Error as exc:
            assert isinstance(exc, parser.ParseError)
        else:
            raise AssertionError("no ParseError")
        print("ok")
    """)
    assert out.strip() == "ok"


def test_pglast_imported_first_is_used_as_it_is():
    out = run("""
        import pglast, pglast.parser
        from migcheck._pglast import parser
        assert parser is pglast.parser
        print("ok")
    """)
    assert out.strip() == "ok"


def test_a_check_does_not_load_openssl_for_its_digests():
    """migcheck._digest: blake2b from CPython's _blake2 (hashlib would load OpenSSL: ~5 ms)."""
    out = run("""
        import contextlib, io, sys
        from migcheck.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            main(["check", "--no-cache", "migrations/20251022_001_add_lead_status.sql"])
        print("_hashlib" in sys.modules)
        import hashlib
        from migcheck._digest import blake2b
        print(blake2b(b"x", digest_size=16).hexdigest() == hashlib.blake2b(b"x", digest_size=16).hexdigest())
    """)
    assert out.split() == ["False", "True"], out
