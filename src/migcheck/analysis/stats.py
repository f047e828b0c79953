"""The production snapshot (``migcheck stats``) and the calibrated rates (``migcheck calibrate``):
their file formats, loading, lookups and the figures shown to the user. Pure data: no database
access here (``stats_db`` captures a snapshot, ``verify.calibrate`` measures rates), so the
risk model (``analysis.risk``) can read both. Formats: docs/stats.md.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..config import DEFAULT_STATS, ConfigError

FORMAT = "migcheck-stats"
VERSION = 1
RATES_FORMAT = "migcheck-calibration"
RATES_VERSION = 1
DEFAULT_PATH = DEFAULT_STATS
RATES_NAME = "calibration.json"  # beside the snapshot
CLASSES = ("rewrite", "scan", "index", "fk")
KINDS = ("table", "partitioned table", "materialized view")
REFRESH = "run `migcheck stats --dsn DSN` again to write a new one"


class StatsError(ConfigError):
    """A snapshot or calibration file that cannot be used, or a server that cannot be read:
    exit 2 with this message."""


# --- the snapshot --------------------------------------------------------------------------


@dataclass
class IndexStats:
    name: str
    bytes: int
    scans: int
    unique: bool = False
    primary: bool = False

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "bytes": self.bytes,
            "scans": self.scans,
            "unique": self.unique,
            "primary": self.primary,
        }


@dataclass
class TableStats:
    schema: str
    name: str
    kind: str
    rows: int
    heap_bytes: int
    toast_bytes: int
    index_bytes: int
    total_bytes: int
    inserts: int
    updates: int
    deletes: int
    seq_scans: int
    index_scans: int
    indexes: list[IndexStats] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def writes(self) -> int:
        return self.inserts + self.updates + self.deletes

    @property
    def reads(self) -> int:
        return self.seq_scans + self.index_scans

    def to_dict(self) -> dict:
        return {
            "schema": self.schema,
            "name": self.name,
            "kind": self.kind,
            "rows": self.rows,
            "heap_bytes": self.heap_bytes,
            "toast_bytes": self.toast_bytes,
            "index_bytes": self.index_bytes,
            "total_bytes": self.total_bytes,
            "inserts": self.inserts,
            "updates": self.updates,
            "deletes": self.deletes,
            "seq_scans": self.seq_scans,
            "index_scans": self.index_scans,
            "indexes": [i.to_dict() for i in sorted(self.indexes, key=lambda i: i.name)],
        }


@dataclass
class Snapshot:
    """Per table of one database: size and traffic counters, and when they were read."""

    taken_at: datetime
    server_version: str
    server_version_num: int
    database: str
    counters_since: datetime
    counters_since_source: str  # "stats_reset" or "server_start"
    tables: list[TableStats]
    path: Path | None = None

    def __post_init__(self) -> None:
        self.tables.sort(key=lambda t: (t.schema, t.name))
        self._by_key = {t.key: t for t in self.tables}
        self._by_name: dict[str, list[str]] = {}
        for t in self.tables:
            self._by_name.setdefault(t.name, []).append(t.key)
        self._indexes: dict[str, tuple[IndexStats, TableStats]] = {}
        self._index_names: dict[str, list[str]] = {}
        for t in self.tables:
            for i in t.indexes:  # an index lives in its table's schema
                self._indexes[f"{t.schema}.{i.name}"] = (i, t)
                self._index_names.setdefault(i.name, []).append(f"{t.schema}.{i.name}")

    # --- lookups: a relation as a migration writes it ----------------------------------
    @staticmethod
    def _resolve(relation: str, keys: dict, names: dict) -> str | None:
        """``schema.name`` as written, or a bare name: the one in ``public`` (the default
        search_path), else the only one of that name. None when unknown or ambiguous."""
        parts = relation.split(".")
        if len(parts) >= 2:
            key = ".".join(parts[-2:])
            return key if key in keys else None
        if f"public.{relation}" in keys:
            return f"public.{relation}"
        found = names.get(relation, ())
        return found[0] if len(found) == 1 else None

    def table(self, relation: str) -> TableStats | None:
        key = self._resolve(relation, self._by_key, self._by_name)
        return self._by_key.get(key) if key else None

    def index(self, relation: str) -> tuple[IndexStats, TableStats] | None:
        key = self._resolve(relation, self._indexes, self._index_names)
        return self._indexes.get(key) if key else None

    # --- derived figures ---------------------------------------------------------------
    @property
    def seconds(self) -> float:
        """How long the counters have been counting (at least a minute: never a division by 0)."""
        return max((self.taken_at - self.counters_since).total_seconds(), 60.0)

    def writes_per_second(self, t: TableStats) -> float:
        return t.writes / self.seconds

    def reads_per_second(self, t: TableStats) -> float:
        return t.reads / self.seconds

    def age(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.taken_at).total_seconds()

    # --- the file -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "taken_at": _iso(self.taken_at),
            "server_version": self.server_version,
            "server_version_num": self.server_version_num,
            "database": self.database,
            "counters_since": _iso(self.counters_since),
            "counters_since_source": self.counters_since_source,
            "tables": [t.to_dict() for t in self.tables],
        }

    @classmethod
    def from_dict(cls, doc, where: str) -> Snapshot:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise StatsError(f'{where}: not a migcheck stats snapshot (no "format": "{FORMAT}"); {REFRESH}')
        if doc.get("version") != VERSION:
            raise StatsError(
                f"{where}: snapshot format version {doc.get('version')!r}, this migcheck reads "
                f"version {VERSION}; {REFRESH}"
            )
        r = _Reader(doc, where)
        tables = []
        raw = r.get(doc, "tables", list, "tables")
        for n, t in enumerate(raw):
            at = f"tables[{n}]"
            if not isinstance(t, dict):
                raise StatsError(f"{where}: {at} must be an object; {REFRESH}")
            kind = r.get(t, "kind", str, at)
            if kind not in KINDS:
                raise StatsError(f"{where}: {at}.kind must be one of {', '.join(KINDS)}; {REFRESH}")
            idx = []
            for m, i in enumerate(r.get(t, "indexes", list, at)):
                iat = f"{at}.indexes[{m}]"
                if not isinstance(i, dict):
                    raise StatsError(f"{where}: {iat} must be an object; {REFRESH}")
                idx.append(
                    IndexStats(
                        r.get(i, "name", str, iat),
                        r.count(i, "bytes", iat),
                        r.count(i, "scans", iat),
                        r.get(i, "unique", bool, iat),
                        r.get(i, "primary", bool, iat),
                    )
                )
            tables.append(
                TableStats(
                    r.get(t, "schema", str, at),
                    r.get(t, "name", str, at),
                    kind,
                    r.count(t, "rows", at),
                    r.count(t, "heap_bytes", at),
                    r.count(t, "toast_bytes", at),
                    r.count(t, "index_bytes", at),
                    r.count(t, "total_bytes", at),
                    r.count(t, "inserts", at),
                    r.count(t, "updates", at),
                    r.count(t, "deletes", at),
                    r.count(t, "seq_scans", at),
                    r.count(t, "index_scans", at),
                    idx,
                )
            )
        source = r.get(doc, "counters_since_source", str, "")
        if source not in ("stats_reset", "server_start"):
            raise StatsError(f'{where}: counters_since_source must be "stats_reset" or "server_start"; {REFRESH}')
        return cls(
            r.time(doc, "taken_at"),
            r.get(doc, "server_version", str, ""),
            r.count(doc, "server_version_num", ""),
            r.get(doc, "database", str, ""),
            r.time(doc, "counters_since"),
            source,
            tables,
        )


class _Reader:
    """Typed field access with messages that say which field of which file is wrong."""

    def __init__(self, doc: dict, where: str):
        self.where = where

    def _bad(self, at: str, key: str, what: str):
        place = f"{at}.{key}" if at else key
        return StatsError(f"{self.where}: {place} must be {what}; {REFRESH}")

    def get(self, obj: dict, key: str, typ, at: str):
        v = obj.get(key)
        if typ is not bool and isinstance(v, bool) or not isinstance(v, typ):
            raise self._bad(at, key, {str: "a string", list: "a list", bool: "true or false"}[typ])
        return v

    def count(self, obj: dict, key: str, at: str) -> int:
        v = obj.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise self._bad(at, key, "a number >= 0")
        return int(v)

    def time(self, obj: dict, key: str) -> datetime:
        v = obj.get(key)
        try:
            return parse_time(v)
        except (TypeError, ValueError):
            raise self._bad("", key, 'a UTC time such as "2026-12-07T10:00:00Z"') from None


def parse_time(v) -> datetime:
    if not isinstance(v, str):
        raise TypeError(v)
    dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dump(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


_memo: dict = {}


def _read_json(path: Path, what: str):
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise StatsError(f"{_shown(path)}: cannot read the {what}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise StatsError(f"{_shown(path)}: not valid JSON ({exc}); {REFRESH}") from None


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path).replace(os.sep, "/") if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:
        return str(path)


def _cached(path: Path, build):
    """``build(path)``, memoised on the file's size and modification time (the editor server and
    `check` read the same snapshot again and again)."""
    st = path.stat()
    key = (str(path.resolve()), build.__name__)
    stamp = (st.st_size, st.st_mtime_ns)
    hit = _memo.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    value = build(path)
    _memo[key] = (stamp, value)
    return value


def _build_snapshot(path: Path) -> Snapshot:
    snap = Snapshot.from_dict(_read_json(path, "stats snapshot"), _shown(path))
    snap.path = path
    return snap


def load(path: Path) -> Snapshot:
    """The snapshot at ``path``; FileNotFoundError when there is none, StatsError when it is
    not a valid one."""
    return _cached(Path(path), _build_snapshot)


def write(path: Path, snap: Snapshot) -> None:
    from ..fsutil import atomic_write

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(Path(path), _dump(snap.to_dict()), overwrite=True)


# --- rates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """Seconds per byte of table and per row, for one class of operation."""

    per_byte: float
    per_row: float

    def seconds(self, nbytes: int, rows: int) -> float:
        return self.per_byte * nbytes + self.per_row * rows


# The mean of three `migcheck calibrate` runs (default sizes) on the throwaway cluster of a busy
# 2-vCPU VM (load average 5.6), PostgreSQL 15 (benchmarks/RESULTS.md, "Duration estimates"): in
# seconds per GB of table and per million rows, rewrite 5.13 / 0.45, scan 0.05 / 0.17, index
# 0.75 / 0.75, fk 0.40 / 0.22. Slower than most servers, so the estimates err long. A production
# server differs either way: calibrating on hardware like it replaces these.
DEFAULT_RATES = {
    "rewrite": Rate(5.13 / (1 << 30), 0.45e-6),
    "scan": Rate(0.05 / (1 << 30), 0.17e-6),
    "index": Rate(0.75 / (1 << 30), 0.75e-6),
    "fk": Rate(0.40 / (1 << 30), 0.22e-6),
}


@dataclass
class Rates:
    classes: dict[str, Rate]
    source: str = "default"  # or "calibrated"
    measured_at: datetime | None = None
    server_version: str = ""
    where: str = ""  # the server it was measured on
    samples: list[dict] = field(default_factory=list)
    path: Path | None = None

    @classmethod
    def default(cls) -> Rates:
        return cls(dict(DEFAULT_RATES))

    def to_dict(self) -> dict:
        return {
            "format": RATES_FORMAT,
            "version": RATES_VERSION,
            "measured_at": _iso(self.measured_at) if self.measured_at else None,
            "server_version": self.server_version,
            "where": self.where,
            "rates": {
                k: {"seconds_per_byte": r.per_byte, "seconds_per_row": r.per_row}
                for k, r in sorted(self.classes.items())
            },
            "samples": self.samples,
        }

    @classmethod
    def from_dict(cls, doc, where: str) -> Rates:
        again = "run `migcheck calibrate` again to write a new one"
        if not isinstance(doc, dict) or doc.get("format") != RATES_FORMAT:
            raise StatsError(f'{where}: not a migcheck calibration (no "format": "{RATES_FORMAT}"); {again}')
        if doc.get("version") != RATES_VERSION:
            raise StatsError(
                f"{where}: calibration format version {doc.get('version')!r}, this migcheck reads "
                f"version {RATES_VERSION}; {again}"
            )
        rates = doc.get("rates")
        if not isinstance(rates, dict) or set(rates) != set(CLASSES):
            raise StatsError(f"{where}: rates must have exactly the classes {', '.join(CLASSES)}; {again}")
        out = {}
        for k, r in rates.items():
            vals = [r.get(f) if isinstance(r, dict) else None for f in ("seconds_per_byte", "seconds_per_row")]
            numbers = [float(v) for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0]
            if len(numbers) != 2:
                raise StatsError(f"{where}: rates.{k} needs seconds_per_byte and seconds_per_row >= 0; {again}")
            out[k] = Rate(numbers[0], numbers[1])
        try:
            measured = parse_time(doc.get("measured_at"))
        except (TypeError, ValueError):
            raise StatsError(f"{where}: measured_at must be a UTC time; {again}") from None
        samples = doc["samples"] if isinstance(doc.get("samples"), list) else []
        return cls(
            out, "calibrated", measured, str(doc.get("server_version") or ""), str(doc.get("where") or ""), samples
        )


def _build_rates(path: Path) -> Rates:
    rates = Rates.from_dict(_read_json(path, "calibration"), _shown(path))
    rates.path = path
    return rates


def load_rates(path: Path | None) -> Rates:
    """The calibrated rates at ``path``, or the documented defaults when there is no such file."""
    if path is None:
        return Rates.default()
    try:
        return _cached(Path(path), _build_rates)
    except FileNotFoundError:
        return Rates.default()


def write_rates(path: Path, rates: Rates) -> None:
    from ..fsutil import atomic_write

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(Path(path), _dump(rates.to_dict()), overwrite=True)


def rates_path(snapshot_path: Path) -> Path:
    return Path(snapshot_path).parent / RATES_NAME


# --- figures for people ----------------------------------------------------------------------


class human:
    """How figures read in messages: "41 M rows", "12 GB", "~380 writes/s", "40 s"."""

    @staticmethod
    def _short(x: float, units) -> str:
        for unit, factor in units:
            if x >= factor:
                v = x / factor
                return (f"{v:.1f}" if v < 10 else f"{v:.0f}") + f" {unit}"
        return f"{x:.0f}"

    @staticmethod
    def count(n: float) -> str:
        """12.6 M, 4.5 k, 999 (one decimal below 100 of a unit)."""
        for unit, factor in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
            if n >= factor:
                v = n / factor
                return (f"{v:.1f}".removesuffix(".0") if v < 100 else f"{v:.0f}") + f" {unit}"
        return f"{n:.0f}"

    @staticmethod
    def rows(n: int) -> str:
        if n < 1000:
            return f"{n} row" + ("" if n == 1 else "s")
        return human._short(n, (("G", 1e9), ("M", 1e6), ("k", 1e3))) + " rows"

    @staticmethod
    def size(n: int) -> str:
        if n < 1024:
            return f"{n} bytes"
        return human._short(n, (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)))

    @staticmethod
    def rate(per_second: float, what: str) -> str:
        if per_second <= 0:
            return f"no {what}"
        for factor, unit in ((1, "s"), (60, "min"), (3600, "h"), (86400, "day")):
            v = per_second * factor
            if v >= 1 or unit == "day":
                figure = human._figure(v) if unit == "s" or v >= 10 else str(round(v))
                if v < 1:
                    return f"< 1 {what.removesuffix('s')}/{unit}"
                return f"~{figure} {what.removesuffix('s') if figure == '1' else what}/{unit}"
        raise AssertionError  # pragma: no cover

    @staticmethod
    def _figure(v: float) -> str:
        if v >= 1000:
            return human.count(v)
        if v >= 10:
            digits = len(str(int(v))) - 2
            return str(int(round(v, -digits)))
        return f"{v:.1f}".removesuffix(".0")

    @staticmethod
    def duration(s: float) -> str:
        if s < 0.01:
            return "< 0.01 s"
        if s < 1:
            return f"{s:.1f} s" if s >= 0.1 else f"{s:.2f} s"
        if s < 10:
            return f"{s:.1f} s"
        if s < 60:
            return f"{s:.0f} s"
        if s < 3600:
            return f"{s / 60:.1f}".removesuffix(".0") + " min"
        return f"{s / 3600:.1f}".removesuffix(".0") + " h"

    @staticmethod
    def age(seconds: float) -> str:
        if seconds < 90:
            return "just now"
        for unit, factor in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if seconds >= factor * (1 if unit != "minute" else 1.5):
                n = round(seconds / factor)
                return f"{n} {unit}{'s' if n != 1 else ''} ago"
        return "just now"  # pragma: no cover

    @staticmethod
    def when(dt: datetime) -> str:
        return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

    @staticmethod
    def date(dt: datetime) -> str:
        return dt.astimezone(UTC).strftime("%Y-%m-%d")
