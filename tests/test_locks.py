"""The static lock model, statement by statement (PostgreSQL 15 documentation)."""

import pytest

from migcheck import locks, source

AE, SRE, SUE, SH, EX = locks.ACCESS_EXCLUSIVE, locks.SHARE_ROW_EXCLUSIVE, locks.SHARE_UPDATE_EXCLUSIVE, locks.SHARE, locks.EXCLUSIVE


def predict(sql, version=15):
    (st,) = source.parse(sql, source.Positions(sql)).statements
    return [(lk.relation, lk.mode, lk.rewrite, lk.scan) for lk in locks.statement_locks(st, version)]


@pytest.mark.parametrize("sql, expected", [
    ("ALTER TABLE t ADD COLUMN c int", [("t", AE, False, False)]),
    ("ALTER TABLE t ADD COLUMN c int DEFAULT 0", [("t", AE, False, False)]),
    ("ALTER TABLE public.t ADD COLUMN c timestamptz DEFAULT now()", [("public.t", AE, False, False)]),
    ("ALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid()", [("t", AE, True, False)]),
    ("ALTER TABLE t ADD COLUMN id bigserial", [("t", AE, True, False)]),
    ("ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2) STORED", [("t", AE, True, False)]),
    ("ALTER TABLE t ALTER COLUMN c TYPE bigint", [("t", AE, True, False)]),
    ("ALTER TABLE t ALTER COLUMN c SET NOT NULL", [("t", AE, False, True)]),
    ("ALTER TABLE t ALTER COLUMN c DROP NOT NULL", [("t", AE, False, False)]),
    ("ALTER TABLE t ALTER COLUMN c SET DEFAULT 1", [("t", AE, False, False)]),
    ("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (o) REFERENCES o (id)", [("t", SRE, False, True), ("o", SRE, False, False)]),
    ("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (o) REFERENCES o (id) NOT VALID", [("t", SRE, False, False), ("o", SRE, False, False)]),
    ("ALTER TABLE t VALIDATE CONSTRAINT fk", [("t", SUE, False, True)]),
    ("ALTER TABLE t ADD CONSTRAINT ck CHECK (c > 0)", [("t", AE, False, True)]),
    ("ALTER TABLE t ADD CONSTRAINT ck CHECK (c > 0) NOT VALID", [("t", AE, False, False)]),
    ("ALTER TABLE t ADD CONSTRAINT u UNIQUE (c)", [("t", AE, False, True)]),
    ("ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX i", [("t", AE, False, False)]),
    ("ALTER TABLE t SET (fillfactor = 70)", [("t", SUE, False, False)]),
    ("ALTER TABLE t ENABLE TRIGGER tr", [("t", SRE, False, False)]),
    ("ALTER TABLE t ENABLE ROW LEVEL SECURITY", [("t", AE, False, False)]),
    ("ALTER TABLE t SET LOGGED", [("t", AE, True, False)]),
    ("ALTER TABLE t ADD COLUMN a int, ALTER COLUMN b SET NOT NULL", [("t", AE, False, True)]),
    ("CREATE INDEX i ON t (c)", [("t", SH, False, True)]),
    ("CREATE INDEX CONCURRENTLY i ON t (c)", [("t", SUE, False, True)]),
    ("DROP INDEX i", [("i", AE, False, False)]),
    ("DROP INDEX CONCURRENTLY i", [("i", SUE, False, False)]),
    ("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", [("t", SRE, False, False)]),
    ("CREATE POLICY p ON t USING (true)", [("t", AE, False, False)]),
    ("DROP TRIGGER IF EXISTS tr ON public.t", [("public.t", AE, False, False)]),
    ("ALTER TABLE t RENAME COLUMN a TO b", [("t", AE, False, False)]),
    ("ALTER TABLE t RENAME TO u", [("t", AE, False, False)]),
    ("TRUNCATE a, b", [("a", AE, False, False), ("b", AE, False, False)]),
    ("LOCK TABLE t IN SHARE MODE", [("t", SH, False, False)]),
    ("LOCK t", [("t", AE, False, False)]),
    ("VACUUM FULL t", [("t", AE, True, False)]),
    ("CLUSTER t USING i", [("t", AE, True, False)]),
    ("REFRESH MATERIALIZED VIEW mv", [("mv", AE, True, False)]),
    ("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", [("mv", EX, False, True)]),
    ("UPDATE t SET a = 1", [("t", locks.ROW_EXCLUSIVE, False, True)]),
    ("UPDATE t SET a = 1 WHERE id = 2", [("t", locks.ROW_EXCLUSIVE, False, False)]),
    ("CREATE TABLE t (id int)", []),
    ("CREATE TABLE t (id int, o int REFERENCES o (id), FOREIGN KEY (id) REFERENCES p (id))", [("o", SRE, False, False), ("p", SRE, False, False)]),
    ("ALTER TABLE t ADD COLUMN o int REFERENCES o (id)", [("t", AE, False, False), ("o", SRE, False, False)]),
    ("ALTER TABLE t ADD COLUMN v int GENERATED ALWAYS AS (a * 2) VIRTUAL", [("t", AE, False, False)]),
    ("COMMENT ON COLUMN s.t.c IS 'x'", [("s.t", SUE, False, False)]),
])
def test_predicted_locks(sql, expected):
    assert predict(sql) == expected


def test_add_column_default_rewrites_before_11():
    assert predict("ALTER TABLE t ADD COLUMN c int DEFAULT 0", version=10) == [("t", AE, True, False)]


def test_unknown_function_default_is_not_called_a_rewrite_but_says_so():
    sql = "ALTER TABLE t ADD COLUMN c int DEFAULT my_func()"
    (st,) = source.parse(sql, source.Positions(sql)).statements
    (lk,) = locks.statement_locks(st)
    assert not lk.rewrite and "volatile" in lk.note


def test_every_mode_says_what_it_blocks():
    assert set(locks.BLOCKS) == set(locks.MODES)
