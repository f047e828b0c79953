"""Production-aware risk (docs/stats.md): what a statement's locks mean on the real tables.

Two halves, so that refreshing the snapshot never needs a new check:

- when a file is checked, ``hit_contexts`` records for each safety finding the lock context of
  its statement, from the static lock model: per relation the lock mode, the class of work done
  under it (``rewrite``, ``scan``, ``index``, ``fk``, or none), whether it is the statement's own
  relation, a referenced one or an index, and whether the file created it earlier. Plain lists,
  kept in the cache with the findings;
- when the report is assembled, ``Risk.assess`` reads that context against the snapshot
  (``migcheck.analysis.stats``): it states each table's size and traffic in the message, estimates how
  long rewrites, scans and index builds hold their lock, and, for the rules whose harm is a lock
  held or waited for (``LOCK_RULES``), sets the severity by the configured thresholds.

Analysis layer: it reads the lock model, the file context and the snapshot; it never imports a
rule, the registry or the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from ..config import snapshot_path  # (where the snapshot is: the engine asks without this module)
from . import locks as lock_model

if TYPE_CHECKING:  # (the snapshot's module is imported when there is a snapshot: a check without one
    # computes lock contexts only, and a one-file check does not pay for the statistics' classes)
    from .stats import Rates, Snapshot, TableStats

# The rules whose finding is about a lock held (a rewrite, a scan, an index build under a lock
# that blocks writes) or waited for (no lock_timeout): how bad that is depends on the table's
# size and traffic, so their severity follows the risk. The others (data loss, column types,
# renames) are as bad on any table: they get the figures, not another severity.
LOCK_RULES = frozenset(
    {
        "require-lock-timeout",
        "require-concurrent-index",
        "require-concurrent-index-deletion",
        "changing-column-type",
        "adding-serial-column",
        "volatile-default",
        "set-not-null",
        "constraint-missing-not-valid",
        "add-unique-constraint",
        "cluster",
        "vacuum-full",
        "lock-table",
        "refresh-materialized-view",
        "update-in-same-transaction-as-ddl",
        "domain-check-constraint",
        "require-concurrent-reindex",
        "require-concurrent-partition-detach",
    }
)

CLASSES = ("rewrite", "scan", "index", "fk")
_BLOCKS_WRITES = lock_model.STRENGTH[lock_model.SHARE]


@dataclass(frozen=True)
class Thresholds:
    """``[risk]`` in the configuration (docs/stats.md); the defaults are documented there."""

    large_rows: int = 1_000_000
    large_bytes: int = 1 << 30
    busy_writes: float = 50.0  # inserts + updates + deletes per second
    busy_reads: float = 500.0  # sequential + index scans per second (for locks that block reads)
    small_rows: int = 10_000
    small_bytes: int = 10 << 20
    idle_writes: float = 1.0
    idle_reads: float = 10.0
    max_lock_seconds: float = 5.0  # an estimated hold of a lock that blocks writes, at or above: high
    high: str = "error"  # the severity of a lock rule's finding on a large or busy table
    low: str = "info"  # ... on a small idle one

    @classmethod
    def from_config(cls, config) -> Thresholds:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (getattr(config, "risk", None) or {}).items() if k in known})


# --- the lock context of a statement (when the file is checked) ---------------------------

_INDEX_STATEMENTS = ("DropStmt", "ReindexStmt", "RenameStmt", "AlterTableStmt")


def classify(stmt, lk: lock_model.Lock) -> str:
    """The class of work ``stmt`` does under lock ``lk``: rewrite, index, fk, scan, or ""."""
    if lk.rewrite:
        return "rewrite"
    if not lk.scan:
        return ""
    if stmt.kind == "UpdateStmt":
        return "rewrite"  # every row gets a new version: as costly as a rewrite
    note = lk.note
    if stmt.kind == "IndexStmt" or "builds an index" in note or "builds the index" in note:
        return "index"
    if "FOREIGN KEY" in note or "REFERENCES" in note:
        return "fk"
    return "scan"


def is_index(stmt) -> bool:
    n = stmt.node
    if stmt.kind == "DropStmt":
        return n.get("removeType") == "OBJECT_INDEX"
    if stmt.kind == "AlterTableStmt":
        return n.get("objtype") == "OBJECT_INDEX"
    if stmt.kind == "RenameStmt":
        return n.get("renameType") == "OBJECT_INDEX"
    if stmt.kind == "ReindexStmt":
        return n.get("kind") == "REINDEX_OBJECT_INDEX"
    return False


# words of a lock model note that make its rewrite or scan a "maybe" (binary-coercible type changes)
_HEDGES = ("unless", " if ")


def statement_context(f, stmt, version: int) -> list[list]:
    """Per relation ``stmt`` locks: [relation, mode, class, role, created earlier in the file,
    hedged], role being ``target``, ``referenced`` (a foreign key's other table) or ``index``,
    hedged meaning the work may not happen (a type change that is binary-coercible)."""
    from . import safety

    ctx = safety.context(f)
    return [
        lock_context(stmt, lk, ctx.is_new_table(stmt, lk.relation))
        for lk in lock_model.statement_locks(stmt, version)
        if lk.relation
    ]


def lock_context(stmt, lk: lock_model.Lock, new: bool) -> list:
    """One entry of ``statement_context``: the arguments of ``Risk.view``."""
    role = "index" if is_index(stmt) else "referenced" if lk.note.startswith("referenced") else "target"
    cls = classify(stmt, lk)
    return [lk.relation, lk.mode, cls, role, new, bool(cls) and any(h in lk.note for h in _HEDGES)]


def hit_contexts(f, positions, version: int) -> dict[str, list]:
    """``"line:column"`` -> the lock context of the statement at each of ``positions`` (the safety
    findings' places), for the statements that lock something."""
    import bisect

    stmts = f.all_statements  # in file order: a DO block's body statements right after it
    starts = [(st.line, st.column) for st in stmts]
    out: dict[str, list] = {}
    for line, col in positions:
        key = f"{line}:{col}"
        if key in out:
            continue
        at = (line, col)
        best = None
        for i in range(bisect.bisect_right(starts, at) - 1, -1, -1):  # the innermost one holding it
            st = stmts[i]
            if at <= (st.end_line, st.end_column):
                best = st
                break
            if st.parent is None:
                break  # a top-level statement that ended before: nothing earlier holds it
        if best is not None:
            ctx = statement_context(f, best, version)
            if ctx:
                out[key] = ctx
    return out


# --- estimates ---------------------------------------------------------------------------------


def estimate(cls: str, t: TableStats, rates: Rates, mode: str | None = None) -> float:
    """Seconds of work of class ``cls`` on table ``t``: per byte of table and per row; a rewrite
    also rebuilds each index; CREATE INDEX CONCURRENTLY scans twice."""
    r = rates.classes
    if cls == "rewrite":
        return r["rewrite"].seconds(t.heap_bytes + t.toast_bytes, t.rows) + len(t.indexes) * r["index"].seconds(
            t.heap_bytes, t.rows
        )
    s = r[cls].seconds(t.heap_bytes, t.rows)
    if cls == "index" and mode == lock_model.SHARE_UPDATE_EXCLUSIVE:
        s *= 2
    return s


def table_bytes(t: TableStats) -> int:
    """The table without its indexes (heap and TOAST): what a scan or rewrite goes through."""
    return t.heap_bytes + t.toast_bytes


@dataclass
class View:
    """One locked relation, read against the snapshot."""

    relation: str  # as the migration writes it
    mode: str
    cls: str
    role: str
    table: TableStats | None = None
    index_usage: str = ""  # "`idx` on `orders`: 12.6 M scans since ..."
    figures: str = ""  # "41 M rows, 12 GB, ~380 writes/s"
    unknown: str = ""  # "new table, not in the production stats"
    level: str | None = None  # high, low, mid; None: not known
    words: str = ""  # "large and busy", "small and idle"
    seconds: float | None = None
    lock_text: str = ""  # "ACCESS EXCLUSIVE on `orders` for ≈ 40 s"
    rates_label: str = ""  # "default rates", "calibrated rates"
    rates: str = ""  # "default", "calibrated"
    writes_per_second: float = 0.0
    reads_per_second: float = 0.0

    @property
    def table_name(self) -> str:
        if self.table is None:
            return self.relation
        if self.role != "index":
            return self.relation
        return self.table.name if self.table.schema == "public" else self.table.key

    def segments(self, words: bool = True) -> list[str]:
        if self.unknown:
            return [f"`{self.relation}`: {self.unknown}"]
        out = []
        if self.index_usage:
            out.append(self.index_usage)
        tail = f", {self.words}" if words and self.words else ""
        out.append(f"`{self.table_name}`: {self.figures}{tail}")
        if self.lock_text:
            out.append(f"{self.lock_text}, {self.rates_label}")
        return out

    def line(self) -> str:
        """For `migcheck locks` and the hover: the facts, no judgement."""
        if self.unknown:
            return self.unknown
        text = self.figures + (f": {self.lock_text} ({self.rates_label})" if self.lock_text else "")
        return f"{self.index_usage}; {text}" if self.index_usage else text


class Risk:
    """The snapshot, the rates and the thresholds of one configuration."""

    def __init__(self, snapshot: Snapshot, rates: Rates, thresholds: Thresholds, shown: str):
        self.snapshot = snapshot
        self.rates = rates
        self.t = thresholds
        self.shown = shown  # the snapshot's path, as the user sees it

    @property
    def rates_label(self) -> str:
        return "calibrated rates" if self.rates.source == "calibrated" else "default rates"

    def view(
        self, relation: str, mode: str, cls: str = "", role: str = "target", new: bool = False, hedged: bool = False
    ) -> View:
        from .stats import human

        v = View(relation, mode, cls, role)
        what = "index" if role == "index" else "table"
        if new:
            v.unknown = f"new {what}, created in this migration"
            return v
        snap = self.snapshot
        t = None
        if role == "index":
            found = snap.index(relation)
            if found is not None:
                idx, t = found
                since = human.date(snap.counters_since)
                usage = (
                    f"{human.count(idx.scans)} scans since {since}" if idx.scans else f"no scan since {since} (unused)"
                )
                v.table = t
                v.index_usage = f"`{relation}` on `{v.table_name}`: {usage}"
        else:
            t = snap.table(relation)
        if t is None:
            v.unknown = f"new {what}, not in the production stats"
            return v
        v.table = t
        blocks_reads = mode == lock_model.ACCESS_EXCLUSIVE
        writes, reads = snap.writes_per_second(t), snap.reads_per_second(t)
        parts = [human.rows(t.rows), human.size(table_bytes(t)), human.rate(writes, "writes")]
        if blocks_reads:
            parts.append(human.rate(reads, "reads"))
        v.figures = ", ".join(parts)
        v.writes_per_second, v.reads_per_second = writes, reads
        v.rates, v.rates_label = self.rates.source, self.rates_label
        if cls:
            v.seconds = estimate(cls, t, self.rates, mode)
            about = ("up to " if hedged else "") + ("≈ " if v.seconds >= 0.01 else "")
            v.lock_text = f"{mode} on `{v.table_name}` for {about}{human.duration(v.seconds)}"
        th = self.t
        high = []
        if t.rows >= th.large_rows or table_bytes(t) >= th.large_bytes:
            high.append("large")
        if writes >= th.busy_writes or (blocks_reads and reads >= th.busy_reads):
            high.append("busy")
        if (
            v.seconds is not None
            and v.seconds >= th.max_lock_seconds
            and lock_model.STRENGTH.get(mode, 0) >= _BLOCKS_WRITES
        ):
            high.append("long lock")
        if high:
            v.level, v.words = "high", " and ".join([", ".join(high[:-1]), high[-1]] if len(high) > 1 else high)
        elif (
            t.rows < th.small_rows
            and table_bytes(t) < th.small_bytes
            and writes < th.idle_writes
            and reads < th.idle_reads
        ):
            v.level, v.words = "low", "small and idle"
        else:
            v.level = "mid"
        return v

    def views(self, context: list) -> list[View]:
        return [
            self.view(rel, mode, cls, role, bool(new), bool(hedged)) for rel, mode, cls, role, new, hedged in context
        ]

    def assess(self, rule: str, severity: str, message: str, context: list) -> tuple[str, str]:
        """The finding's severity and message with the production figures."""
        views = self.views(context)
        if not views:
            return severity, message
        segments = [s for v in views for s in v.segments()]
        message = f"{message} ({'; '.join(segments)})"
        if rule in LOCK_RULES:
            levels = [v.level for v in views]
            if "high" in levels:
                severity = self.t.high
            elif all(level == "low" for level in levels):
                severity = self.t.low
        return severity, message

    # --- what the user is told about the snapshot itself ---------------------------------
    def summary(self) -> dict:
        from .stats import _iso

        snap = self.snapshot
        return {
            "path": self.shown,
            "taken_at": _iso(snap.taken_at),
            "age_seconds": int(snap.age()),
            "server_version": snap.server_version,
            "database": snap.database,
            "counters_since": _iso(snap.counters_since),
            "rates": self.rates.source,
            "calibrated_at": _iso(self.rates.measured_at) if self.rates.measured_at else None,
        }

    def rates_note(self) -> str:
        from .stats import human

        r = self.rates
        if r.source == "calibrated" and r.measured_at is not None:
            where = f", {r.where}" if r.where else ""
            return f"duration estimates from rates calibrated on {human.date(r.measured_at)}{where}"
        return "duration estimates from default rates (`migcheck calibrate` measures them on your hardware)"

    def note(self) -> str:
        from .stats import human

        snap = self.snapshot
        return (
            f"production stats from {self.shown}, taken {human.age(snap.age())} ({human.when(snap.taken_at)}, "
            f"PostgreSQL {snap.server_version}, database {snap.database}); {self.rates_note()}"
        )

    def hover_note(self) -> str:
        from .stats import human

        return f"production stats taken {human.age(self.snapshot.age())} ({self.shown}); {self.rates_note()}"


def for_config(config) -> Risk | None:
    """The risk model of ``config``: None when there is no snapshot (then nothing changes)."""
    path, required = snapshot_path(config)
    if path is None or not (required or path.exists()):  # (the snapshot's module only when there is one)
        return None
    from . import stats

    shown = stats._shown(path)
    try:
        snap = stats.load(path)
    except FileNotFoundError:
        if not required:
            return None
        raise stats.StatsError(
            f"stats snapshot not found: {shown} (configured with `stats`); run "
            "`migcheck stats --dsn DSN` to write it, or remove the `stats` key"
        ) from None
    rates = stats.load_rates(stats.rates_path(path))
    return Risk(snap, rates, Thresholds.from_config(config), shown)
