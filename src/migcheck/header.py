"""The header block the guidelines' template puts before the first statement."""

from __future__ import annotations

import re

from .model import Header
from .source import _LINE_BREAK, Positions

_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9 _-]{0,40}?)\s*:\s?(.*)$")
_DECORATION = re.compile(r"^[\s=\-*#~_+]*$")


def header(text: str, first_statement: int | None, pos: Positions) -> Header:
    """Parse the ``-- Field: value`` comment block before the first statement.

    ``====`` rule lines are decoration. A comment line that is not ``Name: value`` continues the
    previous field's value. Field names are case-insensitive.
    """
    end = len(text) if first_statement is None else first_statement
    block = text[:end]
    result = Header()
    current: str | None = None
    for i, raw in enumerate(_LINE_BREAK.split(block)):
        line = raw.strip()
        if not line:
            current = None
            continue
        if not line.startswith("--"):
            break
        content = line.lstrip("-").strip()
        result.present = True
        if not content or _DECORATION.match(content):
            current = None
            continue
        m = _FIELD.match(content)
        if m and not m.group(1).lower().startswith("migcheck"):
            name = " ".join(m.group(1).lower().split())
            if name not in result.fields:
                result.fields[name] = (m.group(2).strip(), i + 1)
            current = name
        elif current is not None:
            value, ln = result.fields[current]
            result.fields[current] = ((value + " " + content).strip(), ln)
    return result
