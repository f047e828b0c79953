"""Per-statement lock view (``migcheck locks``): what each statement locks, how, and what that
blocks. It renders the static lock model (``rows`` reads it for a file); it knows nothing about rules."""

from __future__ import annotations

import json

_LABELS = {
    "AlterTableStmt": "ALTER TABLE",
    "IndexStmt": "CREATE INDEX",
    "CreateStmt": "CREATE TABLE",
    "CreateTrigStmt": "CREATE TRIGGER",
    "CreatePolicyStmt": "CREATE POLICY",
    "AlterPolicyStmt": "ALTER POLICY",
    "RenameStmt": "RENAME",
    "TruncateStmt": "TRUNCATE",
    "LockStmt": "LOCK TABLE",
    "VacuumStmt": "VACUUM/ANALYZE",
    "ClusterStmt": "CLUSTER",
    "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW",
    "ReindexStmt": "REINDEX",
    "CommentStmt": "COMMENT",
    "InsertStmt": "INSERT",
    "UpdateStmt": "UPDATE",
    "DeleteStmt": "DELETE",
    "MergeStmt": "MERGE",
    "RuleStmt": "CREATE RULE",
    "DoStmt": "DO",
}


def label(stmt) -> str:
    if stmt.kind == "DropStmt":
        return "DROP " + stmt.node.get("removeType", "OBJECT_?").removeprefix("OBJECT_").replace("_", " ")
    return _LABELS.get(stmt.kind, stmt.kind.removesuffix("Stmt"))


class Seen:
    """What the schema model says of the relations one statement locks (``analysis.schema``):
    ``name in seen`` for a table this file or change set created (new: nothing waits on it),
    ``seen.state(name)`` for its ``schema.State`` (None: an existing table)."""

    __slots__ = ("f", "st")

    def __init__(self, f, st):
        self.f, self.st = f, st

    def state(self, relation: str):
        from ..analysis import schema

        return schema.relation_state(self.f, self.st, relation)

    def __contains__(self, relation: object) -> bool:
        s = self.state(str(relation))
        return s is not None and s.origin != "existing"


def rows(f, version: int) -> list[tuple]:
    """(statement, [Lock], ``Seen``) for each statement of the file ``f`` that changes schema or
    data, the locks as the schema model predicts them (a SET NOT NULL a validated CHECK proves
    scans nothing): what ``migcheck locks`` and the markdown report show."""
    from ..analysis import pg, schema

    return [
        (st, [lk for lk, _ in schema.statement_locks(f, st, version)], Seen(f, st))
        for st in f.statements
        if pg.is_change(st)
    ]


def _state(new, relation: str):
    return new.state(relation) if isinstance(new, Seen) else None


def _origin(state) -> str:
    return "existing" if state is None else state.origin


def describe(lk, state) -> str:
    """What the lock means for others, as the schema model sees its relation (``state``: the
    ``analysis.schema.State`` of the file and change set, None for an existing table)."""
    if state is None or state.origin == "existing":
        empty = f", provably empty ({state.empty})" if state is not None and state.empty else ""
        return f"existing table{empty}: blocks {lk.blocks}"
    if state.origin == "file":
        return f"table created in this file (line {state.line}): no one else can hold it"
    return (
        f"table created in this change set ({state.display}:{state.line}): the running application does not use it yet"
    )


def _view(risk, st, lk, new):
    """The lock read against the production snapshot (``migcheck.analysis.risk``), or None without one."""
    if risk is None:
        return None
    from ..analysis.risk import lock_context

    return risk.view(*lock_context(st, lk, lk.relation in new))


def _production(v) -> dict:
    """``table`` and ``estimate`` of a lock in the JSON (with a snapshot only)."""
    t = v.table
    table = (
        None
        if t is None
        else {
            "key": t.key,
            "rows": t.rows,
            "total_bytes": t.total_bytes,
            "writes_per_second": v.writes_per_second,
            "reads_per_second": v.reads_per_second,
        }
    )
    est = None if v.seconds is None else {"class": v.cls, "seconds": round(v.seconds, 3), "rates": v.rates}
    return {"table": table, "estimate": est}


def render(entries, fmt: str = "text", risk=None, **_) -> str:
    """``entries``: list of (file display path, ``rows``); ``risk``: a
    ``migcheck.analysis.risk.Risk`` (a production snapshot) adds each table's figures and estimates."""
    if fmt == "json":
        doc = [
            {
                "path": path,
                "statements": [
                    {
                        "line": st.line,
                        "column": st.column,
                        "statement": label(st),
                        "locks": [
                            {
                                "relation": lk.relation,
                                "mode": lk.mode,
                                "rewrite": lk.rewrite,
                                "scan": lk.scan,
                                "new_table": _origin(_state(new, lk.relation)) != "existing",
                                "origin": _origin(_state(new, lk.relation)),
                                "empty": getattr(_state(new, lk.relation), "empty", None),
                                "blocks": lk.blocks,
                                "note": lk.note,
                                **({} if risk is None else _production(_view(risk, st, lk, new))),
                            }
                            for lk in locks
                        ],
                    }
                    for st, locks, new in stmts
                ],
            }
            for path, stmts in entries
        ]
        return json.dumps(doc, indent=2) + "\n"
    out: list[str] = []
    if risk is not None:
        out.append(f"({risk.note()})")
    for path, stmts in entries:
        out.append(path)
        if not stmts:
            out.append("  (no statements)")
        for st, locks, new in stmts:
            head = f"  {st.line}:{st.column}  {label(st)}"
            if not locks:
                out.append(f"{head}  -- no lock on an existing table")
                continue
            out.append(head)
            for lk in locks:
                state = _state(new, lk.relation)
                marks = [m for m, on in (("rewrite", lk.rewrite), ("scan", lk.scan)) if on]
                out.append(
                    f"    {lk.relation}: {lk.mode}{' (' + ', '.join(marks) + ')' if marks else ''} -- "
                    f"{describe(lk, state)}"
                )
                if lk.note:
                    out.append(f"      {lk.note}")
                v = _view(risk, st, lk, new)
                if v is not None and _origin(state) == "existing":
                    out.append("      " + v.line())
    return "\n".join(out) + "\n"
