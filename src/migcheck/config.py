"""Load and validate ``[tool.migcheck]`` in pyproject.toml or a top-level migcheck.toml."""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import tomllib
from operator import attrgetter
from pathlib import Path
from typing import Any

from . import registry
from ._lazyre import lazy
from .model import Record

DEFAULT_HEADER = ("MIGRATION", "Purpose", "Impact", "Rollback", "Testing")
DEFAULT_NAMING = r"^(?P<date>\d{8})_(?P<seq>\d{3})_(?P<description>[a-z0-9_]+)\.sql$"
DEFAULT_ROLLBACK = "rollback/{version}_rollback.sql"
DEFAULT_STATS = ".migcheck/stats.json"  # the production snapshot (``stats``) when not configured
LEVELS = ("error", "warning", "info")


class ConfigError(Exception):
    """A usage or configuration error: exit 2 with this message."""


def snapshot_path(config) -> tuple[Path | None, bool]:
    """(the production snapshot's path, whether it was configured: then it must exist); docs/stats.md."""
    value = getattr(config, "stats", None)
    if value is False:
        return None, False
    root = Path(getattr(config, "root", None) or Path.cwd())
    if value is None:
        return root / DEFAULT_STATS, False
    p = Path(value).expanduser()
    return (p if p.is_absolute() else root / p), True


@functools.lru_cache(maxsize=64)
def _rollback_parts(pattern: str) -> tuple[tuple[str, ...], str]:
    parts = Path(pattern).parts
    return tuple(parts[:-1]), parts[-1]


# A rollback the runner does not require (``Preset.downs == "optional"``: golang-migrate, goose,
# dbmate, pop, maragudk run without a down, and golang-migrate, goose and dbmate roll back past a
# missing or empty one as nothing to run): these rules report it as a
# warning unless ``require-rollback = true`` (or ``severity``) says otherwise.
OPTIONAL_ROLLBACK_RULES = frozenset({"missing-rollback-file", "empty-rollback"})


