"""require-lock-timeout names the table a DROP INDEX locks, not the index (real-world reading:
supabase/auth's `DROP INDEX IF EXISTS users_instance_id_email_idx` was reported as a lock "on
users_instance_id_email_idx" on which "every later query ... queues")."""

from harness import parse_case, run_case

CASE = b"""-- config: select = ["require-lock-timeout"]
-- file: migrations/20250101_001_index.sql
BEGIN;
CREATE INDEX IF NOT EXISTS idx_leads_email ON leads (email);
COMMIT;
-- file: migrations/20250102_001_drop.sql
BEGIN;
DROP INDEX IF EXISTS idx_leads_email;
COMMIT;
-- file: migrations/20250103_001_unknown.sql
BEGIN;
DROP INDEX IF EXISTS idx_from_before_history;
COMMIT;
"""


def _messages(tmp_path):
    result = run_case(parse_case(CASE), tmp_path, None)
    return {f.path.rsplit("/", 1)[-1]: f.message for f in result.findings if f.rule == "require-lock-timeout"}


def test_drop_index_names_the_table_the_history_shows(tmp_path):
    msg = _messages(tmp_path)["20250102_001_drop.sql"]
    assert "ACCESS EXCLUSIVE lock on leads," in msg
    assert "every later query on leads queues" in msg
    assert "on idx_leads_email" not in msg


def test_drop_index_of_an_unknown_table_says_so(tmp_path):
    msg = _messages(tmp_path)["20250103_001_unknown.sql"]
    assert "ACCESS EXCLUSIVE lock on the index's table," in msg
    assert "idx_from_before_history, every" not in msg
