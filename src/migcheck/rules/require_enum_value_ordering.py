from ..analysis import locking as lk
from ..analysis import pg
from ..registry import rule


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@rule(
    "require-enum-value-ordering",
    severity="info",
    group="safety",
    kinds=("migration",),
    enabled=False,
    reads=("AlterEnumStmt",),
    summary="ALTER TYPE ... ADD VALUE without BEFORE / AFTER appends the value to the end of the enum's sort order.",
)
def check(f, ctx):
    for st in f.all_statements:
        n = st.node
        if st.kind != "AlterEnumStmt" or not n.get("newVal") or n.get("newValNeighbor") or n.get("oldVal"):
            continue
        enum = lk.names(pg.strings(n.get("typeName")))
        value = _literal(n["newVal"])
        yield f.hit(
            f"ALTER TYPE {enum} ADD VALUE {value}{lk.where(st)} has no BEFORE or AFTER, so {value} sorts after every "
            f"existing value of {enum}: comparisons (`<`, `>`, `BETWEEN`), ORDER BY, min() and max() on {enum} see it last",
            f"Place it where it belongs in the order: `ALTER TYPE {enum} ADD VALUE {value} BEFORE '<value>'` (or AFTER). "
            "If the order of this enum means nothing, leave it at the end and ignore this rule for it.",
            st,
        )
