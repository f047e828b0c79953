"""squawk parity: for each of squawk's default rules, the migcheck rule that covers it fires on a
bad example of the kind squawk's doc gives (data: tests/fixtures/squawk_parity.toml; for people:
docs/squawk-parity.md)."""

import tomllib
from pathlib import Path

import pytest

from harness import parse_case, run_case
from migcheck import registry

REPO = Path(__file__).resolve().parent.parent
MAPPINGS = tomllib.loads((REPO / "tests" / "fixtures" / "squawk_parity.toml").read_text(encoding="utf-8"))["mapping"]

# squawk's default rule set, as listed when the parity table was written
SQUAWK_DEFAULTS = (
    "adding-field-with-default", "adding-foreign-key-constraint", "adding-not-nullable-field",
    "adding-required-field", "adding-serial-primary-key-field", "ban-char-field",
    "ban-concurrent-index-creation-in-transaction", "ban-create-domain-with-constraint",
    "ban-alter-domain-with-add-constraint", "ban-drop-column", "ban-drop-database", "ban-drop-not-null",
    "ban-drop-table", "ban-truncate-cascade", "changing-column-type", "constraint-missing-not-valid",
    "disallowed-unique-constraint", "prefer-bigint-over-int", "prefer-bigint-over-smallint", "prefer-identity",
    "prefer-robust-stmts", "prefer-text-field", "prefer-timestamptz", "renaming-column", "renaming-table",
    "require-concurrent-index-creation", "require-concurrent-index-deletion", "require-timeout-settings",
    "transaction-nesting", "ban-uncommitted-transaction",
)


def _id(m: dict) -> str:
    return f"{m['squawk']}->{m['migcheck']}"


def _ids(ms: list[dict]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for m in ms:
        base = _id(m)
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return out


def test_every_squawk_default_rule_is_mapped():
    mapped = {m["squawk"] for m in MAPPINGS}
    assert mapped == set(SQUAWK_DEFAULTS), f"unmapped: {sorted(set(SQUAWK_DEFAULTS) - mapped)}, extra: {sorted(mapped - set(SQUAWK_DEFAULTS))}"


def test_every_mapping_is_in_the_doc():
    doc = (REPO / "docs" / "squawk-parity.md").read_text(encoding="utf-8")
    rows = {tuple(cell.strip().strip("`") for cell in line.strip().strip("|").split("|")[:2])
            for line in doc.splitlines() if line.startswith("| `")}
    missing = [_id(m) for m in MAPPINGS if (m["squawk"], m["migcheck"]) not in rows]
    assert not missing, f"docs/squawk-parity.md lacks a row for {missing}"


@pytest.mark.parametrize("mapping", MAPPINGS, ids=_ids(MAPPINGS))
def test_migcheck_rule_fires(mapping, tmp_path):
    rule_id = mapping["migcheck"]
    assert registry.resolve(rule_id) == rule_id, f"{rule_id} is not a migcheck rule"
    case = parse_case(mapping["sql"].lstrip("\n").encode())
    result = run_case(case, tmp_path, [rule_id])
    assert not result.errors, result.errors
    fired = [f for f in result.findings if f.rule == rule_id and not f.suppressed]
    detail = "\n".join(f"  {f.path}:{f.line}:{f.column} {f.rule} {f.message}" for f in result.findings)
    assert fired, f"{rule_id} does not fire on squawk's {mapping['squawk']} example; findings:\n{detail}"
