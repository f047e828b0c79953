"""Rule registration and metadata. A rule is a function over one file or over the project."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from .model import FrozenRecord

GROUPS = ("convention", "safety", "rollback", "project", "syntax")
KINDS = frozenset({"migration", "rollback", "other"})


class Rule(FrozenRecord):
    """A rule's metadata and, once its module is imported, its function (immutable, hashable).

    ``scope``: "file": func(file, ctx); "project": func(project, ctx); "engine": emitted by the
    engine; "verify": emitted by `migcheck verify` only (it needs a database; `check` never reports
    it). ``kinds``: the file kinds it applies to. ``needs``: the per-file summaries of the other
    files it reads (``migcheck.analysis.perfile``). ``reads``: a file rule's dispatch, the node
    kinds (``DropStmt``, ``MergeStmt``, ...) without which it finds nothing in a file; the engine
    calls it, and imports its module, only for a file whose parse trees hold one of them
    (``files.MigrationFile.node_kinds``); None: every file. tests/test_dispatch.py checks each
    declaration against the fixtures and the docs' examples."""

    __slots__ = ("id", "severity", "group", "summary", "scope", "kinds", "enabled", "func", "aliases", "needs", "reads")
    # (the fields, for type checkers: set by ``_init``, held in ``__slots__``)
    id: str
    severity: str
    group: str
    summary: str
    scope: str
    kinds: frozenset
    enabled: bool
    func: Callable | None
    aliases: tuple[str, ...]
    needs: tuple[str, ...]
    reads: frozenset | None

    def __init__(
        self,
        id: str,
        severity: str,
        group: str,
        summary: str,
        scope: str,
        kinds: frozenset = frozenset({"migration", "rollback"}),
        enabled: bool = True,
        func: Callable | None = None,
        aliases: tuple[str, ...] = (),
        needs: tuple[str, ...] = (),
        reads: frozenset | None = None,
    ):
        self._init(id, severity, group, summary, scope, kinds, enabled, func, aliases, needs, reads)


class Deferred(Exception):
    """Raised by a file rule that cannot decide on the files at hand: in a pool worker
    (``Context.partial``), the other files' summaries are not all there yet. The main process
    runs the rule on that file again once they are (``migcheck.parallel``)."""


_RULES: dict[str, Rule] = {}  # registered by @rule / declare() of the imported modules
_ALIASES: dict[str, str] = {}
_MODULE_OF: dict[str, str] = {}  # rule id -> module (under migcheck.rules) that defines it
_STUBS: set[str] = set()  # ids in _RULES that come from the index: their module is not imported yet
_loaded = False


def rule(
    id: str,
    *,
    severity: str,
    group: str,
    summary: str,
    scope: str = "file",
    kinds: Iterable[str] = ("migration", "rollback"),
    enabled: bool = True,
    aliases: Iterable[str] = (),
    needs: Iterable[str] = (),
    reads: Iterable[str] | None = None,
):
    """Register the decorated function as rule ``id``."""
    assert severity in ("error", "warning", "info"), severity
    assert group in GROUPS, group
    assert scope in ("file", "project", "engine", "verify"), scope
    kinds = frozenset(kinds)
    assert kinds <= KINDS, kinds
    assert reads is None or (scope == "file" and not isinstance(reads, str)), reads
    read_kinds = None if reads is None else frozenset(reads)

    def deco(func: Callable | None) -> Callable | None:
        if id in _RULES and id not in _STUBS:
            raise RuntimeError(f"rule {id} registered twice")
        _STUBS.discard(id)
        _RULES[id] = Rule(
            id, severity, group, summary, scope, kinds, enabled, func, tuple(aliases), tuple(needs), read_kinds
        )
        module = func.__module__ if func is not None else sys._getframe(2).f_globals.get("__name__", "")
        if module.startswith(_RULES_PKG):
            _MODULE_OF[id] = module[len(_RULES_PKG) :]
        for alias in aliases:
            _ALIASES[alias] = id
        return func

    return deco


def declare(id: str, *, by: str = "engine", **kw) -> None:
    """Register a rule whose findings the engine (``by="engine"``) or ``migcheck verify``
    (``by="verify"``) emits itself: no function."""
    rule(id, scope=by, **kw)(None)


# --- loading ------------------------------------------------------------------------------
# Importing every rule module costs more than parsing a small file, and most runs need only
# some of them (a warm cache needs almost none). ``rules/_index.py`` is a generated list of
# every rule's metadata and the module that defines it; ``load()`` reads it and imports a
# module only when its function is needed (``impl``). A module missing from the index, or
# whose size differs from the one recorded (it was edited), is imported at load time, so a
# new or changed rule always works; tests/test_rule_index.py fails until the index is
# regenerated with `python -m migcheck.registry` (that keeps the fast path fast).


