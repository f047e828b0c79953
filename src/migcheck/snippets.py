"""The source text behind findings: a reported file's text by the path findings show, the lines a
finding spans, and the normalised text its fingerprint is made of (``migcheck.baseline``, the
SARIF and GitLab reports). Knows nothing about rules: a finding is a path and a span."""

from __future__ import annotations

import re

from ._digest import blake2b
from .source import Positions

_DIGITS = re.compile(r"\d+")
_PATHISH = re.compile(r"[^\s`'\"()]*/([^\s`'\"()/]+)")


class Sources:
    """The texts of a result's files, read (again, if a run freed them) on first use."""

    def __init__(self, files):
        self._files: dict[str, object] = {}
        for f in files:
            # a runner's up and down sections share one display path: either gives the whole text
            self._files.setdefault(f.display, f)
        self._positions: dict[str, Positions | None] = {}

    def positions(self, display: str) -> Positions | None:
        """The file's text with its line table, or None (not a checked file, or unreadable)."""
        if display not in self._positions:
            f = self._files.get(display)
            text = None
            if f is not None:
                text = getattr(f, "section_source", None)
                if text is None and f.read_problem is None:
                    text = f.text
            self._positions[display] = Positions(text) if text is not None else None
        return self._positions[display]

    def lines(self, finding) -> list[tuple[int, str]]:
        """(line number, text) of each line the finding spans."""
        pos = self.positions(finding.path)
        if pos is None:
            return []
        last = finding.end_line if finding.end_line is not None and finding.end_line >= finding.line else finding.line
        if last > finding.line and finding.end_column == 1:  # (an end just past a line break)
            last -= 1
        return [(n, pos.line_text(n)) for n in range(finding.line, min(last, pos.line_count()) + 1)]

    def span(self, finding) -> str | None:
        """The text from the finding's start to its end (to the end of its line when it has no
        end), or None for a file-level finding (at 1:1 with no end) or an unknown file."""
        if finding.end_line is None and (finding.line, finding.column) == (1, 1):
            return None
        pos = self.positions(finding.path)
        if pos is None:
            return None
        starts = pos.line_starts
        if not 1 <= finding.line <= len(starts):
            return None
        start = starts[finding.line - 1] + finding.column - 1
        if finding.end_line is not None and 1 <= finding.end_line <= len(starts) and finding.end_column is not None:
            end = starts[finding.end_line - 1] + finding.end_column - 1
        else:
            end = start + len(pos.line_text(finding.line)) - (finding.column - 1)
        return pos.text[start : max(start, end)]


def context(finding, sources: Sources) -> str:
    """What identifies a finding within its file besides its rule, whatever the lines above it
    do: the text it points at, white space collapsed; for a file-level finding, its message with
    numbers and directories left out (they change with line shifts and the working directory)."""
    span = sources.span(finding)
    if span is not None and span.strip():
        return " ".join(span.split())
    return _DIGITS.sub("#", _PATHISH.sub(r"\1", finding.message))


def fingerprints(findings, sources: Sources, path=lambda display: display) -> list[str]:
    """A fingerprint per finding (same order): a digest of the rule, ``path(finding.path)``, the
    finding's ``context`` and how many findings with the same three came before it (findings in
    report order). Stable when lines are inserted above or below, or other statements change."""
    seen: dict[tuple[str, str, str], int] = {}
    out = []
    for f in findings:
        key = (f.rule, path(f.path), context(f, sources))
        n = seen.get(key, 0)
        seen[key] = n + 1
        out.append(
            blake2b("\0".join((*key, str(n))).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
        )  # (a non-UTF-8 file name: its bytes)
    return out
