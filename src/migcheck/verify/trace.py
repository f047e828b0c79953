"""``migcheck verify --trace``: what each statement of a migration really locks, rewrites and scans.

During verify's first apply of a migration, ``apply`` runs the file statement by statement, as
``runner.apply`` does, and around each statement reads from the server, on the same connection:

- ``pg_locks``: the relation locks the own backend holds (``pid = pg_backend_pid()``, granted).
  Locks are held to the end of the transaction, so a statement's locks are the (relation, mode)
  pairs that were not held before it;
- ``pg_class.relfilenode`` of every user relation: a changed file node is a rewrite;
- ``pg_stat_get_xact_numscans(oid)`` (the function behind ``pg_stat_xact_user_tables.seq_scan``,
  the current transaction's sequential scans): a larger count is a full scan;
- ``current_setting('lock_timeout')`` and the statement's duration.

A statement inside the file's own ``BEGIN``/``COMMIT`` is measured in that transaction; any other
statement (a file without BEGIN/COMMIT, a ``SET`` before BEGIN) runs in a transaction of its own
that the trace opens and commits around it. A statement that cannot run in a transaction block
(``CREATE INDEX CONCURRENTLY``, ``VACUUM``, ...) runs as written and is reported as not traced, with
the static model's prediction beside it.

``compare`` holds each traced statement to the static model (``migcheck.analysis.locks``); ``findings``
turns a file's trace into ``lock-model-mismatch``, ``lock-held-across-statements``,
``table-rewritten`` and ``lock-without-timeout``. ``seed`` fills empty tables with a few rows
first (some operations skip work on an empty table). The JSON shape is documented in docs/trace.md.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from ..analysis import locks as lock_model
from ..analysis import pg
from ..analysis import schema as schema_model
from ..model import Statement
from . import limits, runner

TRACE_RULES = ("lock-model-mismatch", "lock-held-across-statements", "table-rewritten", "lock-without-timeout")

# relkinds compared with the static model and shown in the trace: tables, partitioned tables,
# views, materialized views, foreign tables. Indexes are shown when the static model names them.
_TABLE_KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}
_KIND_NAMES = dict(_TABLE_KINDS, i="index", I="index", S="sequence", c="type", t="toast")

# statement kinds the static model covers: a trace of any other kind is shown, never compared
MODELLED = {
    "AlterTableStmt",
    "CreateStmt",
    "IndexStmt",
    "DropStmt",
    "CreateTrigStmt",
    "CreatePolicyStmt",
    "AlterPolicyStmt",
    "RuleStmt",
    "RenameStmt",
    "TruncateStmt",
    "LockStmt",
    "VacuumStmt",
    "ClusterStmt",
    "RefreshMatViewStmt",
    "ReindexStmt",
    "CommentStmt",
    "InsertStmt",
    "UpdateStmt",
    "DeleteStmt",
    "MergeStmt",
}
_DML = {"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"}
# words in a static prediction's note that make its rewrite/scan flag a "maybe"
_HEDGES = ("unless", " if ", "skipped")

BLOCKS_SHORT = {
    lock_model.ACCESS_EXCLUSIVE: "blocks reads and writes",
    lock_model.EXCLUSIVE: "blocks writes and SELECT ... FOR UPDATE; plain reads go on",
    lock_model.SHARE_ROW_EXCLUSIVE: "blocks writes; reads go on",
    lock_model.SHARE: "blocks writes; reads go on",
    lock_model.SHARE_UPDATE_EXCLUSIVE: "blocks other schema changes and VACUUM; reads and writes go on",
    lock_model.ROW_EXCLUSIVE: "blocks only DDL and CREATE INDEX; reads and writes go on",
    lock_model.ROW_SHARE: "blocks only EXCLUSIVE/ACCESS EXCLUSIVE locks; reads and writes go on",
    lock_model.ACCESS_SHARE: "blocks only ACCESS EXCLUSIVE (DDL); reads and writes go on",
}

_MODE_OF = {
    "AccessShareLock": lock_model.ACCESS_SHARE,
    "RowShareLock": lock_model.ROW_SHARE,
    "RowExclusiveLock": lock_model.ROW_EXCLUSIVE,
    "ShareUpdateExclusiveLock": lock_model.SHARE_UPDATE_EXCLUSIVE,
    "ShareLock": lock_model.SHARE,
    "ShareRowExclusiveLock": lock_model.SHARE_ROW_EXCLUSIVE,
    "ExclusiveLock": lock_model.EXCLUSIVE,
    "AccessExclusiveLock": lock_model.ACCESS_EXCLUSIVE,
}

# One round trip: the setting, the own backend's relation locks, and every user relation with its
# file node and its sequential scans in this transaction.
_PROBE = """
SELECT current_setting('lock_timeout'),
  (SELECT coalesce(json_agg(json_build_array(l.relation::bigint, l.mode)), '[]')
     FROM pg_locks l
    WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())),
  (SELECT coalesce(json_agg(json_build_array(c.oid::bigint, n.nspname, c.relname, c.relkind::text,
                                             c.relfilenode::bigint, pg_stat_get_xact_numscans(c.oid),
                                             i.indrelid::bigint)), '[]')
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_index i ON i.indexrelid = c.oid
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'i', 'I')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%%'),
  (SELECT coalesce(json_object_agg(r, to_regclass(r)::oid::bigint), '{}') FROM unnest(%s::text[]) AS r)
