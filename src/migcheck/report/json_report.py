from __future__ import annotations

import json


def render(result, **_) -> str:
    doc = {
        "version": 1,
        "findings": [f.to_dict() for f in result.findings],
        "files": [
            {"path": f.display, "kind": f.kind, "statements": 0 if f.read_problem else f.statement_count}
            for f in result.files
        ],
        "summary": result.summary(),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
