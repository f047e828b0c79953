"""``--format json`` (CONVENTIONS.md, "JSON"): one finding and one file per line, as in the
convention's example. Each entry is encoded on its own by the C encoder; ``indent=`` would switch
``json`` to its pure-Python encoder, a quarter of a warm 6,635-file run (benchmarks/RESULTS.md)."""

from __future__ import annotations

import json

_encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder for every entry (json.dumps makes one per call)


def _array(items):
    sep = "[\n    "
    for item in items:
        yield sep + _encode(item)
        sep = ",\n    "
    yield "[]" if sep == "[\n    " else "\n  ]"


def chunks(result, **_):
    """The report, an entry at a time (``migcheck.report.write``): a 19,005-file run's 30 MB
    report is never one string."""
    yield '{\n  "version": 1,\n  "findings": '
    yield from _array(f.to_dict() for f in result.findings)
    yield ',\n  "files": '
    yield from _array({"path": f.display, "kind": f.kind, "statements": f.statement_count} for f in result.files)
    yield f',\n  "summary": {_encode(result.summary())}'
    risk = getattr(result, "risk", None)  # a production snapshot was applied (docs/stats.md)
    if risk is not None:
        yield f',\n  "stats": {_encode(risk.summary())}'
    yield "\n}\n"
