"""The header block the guidelines' template puts before the first statement.

```
-- =====================================================
-- MIGRATION: [Brief Title]
-- =====================================================
-- Purpose: [What does this migration do?]
-- Impact: [What will change? Any downtime?]
-- Rollback: [How to rollback if needed]
-- Testing: [How was this tested?]
-- =====================================================
```

What counts as the header: the comment lines (``--`` lines and ``/* ... */`` blocks, blank lines
between them allowed) from the start of the file up to the first statement, or up to the first
thing that is not a comment. Within it, ``Name: value`` lines are fields:

- rule lines (``====``, ``----``, ``****``) and other decoration are not fields, and a leading
  bullet, ``*`` gutter, ``#`` or emoji before a name is ignored;
- field names are case-insensitive; the value is the rest of the line, continued by the comment
  lines that follow it up to a blank or decoration line or the next field (so a value can be written
  on the lines below an empty ``Rollback:``);
- a ``Name: value`` line *inside* a value (``Step 1: drop the trigger``, or any line indented more
  than the field's own line) continues the value unless its name is one of the template's fields;
- ``-- migcheck: ...`` suppression comments are not fields.
"""

from __future__ import annotations

import re

from ..model import Header
from ..source import _LINE_BREAK, Positions

# The template's fields and their placeholder text, exactly as the guidelines write them.
TEMPLATE: dict[str, str] = {
    "MIGRATION": "[Brief Title]",
    "Purpose": "[What does this migration do?]",
    "Impact": "[What will change? Any downtime?]",
    "Rollback": "[How to rollback if needed]",
    "Testing": "[How was this tested?]",
}
RULE_LINE = "-- " + "=" * 53
# What ``migcheck check --fix`` writes in the header fields it cannot fill in: one to-do for the
# author, which ``header-placeholder`` reports once for all the fields that hold it.
FIX_TODO = "TODO(migcheck --fix)"

# Names whose first word makes a line a new field even where it would otherwise continue a value.
_KNOWN_FIRST_WORDS = {"migration", "purpose", "impact", "rollback", "testing", "depends"}

# Anything before the field name that is not part of it: spaces, bullets, gutters, emoji, '#'.
_LEAD = re.compile(r"^[^\w\[(<{\"'`]+")
_RULE_CHARS = " \t=-*#~+_"
# ``Name: value``: a name of at most four words, then a colon (not ``::``, not ``://``).
_FIELD = re.compile(r"^([^\W\d_][\w .&/()-]{0,39}?)[*_]*\s*:(?![:/])\s*(.*)$")


def normalize(name: str) -> str:
    """How field names compare: case, spaces, ``-`` and ``_`` do not matter."""
    return re.sub(r"[\s_-]+", "", name.lower())


def _strip_trail(s: str) -> str:
    """Drop trailing decoration: a run of two or more rule characters (``-- Purpose: x =====``)."""
    stripped = s.rstrip(_RULE_CHARS)
    tail = s[len(stripped) :]
    return stripped if re.search(r"[=\-*#~+_]{2}", tail) else s


def _key(name: str) -> str:
    return " ".join(name.lower().split())


def _block_part(s: str, depth: int) -> tuple[str, int]:
    """The comment text of a line inside a ``/* */`` comment of nesting ``depth``, and the depth after it."""
    i = 0
    out_end = len(s)
    while i < len(s):
        if s.startswith("/*", i):
            depth += 1
            i += 2
        elif s.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                out_end = i - 2
                break
        else:
            i += 1
    body = s[:out_end]
    if body.lstrip().startswith("*") and not body.lstrip().startswith("*/"):
        body = body.lstrip()[1:]  # the " * " gutter of a boxed comment
    return body, depth


def comment_lines(block: str):
    """Yield ``(line number, comment text)`` for each line of the leading comment block; the text
    is None on a blank line. Stops at the first line that is not a comment."""
    depth = 0
    for i, raw in enumerate(_LINE_BREAK.split(block), 1):
        s = raw.strip()
        if depth:
            body, depth = _block_part(s, depth)
            yield i, body
        elif not s:
            yield i, None
        elif s.startswith("--"):
            yield i, s[2:].lstrip("-")
        elif s.startswith("/*"):
            body, depth = _block_part(s[2:], 1)
            yield i, body
        else:
            return


