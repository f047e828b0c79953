"""benchmarks/realworld.py: the sample and the tallies docs/real-world.md is built from (no mirror needed)."""

import importlib.util
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "realworld", Path(__file__).resolve().parent.parent / "benchmarks" / "realworld.py"
)
rw = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(rw)


def _finding(repo, rule, line, path="m/1.sql"):
    return {"repo": repo, "rule": rule, "path": path, "line": line, "column": 1, "severity": "warning", "message": "m"}


def _results():
    a = [_finding("o/a", "r1", i) for i in range(50)] + [_finding("o/a", "r2", 1)]
    b = [_finding("o/b", "r3", i) for i in range(3)]
    return [{"name": "o/a", "findings": a}, {"name": "o/b", "findings": b}]


def test_the_sample_is_reproducible_and_spread_over_repositories_and_rules():
    one, two = rw.sample(_results(), 6, 21), rw.sample(_results(), 6, 21)
    assert [rw.fid(f) for f in one] == [rw.fid(f) for f in two]
    assert sum(f["repo"] == "o/b" for f in one) == 3  # round robin: the small repository is not drowned
    assert {"r1", "r2"} <= {f["rule"] for f in one if f["repo"] == "o/a"}
    assert len({rw.fid(f) for f in one}) == 6
    assert len(rw.sample(_results(), 100, 21)) == 54  # everything, once


def test_the_detection_line_names_the_preset():
    line = (
        'migcheck: detected goose layout (set preset = "goose" in the configuration, or pass --preset goose, '
        "to silence this)"
    )
    assert rw.detected_preset("other\n" + line) == "goose"
    assert rw.detected_preset("") == ""


def test_a_finding_counts_in_the_first_category_it_matches():
    res = [
        {
            "name": "ory/kratos",
            "findings": [
                _finding("ory/kratos", "duplicate-version", 1, "x/1_a.cockroach.up.sql"),
                _finding("ory/kratos", "duplicate-version", 1, "x/1_a.postgres.up.sql"),
                _finding("ory/kratos", "drop-table", 1, "x/1_a.postgres.up.sql"),
            ],
        }
    ]
    got = rw.categories(res)
    assert got["popx: a file of another database (.cockroach/.mysql/.sqlite)"] == 1
    assert got["popx: duplicate-version of a dialect-neutral file and its .postgres. variant"] == 1
    assert sum(got.values()) == 2
