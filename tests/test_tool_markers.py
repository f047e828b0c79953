"""Other tools' markers as suppressions (src/migcheck/suppress.py): the reason recorded is the
tool's name (with squawk's trailing comment, when there is one). The coverage itself is in the
fixtures drop-table.squawk-ignore*.sql and drop-column.safety-assured.sql."""

import json

from migcheck.cli import main

FILE = """\
BEGIN;
-- squawk-ignore ban-drop-table
DROP TABLE a;
DROP TABLE b; -- squawk-ignore ban-drop-table -- replaced by b_v2 in release 41
-- safety-assured:start
DROP TABLE c;
-- safety-assured:end
COMMIT;
"""


def test_the_reason_is_the_tool_s_name(project, capsys):
    (project / "migcheck.toml").write_text('changelog = false\nselect = ["drop-table", "unused-suppression"]\n')
    p = project / "migrations" / "20251022_001_x.sql"
    p.parent.mkdir()
    p.write_text(FILE)
    code = main(["check", "--format", "json", "migrations"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(f["line"], f["suppressed"], f.get("reason")) for f in doc["findings"]] == [
        (3, True, "squawk-ignore"),
        (4, True, "squawk-ignore: replaced by b_v2 in release 41"),
        (6, True, "diesel-guard safety-assured"),
    ]
