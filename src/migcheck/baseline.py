"""The baseline: findings accepted once (``migcheck check --write-baseline``) and not reported again.

Adopting migcheck on a repository with years of migrations, most findings are in files that ran in
production long ago and can no longer be edited. The baseline records them; ``check`` then reports
only the findings that are not in it, and says how many were baselined.

An entry is a finding's fingerprint (``migcheck.snippets.fingerprints``): its rule, its file
(relative to the baseline's directory), the text it points at with white space collapsed, and how
many such findings came before it in the file. So it survives lines inserted above or below and
edits to other statements; an edit to the statement itself makes its findings new again, which
is what a reviewer wants. ``line`` and ``message`` are kept for the reader of the file only.

Stale entries (their finding is gone: fixed, its statement changed, or its file deleted) are
counted; rewriting the baseline drops them. Rewriting keeps the entries of the files and rules the
run did not check (``--diff``, a few paths, ``--select``), unless their file is gone.

Part of the engine layer: it filters a ``Result``; it never imports a rule.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from . import snippets
from .engine import Result
from .fsutil import atomic_write

VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be read or is not one: exit 2 with this message."""


class Baselined(Result):
    """A result with the baselined findings taken out."""

    __slots__ = ("baselined", "stale")
    SHOWN = (*Result.SHOWN, "baselined", "stale")

    def __init__(
        self, findings, files, errors, project=None, risk=None, skipped=None, baselined: int = 0, stale: int = 0
    ):
        super().__init__(findings, files, errors, project, risk, skipped)
        self.baselined = baselined  # findings left out because the baseline has them
        self.stale = stale  # baseline entries of checked files and rules that matched no finding

    def summary(self) -> dict[str, int]:
        out = super().summary()
        out["baselined"] = self.baselined
        out["stale"] = self.stale
        return out


def _relative(display: str, base: Path) -> str:
    """A finding's path (as shown: relative to the working directory) relative to ``base``."""
    return os.path.relpath(os.path.abspath(display), base).replace(os.sep, "/")


def entries(result: Result, base: Path) -> list[dict]:
    """The baseline entries of the result's unsuppressed findings, paths relative to ``base``."""
    findings = [f for f in result.findings if not f.suppressed]
    sources = snippets.Sources(result.files)
    prints = snippets.fingerprints(findings, sources, lambda p: _relative(p, base))
    return [
        {"path": _relative(f.path, base), "rule": f.rule, "fingerprint": fp, "line": f.line, "message": f.message}
        for f, fp in zip(findings, prints)
    ]


def load(path: Path) -> list[dict] | None:
    """The entries of the baseline at ``path``, or None when there is no such file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise BaselineError(
            f"{path}: not valid JSON ({exc}); write it again with `migcheck check --write-baseline`"
        ) from None
    items = doc.get("findings") if isinstance(doc, dict) else None
    if (
        not isinstance(doc, dict)
        or doc.get("version") != VERSION
        or not isinstance(items, list)
        or not all(
            isinstance(e, dict) and all(isinstance(e.get(k), str) for k in ("path", "rule", "fingerprint"))
            for e in items
        )
    ):
        raise BaselineError(
            f"{path}: not a migcheck baseline (version {VERSION}, a list of findings with path, rule "
            "and fingerprint); write it again with `migcheck check --write-baseline`"
        )
    return items


def _checked(result: Result, base: Path, enabled) -> tuple[set[str], set[str]]:
    """(the result's files relative to ``base``, the enabled rule ids)."""
    return {_relative(f.display, base) for f in result.files}, set(enabled)


def write(path: Path, result: Result, enabled) -> tuple[int, int]:
    """Record the result's unsuppressed findings in the baseline at ``path``, keeping the old
    entries of files the run did not check and of rules it did not run. Returns (entries
    written for this run's findings, entries kept from before)."""
    base = path.parent.resolve()
    old = load(path) or []
    files, rules = _checked(result, base, enabled)
    # (the entries of a file that is gone go too)
    kept = [e for e in old if (e["path"] not in files or e["rule"] not in rules) and (base / e["path"]).exists()]
    new = entries(result, base)
    note = (
        "Findings accepted when this baseline was written: `migcheck check` does not report them again. "
        "Rewrite it with `migcheck check --write-baseline` (fixed findings drop out); see the README, "
        '"Adopting migcheck on an existing repository".'
    )
    items = sorted(kept + new, key=lambda e: (e["path"], e.get("line", 0), e["rule"], e["fingerprint"]))
    # one entry per line: a rewrite's diff shows the findings that came and went
    listed = "".join(f"{',' if i else ''}\n    {json.dumps(e, ensure_ascii=False)}" for i, e in enumerate(items))
    body = (
        f'{{\n  "version": {VERSION},\n  "note": {json.dumps(note)},\n'
        f'  "findings": [{listed}{chr(10) + "  " if items else ""}]\n}}\n'
    )
    atomic_write(path, body, overwrite=True)
    return len(new), len(kept)


def apply(result: Result, path: Path, baseline: list[dict], enabled) -> Baselined:
    """``result`` without the findings the baseline has; counts what it left out and its stale
    entries (of files this run checked, or that no longer exist, and rules it ran)."""
    base = path.parent.resolve()
    findings = [f for f in result.findings if not f.suppressed]
    sources = snippets.Sources(result.files)
    prints = snippets.fingerprints(findings, sources, lambda p: _relative(p, base))
    accepted = {e["fingerprint"] for e in baseline}
    drop = {id(f) for f, fp in zip(findings, prints) if fp in accepted}
    matched = set(prints) & accepted
    files, rules = _checked(result, base, enabled)
    stale = sum(
        1
        for e in baseline
        if e["fingerprint"] not in matched
        and e["rule"] in rules
        and (e["path"] in files or not (base / e["path"]).exists())
    )
    kept = [f for f in result.findings if id(f) not in drop]
    return Baselined(
        kept, result.files, result.errors, result.project, result.risk, result.skipped, baselined=len(drop), stale=stale
    )