"""


@dataclass
class Rel:
    """A relation the lock trace watches."""

    oid: int
    name: str  # schema-qualified
    kind: str  # relkind
    filenode: int
    scans: int
    table: int | None = None  # an index's table


@dataclass
class Probe:
    """What one statement's lock probe saw."""

    lock_timeout: str
    locks: set[tuple[int, str]]  # (oid, mode)
    rels: dict[int, Rel]
    resolved: dict[str, int] = field(default_factory=dict)  # static relation name -> oid (search_path)


def _regclass_text(name: str) -> str:
    """A static model relation name (``schema.table``, parts as written) as ``to_regclass`` input."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def probe(conn, names: list[str] = ()) -> Probe:
    """The state around a statement; ``names``: the static model's relations, resolved on the
    server's search_path (an unknown name resolves to nothing)."""
    row = conn.execute(_PROBE, ([_regclass_text(n) for n in names],)).fetchone()
    timeout, locks, rels, resolved = row
    locks, rels, resolved = (json.loads(v) if isinstance(v, str) else v for v in (locks, rels, resolved))
    by_text = {_regclass_text(n): n for n in names}
    return Probe(
        timeout,
        {(int(o), _MODE_OF.get(m, m)) for o, m in locks},
        {
            int(o): Rel(int(o), f"{s}.{n}", k, int(fn or 0), int(sc or 0), int(t) if t else None)
            for o, s, n, k, fn, sc, t in rels
        },
        {by_text[k]: int(v) for k, v in (resolved or {}).items() if v is not None and k in by_text},
    )


@dataclass
class LockSeen:
    """A lock a statement held when the probe looked."""

    relation: str
    mode: str  # the strongest mode the statement newly took
    kind: str  # table, index, view, ...
    existed: bool  # the relation existed before the migration
    rows: str = ""  # "had rows", "seeded", "empty", "" (new)

    def to_dict(self) -> dict:
        return {
            "relation": self.relation,
            "mode": self.mode,
            "kind": self.kind,
            "existing": self.existed,
            "rows": self.rows or None,
            "blocks": BLOCKS_SHORT[self.mode],
        }


