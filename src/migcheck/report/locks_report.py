"""Per-statement lock view (``migcheck locks``): what each statement locks, how, and what that
blocks. It renders the static lock model; it knows nothing about rules."""

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


def _origin(state) -> str:
    return "existing" if state is None else state.origin


def _empty(state) -> str | None:
    return None if state is None else state.empty


def describe(lk, state) -> str:
    """What the lock means for others, as the schema model sees its relation (``state``: the
    ``analysis.schema.State`` of the file and change set, None for an existing table)."""
    if state is None or state.origin == "existing":
        empty = f", provably empty ({state.empty})" if state is not None and state.empty else ""
        return f"existing table{empty}: blocks {lk.blocks}"
    if state.origin == "file":
        return f"table created in this file (line {state.line}): no one else can hold it"
    return f"table created in this change set ({state.display}:{state.line}): the running application does not use it yet"


def render(entries, fmt: str = "text", **_) -> str:
    """``entries``: list of (file display path, [(statement, [(Lock, State or None)])]), the
    locks as the schema model sees them (``analysis.schema.statement_locks``)."""
    if fmt == "json":
        doc = [{"path": path, "statements": [
            {"line": st.line, "column": st.column, "statement": label(st),
             "locks": [{"relation": lk.relation, "mode": lk.mode, "rewrite": lk.rewrite, "scan": lk.scan,
                        "new_table": _origin(state) != "existing", "origin": _origin(state), "empty": _empty(state),
                        "blocks": lk.blocks, "note": lk.note}
                       for lk, state in locks]}
            for st, locks in stmts]} for path, stmts in entries]
        return json.dumps(doc, indent=2) + "\n"
    out: list[str] = []
    for path, stmts in entries:
        out.append(path)
        if not stmts:
            out.append("  (no statements)")
        for st, locks in stmts:
            head = f"  {st.line}:{st.column}  {label(st)}"
            if not locks:
                out.append(f"{head}  -- no lock on an existing table")
                continue
            out.append(head)
            for lk, state in locks:
                marks = [m for m, on in (("rewrite", lk.rewrite), ("scan", lk.scan)) if on]
                out.append(f"    {lk.relation}: {lk.mode}{' (' + ', '.join(marks) + ')' if marks else ''} -- "
                           f"{describe(lk, state)}")
                if lk.note:
                    out.append(f"      {lk.note}")
    return "\n".join(out) + "\n"
