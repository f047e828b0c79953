"""Every SQL fixture in tests/fixtures/rules runs through the real check pipeline."""

from pathlib import Path

import pytest
from harness import actual, parse_case, run_case

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "rules").glob("*.sql"))


def rule_of(path: Path) -> str:
    return path.name.split(".", 1)[0]


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_fixture(fixture, tmp_path):
    case = parse_case(fixture.read_bytes())
    assert case.expected or "clean" in fixture.name, (
        f"{fixture.name} expects nothing: name it <id>.clean*.sql if that is the point"
    )
    result = run_case(case, tmp_path, [rule_of(fixture)])
    assert not result.errors, result.errors
    got = actual(result)
    missing = sorted(case.expected - got)
    unexpected = sorted(got - case.expected)
    detail = "\n".join(f"  {f.path}:{f.line}:{f.column} {f.rule} {f.message}" for f in result.findings)
    assert not missing and not unexpected, f"missing: {missing}\nunexpected: {unexpected}\nall findings:\n{detail}"
