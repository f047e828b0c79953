"""``Model._kill`` finds what depends on a dropped object through an index by name
(``Model._candidates``); it must find exactly what comparing every pair of entries finds.
Property test: the same generated effect lists replayed by the indexed model and by one whose
candidates are all the entries end in the same state, entry by entry."""

from hypothesis import given, settings
from hypothesis import strategies as st

from migcheck.analysis import effects as fx


class AllPairs(fx.Model):
    """The model as it was before the index: every entry is a candidate."""

    def _candidates(self, gone):
        return list(self.entries)


NAMES = ["a", "b", "c", "public", "all", "select"]
OWNERS = ["a", "b", "c"]
SCHEMAS = ["", "public", "s"]
TABLE_KINDS = [fx.TABLE, fx.VIEW, fx.SEQUENCE, fx.TYPE]
ANY_KIND = [fx.TABLE, fx.INDEX, fx.VIEW, fx.SEQUENCE, fx.FUNCTION, fx.TYPE, fx.SCHEMA, fx.ROLE]

names = st.sampled_from(NAMES)
tables = st.builds(fx.Obj, st.sampled_from(TABLE_KINDS), names, st.sampled_from(SCHEMAS))
hanging = st.builds(
    fx.Obj,
    st.sampled_from([fx.COLUMN, fx.CONSTRAINT, fx.TRIGGER, fx.POLICY, fx.ENUM_VALUE]),
    names,
    st.just(""),
    tables,
)
privileges = st.builds(
    fx.Obj, st.just(fx.PRIVILEGE), st.sampled_from(["all", "select", "insert"]), st.just(""), tables, st.none(), names
)
plain = st.builds(
    fx.Obj,
    st.sampled_from(ANY_KIND),
    names,
    st.sampled_from(SCHEMAS),
    st.none(),
    st.sampled_from([None, (), ("int4",)]),
)
objs = st.one_of(tables, hanging, privileges, plain)
name_sets = st.frozensets(names, max_size=3)


@st.composite
def effect(draw):
    op = draw(st.sampled_from([fx.CREATE, fx.CREATE, fx.DROP, fx.DROP, fx.ALTER, fx.RENAME]))
    obj = draw(st.one_of(tables, plain) if op == fx.RENAME else objs)
    kw = {}
    if op == fx.RENAME:  # (of what has no parent: see the report of issue 22's sixth session)
        pool = OWNERS if obj.name in OWNERS else [n for n in NAMES if n not in OWNERS]
        kw["new"] = fx.Obj(obj.kind, draw(st.sampled_from(pool)), draw(st.sampled_from(SCHEMAS)))
    if op == fx.ALTER:
        kw["attr"] = draw(st.sampled_from(["owned by", "type", "default"]))
    if op in (fx.CREATE, fx.ALTER):
        # what belongs to a table: an index, an owned sequence (the model, like PostgreSQL, knows
        # no object that belongs to itself: ``created_in`` would not end)
        # (nor a cycle of two: owners are named a, b or c, what they own one of the others)
        if obj.kind in (fx.INDEX, fx.SEQUENCE) and obj.name not in OWNERS:
            owner = st.builds(fx.Obj, st.just(fx.TABLE), st.sampled_from(OWNERS), st.sampled_from(SCHEMAS))
            kw["on"] = draw(st.one_of(st.none(), owner))
        kw["columns"] = draw(name_sets)
    if op == fx.CREATE:
        kw["refs"] = draw(name_sets)
        kw["if_not_exists"] = draw(st.booleans())
        kw["replace"] = draw(st.booleans())
        kw["recreate"] = draw(st.booleans())
    if op == fx.DROP:
        kw["missing_ok"] = draw(st.booleans())
    return fx.Effect(op, obj, **kw)


def state(model):
    return [
        (
            e.obj,
            e.orig,
            e.existed,
            e.exists,
            e.first_phase,
            e.on,
            e.columns,
            e.refs,
            e.guessed,
            {p: id(x) for p, x in e.created.items()},
            {p: id(x) for p, x in e.defined.items()},
            {p: id(x) for p, x in e.replaced.items()},
            {p: id(x) for p, x in e.dropped.items()},
            dict(e.direct_drop),
            {p: id(x) for p, x in e.renamed.items()},
            {p: {a: (id(f), v1, v2) for a, (f, v1, v2) in d.items()} for p, d in e.altered.items()},
            sorted(e.touched),
            e.if_not_exists,
        )
        for e in model.entries
    ]


@settings(max_examples=400, deadline=None)
@given(st.lists(effect(), max_size=25), st.lists(effect(), max_size=25))
def test_indexed_kill_finds_what_all_pairs_finds(migration, rollback):
    indexed, all_pairs = fx.Model(), AllPairs()
    for model in (indexed, all_pairs):
        model.apply(migration, "m")
        model.apply(rollback, "r")
    assert state(indexed) == state(all_pairs)


def test_the_index_follows_renames_and_owned_by():
    """Built for one drop, the index must not answer a later drop with what it knew then."""
    t, seq = fx.Obj(fx.TABLE, "t"), fx.Obj(fx.SEQUENCE, "q")
    start = [
        fx.Effect(fx.CREATE, t),
        fx.Effect(fx.CREATE, fx.Obj(fx.INDEX, "i"), on=t, columns=frozenset({"c"})),
        fx.Effect(fx.CREATE, seq),
        fx.Effect(fx.DROP, fx.Obj(fx.TABLE, "x")),  # builds the index
    ]
    renamed = fx.Model()
    renamed.apply(
        [*start, fx.Effect(fx.RENAME, t, new=fx.Obj(fx.TABLE, "u")), fx.Effect(fx.DROP, fx.Obj(fx.TABLE, "u"))], "m"
    )
    assert [(e.obj.name, e.exists) for e in renamed.entries] == [("u", False), ("i", False), ("q", True), ("x", False)]
    owned = fx.Model()
    owned.apply([*start, fx.Effect(fx.ALTER, seq, attr="owned by", on=t), fx.Effect(fx.DROP, t)], "m")
    assert [(e.obj.name, e.exists) for e in owned.entries] == [("t", False), ("i", False), ("q", False), ("x", False)]