@dataclass
class Traced:
    """One statement of a migration, as the trace saw it."""

    line: int
    column: int
    end_line: int
    end_column: int
    statement: str  # a label: ALTER TABLE, CREATE INDEX, ...
    kind: str | None  # the parser's node kind (None: the parser could not read it)
    traced: bool
    transaction: str  # "file" (the file's BEGIN/COMMIT), "own" (opened by the trace), "none" (not traced)
    duration_ms: float = 0.0
    lock_timeout: str = "0"
    locks: list[LockSeen] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # relations whose lock was already held before it
    rewrites: list[str] = field(default_factory=list)
    scans: list[str] = field(default_factory=list)
    static: list[lock_model.Lock] = field(default_factory=list)
    model: str = "agrees"  # agrees, differs, no model, not traced
    differences: list[str] = field(default_factory=list)
    reason: str = ""  # why not traced
    skipped: list[str] = field(default_factory=list)  # "... does not exist, skipping" notices
    txn: int = 0  # which transaction of the file (counts the file's transaction commands)
    quiet: bool = False  # SET/SHOW or a plain SELECT: does not count for lock-held-across-statements

    def to_dict(self) -> dict:
        return {
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "statement": self.statement,
            "traced": self.traced,
            "transaction": self.transaction,
            "duration_ms": round(self.duration_ms, 3),
            "lock_timeout": self.lock_timeout if self.traced else None,
            "locks": [lk.to_dict() for lk in self.locks],
            "already_held": self.held,
            "rewrites": self.rewrites,
            "scans": self.scans,
            "static": [
                {"relation": lk.relation, "mode": lk.mode, "rewrite": lk.rewrite, "scan": lk.scan, "note": lk.note}
                for lk in self.static
            ],
            "model": self.model,
            "differences": self.differences,
            **({"reason": self.reason} if self.reason else {}),
            **({"skipped": self.skipped} if self.skipped else {}),
        }


@dataclass
class FileTrace:
    """The lock trace of one migration file."""

    path: str
    statements: list[Traced] = field(default_factory=list)
    empty: dict[str, str] = field(default_factory=dict)  # existing tables it touches that stayed empty -> why
    existing: dict[str, str] = field(default_factory=dict)  # tables before the migration -> rows status
    failed: bool = False
    runner: str | None = None  # the runner whose transaction the file ran in (a preset's), if any

    def to_list(self) -> list[dict]:
        return [t.to_dict() for t in self.statements]


def _words(camel: str) -> str:
    """``AlterColumnType`` -> ``ALTER COLUMN TYPE``."""
    import re

    return " ".join(re.findall(r"[A-Z][a-z]*|[a-z]+|\d+", camel)).upper().replace("UN LOGGED", "UNLOGGED")


def label(stmt: Statement | None, text: str) -> str:
    """A statement's label in the trace: ``ALTER TABLE ADD COLUMN``, ``CREATE INDEX CONCURRENTLY``."""
    from ..report.locks_report import _LABELS
    from ..report.locks_report import label as static_label

    if stmt is None:
        return " ".join(text.split()[:2]).upper() or "?"
    if stmt.kind in _LABELS or stmt.kind == "DropStmt":
        lab = static_label(stmt)
    else:
        lab = {
            "ViewStmt": "CREATE VIEW",
            "SelectStmt": "SELECT",
            "VariableSetStmt": "SET",
            "CreateTableAsStmt": "CREATE TABLE AS",
            "CreateSeqStmt": "CREATE SEQUENCE",
            "CreateEnumStmt": "CREATE TYPE",
            "CompositeTypeStmt": "CREATE TYPE",
        }.get(stmt.kind, _words(stmt.kind.removesuffix("Stmt")))
    if stmt.kind == "IndexStmt" and stmt.node.get("concurrent"):
        lab += " CONCURRENTLY"
    if stmt.kind == "AlterTableStmt":
        subs = [
            _words(c.get("AlterTableCmd", {}).get("subtype", "").removeprefix("AT_")) for c in stmt.node.get("cmds", ())
        ]
        if subs:
            lab += " " + ", ".join(dict.fromkeys(s for s in subs if s))
    return lab


# --- comparing with the static model ------------------------------------------------------


def _norm(name: str) -> str:
    return name.replace('"', "").lower()


def _strongest(modes) -> str | None:
    modes = list(modes)
    return max(modes, key=lambda m: lock_model.STRENGTH[m]) if modes else None


def _hedged(lk: lock_model.Lock) -> bool:
    return any(h in lk.note for h in _HEDGES)


