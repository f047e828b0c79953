"""Rule registration and metadata. A rule is a function over one file or over the project."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable, Iterable

GROUPS = ("convention", "safety", "rollback", "project", "syntax")
KINDS = frozenset({"migration", "rollback", "other"})


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    group: str
    summary: str
    scope: str  # "file": func(file, ctx); "project": func(project, ctx); "engine": emitted by the engine
    kinds: frozenset = field(default=frozenset({"migration", "rollback"}))
    enabled: bool = True
    func: Callable | None = None
    aliases: tuple[str, ...] = ()


_RULES: dict[str, Rule] = {}
_ALIASES: dict[str, str] = {}
_loaded = False


def rule(id: str, *, severity: str, group: str, summary: str, scope: str = "file",
         kinds: Iterable[str] = ("migration", "rollback"), enabled: bool = True,
         aliases: Iterable[str] = ()):
    """Register the decorated function as rule ``id``."""
    assert severity in ("error", "warning", "info"), severity
    assert group in GROUPS, group
    assert scope in ("file", "project", "engine"), scope
    kinds = frozenset(kinds)
    assert kinds <= KINDS, kinds

    def deco(func: Callable | None) -> Callable | None:
        if id in _RULES:
            raise RuntimeError(f"rule {id} registered twice")
        _RULES[id] = Rule(id, severity, group, summary, scope, kinds, enabled, func, tuple(aliases))
        for alias in aliases:
            _ALIASES[alias] = id
        return func

    return deco


def declare(id: str, **kw) -> None:
    """Register a rule whose findings the engine itself emits (no function)."""
    rule(id, scope="engine", **kw)(None)


def load() -> dict[str, Rule]:
    """Import every module of ``migcheck.rules`` once; each registers its rules."""
    global _loaded
    if not _loaded:
        from . import rules as pkg

        for mod in sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)):
            if not mod.startswith("_"):
                importlib.import_module(f"{pkg.__name__}.{mod}")
        _loaded = True
    return _RULES


def resolve(rule_id: str) -> str | None:
    """The canonical id of ``rule_id`` (or an alias of it), or None when unknown."""
    rules = load()
    if rule_id in rules:
        return rule_id
    return _ALIASES.get(rule_id)
