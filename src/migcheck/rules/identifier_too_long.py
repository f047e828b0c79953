"""identifier-too-long: identifiers longer than 63 bytes (analysis.identifiers), and two names of
one scope that share their first 63 bytes, which become one name: the names this file creates are
followed to find such a pair."""

from __future__ import annotations

from ..analysis import locking as lk
from ..analysis import pg
from ..analysis.identifiers import MAX_BYTES, long_identifiers, may_have_long, truncated
from ..registry import rule

_RELATION_DROPS = {
    "OBJECT_TABLE",
    "OBJECT_INDEX",
    "OBJECT_SEQUENCE",
    "OBJECT_VIEW",
    "OBJECT_MATVIEW",
    "OBJECT_FOREIGN_TABLE",
    "OBJECT_TYPE",
}
_INDEX_CONSTRAINTS = {"CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_EXCLUSION"}


class _Scope:
    """Names created earlier in the file, by their kept (cut) form: the name as written, the
    statement that created it and what it is."""

    def __init__(self) -> None:
        self.names: dict[tuple, tuple[str, object, str]] = {}

    def add(self, key: tuple, written: str, st, kind: str) -> tuple[str, object, str] | None:
        """Record ``written`` under ``key``; the earlier, differently written name it collides with
        (which keeps the name: the colliding CREATE fails, or does nothing under IF NOT EXISTS)."""
        before = self.names.get(key)
        if before is not None and before[0] != written:
            return before
        self.names[key] = (written, st, kind)
        return None

    def drop(self, key: tuple) -> None:
        self.names.pop(key, None)


def _schema(rv: dict | None) -> str:
    return (rv or {}).get("schemaname") or ""


def _created(st) -> list[tuple[str, tuple, str, bool]]:
    """What ``st`` names in a scope: ``(kind, scope key, kept name, IF NOT EXISTS)``. Relations
    (tables, indexes, sequences, views, composite types, and indexes of key constraints) share a
    schema's namespace; columns and constraints a table's."""
    k, n = st.kind, st.node
    out: list[tuple[str, tuple, str, bool]] = []
    quiet = bool(n.get("if_not_exists"))

    def constraints(table: str, schema: str, cons) -> None:
        for c in cons:
            con = c.get("Constraint", c)
            name = con.get("conname")
            if not name:
                continue
            out.append(("constraint", ("constraint", schema, table, name), name, False))
            if con.get("contype") in _INDEX_CONSTRAINTS:
                out.append(("index", ("relation", schema, name), name, False))

    if k == "CreateStmt":
        rel = n.get("relation") or {}
        table, schema = rel.get("relname", ""), _schema(rel)
        out.append(("table", ("relation", schema, table), table, quiet))
        for e in n.get("tableElts", ()):
            if "ColumnDef" in e:
                col = e["ColumnDef"]
                out.append(("column", ("column", schema, table, col.get("colname", "")), col.get("colname", ""), quiet))
                constraints(table, schema, col.get("constraints", ()))
            elif "Constraint" in e:
                constraints(table, schema, [e])
    elif k == "IndexStmt" and n.get("idxname"):
        out.append(("index", ("relation", _schema(n.get("relation")), n["idxname"]), n["idxname"], quiet))
    elif k in ("ViewStmt", "CreateSeqStmt", "CompositeTypeStmt", "CreateTableAsStmt"):
        rel = {
            "ViewStmt": n.get("view"),
            "CreateSeqStmt": n.get("sequence"),
            "CompositeTypeStmt": n.get("typevar"),
            "CreateTableAsStmt": (n.get("into") or {}).get("rel"),
        }[k] or {}
        kind = {
            "ViewStmt": "view",
            "CreateSeqStmt": "sequence",
            "CompositeTypeStmt": "type",
            "CreateTableAsStmt": "materialized view" if n.get("objtype") == "OBJECT_MATVIEW" else "table",
        }[k]
        name = rel.get("relname", "")
        out.append((kind, ("relation", _schema(rel), name), name, quiet or bool(n.get("replace"))))
    elif k == "AlterTableStmt":
        rel = n.get("relation") or {}
        table, schema = rel.get("relname", ""), _schema(rel)
        for sub, c in lk.alter_table_cmds(st):
            d = c.get("def") or {}
            if sub == "AT_AddColumn" and "ColumnDef" in d:
                col = d["ColumnDef"]
                out.append(
                    (
                        "column",
                        ("column", schema, table, col.get("colname", "")),
                        col.get("colname", ""),
                        bool(c.get("missing_ok")),
                    )
                )
                constraints(table, schema, col.get("constraints", ()))
            elif sub == "AT_AddConstraint" and "Constraint" in d:
                constraints(table, schema, [d])
    elif k == "RenameStmt" and n.get("newname"):
        rel = n.get("relation") or {}
        kind = n.get("renameType", "")
        if kind == "OBJECT_COLUMN":
            out.append(("column", ("column", _schema(rel), rel.get("relname", ""), n["newname"]), n["newname"], False))
        elif kind in _RELATION_DROPS and rel:
            out.append(
                (
                    kind.removeprefix("OBJECT_").lower().replace("_", " "),
                    ("relation", _schema(rel), n["newname"]),
                    n["newname"],
                    False,
                )
            )
    return out