def compare(
    t: Traced,
    before: Probe,
    new_modes: dict[int, set[str]],
    after_names: dict[int, Rel],
    rewritten: set[int],
    scanned: set[int],
) -> None:
    """Fill ``t.model`` and ``t.differences``: the static prediction against the measurement."""
    if t.kind not in MODELLED:
        t.model = "no model"
        return
    if t.skipped:  # IF [NOT] EXISTS found nothing to do: the statement did less than it says
        t.model = "skipped"
        return
    diffs: list[str] = []
    covered: set[int] = set()
    for lk in t.static:
        if not lk.relation:
            continue
        oid = before.resolved.get(lk.relation)
        if oid is None or oid not in before.rels:
            continue  # it did not exist before the statement (IF EXISTS on nothing, made earlier in it)
        covered.add(oid)
        if "its table" in lk.note and before.rels[oid].table is not None:
            covered.add(before.rels[oid].table)  # DROP INDEX / REINDEX INDEX: the model names the index only
        rel = before.rels[oid]
        got = _strongest(new_modes.get(oid, ()))
        held_before = {m for o, m in before.locks if o == oid}
        if got != lk.mode:
            if lk.mode in held_before and (got is None or lock_model.STRENGTH[got] < lock_model.STRENGTH[lk.mode]):
                pass  # already held from an earlier statement of the transaction: cannot be measured again
            else:
                diffs.append(f"{rel.name}: the model predicts {lk.mode}, the statement took {got or 'no new lock'}")
        did_rewrite = oid in rewritten
        if t.kind != "TruncateStmt" and did_rewrite != lk.rewrite and not _hedged(lk):
            diffs.append(
                f"{rel.name}: the model predicts {'a' if lk.rewrite else 'no'} rewrite, the table was "
                f"{'' if did_rewrite else 'not '}rewritten"
            )
        did_scan = oid in scanned
        if lk.scan and not did_scan and not did_rewrite and not _hedged(lk):
            diffs.append(f"{rel.name}: the model predicts a full scan, none was counted")
        if (
            not lk.scan
            and not lk.rewrite
            and did_scan
            and not did_rewrite
            and t.kind == "AlterTableStmt"
            and not lk.note.startswith("referenced")
            and not _hedged(lk)
        ):
            diffs.append(f"{rel.name}: the model predicts no scan, the statement read the whole table")
    for oid, modes in new_modes.items():
        rel = before.rels.get(oid)
        if rel is None or oid in covered or rel.kind not in _TABLE_KINDS:
            continue
        got = _strongest(modes)
        if lock_model.STRENGTH[got] > lock_model.STRENGTH[lock_model.ROW_EXCLUSIVE]:
            diffs.append(f"{rel.name}: the model predicts no lock, the statement took {got}")
    t.differences = diffs
    t.model = "differs" if diffs else "agrees"


# --- running a file -----------------------------------------------------------------------


def _statement_box(f, p: runner.Piece):
    st = p.stmt
    if st is not None:
        return st.line, st.column, st.end_line, st.end_column
    sl, sc = f.positions.line_col(p.start)
    el, ec = f.positions.line_col(p.end)
    return sl, sc, el, ec


def _is_control(p: runner.Piece) -> bool:
    if p.stmt is not None:
        return p.stmt.kind == "TransactionStmt"
    import re

    return bool(re.match(r"(?is)\s*(begin|start\s+transaction|commit|end|rollback|savepoint|release)\b", p.text))


