"""GitHub Actions workflow commands (``--format github``): one annotation per finding, then the
plain summary line of the text format.

``::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=migcheck(rule)::message`` with
``warning`` and ``notice`` for the lower severities. Escaping follows the runner's rules (and
@actions/core): ``%``, CR and LF in the message; additionally ``:`` and ``,`` in properties.
The runner drops ``col``/``endColumn`` when ``line`` and ``endLine`` differ, so a finding that
spans lines is annotated at its first token (``line``, ``col``), where findings point. Paths are made relative to ``$GITHUB_WORKSPACE`` when migcheck runs
inside it. Suppressed findings are not printed.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

from ..model import SEVERITY_RANK

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation_path(path: str) -> str:
    """Annotations are matched against the repository: inside ``$GITHUB_WORKSPACE``, make the
    path relative to it (migcheck may run in a subdirectory)."""
    ws = os.environ.get("GITHUB_WORKSPACE")
    if not ws:
        return path
    ws = os.path.abspath(ws)
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, ws)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return path
    return rel.replace(os.sep, "/")


def annotation(f) -> str:
    props = [("file", _annotation_path(f.path)), ("line", str(f.line)), ("col", str(f.column))]
    if f.end_line == f.line:
        props.append(("endLine", str(f.end_line)))
        if f.end_column is not None and f.end_column >= f.column:
            props.append(("endColumn", str(f.end_column)))
    props.append(("title", f"migcheck({f.rule})"))
    message = f"{f.message}\nhelp: {f.help}" if f.help else f.message
    head = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    return f"::{COMMANDS[f.severity]} {head}::{escape_data(message)}"


def render(result, quiet: bool = False, fail_on: str = "error", **_) -> str:
    from . import text_report

    lines = []
    for f in result.findings:
        if f.suppressed:
            continue
        if quiet and SEVERITY_RANK[f.severity] < SEVERITY_RANK[fail_on]:
            continue
        lines.append(annotation(f))
    out = "\n".join(lines) + ("\n" if lines else "")
    if not quiet:
        # the text format's summary line, worded the same: the text reporter renders a result
        # with no findings as exactly that line
        out += "".join(text_report.chunks(SimpleNamespace(findings=[], summary=result.summary)))
    return out
