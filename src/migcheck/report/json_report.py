"""``--format json`` (CONVENTIONS.md, "JSON"): one finding and one file per line, as in the
convention's example. Each entry is encoded on its own by the C encoder; ``indent=`` would switch
``json`` to its pure-Python encoder, a quarter of a warm 6,635-file run (benchmarks/RESULTS.md)."""

from __future__ import annotations

import json


_encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder for every entry (json.dumps makes one per call)


def _array(items: list[dict]) -> str:
    if not items:
        return "[]"
    return "[\n    " + ",\n    ".join(map(_encode, items)) + "\n  ]"


def render(result, **_) -> str:
    findings = _array([f.to_dict() for f in result.findings])
    files = _array([{"path": f.display, "kind": f.kind, "statements": 0 if f.read_problem else f.statement_count}
                    for f in result.files])
    summary = _encode(result.summary())
    return f'{{\n  "version": 1,\n  "findings": {findings},\n  "files": {files},\n  "summary": {summary}\n}}\n'