def apply(
    conninfo: str,
    f,
    *,
    version: int = 15,
    existing: dict[str, str] | None = None,
    keep_going: bool = False,
    connect_timeout: int = 30,
    config=None,
) -> tuple[runner.Failure | None, FileTrace]:
    """Run file ``f`` like ``runner.apply`` and trace every statement. ``existing``: the tables that
    existed before the migration, schema-qualified, with "had rows" / "seeded" / "empty: why".

    ``keep_going`` (for the fixture test): every statement in a transaction of its own, the
    file's transaction commands skipped, and a failing statement is recorded and skipped.

    ``config`` with a runner preset: the file runs in the runner's transaction (``runner.wrapper``),
    so its statements are measured there, as the file's own transaction's are."""
    import psycopg
    from psycopg.pq import TransactionStatus

    existing = existing or {}
    ps = runner.pieces(f)
    wrapped = None if keep_going else runner.wrapper(f, config, ps)
    trace = FileTrace(f.display, existing=existing, runner=wrapped.title if wrapped is not None else None)
    conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=connect_timeout)
    notices: list[str] = []
    conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
    dog = limits.watch(conn, config)
    txn = 0
    try:
        if wrapped is not None:
            conn.execute("BEGIN")
            txn += 1
        for i, p in enumerate(ps):
            dog.statement()
            if _is_control(p):
                txn += 1
                if keep_going:
                    continue
                try:
                    conn.execute(p.text)
                except psycopg.Error as exc:
                    return _fail(conn, f, p, exc, ps, i, trace, wrapped), trace
                continue
            line, col, el, ec = _statement_box(f, p)
            t = Traced(
                line,
                col,
                el,
                ec,
                label(p.stmt, p.text),
                p.stmt.kind if p.stmt else None,
                True,
                "file",
                txn=txn,
                quiet=p.stmt is not None and (pg.is_session_setting(p.stmt) or pg.is_query_only(p.stmt)),
            )
            if p.stmt is not None and p.stmt.kind in MODELLED:
                # as the schema model sees it (a SET NOT NULL a validated CHECK proves scans nothing)
                t.static = [lk for lk, _ in schema_model.statement_locks(f, p.stmt, version)]
            why = pg.non_transactional(p.stmt, version) if p.stmt is not None else None
            in_file_txn = conn.info.transaction_status != TransactionStatus.IDLE
            if why and not in_file_txn:
                t.traced, t.transaction, t.model = False, "none", "not traced"
                t.reason = f"{why} cannot run in a transaction block, so its locks cannot be read from pg_locks"
                t0 = time.perf_counter()
                try:
                    conn.execute(p.text)
                except psycopg.Error as exc:
                    if keep_going:
                        t.reason = f"failed: {exc.diag.message_primary}"
                        trace.statements.append(t)
                        continue
                    return _fail(conn, f, p, exc, ps, i, trace, wrapped), trace
                t.duration_ms = (time.perf_counter() - t0) * 1000
                trace.statements.append(t)
                continue
            own = not in_file_txn
            t.transaction = "own" if own else "file"
            try:
                if own:
                    conn.execute("BEGIN")
                elif keep_going:
                    conn.execute("SAVEPOINT migcheck_trace")
                before = probe(conn, [lk.relation for lk in t.static if lk.relation])
                notices.clear()
                t0 = time.perf_counter()
                conn.execute(p.text)
                t.duration_ms = (time.perf_counter() - t0) * 1000
                t.skipped = [n for n in notices if n.endswith("skipping")]
                after = probe(conn)
            except psycopg.Error as exc:
                if (
                    own
                    and exc.diag.sqlstate in ("25001", "2D000")
                    and conn.info.transaction_status != TransactionStatus.IDLE
                ):
                    # cannot run inside a transaction block (a form pg.non_transactional does not
                    # know), or commits on its own (a DO block or procedure with COMMIT): run it as written
                    conn.execute("ROLLBACK")
                    t.traced, t.transaction, t.model = False, "none", "not traced"
                    t.reason = (
                        "it commits on its own (COMMIT inside a DO block or procedure)"
                        if exc.diag.sqlstate == "2D000"
                        else "it cannot run in a transaction block"
                    ) + ", so its locks cannot be read from pg_locks"
                    try:
                        t0 = time.perf_counter()
                        conn.execute(p.text)
                        t.duration_ms = (time.perf_counter() - t0) * 1000
                    except psycopg.Error as exc2:
                        if not keep_going:
                            return _fail(conn, f, p, exc2, ps, i, trace, wrapped), trace
                    trace.statements.append(t)
                    continue
                if keep_going:
                    if conn.info.transaction_status != TransactionStatus.IDLE:
                        conn.execute("ROLLBACK")
                    continue
                return _fail(conn, f, p, exc, ps, i, trace, wrapped), trace
            _measure(t, before, after, existing)
            if own:
                conn.execute("COMMIT")
            trace.statements.append(t)
        if wrapped is not None:
            try:
                conn.execute("COMMIT")
            except psycopg.Error as exc:
                if ps:
                    return _fail(conn, f, ps[-1], exc, ps, len(ps) - 1, trace, wrapped), trace
        if conn.info.transaction_status != TransactionStatus.IDLE:
            if keep_going:
                conn.execute("COMMIT")
            else:
                trace.failed = True
                return runner.apply_tail(conn, f, ps), trace
    finally:
        dog.close()
        conn.close()
    return None, trace