def _rules_package():
    """The package that holds the rule modules. Imported by name: the catalog loads rules, it does
    not depend on them (the layers contract in pyproject.toml: nothing below the rules imports one)."""
    return importlib.import_module(_RULES_PKG[:-1])


def _rule_modules() -> dict[str, int]:
    """Rule module name -> file size, for every ``migcheck/rules/<name>.py`` (not ``_*``)."""
    pkg = _rules_package()

    out: dict[str, int] = {}
    for d in pkg.__path__:
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            name = e.name
            if name.endswith(".py") and not name.startswith("_"):
                try:
                    out.setdefault(name[:-3], e.stat().st_size)
                except OSError:
                    pass
    return out


_RULES_PKG = f"{__package__}.rules."


def _import(module: str) -> None:
    importlib.import_module(_RULES_PKG + module)


def load() -> dict[str, Rule]:
    """Every rule's metadata, by id. A rule whose module is not imported yet has ``func`` None
    here: get its function with ``impl``."""
    global _loaded
    if _loaded:
        return _RULES
    try:
        _index = importlib.import_module(_RULES_PKG + "_index")
        indexed: dict[str, int] = dict(_index.MODULES)
        entries = _index.RULES
        if any(len(row) != 11 for row in entries):  # written by another version of this module
            raise ValueError("stale index")
    except Exception:  # no index (or a broken one): import everything
        indexed, entries = {}, ()
    present = _rule_modules()
    fresh = {m for m, size in present.items() if indexed.get(m) == size}
    for mod in sorted(present):
        if mod not in fresh:
            _import(mod)
    for rid, severity, group, summary, scope, kinds, enabled, aliases, needs, reads, module in entries:
        if module not in fresh or rid in _RULES:
            continue
        _RULES[rid] = Rule(
            rid,
            severity,
            group,
            summary,
            scope,
            frozenset(kinds),
            enabled,
            None,
            tuple(aliases),
            tuple(needs),
            None if reads is None else frozenset(reads),
        )
        _STUBS.add(rid)
        _MODULE_OF[rid] = module
        for alias in aliases:
            _ALIASES.setdefault(alias, rid)
    _loaded = True
    return _RULES


def impl(r: Rule) -> Callable | None:
    """The function of rule ``r``, importing its module on first use."""
    if r.func is not None:
        return r.func
    got = _RULES.get(r.id)
    if (got is None or got.func is None) and r.id in _MODULE_OF:
        _import(_MODULE_OF[r.id])
        got = _RULES.get(r.id)
    return got.func if got is not None else None


# --- other tools' rule ids --------------------------------------------------------------
# squawk's rule ids and the migcheck rules that cover each (docs/squawk-parity.md says what differs;
# tests/test_squawk_parity.py holds this table to tests/fixtures/squawk_parity.toml and to squawk's
# rule list). One squawk id may stand for several migcheck rules: `--select`, `--ignore`, the
# configuration's `select` / `ignore` / `severity`, `explain` and suppression comments expand it
# to all of them.
SQUAWK: dict[str, tuple[str, ...]] = {
    "adding-field-with-default": ("volatile-default",),
    "adding-foreign-key-constraint": ("constraint-missing-not-valid",),
    "adding-not-nullable-field": ("set-not-null",),
    "adding-required-field": ("adding-not-null-column",),
    "adding-serial-primary-key-field": ("add-unique-constraint", "adding-serial-column"),
    "ban-alter-domain-with-add-constraint": ("domain-check-constraint",),
    "ban-char-field": ("ban-char-field",),
    "ban-concurrent-index-creation-in-transaction": ("concurrently-in-transaction",),
    "ban-create-domain-with-constraint": ("domain-check-constraint",),
    "ban-drop-column": ("drop-column",),
    "ban-drop-database": ("drop-schema",),
    "ban-drop-not-null": ("drop-not-null",),
    "ban-drop-table": ("drop-table",),
    "ban-duplicate-column-assignments": ("ban-duplicate-column-assignments",),
    "ban-truncate-cascade": ("truncate-cascade",),
    "ban-uncommitted-transaction": ("unbalanced-transaction",),
    "changing-column-type": ("changing-column-type",),
    "constraint-missing-not-valid": ("constraint-missing-not-valid",),
    "disallowed-unique-constraint": ("add-unique-constraint",),
    "identifier-too-long": ("identifier-too-long",),
    "prefer-bigint-over-int": ("prefer-bigint",),
    "prefer-bigint-over-smallint": ("prefer-bigint",),
    "prefer-identity": ("prefer-identity",),
    "prefer-repack": ("vacuum-full", "cluster"),
    "prefer-robust-stmts": ("missing-if-not-exists", "missing-if-exists"),
    "prefer-text-field": ("prefer-text",),
    "prefer-timestamp-tz": ("prefer-timestamptz",),  # squawk accepts both spellings
    "prefer-timestamptz": ("prefer-timestamptz",),
    "renaming-column": ("rename-column",),
    "renaming-table": ("rename-table",),
    "require-concurrent-index-creation": ("require-concurrent-index",),
    "require-concurrent-index-deletion": ("require-concurrent-index-deletion",),
    "require-concurrent-partition-detach": ("require-concurrent-partition-detach",),
    "require-concurrent-reindex": ("require-concurrent-reindex",),
    "require-enum-value-ordering": ("require-enum-value-ordering",),
    "require-lock-timeout": ("require-lock-timeout",),
    "require-statement-timeout": ("require-statement-timeout",),
    "require-table-schema": ("require-table-schema",),
    "require-timeout-settings": ("require-lock-timeout", "require-statement-timeout"),
    "syntax-error": ("parse-error",),
    "transaction-nesting": ("unbalanced-transaction",),
    "unused-ignore": ("unknown-rule",),
}