def header(text: str, first_statement: int | None, pos: Positions) -> Header:
    """Parse the ``-- Field: value`` comment block before the first statement (the whole text when
    there is no statement)."""
    end = len(text) if first_statement is None else first_statement
    result = Header()
    current: str | None = None
    current_indent = 0
    for lineno, body in comment_lines(text[:end]):
        if body is None:
            current = None
            continue
        result.present = True
        indent = len(body) - len(body.lstrip())
        content = _strip_trail(_LEAD.sub("", body)).strip()
        if not content:
            current = None  # a rule line or an empty comment line ends a value
            continue
        m = _FIELD.match(content)
        if m and len(m.group(1).split()) <= 4:
            name = _key(m.group(1))
            if name.startswith("migcheck"):
                current = None
                continue
            first = re.split(r"[\s_-]+", name)[0]
            new = (
                current is None
                or first in _KNOWN_FIRST_WORDS
                or (indent <= current_indent and not any(ch.isdigit() for ch in name))
            )
            if new:
                if name in result.fields:
                    current = None  # a repeated field: the first one counts
                else:
                    result.fields[name] = (m.group(2).strip(), lineno)
                    current, current_indent = name, indent
                continue
        if current is not None:
            value, ln = result.fields[current]
            result.fields[current] = ((value + " " + content).strip(), ln)
    return result


def find(h: Header, name: str) -> tuple[str, str, int] | None:
    """The header field ``name`` as ``(field name as written, lower-cased; value; line)``.

    Names compare without case, spaces, ``-`` and ``_`` (``Depends-On`` = ``depends on``); failing
    that, a field whose name starts with ``name`` and a qualifier (``Rollback plan``,
    ``MIGRATION 20251022_001``) counts, the first such field in the file.
    """
    want = normalize(name)
    for key, (value, line) in h.fields.items():
        if normalize(key) == want:
            return key, value, line
    prefix = re.compile(r"^" + re.escape(_key(name)) + r"[\s_-]")
    for key, (value, line) in h.fields.items():
        if prefix.match(key):
            return key, value, line
    return None


def name_column(pos: Positions, line: int, name: str) -> int:
    """The 1-based column of a field's name on its line (1 when not found)."""
    text = pos.line_text(line)
    i = text.lower().find(name.lower())
    return i + 1 if i >= 0 else 1


def placeholder(name: str) -> str:
    """The template's placeholder text of field ``name`` (``[...]`` for a field of its own)."""
    return next((v for k, v in TEMPLATE.items() if normalize(k) == normalize(name)), "[...]")


def skeleton(fields, indent: str = "") -> str:
    """The template's header block for ``fields`` (with its placeholder text)."""
    lines = [RULE_LINE]
    for j, name in enumerate(fields):
        lines.append(f"-- {name}: {placeholder(name)}")
        if j == 0 and normalize(name) == "migration":
            lines.append(RULE_LINE)
    lines.append(RULE_LINE)
    return "\n".join(indent + line for line in lines)


def late_header(f, required):
    """The line of a header written after the first statement: the first of its comments naming
    a required field (``-- Purpose: ...``), when at least two of the fields (or the only one) are
    there; else None."""
    if not f.statements:
        return None
    start = f.statements[0].start
    # each pattern needs its field name in the text after the first statement: without enough of
    # them there, skip reading the comments (the scan of the whole file)
    rest = f.text[start:].lower()
    if all(n.isascii() for n in required) and sum(n.lower() in rest for n in required) < min(2, len(required)):
        return None
    patterns = [
        re.compile(r"^\s*(?:--+|/\*+)?[^\w\n]*" + re.escape(n) + r"\b[^:\n]{0,30}:", re.I | re.M) for n in required
    ]
    seen: dict[int, int] = {}  # field index -> line
    for c in f.comments:
        if c.start <= start:
            continue
        for i, p in enumerate(patterns):
            m = p.search(c.text) if i not in seen else None
            if m:
                seen[i] = c.line + c.text.count("\n", 0, m.start())
    if len(seen) >= min(2, len(required)):
        return min(seen.values())
    return None
