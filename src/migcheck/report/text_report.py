from __future__ import annotations

from ..model import SEVERITY_RANK

_COLORS = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m"}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def chunks(result, color: bool = False, quiet: bool = False, fail_on: str = "error", **_):
    """The report, a line at a time (``migcheck.report.write``)."""
    shown = False
    for f in result.findings:
        if f.suppressed:
            continue
        if quiet and SEVERITY_RANK[f.severity] < SEVERITY_RANK[fail_on]:
            continue
        loc = f"{f.path}:{f.line}:{f.column}:"
        shown = True
        if color:
            yield f"{_BOLD}{loc}{_RESET} {_COLORS[f.severity]}{f.severity}{_RESET}[{f.rule}] {f.message}\n"
            if not quiet:
                yield f"  {_DIM}help:{_RESET} {f.help}\n"
        else:
            yield f"{loc} {f.severity}[{f.rule}] {f.message}\n"
            if not quiet:
                yield f"  help: {f.help}\n"
    if not quiet:
        s = result.summary()
        summary = f"{_plural(s['errors'], 'error')}, {_plural(s['warnings'], 'warning')} in {_plural(s['files'], 'file')}"
        extra = []
        if s["infos"]:
            extra.append(_plural(s["infos"], "info"))
        if s["suppressed"]:
            extra.append(f"{s['suppressed']} suppressed")
        if extra:
            summary += f" ({', '.join(extra)})"
        if shown:
            yield "\n"
        yield summary + "\n"
