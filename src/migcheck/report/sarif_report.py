"""SARIF 2.1.0 (``--format sarif``), for GitHub code scanning and other SARIF viewers.

One run; one ``reportingDescriptor`` per registered rule, with its doc as help; one result per
finding. Paths are relative URIs against ``%SRCROOT%``: the working directory, or
``$GITHUB_WORKSPACE`` when migcheck runs inside it (code scanning resolves relative URIs against
the repository root). Suppressed findings carry an ``inSource`` suppression with the reason.
Each result has ``partialFingerprints`` (``migcheck/v1``: rule, path, the text the finding points at,
occurrence; see ``migcheck.snippets``), so code scanning keeps an alert's identity when lines move.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import quote

from .. import __version__

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/migcheck/migcheck"
DOC_URI = "https://github.com/migcheck/migcheck/blob/main/rules/{id}.md"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
SRCROOT = "%SRCROOT%"
# the partialFingerprints key (versioned: a change of how it is computed gets a new key)
FINGERPRINT = "migcheck/v1"
# GitHub code scanning shows at most this much of shortDescription / fullDescription
_DESCRIPTION_LIMIT = 1024


def _file_uri(path: str) -> str:
    uri = Path(path).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _source_root() -> str:
    cwd = os.getcwd()
    ws = os.environ.get("GITHUB_WORKSPACE")
    if ws:
        ws = os.path.abspath(ws)
        if cwd == ws or cwd.startswith(ws.rstrip(os.sep) + os.sep):
            return ws
    return cwd


def _location(path: str, root: str) -> dict:
    """artifactLocation of a finding's path (relative to the working directory)."""
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, root)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return {"uri": Path(absolute).as_uri()}  # outside the source root: an absolute file URI
    return {"uri": quote(os.fsencode(rel.replace(os.sep, "/"))), "uriBaseId": SRCROOT}  # (a non-UTF-8 name: its bytes)


def _region(f) -> dict:
    region = {"startLine": f.line, "startColumn": f.column}
    if f.end_line is not None and f.end_line >= f.line:
        region["endLine"] = f.end_line
        # end_column is exclusive, like SARIF's; an end before the start is dropped
        if f.end_column is not None and (f.end_line > f.line or f.end_column >= f.column):
            region["endColumn"] = f.end_column
    return region


def _plain(markdown: str) -> str:
    """The rule doc as plain text: no heading marks, fences or inline-code backticks."""
    out = []
    for line in markdown.splitlines():
        if line.startswith("```"):
            continue
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        out.append(m.group(1) if m else re.sub(r"`([^`]*)`", r"\1", line))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


def _clip(text: str, limit: int = _DESCRIPTION_LIMIT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _descriptor(rule, config, enabled_ids) -> dict:
    from .. import docs

    doc = docs.read(rule.id)
    level = LEVELS[config.severity_of(rule) if config else rule.severity]
    enabled = rule.id in enabled_ids if enabled_ids is not None else rule.enabled
    out: dict = {
        "id": rule.id,
        "shortDescription": {"text": _clip(rule.summary)},
        "helpUri": DOC_URI.format(id=rule.id),
        "defaultConfiguration": {"level": level, "enabled": enabled},
        "properties": {"tags": [rule.group], "precision": "high"},
    }
    if doc:
        body = (doc.partition("\n")[2] if doc.startswith("# ") else doc).strip()
        what = docs.sections(doc).get("What it does", "").strip() or rule.summary
        # each paragraph on one line: the doc's hard line wraps are for the source, not the reader
        text = re.sub(r"(?<!\n)\n(?![\n-])", " ", _plain(what).strip())
        out["fullDescription"] = {"text": _clip(text), "markdown": what}
        out["help"] = {"text": _plain(body), "markdown": body + "\n"}
    else:
        out["fullDescription"] = {"text": _clip(rule.summary)}
        out["help"] = {"text": rule.summary}
    return out


def render(result, config=None, **_) -> str:
    from .. import registry

    rules = sorted(registry.load().values(), key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(rules)}
    enabled_ids = set(config.enabled_rules()) if config is not None else None
    root = _source_root()
    results = []
    from ..snippets import Sources, fingerprints

    uris = {}
    for f in result.findings:
        if f.path not in uris:
            uris[f.path] = _location(f.path, root)
    # code scanning matches an alert across runs by its fingerprints: ours survives moved lines
    prints = fingerprints(result.findings, Sources(result.files), lambda p: uris[p]["uri"])
    for f, fp in zip(result.findings, prints):
        res: dict = {
            "ruleId": f.rule,
            "level": LEVELS[f.severity],
            "message": {"text": f"{f.message}\nhelp: {f.help}" if f.help else f.message},
            "locations": [{"physicalLocation": {"artifactLocation": uris[f.path], "region": _region(f)}}],
            "partialFingerprints": {FINGERPRINT: fp},
        }
        if f.rule in index:
            res["ruleIndex"] = index[f.rule]
        if f.suppressed:
            suppression = {"kind": "inSource", "status": "accepted"}
            if f.reason:
                suppression["justification"] = f.reason
            res["suppressions"] = [suppression]
        results.append(res)
    notifications = [
        {
            "level": "error",
            "message": {"text": f"internal error in rule {e.rule} on {e.path}: {e.detail}"},
            "descriptor": {"id": e.rule},
        }
        for e in result.errors
    ]
    run = {
        "tool": {
            "driver": {
                "name": "migcheck",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFO_URI,
                "rules": [_descriptor(r, config, enabled_ids) for r in rules],
            }
        },
        "invocations": [{"executionSuccessful": not result.errors, "toolExecutionNotifications": notifications}],
        "originalUriBaseIds": {SRCROOT: {"uri": _file_uri(root)}},
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    doc = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