def _dropped(st) -> list[tuple]:
    """Scope keys of the relations ``st`` drops (or renames away)."""
    k, n = st.kind, st.node
    if k == "DropStmt" and n.get("removeType") in _RELATION_DROPS:
        out = []
        for o in n.get("objects", ()):
            parts = pg.strings(o.get("List", {}).get("items")) if "List" in o else []
            if parts:
                out.append(("relation", parts[-2] if len(parts) > 1 else "", parts[-1]))
        return out
    if k == "RenameStmt" and n.get("renameType") in _RELATION_DROPS and n.get("relation"):
        rel = n["relation"]
        return [("relation", _schema(rel), rel.get("relname", ""))]
    return []


def _effect(kind: str, quiet: bool) -> str:
    return (
        f"IF NOT EXISTS makes this CREATE do nothing, silently, and the {kind} meant here never exists"
        if quiet
        else 'this statement fails with "already exists"'
    )


@rule(
    "identifier-too-long",
    severity="warning",
    group="safety",
    kinds=("migration", "rollback"),
    summary="An identifier is longer than 63 bytes: PostgreSQL cuts it, and two names that share their first 63 bytes become one.",
)
def check(f, ctx):
    if not may_have_long(f.text):
        return  # a collision needs a long name too
    scope = _Scope()
    for st in f.all_statements:
        if st.kind == "DoStmt":
            continue  # its body's statements are checked one by one
        long = long_identifiers(st.text)
        written: dict[str, set[str]] = {}
        for name, _ in long:
            written.setdefault(truncated(name), set()).add(name)
        for key in _dropped(st):
            scope.drop(key)
        clash: dict[str, str] = {}  # a long name of this statement -> what it collides with
        for kind, key, kept, quiet in _created(st):
            names = written.get(kept, set())
            name = next(iter(names)) if len(names) == 1 else kept
            before = scope.add(key, name, st, kind)
            if before is None:
                continue
            other, where, other_kind = before
            if name in names:
                clash.setdefault(
                    name,
                    f"the name of the {other_kind} `{other}` created on line {where.line}, so {_effect(kind, quiet)}",
                )
            else:  # the earlier name was the long one: this short name is what it became
                yield f.hit(
                    f"{kind} `{name}`{lk.where(st)} has the name PostgreSQL gave the {other_kind} `{other}` created on "
                    f"line {where.line} (its first {MAX_BYTES} bytes), so {_effect(kind, quiet)}",
                    f"Give one of the two another name, and keep names to {MAX_BYTES} bytes or fewer.",
                    st,
                )
        seen: set[str] = set()
        for name, offset in long:
            if name in seen:
                continue
            seen.add(name)
            size = len(name.encode("utf-8"))
            chars = f" ({len(name)} characters)" if len(name) != size else ""
            also = f"; cut, it is {clash[name]}" if name in clash else ""
            line, column = f.positions.line_col(st.start + offset)
            yield f.hit(
                f"identifier `{name}` is {size} bytes long{chars}{lk.where(st)}: PostgreSQL cuts it to its first "
                f"{MAX_BYTES} bytes, `{truncated(name)}`{also}",
                f"Shorten it to {MAX_BYTES} bytes or fewer: the name in the catalog, in error messages and in "
                "later migrations is the cut one, and another long name with the same first 63 bytes becomes "
                "the same name.",
                line=line,
                column=column,
            )
