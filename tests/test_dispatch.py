"""Dispatch (issue 22): a file rule that declares the node kinds it reads (``@rule(reads=...)``)
is called only on files whose parse trees hold one of them. A declaration that leaves out a kind
the rule finds something in would drop findings silently, so every rule fixture and every doc
example is checked twice, with dispatch and with every declared rule called on every file, and
the findings must be the same."""

from pathlib import Path

import pytest
from harness import parse_case, run_case

from migcheck import docs, engine, registry

REPO = Path(__file__).resolve().parent.parent
FIXTURES = sorted((REPO / "tests" / "fixtures" / "rules").glob("*.sql"))
DOCS = sorted((REPO / "rules").glob("*.md"))


def declared() -> list[str]:
    return sorted(r.id for r in registry.load().values() if r.reads is not None)


def findings(case, root: Path, select: list[str], dispatch: bool, monkeypatch) -> list[tuple]:
    monkeypatch.setattr(engine, "DISPATCH", dispatch)
    root.mkdir(parents=True)
    result = run_case(case, root, select)
    assert not result.errors, result.errors
    return [(f.path, f.line, f.column, f.rule, f.message, f.suppressed) for f in result.findings]


def same_both_ways(case, tmp_path, monkeypatch, select=None) -> tuple[list, list]:
    select = select or declared()
    on = findings(case, tmp_path / "dispatch", select, True, monkeypatch)
    off = findings(case, tmp_path / "every-rule", select, False, monkeypatch)
    return on, off


def test_rules_declare_reads():
    """The statement rules declare what they read; a rule without a declaration runs on every file."""
    rules = registry.load()
    assert len(declared()) >= 30
    for rid in declared():
        r = rules[rid]
        assert r.scope == "file" and r.reads and all(k[:1].isupper() for k in r.reads), rid


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_fixture_findings_are_the_same_with_dispatch(fixture, tmp_path, monkeypatch):
    case = parse_case(fixture.read_bytes())
    on, off = same_both_ways(case, tmp_path, monkeypatch)
    assert on == off


@pytest.mark.parametrize("doc", DOCS, ids=[d.stem for d in DOCS])
def test_doc_examples_findings_are_the_same_with_dispatch(doc, tmp_path, monkeypatch):
    sections = docs.sections(doc.read_text(encoding="utf-8"))
    blocks = [b for name in ("Example", "Use instead") for b in docs.sql_blocks(sections.get(name, ""))]
    for i, block in enumerate(blocks):
        on, off = same_both_ways(parse_case(block.encode()), tmp_path / str(i), monkeypatch)
        assert on == off, f"block {i} of {doc.name}"


def test_a_wrong_declaration_is_caught(tmp_path, monkeypatch):
    """drop-table declared as reading CREATE TABLE only: its fixture's findings differ."""
    rules = registry.load()
    registry.impl(rules["drop-table"])
    real = registry._RULES["drop-table"]
    monkeypatch.setitem(registry._RULES, "drop-table", real.replace(reads=frozenset({"CreateStmt"})))
    case = parse_case((REPO / "tests" / "fixtures" / "rules" / "drop-table.sql").read_bytes())
    on, off = same_both_ways(case, tmp_path, monkeypatch, ["drop-table"])
    assert on != off and len(on) < len(off)


def test_a_rule_not_read_is_not_imported(tmp_path):
    """A file without DROP does not import drop-table's module (one file: import only what it needs)."""
    import subprocess
    import sys

    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "20250101_001_a.sql").write_text("BEGIN;\nCREATE INDEX i ON t (a);\nCOMMIT;\n")
    (tmp_path / "migcheck.toml").write_text("changelog = false\n")
    probe = (
        "import sys; from migcheck.cli import main; rc = main(['check', '--no-cache', 'migrations']); "
        "print(sorted(m for m in sys.modules if m in ('migcheck.rules.drop_table', "
        "'migcheck.rules.require_concurrent_index')), file=sys.stderr); sys.exit(rc)"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert out.stderr.strip().splitlines()[-1] == "['migcheck.rules.require_concurrent_index']", out.stderr


@pytest.mark.parametrize("rid", declared())
def test_every_rule_s_fixtures_catch_a_wrong_declaration(rid, tmp_path, monkeypatch):
    """The check above holds for every declared rule, not only drop-table: declared as reading a
    node kind no file holds, the rule finds nothing with dispatch, and its own fixtures find
    something without it (so a declaration that misses what the rule reads cannot pass unseen)."""
    rules = registry.load()
    registry.impl(rules[rid])
    real = registry._RULES[rid]
    monkeypatch.setitem(registry._RULES, rid, real.replace(reads=frozenset({"NoSuchNode"})))
    mine = [f for f in FIXTURES if f.name.split(".")[0] == rid]
    assert mine, f"{rid} has no fixture"
    differ = False
    for i, fixture in enumerate(mine):
        on, off = same_both_ways(parse_case(fixture.read_bytes()), tmp_path / str(i), monkeypatch, [rid])
        assert not [h for h in on if h[3] == rid], fixture.name
        differ = differ or any(h[3] == rid for h in off)
    assert differ, f"no fixture of {rid} has a finding: a wrong declaration would go unseen"
