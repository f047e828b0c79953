"""The effects summaries' faster code (issue 22) gives what the plain code gave.

``effects.definition`` normalises a tree without a call per scalar (``_defn_clean``); its digest
must be the one the recursive copy gave (written out below as it was), for any JSON tree:
skipped keys at any depth, ``sval`` strings with white space of every kind, nested lists."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from migcheck._digest import blake2b
from migcheck.analysis import effects as fx
from migcheck.analysis import plpgsql


def reference_definition(node) -> str:
    def clean(n):
        if isinstance(n, dict):
            return {
                k: (" ".join(v.split()) if k == "sval" and isinstance(v, str) else clean(v))
                for k, v in n.items()
                if k not in fx._DEFN_SKIP
            }
        if isinstance(n, list):
            return [clean(v) for v in n]
        return n

    return blake2b(json.dumps(clean(node), sort_keys=True).encode(), digest_size=16).hexdigest()


KEYS = st.sampled_from([*sorted(fx._DEFN_SKIP), "sval", "relname", "a", "z", "names"])
PIECES = ["a", " ", "\t", "\n", "\x0b", "\x1c", "\x85", "\xa0", "\u2003", "\u3000", '"', "\\", ",", "{", ":"]
PIECES += ['"location": 1', ', "replace": true', "é", "\U0001f600"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), TEXT)
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(TREES)
def test_definition_is_the_digest_of_the_clean_copy(tree):
    assert fx.definition(tree) == reference_definition(tree)


def test_definition_of_real_statements():
    sql = """
    CREATE TABLE IF NOT EXISTS t (id bigint PRIMARY KEY, note text DEFAULT 'a  b' CHECK (note <> ''));
    CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT   1 $$;
    CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (note) WHERE note IS NOT NULL;
    """
    for raw in plpgsql.sql_tree(sql)["stmts"]:
        assert fx.definition(raw) == reference_definition(raw)


# --- Model.created_in on a cycle (hypothesis found it): an object named like the relation it
# belongs to (relations share one namespace), or two that belong to each other


def _model(*effects):
    m = fx.Model()
    m.apply(list(effects), "m")
    return m


def test_created_in_an_index_named_like_its_table():
    idx = fx.Obj(fx.INDEX, "t")
    m = _model(fx.Effect(fx.CREATE, idx, on=fx.Obj(fx.TABLE, "t")))
    assert m.created_in(idx, "m")
    assert not m.created_in(idx, "r")  # (recursed without end)
    assert not m.created_in(fx.Obj(fx.TABLE, "t"), "r")


def test_created_in_a_two_step_cycle():
    a, b = fx.Obj(fx.SEQUENCE, "a"), fx.Obj(fx.SEQUENCE, "b")
    m = fx.Model(existed=lambda obj: True)
    m.apply([fx.Effect(fx.CREATE, a, on=b), fx.Effect(fx.CREATE, b, on=a)], "m")
    assert not m.created_in(a, "r")
    assert not m.created_in(b, "r")


def test_created_in_through_the_table_it_hangs_on():
    t, col = fx.Obj(fx.TABLE, "t"), fx.Obj(fx.COLUMN, "c", parent=fx.Obj(fx.TABLE, "t"))
    idx = fx.Obj(fx.INDEX, "i")
    m = _model(fx.Effect(fx.CREATE, t), fx.Effect(fx.CREATE, idx, on=t))
    assert m.created_in(idx, "m") and m.created_in(col, "m")
    assert not m.created_in(idx, "r") and not m.created_in(col, "r")


# --- relations.function_body_trees reads a PL/pgSQL body's expressions from the parser's JSON
# text (plpgsql.expr_queries) instead of its decoded tree: the same queries, whatever the size


def _queries_of_tree(text):
    from migcheck.analysis import relations

    tree = plpgsql.plpgsql_tree(text)
    if tree is None:
        return None
    return sorted(d["PLpgSQL_expr"]["query"] for d in relations._iter(tree) if "query" in d.get("PLpgSQL_expr", {}))


def _function(body: str) -> str:
    return f"CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $fn$ {body} $fn$"


def test_expr_queries_small_large_deep_and_broken():
    small = _function("""DECLARE x int := 1; s text := 'a "quoted" \\ thing'; BEGIN
        NEW.a := now(); IF x > 0 AND s <> E'\\t' THEN PERFORM g("x"); END IF;
        EXECUTE format('SELECT %I', s); RETURN NEW; END""")
    large = _function(
        "BEGIN " + " ".join(f"IF NEW.c{i} > {i} THEN NEW.d := {i}; END IF;" for i in range(150)) + " RETURN NEW; END"
    )
    deep = _function("BEGIN " + "IF true THEN " * 600 + "PERFORM 1;" + " END IF;" * 600 + " RETURN NEW; END")
    broken = _function("BEGIN IF THEN END")
    for text in (small, large, deep, broken):
        got = plpgsql.expr_queries(text)
        assert (sorted(got) if got is not None else None) == _queries_of_tree(text)
    assert plpgsql.expr_queries(broken) is None
    raw = plpgsql.pg.parse_plpgsql_json(large)
    assert raw.count("{") + raw.count("[") >= plpgsql._SHALLOW  # (the large one takes the tree's path)
