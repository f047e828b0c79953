"""``--format gitlab``: a GitLab Code Quality report (the Code Climate issue format GitLab reads
from a ``codequality`` artifact): one issue per unsuppressed finding with ``description``,
``check_name`` (the rule id), ``fingerprint``, ``severity`` and ``location.path`` /
``location.lines.begin``.

The fingerprint must be unique per issue (GitLab shows only the first issue of a fingerprint) and
stable across pipelines (the merge request widget compares the branch's report with the target
branch's): it is the baseline's (``migcheck.snippets.fingerprints``), so it survives lines moving.
Paths are relative to ``$CI_PROJECT_DIR`` when migcheck runs inside it.
"""

from __future__ import annotations

import json
import os

# GitLab's scale is info, minor, major, critical, blocker; errors rank above warnings in the widget
SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}


def _path(display: str) -> str:
    root = os.environ.get("CI_PROJECT_DIR")
    if not root:
        return display
    rel = os.path.relpath(os.path.abspath(display), os.path.abspath(root))
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return display
    return rel.replace(os.sep, "/")


def render(result, **_) -> str:
    from ..snippets import Sources, fingerprints

    findings = [f for f in result.findings if not f.suppressed]
    prints = fingerprints(findings, Sources(result.files), _path)
    issues = [
        {
            "description": f"{f.message} (help: {f.help})" if f.help else f.message,
            "check_name": f.rule,
            "fingerprint": fp,
            "severity": SEVERITIES[f.severity],
            "location": {"path": _path(f.path), "lines": {"begin": f.line}},
        }
        for f, fp in zip(findings, prints)
    ]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
