"""The text report: ``path:line:column: severity[rule] message``, a ``help:`` line, a summary line.
With ``show_source``, the lines of the statement under each finding (squawk prints them so)."""

from __future__ import annotations

from ..model import SEVERITY_RANK

_COLORS = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m"}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# at most this many lines of a statement under a finding (--show-source)
SOURCE_LINES = 8


def _source(sources, f, color: bool):
    """The finding's lines with a line-number gutter, and carets under a one-line span."""
    lines = sources.lines(f)
    if not lines or (f.end_line is None and (f.line, f.column) == (1, 1)):  # a file-level finding
        return
    width = len(str(lines[min(len(lines), SOURCE_LINES) - 1][0]))
    bar = f"{_DIM}|{_RESET}" if color else "|"
    yield f"  {' ' * width} {bar}\n"
    for n, text in lines[:SOURCE_LINES]:
        yield f"  {n:>{width}} {bar} {text.expandtabs(4)}\n"
    if len(lines) > SOURCE_LINES:
        yield f"  {' ' * width} {bar} ... ({len(lines) - SOURCE_LINES} more lines)\n"
    elif len(lines) == 1:
        text = lines[0][1]
        end = f.end_column if f.end_line == f.line and f.end_column and f.end_column > f.column else len(text) + 1
        lead = text[: f.column - 1].expandtabs(4)
        marks = "^" * max(len(text[f.column - 1 : end - 1].expandtabs(4)), 1)
        yield f"  {' ' * width} {bar} {' ' * len(lead)}{marks}\n"


def chunks(result, color: bool = False, quiet: bool = False, fail_on: str = "error", show_source: bool = False, **_):
    """The report, a line at a time (``migcheck.report.write``)."""
    shown = False
    sources = None
    if show_source:
        from ..snippets import Sources

        sources = Sources(result.files)
    for f in result.findings:
        if f.suppressed:
            continue
        if quiet and SEVERITY_RANK[f.severity] < SEVERITY_RANK[fail_on]:
            continue
        loc = f"{f.path}:{f.line}:{f.column}:"
        shown = True
        if color:
            yield f"{_BOLD}{loc}{_RESET} {_COLORS[f.severity]}{f.severity}{_RESET}[{f.rule}] {f.message}\n"
        else:
            yield f"{loc} {f.severity}[{f.rule}] {f.message}\n"
        if sources is not None:
            yield from _source(sources, f, color)
        if not quiet:
            yield f"  {_DIM}help:{_RESET} {f.help}\n" if color else f"  help: {f.help}\n"
    if not quiet:
        s = result.summary()
        summary = (
            f"{_plural(s['errors'], 'error')}, {_plural(s['warnings'], 'warning')} in {_plural(s['files'], 'file')}"
        )
        extra = []
        if s["infos"]:
            extra.append(_plural(s["infos"], "info"))
        if s["suppressed"]:
            extra.append(f"{s['suppressed']} suppressed")
        if s.get("baselined"):
            extra.append(f"{s['baselined']} baselined")
        if extra:
            summary += f" ({', '.join(extra)})"
        if shown:
            yield "\n"
        yield summary + "\n"
