"""Per-statement lock view (``migcheck locks``): what each statement locks, how, and what that
blocks. It renders the static lock model (``rows`` reads it for a file); it knows nothing about rules."""

from __future__ import annotations

import json

_LABELS = {
    "AlterTableStmt": "ALTER TABLE", "IndexStmt": "CREATE INDEX", "CreateStmt": "CREATE TABLE",
    "CreateTrigStmt": "CREATE TRIGGER", "CreatePolicyStmt": "CREATE POLICY", "AlterPolicyStmt": "ALTER POLICY",
    "RenameStmt": "RENAME", "TruncateStmt": "TRUNCATE", "LockStmt": "LOCK TABLE", "VacuumStmt": "VACUUM/ANALYZE",
    "ClusterStmt": "CLUSTER", "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW", "ReindexStmt": "REINDEX",
    "CommentStmt": "COMMENT", "InsertStmt": "INSERT", "UpdateStmt": "UPDATE", "DeleteStmt": "DELETE",
    "MergeStmt": "MERGE", "RuleStmt": "CREATE RULE", "DoStmt": "DO",
}


def label(stmt) -> str:
    if stmt.kind == "DropStmt":
        return "DROP " + stmt.node.get("removeType", "OBJECT_?").removeprefix("OBJECT_").replace("_", " ")
    return _LABELS.get(stmt.kind, stmt.kind.removesuffix("Stmt"))


def rows(f, version: int) -> list[tuple]:
    """(statement, [Lock], tables created earlier in the file) for each statement of the file
    ``f`` that changes schema or data: what ``migcheck locks`` and the markdown report show."""
    from ..analysis import pg, safety
    from ..analysis import locks as lock_model

    ctx = safety.context(f)
    return [(st, lock_model.statement_locks(st, version), ctx.new_before[ctx.index(st)])
            for st in f.statements if pg.is_change(st)]


def _view(risk, st, lk, new):
    """The lock read against the production snapshot (``migcheck.analysis.risk``), or None without one."""
    if risk is None:
        return None
    from ..analysis.risk import is_index, lock_context

    fresh = lk.relation.rsplit(".", 1)[-1] in new
    return risk.view(*lock_context(st, lk, fresh))


def _production(v) -> dict:
    """``table`` and ``estimate`` of a lock in the JSON (with a snapshot only)."""
    t = v.table
    table = None if t is None else {
        "key": t.key, "rows": t.rows, "total_bytes": t.total_bytes,
        "writes_per_second": v.writes_per_second, "reads_per_second": v.reads_per_second}
    est = None if v.seconds is None else {"class": v.cls, "seconds": round(v.seconds, 3), "rates": v.rates}
    return {"table": table, "estimate": est}


def render(entries, fmt: str = "text", risk=None, **_) -> str:
    """``entries``: list of (file display path, [(statement, [Lock], new_tables: set)]); ``risk``:
    a ``migcheck.analysis.risk.Risk`` (a production snapshot) adds each table's figures and estimates."""
    if fmt == "json":
        doc = [{"path": path, "statements": [
            {"line": st.line, "column": st.column, "statement": label(st),
             "locks": [{"relation": lk.relation, "mode": lk.mode, "rewrite": lk.rewrite, "scan": lk.scan,
                        "new_table": lk.relation.rsplit(".", 1)[-1] in new, "blocks": lk.blocks, "note": lk.note,
                        **({} if risk is None else _production(_view(risk, st, lk, new)))}
                       for lk in locks]}
            for st, locks, new in stmts]} for path, stmts in entries]
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
                marks = [m for m, on in (("rewrite", lk.rewrite), ("scan", lk.scan)) if on]
                fresh = lk.relation.rsplit(".", 1)[-1] in new
                what = "new table, created earlier in this file: nothing waits" if fresh else f"blocks {lk.blocks}"
                out.append(f"    {lk.relation}: {lk.mode}{' (' + ', '.join(marks) + ')' if marks else ''} -- {what}")
                if lk.note:
                    out.append(f"      {lk.note}")
                v = _view(risk, st, lk, new)
                if v is not None and not fresh:
                    out.append("      " + v.line())
    return "\n".join(out) + "\n"