def _fail(conn, f, p, exc, ps, i, trace: FileTrace, wrapped=None) -> runner.Failure:
    trace.failed = True
    return runner.failure(conn, f, p, exc, ps, i, wrapped)


def _measure(t: Traced, before: Probe, after: Probe, existing: dict[str, str]) -> None:
    new_modes: dict[int, set[str]] = {}
    for oid, mode in after.locks - before.locks:
        new_modes.setdefault(oid, set()).add(mode)
    names = {**after.rels, **before.rels}  # a dropped relation keeps its name from before
    rewritten = {
        o
        for o, r in after.rels.items()
        if o in before.rels and r.filenode != before.rels[o].filenode and r.kind not in ("v", "f", "p", "I")
    }
    scanned = {
        o
        for o, r in after.rels.items()
        if r.scans > (before.rels[o].scans if o in before.rels else 0) and o in before.rels
    }
    t.lock_timeout = before.lock_timeout
    for oid, modes in sorted(new_modes.items(), key=lambda kv: names[kv[0]].name if kv[0] in names else ""):
        rel = names.get(oid)
        if rel is None:
            continue
        if rel.kind not in _TABLE_KINDS and oid not in before.resolved.values():
            continue  # indexes and sequences of the tables shown: only when the model names them
        if oid not in before.rels:
            continue  # created by this very statement: nobody else can be waiting for it
        existed = rel.name in existing
        t.locks.append(
            LockSeen(
                rel.name, _strongest(modes), _KIND_NAMES.get(rel.kind, rel.kind), existed, existing.get(rel.name, "")
            )
        )
    held = {o for o, _ in before.locks}
    t.held = sorted(names[o].name for o in held if o in names and o in before.resolved.values() and o not in new_modes)
    t.rewrites = sorted(names[o].name for o in rewritten)
    t.scans = sorted(names[o].name for o in scanned)
    compare(t, before, new_modes, after.rels, rewritten, scanned)


# --- seeding: tables from earlier migrations hold a few rows --------------------------------

SEED_ROWS = 3

_TABLES = """
SELECT c.oid, n.nspname, c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
 ORDER BY 2, 3
"""


def seed(conn, known: dict[int, str]) -> dict[str, str]:
    """Give every user table that is empty (and not tried before: ``known`` maps oid -> status,
    updated in place) ``SEED_ROWS`` generated rows (``rows.fill``, the generator ``verify --data``
    uses too; a column's default is preferred here). Returns schema-qualified name -> status for
    every table: "had rows", "seeded", or "empty: <why>"."""
    from . import rows

    tables = conn.execute(_TABLES).fetchall()
    out: dict[str, str] = {}
    fresh = []
    for oid, schema, name in tables:
        if oid in known:
            out[f"{schema}.{name}"] = known[oid]
        else:
            fresh.append((oid, schema, name))
    todo = []
    for start in range(0, len(fresh), 200):  # one round trip for up to 200 tables
        chunk = fresh[start : start + 200]
        sql = " UNION ALL ".join(
            f"SELECT {oid}::bigint, EXISTS (SELECT 1 FROM {rows.ident(s)}.{rows.ident(n)})" for oid, s, n in chunk
        )
        has = dict(conn.execute(sql).fetchall())
        for oid, schema, name in chunk:
            if has.get(oid):
                known[oid] = out[f"{schema}.{name}"] = "had rows"
            else:
                todo.append(oid)
    if todo:
        empty = {f"{s}.{n}" for oid, s, n in tables if known.get(oid, "").startswith("empty") or oid in todo}
        found = rows.catalog(conn, todo)
        written = rows.fill(conn, list(found.values()), SEED_ROWS, prefer_defaults=True, empty=empty)
        for t in found.values():
            w = written[t.display]
            known[t.oid] = out[t.display] = "seeded" if w.rows or w.already else f"empty: {w.why}"
        for oid, schema, name in tables:
            if oid in todo and oid not in known:  # a member of an extension: its rows are the extension's
                known[oid] = out[f"{schema}.{name}"] = "empty: a table of an extension"
    for schema, name, kind in conn.execute(_OTHER_RELATIONS).fetchall():
        out[f"{schema}.{name}"] = {"m": "materialized view", "v": "view", "f": "foreign table"}[kind]
    return out


