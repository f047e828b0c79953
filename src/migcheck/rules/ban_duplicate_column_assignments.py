from ..analysis import locking as lk
from ..analysis import pg
from ..analysis.identifiers import long_identifiers, truncated
from ..registry import rule


def _declared(column: str) -> str:
    return f'column "{column}" specified more than once'


def _assigned(column: str) -> str:
    return f'multiple assignments to same column "{column}"'


def _twice(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for n in names:
        if n in seen and n not in out:
            out.append(n)
        seen.add(n)
    return out


def _targets(items) -> list[str]:
    """Columns assigned twice by a SET list or named twice by an INSERT column list. Elements or
    fields of one column (``a[1] = ..., a[2] = ...``) may each be assigned once; the whole column
    next to one of its parts may not."""
    whole: dict[str, int] = {}
    parts: dict[str, int] = {}
    order: list[str] = []
    for t in items or ():
        r = t.get("ResTarget", {})
        name = r.get("name")
        if not name:
            continue
        order.append(name)
        counts = parts if r.get("indirection") else whole
        counts[name] = counts.get(name, 0) + 1
    return [n for n in dict.fromkeys(order) if whole.get(n, 0) > 1 or (whole.get(n) and parts.get(n))]


def _columns(st) -> list[tuple[str, str, str]]:
    """``(what, column, PostgreSQL's error message)`` for every column ``st`` declares or assigns twice."""
    k, n = st.kind, st.node
    out: list[tuple[str, str, str]] = []
    if k in ("CreateStmt", "CompositeTypeStmt"):
        defs = n.get("tableElts") if k == "CreateStmt" else n.get("coldeflist")
        rel = n.get("relation") if k == "CreateStmt" else n.get("typevar")
        names = [e["ColumnDef"].get("colname", "") for e in defs or () if "ColumnDef" in e]
        what = f"{'CREATE TABLE' if k == 'CreateStmt' else 'CREATE TYPE'} {lk.relation(rel)} declares"
        out += [(what, c, _declared(c)) for c in _twice(names)]
    elif k == "ViewStmt":
        out += [
            (f"CREATE VIEW {lk.relation(n.get('view'))} names", c, _declared(c))
            for c in _twice(pg.strings(n.get("aliases")))
        ]
    elif k == "CreateTableAsStmt":
        into = n.get("into") or {}
        kind = "CREATE MATERIALIZED VIEW" if n.get("objtype") == "OBJECT_MATVIEW" else "CREATE TABLE"
        out += [
            (f"{kind} {lk.relation(into.get('rel'))} names", c, _declared(c))
            for c in _twice(pg.strings(into.get("colNames")))
        ]
    elif k == "UpdateStmt":
        out += [
            (f"UPDATE {lk.relation(n.get('relation'))} assigns", c, _assigned(c)) for c in _targets(n.get("targetList"))
        ]
    elif k == "InsertStmt":
        table = lk.relation(n.get("relation"))
        out += [(f"INSERT INTO {table} names", c, _declared(c)) for c in _targets(n.get("cols"))]
        conflict = n.get("onConflictClause") or {}
        out += [
            (f"INSERT INTO {table} ... ON CONFLICT DO UPDATE assigns", c, _assigned(c))
            for c in _targets(conflict.get("targetList"))
        ]
    elif k == "MergeStmt":
        table = lk.relation(n.get("relation"))
        for w in n.get("mergeWhenClauses", ()):
            clause = w.get("MergeWhenClause", {})
            if clause.get("commandType") == "CMD_INSERT":
                out += [
                    (f"MERGE INTO {table} ... INSERT names", c, _declared(c))
                    for c in _targets(clause.get("targetList"))
                ]
            else:
                out += [
                    (f"MERGE INTO {table} ... UPDATE assigns", c, _assigned(c))
                    for c in _targets(clause.get("targetList"))
                ]
    elif k == "AlterTableStmt":
        added: set[str] = set()
        for sub, c in lk.alter_table_cmds(st):
            col = (c.get("def") or {}).get("ColumnDef") if sub == "AT_AddColumn" else None
            if not col:
                continue
            name = col.get("colname", "")
            if name in added and not c.get("missing_ok"):
                table = st.node.get("relation", {}).get("relname", "?")
                out.append(
                    (
                        f"ALTER TABLE {lk.table_sql(st)} adds",
                        name,
                        f'column "{name}" of relation "{table}" already exists',
                    )
                )
            added.add(name)
    return out


@rule(
    "ban-duplicate-column-assignments",
    severity="error",
    group="syntax",
    kinds=("migration", "rollback"),
    summary="A statement declares or assigns one column twice (CREATE TABLE t (a int, a text), UPDATE t SET a = 1, a = 2): PostgreSQL rejects it.",
)
def check(f, ctx):
    for st in f.all_statements:
        found = _columns(st)
        cut: dict[str, set[str]] = {}  # names longer than 63 bytes, by what PostgreSQL makes of them
        if any(len(column.encode("utf-8")) >= 60 for _, column, _ in found):
            for name, _ in long_identifiers(st.text):
                cut.setdefault(truncated(name), set()).add(name)
        for what, column, error in found:
            col = lk.ident(column)
            written = sorted(cut.get(column, ()))
            how = (
                (
                    f" (as written, {' and '.join(f'`{w}`' for w in written)}{' and its first 63 bytes' if len(written) == 1 else ''}: "
                    "names are cut to their first 63 bytes)"
                )
                if written
                else ""
            )
            yield f.hit(
                f"{what} column {col} twice{how}{lk.where(st)}: PostgreSQL rejects the statement with "
                f"`{error}` and the migration fails",
                "Give the columns names that differ in their first 63 bytes (63 bytes at most is best)."
                if written
                else f"Keep one {'assignment' if 'assigns' in what else 'declaration'} of {col}: remove the other, or "
                "give it the name it was meant to have.",
                st,
            )
