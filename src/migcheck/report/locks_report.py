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


def render(entries, fmt: str = "text", **_) -> str:
    """``entries``: list of (file display path, [(statement, [Lock], new_tables: set)])."""
    if fmt == "json":
        doc = [{"path": path, "statements": [
            {"line": st.line, "column": st.column, "statement": label(st),
             "locks": [{"relation": lk.relation, "mode": lk.mode, "rewrite": lk.rewrite, "scan": lk.scan,
                        "new_table": lk.relation.rsplit(".", 1)[-1] in new, "blocks": lk.blocks, "note": lk.note}
                       for lk in locks]}
            for st, locks, new in stmts]} for path, stmts in entries]
        return json.dumps(doc, indent=2) + "\n"
    out: list[str] = []
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
    return "\n".join(out) + "\n"
