"""Identifiers as PostgreSQL keeps them. Its scanner cuts every identifier to 63 bytes
(NAMEDATALEN - 1), with a NOTICE, before the parser sees it: the parse tree holds the cut names,
so the names as written come from the scanner's tokens."""

from __future__ import annotations

import re

MAX_BYTES = 63  # NAMEDATALEN - 1 (src/include/pg_config_manual.h)


def truncated(name: str) -> str:
    """``name`` as PostgreSQL keeps it: its first 63 bytes in UTF-8, cut at a character boundary."""
    data = name.encode("utf-8")
    if len(data) <= MAX_BYTES:
        return name
    return data[:MAX_BYTES].decode("utf-8", errors="ignore")


def _ident(token: str) -> str | None:
    """The identifier a scanner IDENT token stands for: quoted ones unquoted, the others folded
    to lower case as PostgreSQL folds them (ASCII letters only, in UTF-8)."""
    if token.startswith('"'):
        return token[1:-1].replace('""', '"') if token.endswith('"') and len(token) > 1 else None
    if token[:2] in ("U&", "u&"):
        return None  # U&"..." escapes: not decoded here
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in token)


def long_identifiers(text: str) -> list[tuple[str, int]]:
    """``(identifier, character offset)`` of every identifier in ``text`` longer than 63 bytes."""
    if len(text) <= MAX_BYTES:  # nothing longer than the text fits in it
        return []
    from .._pglast import parser

    try:
        tokens = parser.scan(text)
    except parser.ParseError:  # the parser read the statement: its text scans
        return []
    out = []
    for t in tokens:
        if t.name != "IDENT" or t.end - t.start + 1 <= MAX_BYTES // 4:
            continue  # 15 characters or fewer cannot exceed 63 bytes
        name = _ident(text[t.start : t.end + 1])
        if name is not None and len(name.encode("utf-8")) > MAX_BYTES:
            out.append((name, t.start))
    return out


# A run of word characters, or a quoted identifier (or string), of 16 characters or more: an
# identifier over 63 bytes is one (a character is 4 bytes at most).
_CANDIDATE = re.compile(r'[\w$]{16,}|"(?:[^"]|""){16,}"')


def may_have_long(text: str) -> bool:
    """False when ``text`` certainly holds no identifier over 63 bytes (most files): then no
    statement of it needs scanning."""
    return any(len(m.group(0).encode("utf-8")) > MAX_BYTES for m in _CANDIDATE.finditer(text))