_OTHER_RELATIONS = """
SELECT n.nspname, c.relname, c.relkind::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('m', 'v', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
"""


# --- findings -----------------------------------------------------------------------------


def _has_rows(status: str) -> bool:
    return status in ("had rows", "seeded")


def findings(ft: FileTrace, f, emit) -> None:
    """Emit the trace findings of one file: ``emit(rule, traced, message, help)``."""
    ae = lock_model.ACCESS_EXCLUSIVE
    # lock-model-mismatch
    for t in ft.statements:
        if t.model == "differs":
            emit(
                "lock-model-mismatch",
                t,
                f"the static lock model is wrong about this {t.statement}: " + "; ".join(t.differences),
                "The trace is what PostgreSQL did; `migcheck locks` shows the model. The safety rules build on "
                "the model, so a wrong prediction can hide a risk or raise a false one: report the statement "
                "to the migcheck maintainers, and trust the trace.",
            )
    # lock-held-across-statements: ACCESS EXCLUSIVE on an existing table, then more statements in the same transaction
    open_lock: dict[str, Traced] = {}
    reported: set[str] = set()
    txn = None
    for t in ft.statements:
        if t.transaction != "file" or t.txn != txn:
            open_lock, reported, txn = {}, set(), t.txn
        if t.transaction != "file":
            continue
        quiet = t.kind in ("VariableSetStmt", "VariableShowStmt") or t.quiet
        if not quiet:
            for rel, taker in open_lock.items():
                if rel in reported:
                    continue
                reported.add(rel)
                after = [u for u in ft.statements if u.txn == t.txn and u.transaction == "file" and u.line >= t.line]
                ms = sum(u.duration_ms for u in after)
                more = len(after) - 1
                runs = f"this statement and {more} more run" if more else "this statement runs"
                if ft.runner and t.txn == 1:  # the runner's transaction (opened before the file's first statement)
                    until = f"{ft.runner} commits the migration"
                    fix = (
                        f"Keep the ACCESS EXCLUSIVE window to the one statement: {ft.runner} runs the whole "
                        f"migration in one transaction, so move the statement of line {taker.line} into a "
                        "migration of its own (or this statement before it), as the guidelines' "
                        "one-change-at-a-time rule asks."
                    )
                else:
                    until = "COMMIT"
                    fix = (
                        f"Keep the ACCESS EXCLUSIVE window to the one statement: commit right after line {taker.line} "
                        "and run this statement in a transaction of its own (or before the statement that takes the "
                        "lock), as the guidelines' one-change-at-a-time rule asks."
                    )
                emit(
                    "lock-held-across-statements",
                    t,
                    f"{rel} has been locked ACCESS EXCLUSIVE since line {taker.line} ({taker.statement}); "
                    f"{runs} before {until} while every read and write on {rel} queues "
                    f"({ms:.1f} ms here, on a few rows)",
                    fix,
                )
        for lk in t.locks:
            if lk.mode == ae and lk.existed and lk.relation not in open_lock:
                open_lock[lk.relation] = t
    # table-rewritten
    for t in ft.statements:
        if t.kind == "TruncateStmt":
            continue
        existing = {lk.relation: lk for lk in t.locks if lk.existed}
        for rel in t.rewrites:
            lk = existing.get(rel)
            if lk is None or not _has_rows(lk.rows):
                continue
            emit(
                "table-rewritten",
                t,
                f"{t.statement} rewrote {rel}: every row was copied to a new file and its indexes rebuilt while "
                f"it held {lk.mode} ({t.duration_ms:.1f} ms for {'a few seeded' if lk.rows == 'seeded' else 'its'} rows)",
                "On a large table the rewrite blocks reads and writes for as long as the copy takes. Use the "
                "form that does not rewrite: add the column without a volatile default and backfill in batches, "
                "change the type through a new column, or schedule a maintenance window.",
            )
    # lock-without-timeout: once per file, at the first statement
    bad = [
        (t, lk)
        for t in ft.statements
        for lk in t.locks
        if lk.existed
        and lock_model.STRENGTH[lk.mode] >= lock_model.STRENGTH[lock_model.SHARE]
        and t.lock_timeout in ("0", "0ms", "0s", "")
    ]
    if bad:
        t, lk = bad[0]
        more = len({id(x) for x, _ in bad}) - 1
        emit(
            "lock-without-timeout",
            t,
            f"{t.statement} took {lk.mode} on {lk.relation} with lock_timeout = 0"
            + (f" ({more} more statement{'s' if more > 1 else ''} in this file too)" if more else "")
            + f": if another session holds a conflicting lock, the statement waits without limit and every "
            f"session after it queues behind it ({BLOCKS_SHORT[lk.mode].split(';')[0]})",
            "Start the migration with `SET lock_timeout = '5s';` (inside the transaction: `SET LOCAL`), so "
            "the migration fails fast and can be retried instead of stalling the application.",
        )


