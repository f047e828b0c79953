"""`mixed-changes` groups changes through indexes (`_link_related`) because a large migration holds
thousands of them; the definition of "related" is the pairwise `_related`. The two must give the
same groups, on any changes: the pairwise test is the oracle of the fast one."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from migcheck.analysis import relations as rel
from migcheck.rules import mixed_changes as mc

SIGS = st.sampled_from(
    [
        ("drop", "t"),
        ("drop column", "c"),
        ("drop constraint", "k"),
        ("index", "i"),
        ("add column", "c"),
        ("rename", "r"),
        ("update",),
        ("set_not_null", "c"),
    ]
)
CHANGE = st.builds(
    lambda words, sigs, kinds: mc.Change(first=None, sigs=set(sigs), words=set(words), kinds=set(kinds)),
    st.sets(st.sampled_from(["email", "site", "user", "vote"]), max_size=2),
    st.sets(SIGS, max_size=3),
    st.sampled_from([{"schema"}, {"data"}, {"schema", "data"}]),
)


def _partition(found, link) -> set[frozenset[int]]:
    uf = rel.UnionFind()
    for i in range(len(found)):
        uf.find(i)
    link(found, uf)
    groups: dict = {}
    for i in range(len(found)):
        groups.setdefault(uf.find(i), set()).add(i)
    return {frozenset(g) for g in groups.values()}


def _pairwise(found, uf) -> None:
    for i, a in enumerate(found):
        for j in range(i + 1, len(found)):
            if mc._related(a, found[j]):
                uf.union(i, j)


def _c(sigs, kinds=("data",), words=()):
    return mc.Change(first=None, sigs=set(sigs), words=set(words), kinds=set(kinds))


@given(st.lists(CHANGE, max_size=12))
@example([_c({("drop", "t")}), _c({("drop column", "c")})])  # two clean-ups: one change
@example([_c({("drop constraint", "k")}, ("schema",)), _c({("drop constraint", "k"), ("index", "i")})])  # subset
@example([_c(set(), ("schema",)), _c({("index", "i")})])  # a schema change with no signature
@example([_c({("index", "i")}, words={"email"}), _c({("update",)}, words={"email"}), _c({("rename", "r")})])
def test_indexed_grouping_equals_the_pairwise_definition(found):
    assert _partition(found, mc._link_related) == _partition(found, _pairwise)
