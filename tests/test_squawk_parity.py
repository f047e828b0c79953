"""squawk parity: every rule of squawk's current rule list is mapped to the migcheck rules that
cover it (each fires on a bad example of the kind squawk's doc gives) or listed as deliberately not
covered with the reason; the squawk version checked against is recorded (data:
tests/fixtures/squawk_parity.toml; for people: docs/squawk-parity.md; for the command line and
suppression comments: migcheck.registry.SQUAWK)."""

import tomllib
from pathlib import Path

import pytest
from harness import parse_case, run_case

from migcheck import registry

REPO = Path(__file__).resolve().parent.parent
DATA = tomllib.loads((REPO / "tests" / "fixtures" / "squawk_parity.toml").read_text(encoding="utf-8"))
MAPPINGS = DATA["mapping"]
NOT_COVERED = DATA.get("not_covered", [])
SQUAWK = DATA["squawk"]  # the squawk version the table was checked against, and its rule list
DOC = (REPO / "docs" / "squawk-parity.md").read_text(encoding="utf-8")


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


def test_every_squawk_rule_is_mapped_or_deliberately_not_covered():
    mapped = {m["squawk"] for m in MAPPINGS}
    skipped = {n["squawk"] for n in NOT_COVERED}
    assert all(n.get("reason", "").strip() for n in NOT_COVERED), "a not-covered squawk rule needs its reason"
    assert not mapped & skipped, f"both mapped and not covered: {sorted(mapped & skipped)}"
    rules = set(SQUAWK["rules"])
    assert mapped | skipped == rules, (
        f"squawk rules with no row: {sorted(rules - mapped - skipped)}, "
        f"rows for no squawk rule: {sorted((mapped | skipped) - rules)}"
    )


def test_the_squawk_version_is_recorded_in_the_doc():
    assert SQUAWK["version"] and len(SQUAWK["commit"]) == 40
    assert SQUAWK["version"] in DOC and SQUAWK["commit"][:8] in DOC


def test_the_registry_accepts_exactly_the_mapped_squawk_ids():
    """`--select`, `--ignore`, the config and suppression comments read squawk ids from
    registry.SQUAWK: each id stands for exactly the migcheck rules this table maps it to."""
    table: dict[str, set[str]] = {}
    for m in MAPPINGS:
        table.setdefault(m["squawk"], set()).add(m["migcheck"])
    for other, same in SQUAWK.get("aliases", {}).items():
        table[other] = table[same]
    got = {sid: set(ours) for sid, ours in registry.SQUAWK.items()}
    assert got == table
    for n in NOT_COVERED:
        assert registry.expand(n["squawk"]) == (), n["squawk"]


def test_every_mapping_is_in_the_doc():
    rows = {
        tuple(cell.strip().strip("`") for cell in line.strip().strip("|").split("|")[:2])
        for line in DOC.splitlines()
        if line.startswith("| `")
    }
    missing = [_id(m) for m in MAPPINGS if (m["squawk"], m["migcheck"]) not in rows]
    missing += [n["squawk"] for n in NOT_COVERED if (n["squawk"], "-") not in rows]
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


@pytest.mark.parametrize("version, repack", [(18, False), (19, True)])
def test_prefer_repack_is_the_advice_of_vacuum_full_and_cluster(tmp_path, version, repack):
    """squawk's prefer-repack is not a second finding on VACUUM FULL / CLUSTER: the lock rules
    report them on every version, and their help suggests REPACK (CONCURRENTLY) from 19."""
    sql = f"-- config: postgres-version = {version}\nVACUUM FULL leads;\nCLUSTER leads USING leads_created_idx;\n"
    result = run_case(parse_case(sql.encode()), tmp_path, list(registry.expand("prefer-repack")))
    assert not result.errors, result.errors
    assert [(f.rule, f.line) for f in result.findings] == [("vacuum-full", 1), ("cluster", 2)]
    vacuum, cluster = result.findings
    assert ("`REPACK (CONCURRENTLY) leads`" in vacuum.help) is repack
    assert ("`REPACK (CONCURRENTLY) leads USING INDEX leads_created_idx`" in cluster.help) is repack
    assert ("pg_repack" in vacuum.help + cluster.help) is not repack
