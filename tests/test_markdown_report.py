"""`--format markdown`: the report a reviewer reads in a pull request comment. Its exact output on
examples/ is pinned (tests/snapshots/markdown-examples.md; after an intended change of wording,
rewrite it with `MIGCHECK_UPDATE_SNAPSHOTS=1 pytest tests/test_markdown_report.py` and read the
diff), its structure is checked with a CommonMark parser (markdown-it-py, with GitHub's tables),
and no report exceeds GitHub's 65,536-character limit for a comment."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from migcheck.cli import main
from migcheck.report import markdown_report

markdown_it = pytest.importorskip("markdown_it")

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = Path(__file__).parent / "snapshots" / "markdown-examples.md"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def parse(md: str):
    return markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(md)


def structure(md: str) -> dict:
    """What a reader sees: headings, tables (rows), list items (their first code span), the
    <details> blocks (balanced), and any raw HTML besides those."""
    tokens = parse(md)
    out = {"h2": [], "h3": [], "tables": [], "items": [], "details": 0, "html": []}
    depth = 0
    for i, t in enumerate(tokens):
        if t.type == "heading_open":
            out[t.tag].append(tokens[i + 1].content) if t.tag in out else None
        elif t.type == "table_open":
            out["tables"].append(0)
        elif t.type == "tr_open" and tokens[i - 1].type != "thead_open":
            out["tables"][-1] += 1
        elif t.type == "list_item_open":
            inline = next(x for x in tokens[i:] if x.type == "inline")
            out["items"].append(inline.children[0].content if inline.children[0].type == "code_inline" else None)
        elif t.type == "html_block":
            for line in t.content.splitlines():
                if line == "<details>":
                    depth += 1
                    out["details"] += 1
                elif line == "</details>":
                    depth -= 1
                    assert depth >= 0, "</details> without <details>"
                elif not re.fullmatch(r"<summary>[^<>]*</summary>|<!-- migcheck:report -->", line):
                    out["html"].append(line)
        elif t.type == "inline":
            out["html"] += [c.content for c in t.children or () if c.type == "html_inline" and c.content != "<br>"]
    assert depth == 0, "unclosed <details>"
    return out


def examples_report(capsys, monkeypatch) -> tuple[int, str]:
    monkeypatch.chdir(REPO)
    code, out, err = run(capsys, "check", "--format", "markdown", "--no-cache", "examples/migrations")
    assert err == ""
    return code, out


def test_examples_exact(capsys, monkeypatch):
    code, out = examples_report(capsys, monkeypatch)
    assert code == 1
    if os.environ.get("MIGCHECK_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(out, encoding="utf-8")
    assert out == SNAPSHOT.read_text(encoding="utf-8")


def test_examples_structure(capsys, monkeypatch):
    _, out = examples_report(capsys, monkeypatch)
    assert out.startswith(markdown_report.MARKER + "\n")
    monkeypatch.chdir(REPO)
    main(["check", "--format", "json", "--no-cache", "examples/migrations"])
    doc = json.loads(capsys.readouterr().out)
    migrations = [f["path"] for f in doc["files"] if f["kind"] == "migration"]
    findings = [f for f in doc["findings"] if not f["suppressed"]]
    s = structure(out)
    assert s["h2"] == ["migcheck: 9 errors, 20 warnings in 7 migrations (1 suppressed)"]
    # one section per migration and one for the files that belong to none: those with errors first,
    # then warnings, then the clean ones, each group in path order
    heads = [h.split(" ", 1) for h in s["h3"]]
    assert sorted(t.strip("`") for _, t in heads) == sorted(migrations + ["Other files"])
    order = ["❌", "⚠️", "ℹ️", "✅"]
    assert [order.index(icon) for icon, _ in heads] == sorted(order.index(icon) for icon, _ in heads)
    for icon in order:
        group = [t for i, t in heads if i == icon and t != "Other files"]
        assert group == sorted(group)
    assert [t.strip("`") for _, t in heads][-1] == "examples/migrations/20251022_000_migration_tracking_schema.sql"
    # the overview (one row per migration), then each migration's statements
    assert s["tables"][0] == len(migrations)
    assert sorted(s["tables"][1:]) == [1, 3, 3, 3, 3, 3, 5]
    # every unsuppressed finding is one list item, led by its rule id, in its section
    assert sorted(s["items"]) == sorted(f["rule"] for f in findings)
    assert s["details"] == 0 and s["html"] == []
    # what a message says reaches the reader as text: nothing in it is taken for markup
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(out)
    assert "lock_timeout" in html and "<who approved, why>" not in html and "&lt;who approved, why&gt;" in html


def test_statement_lock_rows(capsys, monkeypatch):
    _, out = examples_report(capsys, monkeypatch)
    section = out[out.index("### ⚠️ `examples/migrations/20251022_001_add_lead_status.sql`") :]
    section = section[: section.index("\n### ")]
    assert (
        "| 16 | `CREATE INDEX IF NOT EXISTS idx_leads_status ON leads (sta...` | **SHARE** on `leads`: blocks writes "
        "(INSERT, UPDATE, DELETE); reads go on | scan |"
    ) in section
    assert "**Rollback:** `examples/migrations/rollback/20251022_001_rollback.sql`, complete  \n" in section
    assert "**Tables:** `leads`\n" in section


@pytest.fixture
def proj(project):
    (project / "migcheck.toml").write_text(
        'changelog = false\nselect = ["safety", "missing-if-exists", "missing-rollback-file", "rollback-incomplete"]\n'
    )
    return project


def test_long_files_fold_into_details(proj, capsys):
    mig = proj / "migrations"
    (mig / "rollback").mkdir(parents=True)
    body = "".join(f"ALTER TABLE t{i} ADD COLUMN c int;\n" for i in range(12))
    (mig / "20250101_001_many.sql").write_text(
        "BEGIN;\nSET LOCAL lock_timeout = '1s';\n"
        + body
        + "".join(f"DROP TABLE d{i};\n" for i in range(11))
        + "COMMIT;\n"
    )
    (mig / "rollback" / "20250101_001_rollback.sql").write_text("BEGIN;\nSELECT 1;\nCOMMIT;\n")
    code, out, _ = run(capsys, "check", "--format", "markdown")
    s = structure(out)
    assert s["details"] == 3  # 23 statements, 11 errors, 11 + 1 warnings
    assert "<summary>23 statements</summary>" in out
    assert "<summary>❌ 11 errors</summary>" in out and "<summary>⚠️ 11 warnings</summary>" in out
    assert s["items"].count("drop-table") == 11


def test_a_huge_run_stays_under_the_comment_limit(proj, capsys):
    mig = proj / "migrations"
    mig.mkdir()
    # 2,500 DROP TABLEs: drop-table and missing-if-exists each, 5,000 findings and more
    for n in range(2):
        (mig / f"2025010{n + 1}_00{n + 1}_drop.sql").write_text(
            "BEGIN;\nSET LOCAL lock_timeout = '1s';\n"
            + "".join(f"DROP TABLE old_table_number_{i};\n" for i in range(1250))
            + "COMMIT;\n"
        )
    code, out, _ = run(capsys, "check", "--format", "markdown", "--jobs", "1")
    assert code == 1
    total = 5000 + 2  # and a missing-rollback-file each
    assert len(out) <= 65536
    s = structure(out)  # well-formed despite the cut
    shown = len(s["items"])
    assert 100 < shown < total
    assert out.rstrip().endswith("Run `migcheck check` for all of them.")
    assert (
        f"**The report is cut here**, at GitHub's limit of 65,536 characters for a comment: {total - shown} of "
        f"{total} findings and "
    ) in out
    # the errors come first in a cut section
    assert s["items"][:3] == ["missing-rollback-file", "drop-table", "drop-table"]


def test_no_migration_checked(project, capsys):
    (project / "migrations").mkdir()
    code, out, _ = run(capsys, "check", "--format", "markdown")
    assert code == 0
    assert out == (
        f"{markdown_report.MARKER}\n## migcheck: 0 errors, 0 warnings in 0 migrations\n\n"
        "No migration file was checked.\n"
    )


def test_escaping():
    t = markdown_report.text
    assert (
        t("a *b* [c](d) <e> x|y `co*de` lock_timeout _x_")
        == "a \\*b\\* \\[c\\](d) \\<e> x\\|y `co*de` lock_timeout \\_x\\_"
    )
    assert t("odd ` tick") == "odd \\` tick"
    assert markdown_report.code("a|b `c`") == "`` a\\|b `c` ``"


def test_duration_estimates_have_a_column(proj, capsys):
    mig = proj / "migrations"
    mig.mkdir()
    (mig / "20250101_001_a.sql").write_text(
        "BEGIN;\nSET LOCAL lock_timeout = '1s';\nALTER TABLE t ADD COLUMN c int;\n"
        "UPDATE t SET c = 1 WHERE c IS NULL;\nCOMMIT;\n"
    )
    from migcheck import config, engine
    from migcheck.report import render

    cfg = config.load()
    result = engine.check([], cfg)
    plain = render("markdown", result, {"config": cfg})
    assert "estimate" not in plain
    timed = render(
        "markdown", result, {"config": cfg, "estimate": lambda st, locks: "~2 s" if st.kind == "UpdateStmt" else None}
    )
    assert "| line | statement | lock | rewrite / scan | estimate |" in timed
    assert re.search(r"\| 4 \| `UPDATE t SET c = 1 WHERE c IS NULL` \|.*\| \\~2 s \|\n", timed)
