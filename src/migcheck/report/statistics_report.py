"""``check --statistics``: how many findings each rule has, most first (as ruff prints it), then
the text format's summary line; or the same as a JSON list with ``--format json``."""

from __future__ import annotations

import json
from types import SimpleNamespace

from ..model import SEVERITY_RANK


def rows(result, fail_on: str = "error", quiet: bool = False) -> list[dict]:
    from .. import registry

    catalog = registry.load()
    counts: dict[str, list] = {}
    for f in result.findings:
        if f.suppressed or (quiet and SEVERITY_RANK[f.severity] < SEVERITY_RANK[fail_on]):
            continue
        counts.setdefault(f.rule, [0, f.severity])[0] += 1
    out = [
        {"rule": rid, "severity": sev, "count": n, "summary": catalog[rid].summary if rid in catalog else ""}
        for rid, (n, sev) in counts.items()
    ]
    out.sort(key=lambda r: (-r["count"], r["rule"]))
    return out


def render(result, fmt: str = "text", fixable=frozenset(), fail_on: str = "error", quiet: bool = False, **_) -> str:
    table = rows(result, fail_on, quiet)
    for r in table:
        r["fixable"] = r["rule"] in fixable
    if fmt == "json":
        return json.dumps(table, indent=2, ensure_ascii=False) + "\n"
    out = []
    if table:
        count_w = max(len(str(r["count"])) for r in table)
        rule_w = max(len(r["rule"]) for r in table)
        sev_w = max(len(r["severity"]) for r in table)
        for r in table:
            mark = "[*]" if r["fixable"] else "   "
            out.append(
                f"{r['count']:>{count_w}}  {r['rule']:<{rule_w}}  {r['severity']:<{sev_w}}  {mark} {r['summary']}\n"
            )
    if not quiet:
        from . import text_report

        if out:
            out.append("\n")
        out.extend(text_report.chunks(SimpleNamespace(findings=[], summary=result.summary)))
        if any(r["fixable"] for r in table):
            out.append("[*] fixable with `migcheck check --fix`\n")
    return "".join(out)
