"""Every rule has its doc (with the fixed headings) and a fixture; each doc's Example fires the
rule and its Use instead does not."""

from pathlib import Path

import pytest
from harness import parse_case, run_case

from migcheck import docs, registry
from migcheck.verify import RULES as VERIFY_RULES

REPO = Path(__file__).resolve().parent.parent
RULES = sorted(registry.load())
# Rules that a SQL fixture cannot trigger (they need a file system condition), each tested in
# test_engine.py instead.
NO_SQL_FIXTURE = {
    "unreadable-file": "needs an unreadable path; see test_engine.py",
    "modified-migration": "needs a git history and `check --diff REF`; see test_diff.py",
    "unknown-layout": "needs layout detection, which a rule fixture does not run; see test_presets.py",
    **{
        rid: "reported by `migcheck verify` on a real PostgreSQL, never by `check`; its doc's Example and "
        "Use instead run through verify in test_verify.py::test_doc_examples_fire_and_use_instead_is_clean"
        for rid in VERIFY_RULES
    },
}


def test_rules_are_registered():
    assert len(RULES) >= 9


@pytest.mark.parametrize("rule_id", RULES)
def test_doc_exists_with_headings(rule_id):
    path = REPO / "rules" / f"{rule_id}.md"
    assert path.is_file(), f"rules/{rule_id}.md is missing"
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# {rule_id}\n"), "the doc starts with '# <rule-id>'"
    sec = docs.sections(text)
    for heading in docs.HEADINGS:
        assert heading in sec and sec[heading].strip(), f"rules/{rule_id}.md lacks a '## {heading}' section"


@pytest.mark.parametrize("rule_id", RULES)
def test_fixture_exists(rule_id):
    if rule_id in NO_SQL_FIXTURE:
        pytest.skip(NO_SQL_FIXTURE[rule_id])
    fixtures = list((REPO / "tests" / "fixtures" / "rules").glob(f"{rule_id}.sql")) + list(
        (REPO / "tests" / "fixtures" / "rules").glob(f"{rule_id}.*.sql")
    )
    assert fixtures, f"tests/fixtures/rules/{rule_id}.sql is missing"


def _doc_findings(rule_id, section, tmp_path):
    text = (REPO / "rules" / f"{rule_id}.md").read_text(encoding="utf-8")
    blocks = docs.sql_blocks(docs.sections(text)[section])
    assert blocks, f"rules/{rule_id}.md: '## {section}' has no ```sql block"
    out = []
    for i, block in enumerate(blocks):
        case = parse_case(block.encode())
        root = tmp_path / f"{section.replace(' ', '_')}{i}"
        root.mkdir()
        # the rule under test plus every rule enabled by default, as a user would run it
        default = [r.id for r in registry.load().values() if r.enabled]
        result = run_case(case, root, sorted(set(default) | {rule_id}))
        assert not result.errors, result.errors
        out.append([f for f in result.findings if f.rule == rule_id and not f.suppressed])
    return out


@pytest.mark.parametrize("rule_id", RULES)
def test_doc_example_fires(rule_id, tmp_path):
    if rule_id in NO_SQL_FIXTURE:
        pytest.skip(NO_SQL_FIXTURE[rule_id])
    for findings in _doc_findings(rule_id, "Example", tmp_path):
        assert findings, f"rules/{rule_id}.md: the Example does not fire {rule_id}"


@pytest.mark.parametrize("rule_id", RULES)
def test_doc_use_instead_is_clean(rule_id, tmp_path):
    if rule_id in NO_SQL_FIXTURE:
        pytest.skip(NO_SQL_FIXTURE[rule_id])
    for findings in _doc_findings(rule_id, "Use instead", tmp_path):
        assert not findings, f"rules/{rule_id}.md: the Use instead block fires {rule_id}: {findings}"


def test_docs_ship_in_the_wheel_config():
    text = (REPO / "pyproject.toml").read_text()
    assert '"rules" = "migcheck/_docs"' in text