class Config(Record):
    """The effective configuration: the file's settings, then the command line's (``with_cli``)."""

    __slots__ = (
        "root",
        "source",
        "migrations",
        "rollback",
        "naming",
        "sequence",
        "header",
        "changelog",
        "select",
        "ignore",
        "severity",
        "fail_on",
        "postgres_version",
        "max_file_size",
        "dialect",
        "preset",
        "require_rollback",
        "exclude",
        "per_file_ignores",
        "baseline",
        "verify_statement_timeout",
        "verify_timeout",
        "verify_data",
        "stats",
        "risk",
        "__dict__",
    )
    FIELDS = __slots__[:-1]
    # the repr and the cache key leave out ``stats`` and ``risk`` (applied when the findings are
    # assembled, after the cache: cache.config_key); equality compares every field, as the dataclass did
    _key = staticmethod(attrgetter(*FIELDS))
    SHOWN = FIELDS[:-2]  # (all but stats and risk, the last two)

    root: Path  # directory relative paths in the config refer to
    source: Path | None  # the file it came from
    migrations: tuple[str, ...]
    rollback: str
    naming: re.Pattern
    sequence: str
    header: tuple[str, ...]
    changelog: str | bool  # True: find CHANGELOG.md walking up; a path; or False
    select: tuple[str, ...] | None
    ignore: tuple[str, ...]
    severity: dict[str, str]
    fail_on: str
    postgres_version: int
    max_file_size: int | None  # bytes; a larger file is file-too-large, not read (None: no limit)
    dialect: str  # or a sqlglot dialect name (migcheck.dialects, docs/dialects.md)
    preset: str | None  # a runner preset (migcheck.presets, docs/presets.md); None: guidelines, not pinned
    # every migration needs its rollback (missing-rollback-file on each); False: said once per
    # directory; None: as the preset has it (required by the guidelines, diesel, sqitch, popx)
    require_rollback: bool | None
    # files not checked (globs, as ruff's ``exclude`` + ``extend-exclude``): still read by the
    # cross-file rules, never reported on
    exclude: tuple[str, ...]
    # (glob, rule ids) pairs: those rules' findings are dropped on the matching files
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...]
    # the baseline file (migcheck.baseline): None, ``migcheck-baseline.json`` beside the
    # configuration; a path relative to it; False: none
    baseline: str | bool | None
    # `migcheck verify`: seconds one statement / one run of a file may take (None: no limit; verify/limits.py)
    verify_statement_timeout: float | None
    verify_timeout: float | None
    # `migcheck verify` runs with --data unless --no-data (docs/verify-data.md)
    verify_data: bool
    # The production snapshot (docs/stats.md): None: the default path, used when it exists; a
    # path: it must exist; False: none. Applied when findings are assembled, so (like ``risk``,
    # the thresholds, field names as in RISK_KEYS) it is no part of the cache key: not in repr.
    stats: str | bool | None
    risk: dict[str, Any]

    def __init__(
        self,
        root: Path | None = None,
        source: Path | None = None,
        migrations: tuple[str, ...] = ("migrations",),
        rollback: str = DEFAULT_ROLLBACK,
        naming: re.Pattern | None = None,
        sequence: str = "global",
        header: tuple[str, ...] = DEFAULT_HEADER,
        changelog: str | bool = True,
        select: tuple[str, ...] | None = None,
        ignore: tuple[str, ...] = (),
        severity: dict[str, str] | None = None,
        fail_on: str = "error",
        postgres_version: int = 15,
        max_file_size: int | None = 10 << 20,
        dialect: str = "postgres",
        preset: str | None = None,
        require_rollback: bool | None = None,
        exclude: tuple[str, ...] = (),
        per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = (),
        baseline: str | bool | None = None,
        verify_statement_timeout: float | None = 60.0,
        verify_timeout: float | None = 300.0,
        verify_data: bool = False,
        stats: str | bool | None = None,
        risk: dict[str, Any] | None = None,
    ):
        self.root = Path.cwd() if root is None else root
        self.source = source
        self.migrations = migrations
        self.rollback = rollback
        self.naming = re.compile(DEFAULT_NAMING) if naming is None else naming
        self.sequence = sequence
        self.header = header
        self.changelog = changelog
        self.select = select
        self.ignore = ignore
        self.severity = {} if severity is None else severity
        self.fail_on = fail_on
        self.postgres_version = postgres_version
        self.max_file_size = max_file_size
        self.dialect = dialect
        self.preset = preset
        self.require_rollback = require_rollback
        self.exclude = exclude
        self.per_file_ignores = per_file_ignores
        self.baseline = baseline
        self.verify_statement_timeout = verify_statement_timeout
        self.verify_timeout = verify_timeout
        self.verify_data = verify_data
        self.stats = stats
        self.risk = {} if risk is None else risk

    def replace(self, **changes) -> Config:
        """A copy with ``changes`` (``dataclasses.replace``: an unknown field is a TypeError)."""
        unknown = set(changes) - set(self.FIELDS)
        if unknown:
            raise TypeError(f"Config has no field {sorted(unknown)[0]!r}")
        return Config(**{n: changes.get(n, getattr(self, n)) for n in self.FIELDS})

    def with_cli(self, *, select=None, ignore=None, fail_on=None, preset=None) -> Config:
        changes: dict[str, Any] = {}
        if preset is not None:
            changes.update(_preset_changes(self, preset, "--preset", explicit_dirs=self.migrations != ("migrations",)))
        if select is not None:
            changes["select"] = tuple(_rule_list(select, "--select"))
        if ignore is not None:
            changes["ignore"] = tuple(self.ignore) + tuple(_rule_list(ignore, "--ignore"))
        if fail_on is not None:
            changes["fail_on"] = fail_on
        return self.replace(**changes)

    def rollback_parts(self) -> tuple[tuple[str, ...], str]:
        """(directory parts, file-name template) of the rollback pattern."""
        return _rollback_parts(self.rollback)

    def enabled_rules(self) -> dict[str, registry.Rule]:
        rules = registry.load()
        if self.select is None:
            chosen = {rid for rid, r in rules.items() if r.enabled}
        else:
            chosen = set()
            for name in self.select:
                if name in registry.GROUPS:  # its rules that are on by default: one that is off is named
                    chosen |= {rid for rid, r in rules.items() if r.group == name and r.enabled}
                else:
                    chosen.add(registry.resolve(name))
            chosen |= ALWAYS_ON
        if self.preset not in (None, "guidelines"):  # rules the runner's ecosystem has no use for
            from . import presets

            named = {registry.resolve(n) for n in self.select or () if n not in registry.GROUPS} | set(self.severity)
            chosen -= presets.get(self.preset).off - named
        for name in self.ignore:
            if name in registry.GROUPS:
                chosen -= {rid for rid, r in rules.items() if r.group == name}
            else:
                chosen.discard(registry.resolve(name))
        if self.dialect != "postgres":  # other dialects run the dialect-neutral rules only
            from . import dialects

            chosen = dialects.restrict(chosen, self.dialect, self.select)
        return {rid: rules[rid] for rid in sorted(chosen)}

    def rollback_required(self) -> bool:
        """Does every migration need its rollback (``require-rollback``, else the preset's rule)?"""
        if self.require_rollback is not None:
            return self.require_rollback
        from . import presets

        return presets.get(self.preset if self.preset in presets.PRESETS else None).downs == "required"

    def severity_of(self, rule: registry.Rule) -> str:
        if rule.id in self.severity:
            return self.severity[rule.id]
        if rule.id in OPTIONAL_ROLLBACK_RULES and not self.rollback_required():
            from . import presets

            if self.preset in presets.PRESETS and presets.get(self.preset).downs == "optional":
                return "warning"  # the runner runs and rolls back without one (docs/presets.md)
        return rule.severity

    def excluded(self, path: Path | str) -> bool:
        """Is the file at ``path`` (absolute) excluded from the check (``exclude``/``extend-exclude``)?"""
        return bool(self.exclude) and _matcher(self.exclude, str(self.root))(os.fspath(path))

    def ignored_rules(self, path: Path | str) -> frozenset[str]:
        """The rule ids ``per-file-ignores`` turns off for the file at ``path`` (absolute)."""
        if not self.per_file_ignores:
            return frozenset()
        out: set[str] = set()
        for pattern, ids in self.per_file_ignores:
            if _matcher((pattern,), str(self.root))(os.fspath(path)):
                out.update(ids)
        return frozenset(out)

    def baseline_path(self) -> Path | None:
        """Where the baseline file is (it need not exist), or None when ``baseline = false``."""
        if self.baseline is False:
            return None
        return self.root / (self.baseline if isinstance(self.baseline, str) else DEFAULT_BASELINE)


