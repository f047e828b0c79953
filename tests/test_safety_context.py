from migcheck import source
from migcheck.analysis import safety


def ctx_of(sql):
    p = source.parse(sql, source.Positions(sql))
    return p.statements, safety.build(p.statements)


def test_new_tables_settings_and_transaction():
    sts, ctx = ctx_of("""SET lock_timeout = '2s';
BEGIN;
CREATE TABLE public.notes (id int);
CREATE INDEX i ON notes (id);
CREATE INDEX j ON leads (id);
RESET lock_timeout;
COMMIT;
ALTER TABLE notes ADD COLUMN x int;""")
    assert not ctx.is_new_table(sts[2], "notes")
    assert ctx.is_new_table(sts[3], "notes") and ctx.is_new_table(sts[3], "public.notes")
    assert not ctx.is_new_table(sts[4], "leads")
    assert ctx.setting(sts[3], "lock_timeout") == "2s"
    assert ctx.setting(sts[7], "lock_timeout") is None
    assert ctx.in_transaction(sts[3]) and not ctx.in_transaction(sts[7])
