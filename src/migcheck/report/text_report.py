from __future__ import annotations

from ..model import SEVERITY_RANK

_COLORS = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m"}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render(result, color: bool = False, quiet: bool = False, fail_on: str = "error", **_) -> str:
    lines: list[str] = []
    for f in result.findings:
        if f.suppressed:
            continue
        if quiet and SEVERITY_RANK[f.severity] < SEVERITY_RANK[fail_on]:
            continue
        loc = f"{f.path}:{f.line}:{f.column}:"
        if color:
            lines.append(f"{_BOLD}{loc}{_RESET} {_COLORS[f.severity]}{f.severity}{_RESET}[{f.rule}] {f.message}")
            if not quiet:
                lines.append(f"  {_DIM}help:{_RESET} {f.help}")
        else:
            lines.append(f"{loc} {f.severity}[{f.rule}] {f.message}")
            if not quiet:
                lines.append(f"  help: {f.help}")
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
        if lines:
            lines.append("")
        lines.append(summary)
    return "\n".join(lines) + ("\n" if lines else "")
