"""Positions between migcheck and an LSP client.

migcheck counts 1-based lines and columns in characters (code points) of the decoded text, with
CRLF, CR and LF each one line break, and the BOM stripped. LSP counts 0-based lines, with the same
three line breaks, and columns in the negotiated position encoding: UTF-16 code units by default,
or UTF-8 / UTF-32 when the client offers them. A character outside the Basic Multilingual Plane is
one migcheck column, two UTF-16 units and four UTF-8 units.

This module knows nothing about pygls: positions are plain ``(line, character)`` tuples.
"""

from __future__ import annotations

import bisect
import re

_LINE_BREAK = re.compile(r"\r\n?|\n")


def units(s: str, encoding: str) -> int:
    """The length of ``s`` in code units of ``encoding`` (``utf-8``, ``utf-16`` or ``utf-32``)."""
    if encoding == "utf-32":
        return len(s)
    if encoding == "utf-8":
        return len(s.encode("utf-8", "surrogatepass"))
    if s.isascii():
        return len(s)
    return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


def chars_for_units(line: str, count: int, encoding: str) -> int:
    """How many characters of ``line`` make ``count`` code units (clamped to the line)."""
    if encoding == "utf-32" or line.isascii():
        return max(0, min(count, len(line)))
    seen = 0
    for i, ch in enumerate(line):
        if seen >= count:
            return i
        seen += units(ch, encoding)
    return len(line)


class LineIndex:
    """Converts between character offsets / migcheck positions and LSP positions of one text."""

    def __init__(self, text: str, encoding: str = "utf-16"):
        self.text = text
        self.encoding = encoding
        self.bom = 1 if text.startswith("\ufeff") else 0  # migcheck's columns do not count it
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def line_text(self, line0: int) -> str:
        """Line ``line0`` (0-based) without its line break."""
        if not 0 <= line0 < len(self.starts):
            return ""
        end = self.starts[line0 + 1] if line0 + 1 < len(self.starts) else len(self.text)
        return self.text[self.starts[line0] : end].rstrip("\r\n")

    @property
    def line_count(self) -> int:
        return len(self.starts)

    # --- offsets ----------------------------------------------------------------------
    def offset_to_lsp(self, offset: int) -> tuple[int, int]:
        """A character offset into the text -> (line, character in code units)."""
        offset = max(0, min(offset, len(self.text)))
        line0 = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line0]
        line = self.line_text(line0)
        col = min(offset - start, len(line))
        return line0, units(line[:col], self.encoding)

    def lsp_to_offset(self, line0: int, character: int) -> int:
        """(line, character in code units) -> a character offset into the text, clamped."""
        if line0 < 0:
            return 0
        if line0 >= len(self.starts):
            return len(self.text)
        line = self.line_text(line0)
        return self.starts[line0] + chars_for_units(line, character, self.encoding)

    # --- migcheck positions -------------------------------------------------------------
    def migcheck_to_lsp(self, line: int, column: int) -> tuple[int, int]:
        """A migcheck 1-based line / character column -> (line, character in code units)."""
        line0 = max(0, min(line - 1, len(self.starts) - 1))
        col = max(0, column - 1) + (self.bom if line0 == 0 else 0)
        text = self.line_text(line0)
        return line0, units(text[: min(col, len(text))], self.encoding)

    def range_of(
        self, line: int, column: int, end_line: int | None, end_column: int | None
    ) -> tuple[tuple[int, int], tuple[int, int]]:
        """The LSP range of a finding. Without an end (file-level findings, parse errors): from
        the position to the end of its line (an empty range on an empty line)."""
        start = self.migcheck_to_lsp(line, column)
        if end_line is not None and end_column is not None:
            end = self.migcheck_to_lsp(end_line, end_column)
            if end >= start:
                return start, end
        text = self.line_text(start[0])
        return start, (start[0], max(start[1], units(text, self.encoding)))