DEFAULT_BASELINE = "migcheck-baseline.json"


@functools.lru_cache(maxsize=256)
def _matcher(patterns: tuple[str, ...], root: str):
    """A predicate on absolute paths for ruff-style globs: a pattern without ``/`` matches any one
    part of the path (a directory or the file name: ``legacy``, ``2019*.sql``); one with ``/``
    matches the path relative to ``root`` or one of its directories (``migrations/2019*``,
    ``db/legacy/**``). ``*`` also matches ``/``, as in ruff (globset)."""
    names = [fnmatch.translate(p) for p in patterns if "/" not in p.strip("/")]
    paths = [fnmatch.translate(p.strip("/").removeprefix("./")) for p in patterns if "/" in p.strip("/")]
    name_re = re.compile("|".join(names)) if names else None
    path_re = re.compile("|".join(paths)) if paths else None
    root_dir = os.path.join(root, "")

    def match(path: str) -> bool:
        path = os.path.abspath(path)
        rel = path[len(root_dir) :] if path.startswith(root_dir) else path.lstrip(os.sep)
        parts = rel.split(os.sep)
        if name_re is not None and any(name_re.match(part) for part in parts):
            return True
        if path_re is not None:
            for i in range(1, len(parts) + 1):
                if path_re.match("/".join(parts[:i])):
                    return True
        return False

    return match


# Unreadable or unparsable files must never pass silently: these run whatever --select says
# (an explicit --ignore / ignore still turns them off).
ALWAYS_ON = frozenset({"parse-error", "encoding-error", "unreadable-file", "file-too-large", "unrendered-template"})


def _rule_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise ConfigError(f"{where} must be a list of rule ids")
    out: list[str] = []
    for item in items:
        if item in registry.GROUPS:
            out.append(item)
            continue
        canon = registry.expand(item)  # an alias or another tool's id: the rules it stands for
        if not canon:
            raise ConfigError(f"{where}: {registry.unknown(item, registry.GROUPS)}")
        out.extend(c for c in canon if c not in out)
    return out


