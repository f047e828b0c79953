"""A regular expression compiled on first use.

``re.compile`` runs Python code (the ``re`` module's parser and compiler): 0.1-0.5 ms a pattern, and
a one-file check imported modules holding about a hundred of them, most of which that file never
uses (another runner's file names, another layout's markers: issue 22). ``lazy(pattern, flags)``
stands for ``re.compile(pattern, flags)``: its first attribute looked up (``match``, ``search``,
``sub``, ``pattern``, ...) compiles it, and each attribute is looked up on the compiled pattern
once, then kept."""

from __future__ import annotations

import re


class LazyPattern:
    __slots__ = ("_args", "__dict__")

    def __init__(self, pattern: str, flags: int = 0):
        self._args = (pattern, flags)

    def __getattr__(self, name: str):
        if name.startswith("__"):  # (copy, pickle and friends probe for these: not a pattern's)
            raise AttributeError(name)
        value = getattr(re.compile(*self._args), name)
        setattr(self, name, value)
        return value

    def __repr__(self) -> str:
        return f"lazy({self._args[0]!r}, {self._args[1]!r})"


def lazy(pattern: str, flags: int = 0) -> re.Pattern:
    """``re.compile(pattern, flags)``, compiled when first used."""
    return LazyPattern(pattern, flags)  # type: ignore[return-value]  # (quacks as one: its attributes are the pattern's)
