"""Connection strings in messages: never show a password.

libpq and psycopg quote the connection string in some of their errors (a malformed URI is
echoed whole), so a message about ``--dsn`` can carry the password. ``redact`` removes it:
the password of the DSN given (as written and percent-decoded), and anything that looks like
one (``user:secret@`` in a URI, ``password=...`` in a keyword string).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_URI_PASSWORD = re.compile(r"(://[^:/@\s\"']*:)([^@\s\"']*)(@)")
_KW_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s\"'&#]+)", re.I)  # (also ?password= in a URI)


def _passwords(dsn: str) -> set[str]:
    found = {m.group(2) for m in _URI_PASSWORD.finditer(dsn)}
    for m in _KW_PASSWORD.finditer(dsn):
        value = m.group(2)
        found.add(value)
        if value.startswith("'"):
            found.add(value.strip("'").replace("\\'", "'").replace("\\\\", "\\"))
    found |= {unquote(p) for p in found}
    return {p for p in found if p}


def redact(message: str, dsn: str | None) -> str:
    """``message`` without the password of ``dsn`` or anything shaped like a password, on one line."""
    text = " ".join(str(message).split())
    for p in sorted(_passwords(dsn or ""), key=len, reverse=True):
        text = text.replace(p, "***")
    text = _URI_PASSWORD.sub(r"\1***\3", text)
    return _KW_PASSWORD.sub(r"\1***", text)