# --- output -------------------------------------------------------------------------------


def _marks(t: Traced, rel: str) -> str:
    rewrite = "emptied" if t.kind == "TruncateStmt" else "rewrite"
    m = [w for w, on in ((rewrite, rel in t.rewrites), ("scan", rel in t.scans)) if on]
    return f"  ({', '.join(m)})" if m else ""


def render_text(traces: dict[str, FileTrace]) -> str:
    """The trace of every file, for the text format (before the findings)."""
    out: list[str] = []
    for path, ft in traces.items():
        out.append(f"trace {path}")
        if not ft.statements:
            out.append("  (no statements traced)")
        for t in ft.statements:
            txn = {"file": "", "own": "  [own transaction]", "none": ""}[t.transaction]
            if not t.traced:
                out.append(f"  {t.line}:{t.column}  {t.statement}  not traced: {t.reason}")
                for lk in t.static:
                    flags = "".join(f", {w}" for w, on in (("rewrite", lk.rewrite), ("scan", lk.scan)) if on)
                    out.append(f"      model: {lk.relation} {lk.mode}{flags} -- {BLOCKS_SHORT[lk.mode]}")
                continue
            out.append(f"  {t.line}:{t.column}  {t.statement}  {t.duration_ms:.1f} ms{txn}")
            for lk in t.locks:
                fresh = "" if lk.existed else "  [created in this migration]"
                out.append(f"      {lk.relation}  {lk.mode}{_marks(t, lk.relation)} -- {BLOCKS_SHORT[lk.mode]}{fresh}")
            for rel in t.held:
                out.append(
                    f"      {rel}  (lock already held from an earlier statement){_marks(t, rel)}"
                    + ("" if rel in ft.existing else "  [created in this migration]")
                )
            shown = {lk.relation for lk in t.locks} | set(t.held)
            extra = [r for r in t.rewrites + t.scans if r not in shown]
            for rel in dict.fromkeys(extra):
                out.append(f"      {rel}{_marks(t, rel)}")
            if not t.locks and not t.held and not extra:
                out.append("      no lock on an existing relation")
            if t.model == "differs":
                for d in t.differences:
                    out.append(f"      model differs: {d}")
            elif t.model == "agrees" and t.static:
                out.append("      model: agrees")
        for rel, why in ft.empty.items():
            out.append(f"  note: {rel} stayed empty ({why}): operations that skip empty tables were not exercised")
        out.append("")
    return "\n".join(out) + ("\n" if out else "")


def add_to_json(doc: dict, traces: dict[str, FileTrace]) -> dict:
    """``files[i].trace`` (and ``files[i].empty_tables``) for every traced file."""
    for entry in doc.get("files", ()):
        ft = traces.get(entry.get("path"))
        if ft is not None:
            entry["trace"] = ft.to_list()
            entry["empty_tables"] = [{"relation": r, "reason": why} for r, why in ft.empty.items()]
    return doc