def expand(name: str) -> tuple[str, ...]:
    """The canonical ids ``name`` stands for: itself (a rule id), the rule it is an alias of,
    or every migcheck rule that covers another tool's rule id (``SQUAWK``). Empty when unknown."""
    rules = load()
    if name in rules:
        return (name,)
    if name in _ALIASES:
        return (_ALIASES[name],)
    return SQUAWK.get(name, ())


def resolve(rule_id: str) -> str | None:
    """The canonical id of ``rule_id`` when it names exactly one rule (a rule id or an alias of
    one), else None. A name that may stand for several rules needs ``expand``."""
    got = expand(rule_id)
    return got[0] if len(got) == 1 else None


def suggest(name: str, extra: Iterable[str] = ()) -> str | None:
    """The known name closest to a mistyped ``name`` (rule ids, aliases, squawk ids and ``extra``),
    or None when nothing is close."""
    import difflib

    known = [*load(), *_ALIASES, *SQUAWK, *extra]
    got = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return got[0] if got else None


def unknown(name: str, extra: Iterable[str] = ()) -> str:
    """The words for an unknown rule id: ``unknown rule id 'x' (see `migcheck rules`); did you mean `y`?``"""
    close = suggest(name, extra)
    return f"unknown rule id '{name}' (see `migcheck rules`)" + (f"; did you mean `{close}`?" if close else "")


def index_source() -> str:
    """The text of ``rules/_index.py`` for the rule modules as they are now (imports them all)."""
    load()
    present = _rule_modules()
    for mod in sorted(present):
        _import(mod)
    rows = []
    for rid in sorted(set(_RULES) - _STUBS):  # a stub left after importing everything is a removed rule
        r = _RULES[rid]
        module = _MODULE_OF.get(rid)
        if module is None or module not in present:
            raise RuntimeError(f"rule {rid} is not defined by a module of migcheck.rules")
        rows.append(
            (
                r.id,
                r.severity,
                r.group,
                r.summary,
                r.scope,
                tuple(sorted(r.kinds)),
                r.enabled,
                r.aliases,
                r.needs,
                None if r.reads is None else tuple(sorted(r.reads)),
                module,
            )
        )
    lines = [
        '"""Generated by `python -m migcheck.registry`: every rule\'s metadata and module, so that a run',
        'imports only the rule modules it needs. tests/test_rule_index.py fails when this is stale."""',
        "",
        "MODULES = {",
    ]
    lines += [f"    {m!r}: {size}," for m, size in sorted(present.items())]
    lines += ["}", "", "RULES = ("]
    lines += [f"    {row!r}," for row in rows]
    lines += [")", ""]
    return "\n".join(lines)


def write_index() -> Path:
    path = Path(_rules_package().__path__[0]) / "_index.py"
    text = index_source()
    from .fsutil import atomic_write

    atomic_write(path, text, overwrite=True)
    return path


if __name__ == "__main__":  # python -m migcheck.registry: regenerate rules/_index.py
    from migcheck import registry as _registry  # the package's instance, not this __main__ copy

    print(f"wrote {_registry.write_index()}")