def _globs(value: Any, where: str) -> list[str]:
    """A list of glob patterns (``exclude``, ``extend-exclude``, the keys of ``per-file-ignores``)."""
    if (
        isinstance(value, str)
        or not isinstance(value, list)
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise ConfigError(f'{where} must be a list of glob patterns such as ["migrations/2019*", "legacy"]')
    for v in value:
        if os.path.isabs(v) or v.startswith(".."):
            raise ConfigError(
                f"{where}: {v!r}: write the pattern relative to the configuration file "
                "(absolute paths and .. are not matched)"
            )
    return [v.strip() for v in value]


def _expand_groups(names: list[str]) -> set[str]:
    """Rule ids and group names -> canonical rule ids."""
    out: set[str] = set()
    for name in names:
        if name in registry.GROUPS:
            out |= {rid for rid, r in registry.load().items() if r.group == name}
        else:
            out.update(registry.expand(name))
    return out


# The newest `postgres-version`: 19 for what a rule advises there (REPACK ... CONCURRENTLY); the
# parser is PostgreSQL 18's (pglast 8), so syntax new in 19 is still a parse-error.
MAX_POSTGRES_VERSION = 19

KEYS = {
    "migrations",
    "rollback",
    "naming",
    "sequence",
    "header",
    "changelog",
    "select",
    "ignore",
    "severity",
    "fail-on",
    "postgres-version",
    "dialect",
    "preset",
    "max-file-size",
    "require-rollback",
    "stats",
    "risk",
    "exclude",
    "extend-exclude",
    "per-file-ignores",
    "baseline",
    "verify-statement-timeout",
    "verify-timeout",
    "verify-data",
}

# [risk] (docs/stats.md): key -> kind of value. The defaults live with the logic (migcheck.analysis.risk).
RISK_KEYS = {
    "large-rows": "count",
    "large-size": "size",
    "busy-writes": "rate",
    "busy-reads": "rate",
    "small-rows": "count",
    "small-size": "size",
    "idle-writes": "rate",
    "idle-reads": "rate",
    "max-lock-seconds": "rate",
    "high": "level",
    "low": "level",
}


def _risk(value: Any, where: str) -> dict[str, Any]:
    """``[risk]``: thresholds as ``{"large_rows": 1000000, ...}`` (only the keys given)."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: 'risk' must be a table of thresholds (docs/stats.md)")
    out: dict[str, Any] = {}
    for key, v in value.items():
        kind = RISK_KEYS.get(key)
        if kind is None:
            raise ConfigError(f"{where}: unknown key 'risk.{key}' (known keys: {', '.join(sorted(RISK_KEYS))})")
        name = f"'risk.{key}'"
        if kind == "size":
            out[key.replace("-", "_").replace("size", "bytes")] = _size(v, where, name, allow_false=False)
            continue
        if kind == "level":
            if v not in LEVELS:
                raise ConfigError(f"{where}: {name} must be one of {', '.join(LEVELS)}, not {v!r}")
        elif (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or v < 0
            or (kind == "count" and not isinstance(v, int))
        ):
            what = "a whole number >= 0" if kind == "count" else "a number >= 0"
            raise ConfigError(f"{where}: {name} must be {what}, not {v!r}")
        out[key.replace("-", "_")] = float(v) if kind == "rate" else v
    return out


def _preset_changes(cfg: Config, value: Any, where: str, explicit_dirs: bool) -> dict[str, Any]:
    """The fields a preset sets: its name, and its migration directories unless ``migrations``
    was configured (``explicit_dirs``)."""
    from . import presets

    if not isinstance(value, str) or value not in presets.NAMES:
        raise ConfigError(f"{where}: unknown preset {value!r} (known presets: {', '.join(presets.NAMES)})")
    changes: dict[str, Any] = {"preset": value}
    if not explicit_dirs:
        changes["migrations"] = presets.get(value).dirs
    return changes


_SIZE = lazy(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)?\s*$", re.I)


def _size(value: Any, where: str, name: str = "'max-file-size'", allow_false: bool = True) -> int | None:
    """``max-file-size``: bytes as an integer, a string such as "10MB" / "512KB", or false (no limit)."""
    if value is False and allow_false:
        return None
    m = _SIZE.match(value) if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if m and float(m.group(1)) > 0:
        factor = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}[(m.group(2) or "B").upper()]
        return int(float(m.group(1)) * factor)
    raise ConfigError(
        f'{where}: {name} must be a size such as "10MB", "512KB" or a number of bytes'
        + (" (or false for no limit)" if allow_false else "")
        + f", not {value!r}"
    )


_DURATION = lazy(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*$", re.I)


def _seconds(value: Any, key: str, where: str) -> float | None:
    """A duration: seconds as a number, a string such as "500ms", "30s", "5min", "1h", or false
    (no limit)."""
    if value is False:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1e9:
        return float(value)
    m = _DURATION.match(value) if isinstance(value, str) else None
    if m and 0 < float(m.group(1)) < 1e9:
        return float(m.group(1)) * {"ms": 0.001, "s": 1, "min": 60, "h": 3600}[(m.group(2) or "s").lower()]
    raise ConfigError(
        f'{where}: \'{key}\' must be a duration such as "30s", "5min", "500ms" or a number of '
        f"seconds (or false for no limit), not {value!r}"
    )


def _read(path: Path) -> str:
    """A configuration file's text: a regular file only (a FIFO named migcheck.toml would hang)."""
    from .fsutil import read_regular

    return read_regular(path, 16 << 20)[0].decode("utf-8")


def find_config(start: Path, memo: dict[Path, Path | None] | None = None) -> Path | None:
    """The nearest migcheck.toml, or pyproject.toml with a [tool.migcheck] table, from ``start`` up.
    ``memo``: the answers already known from a directory up (``for_paths`` searches from each
    path and from the working directory: a pyproject.toml above them is parsed once)."""
    walked: list[Path] = []
    found = None
    for d in (start, *start.parents):
        if memo is not None and d in memo:
            found = memo[d]
            break
        walked.append(d)
        try:  # a directory we may not search (check reports its files as unreadable-file): look above
            here = (d / "migcheck.toml").is_file(), (d / "pyproject.toml").is_file()
        except OSError:
            continue
        cand = d / "migcheck.toml"
        if here[0]:
            found = cand
            break
        cand = d / "pyproject.toml"
        if here[1]:
            try:
                data = tomllib.loads(_read(cand))
            except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
                raise ConfigError(f"{cand}: not valid TOML") from None
            tool = data.get("tool")
            if isinstance(tool, dict) and "migcheck" in tool:
                found = cand
                break
    if memo is not None:
        memo.update(dict.fromkeys(walked, found))
    return found


def for_paths(paths, cwd: Path | None = None, explicit: Path | None = None) -> list[tuple[Config, list[str]]]:
    """The configuration of each path, as ruff finds it: the nearest migcheck.toml or pyproject.toml
    with [tool.migcheck] up from the path itself (a file: from its directory), not from the working
    directory; a path with none above it takes the working directory's. Paths under the same
    configuration form one group, in the order given: ``[(config, paths)]``. ``explicit``
    (``--config``) applies to every path; no path: the working directory's configuration."""
    cwd = cwd or Path.cwd()
    paths = list(paths)
    if explicit is not None or not paths:
        return [(load(explicit, cwd), paths)]
    groups: dict[Path | None, list[str]] = {}
    memo: dict[Path, Path | None] = {}
    for p in paths:
        start = Path(p) if Path(p).is_absolute() else cwd / p
        try:
            if not start.is_dir():
                start = start.parent
        except OSError:
            start = start.parent
        groups.setdefault(find_config(Path(os.path.abspath(start)), memo), []).append(p)
    out = []
    for source, group in groups.items():
        if source is None:  # (load(None, cwd): the working directory's configuration, if any)
            source = find_config(cwd, memo)
            out.append((load(source, cwd) if source is not None else Config(root=cwd), group))
        else:
            out.append((load(source, cwd), group))
    return out


def load(path: Path | None = None, cwd: Path | None = None) -> Config:
    """Load the configuration from ``path`` (``--config``) or by walking up from ``cwd``."""
    cwd = cwd or Path.cwd()
    if path is None:
        path = find_config(cwd)
        if path is None:
            return Config(root=cwd)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{path}: 'tool' must be a table ([tool.migcheck]), not {type(tool).__name__}")
        data = tool.get("migcheck", {})
        where = f"{path} [tool.migcheck]"
    else:
        where = str(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: [tool.migcheck] must be a table")
    return from_dict(data, root=path.parent.resolve(), source=path, where=where)


def from_dict(data: dict, root: Path, source: Path | None = None, where: str = "config") -> Config:
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key '{unknown[0]}' (known keys: {', '.join(sorted(KEYS))})")
    cfg = Config(root=root, source=source)

    def typed(key, types, desc):
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(f"{where}: '{key}' must be {desc}, not {type(value).__name__}")
        return value

    if "migrations" in data:
        value = data["migrations"]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{where}: 'migrations' must be a list of directories")
        cfg.migrations = tuple(value)
    if "rollback" in data:
        value = typed("rollback", str, "a path pattern containing {version}")
        if "{version}" not in value or not value.endswith(".sql"):
            raise ConfigError(
                f"{where}: 'rollback' must contain {{version}} and end in .sql, e.g. \"{DEFAULT_ROLLBACK}\""
            )
        cfg.rollback = _rollback_pattern(value, where)
    if "naming" in data:
        value = typed("naming", str, "a regular expression")
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ConfigError(f"{where}: 'naming' is not a valid regular expression: {exc}") from None
        missing = {"date", "seq", "description"} - set(pattern.groupindex)
        if missing:
            raise ConfigError(
                f"{where}: 'naming' needs the named groups date, seq and description (missing: {', '.join(sorted(missing))})"
            )
        cfg.naming = pattern
    if "sequence" in data:
        value = typed("sequence", str, '"global" or "per-day"')
        if value not in ("global", "per-day"):
            raise ConfigError(f'{where}: \'sequence\' must be "global" or "per-day", not "{value}"')
        cfg.sequence = value
    if "header" in data:
        value = data["header"]
        if value is False:
            cfg.header = ()
        elif isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
            cfg.header = tuple(v.strip() for v in value)
        else:
            raise ConfigError(f"{where}: 'header' must be a list of field names or false")
    if "changelog" in data:
        value = data["changelog"]
        if value is False or value is True:
            cfg.changelog = value
        elif isinstance(value, str) and value:
            cfg.changelog = _inside_root(value, root, "changelog", where)
        else:
            raise ConfigError(f"{where}: 'changelog' must be a path or false")
    if "select" in data:
        cfg.select = tuple(_rule_list(data["select"], f"{where}: 'select'"))
    if "ignore" in data:
        cfg.ignore = tuple(_rule_list(data["ignore"], f"{where}: 'ignore'"))
    if "severity" in data:
        value = typed("severity", dict, "a table of rule id = level")
        sev = {}
        for rid, level in value.items():
            canon = registry.expand(rid)
            if not canon:
                raise ConfigError(f"{where}: 'severity': {registry.unknown(rid)}")
            if level not in LEVELS:
                raise ConfigError(f"{where}: 'severity.{rid}' must be one of {', '.join(LEVELS)}, not {level!r}")
            sev.update(dict.fromkeys(canon, level))
        cfg.severity = sev
    if "fail-on" in data:
        value = typed("fail-on", str, "error, warning or info")
        if value not in LEVELS:
            raise ConfigError(f"{where}: 'fail-on' must be one of {', '.join(LEVELS)}, not \"{value}\"")
        cfg.fail_on = value
    if "require-rollback" in data:
        value = data["require-rollback"]
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: 'require-rollback' must be true or false, not {value!r}")
        cfg.require_rollback = value
    if "max-file-size" in data:
        cfg.max_file_size = _size(data["max-file-size"], where)
    if "verify-statement-timeout" in data:
        cfg.verify_statement_timeout = _seconds(data["verify-statement-timeout"], "verify-statement-timeout", where)
    if "verify-timeout" in data:
        cfg.verify_timeout = _seconds(data["verify-timeout"], "verify-timeout", where)
    if "verify-data" in data:
        value = data["verify-data"]
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: 'verify-data' must be true or false, not {type(value).__name__}")
        cfg.verify_data = value
    if "stats" in data:
        value = data["stats"]
        if value is not False and not (isinstance(value, str) and value):
            raise ConfigError(
                f"{where}: 'stats' must be the path of the production snapshot (docs/stats.md) or false, not {value!r}"
            )
        cfg.stats = (
            value if value is False else _inside_root(value, root, "stats", where)
        )  # (`migcheck stats` writes it)
    if "risk" in data:
        cfg.risk = _risk(data["risk"], where)
    if "postgres-version" in data:
        value = typed("postgres-version", int, "a major version number such as 15")
        if not 9 <= value <= MAX_POSTGRES_VERSION:
            raise ConfigError(
                f"{where}: 'postgres-version' must be a PostgreSQL major version from 9 to "
                f"{MAX_POSTGRES_VERSION}, not {value}"
            )
        cfg.postgres_version = value
    if "dialect" in data:
        from . import dialects

        cfg.dialect = dialects.validate(data["dialect"], where)
    excludes: list[str] = []
    for key in ("exclude", "extend-exclude"):
        if key in data:
            excludes.extend(_globs(data[key], f"{where}: '{key}'"))
    cfg.exclude = tuple(excludes)
    if "per-file-ignores" in data:
        value = typed("per-file-ignores", dict, "a table of glob = [rule ids]")
        pairs = []
        for pattern, ids in value.items():
            _globs([pattern], f"{where}: 'per-file-ignores'")
            names = _rule_list(ids, f"{where}: 'per-file-ignores.\"{pattern}\"'")
            pairs.append((pattern, tuple(sorted(_expand_groups(names)))))
        cfg.per_file_ignores = tuple(pairs)
    if "baseline" in data:
        value = data["baseline"]
        if value is not False and not (isinstance(value, str) and value.strip()):
            raise ConfigError(
                f"{where}: 'baseline' must be the path of the baseline file (relative to the "
                f"configuration) or false, not {value!r}"
            )
        cfg.baseline = value if value is False else _inside_root(value, root, "baseline", where)  # (migcheck writes it)
    if "preset" in data:
        for key, value in _preset_changes(cfg, data["preset"], f"{where}: 'preset'", "migrations" in data).items():
            setattr(cfg, key, value)
    if "rollback" in data:
        check_rollback_location(cfg, where)
    return cfg


def _rollback_pattern(value: str, where: str) -> str:
    """``rollback``: a relative path whose only placeholder is ``{version}`` (Python's format
    syntax: ``{{``/``}}`` for a literal brace), no format spec or conversion."""
    import string

    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        raise ConfigError(
            f"{where}: 'rollback' is not a valid pattern ({exc}): write a literal brace as {{{{ or }}}}"
        ) from None
    bad = [name for name, spec, conv in fields if name != "version" or spec or conv]
    if bad:
        shown = "{" + bad[0] + "}" if bad[0] != "version" else "{version} with a format or conversion"
        raise ConfigError(f"{where}: 'rollback' may contain only the placeholder {{version}}, not {shown}")
    if Path(value).is_absolute() or value.startswith(("/", "\\")):
        raise ConfigError(
            f"{where}: 'rollback' must stay inside the project: a path relative to the migration's "
            f"directory, not the absolute {value!r}"
        )
    return value


def inside(path: str | Path, root: str | Path) -> bool:
    """Is ``path`` (relative to ``root``, or absolute) ``root`` or below it, as written (``..``
    resolved lexically, symlinks not followed)?"""
    import os

    full = os.path.normpath(os.path.join(os.path.abspath(str(root)), str(path)))
    base = os.path.normpath(os.path.abspath(str(root)))
    return full == base or full.startswith(base.rstrip(os.sep) + os.sep)


def _inside_root(value: str, root: Path, key: str, where: str) -> str:
    """A path key whose file migcheck may write: relative, and inside the project root (the
    configuration file's directory)."""
    if Path(value).is_absolute() or not inside(value, root):
        raise ConfigError(
            f"{where}: '{key}' must stay inside the project (the directory of the configuration file, "
            f"{root}): {value!r} leaves it"
        )
    return value


def check_rollback_location(cfg: Config, where: str = "config") -> None:
    """The rollback pattern must not lead out of the project from any migrations directory
    (``migcheck new`` writes the rollback there); a migrations directory configured outside the
    project may keep its rollbacks below itself."""
    import os

    rb_dir = os.path.dirname(cfg.rollback.format(version="0"))
    for m in cfg.migrations:
        mdir = m if os.path.isabs(m) else os.path.join(str(cfg.root), m)
        target = os.path.join(mdir, rb_dir)
        if not (inside(target, cfg.root) or inside(rb_dir, mdir)):
            raise ConfigError(
                f"{where}: 'rollback' must stay inside the project: {cfg.rollback!r} leads from "
                f"{m!r} to {os.path.normpath(target)}"
            )
