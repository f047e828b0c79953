import re

from ..analysis import header as hdr
from ..registry import rule

# Answers that say "nothing": fine for Impact, Rollback and Testing (no impact, nothing to roll
# back, not testable), never for the title or the purpose of a migration.
_NOTHING = {"n/a", "na", "n.a.", "none", "nothing", "-", "no", "not applicable"}
_NEEDS_CONTENT = {"migration", "purpose"}
_MARKER_START = re.compile(r"^(todo|tbd|tbc|fixme|xxx)\b", re.I)
_MARKER_ANYWHERE = re.compile(r"\b(TODO|TBD|FIXME)\b")
_ONLY_PUNCT = re.compile(r"^[?.…!\s]+$")
_BRACKETED = re.compile(r"^(\[[^\[\]]*\]|<[^<>]*>|\{\{?[^{}]*\}?\})$")

_HELP = {
    "migration": "Give the migration a short title, e.g. `-- MIGRATION: Add status to leads`.",
    "purpose": "Say what the migration does and why, in a sentence, e.g. `-- Purpose: Track where each lead is in the pipeline`.",
    "impact": "Say what changes and for whom: new or rewritten tables, locks, downtime (`none` when nothing existing changes).",
    "rollback": "Say how to undo it, e.g. `-- Rollback: rollback/<version>_rollback.sql drops the column`, or `none needed` and why.",
    "testing": "Say where and how it was tested, e.g. `-- Testing: applied and rolled back on staging`.",
}


def problem(name: str, value: str) -> str | None:
    """Why ``value`` is not a filled-in value of header field ``name``, or None."""
    v = value.strip()
    if not v:
        return "is empty"
    low = v.lower()
    for text in hdr.TEMPLATE.values():
        if text.lower() in low or low == text.strip("[]").lower():
            return f"still holds the template text `{text}`"
    if _BRACKETED.match(v):
        return f"still holds placeholder text `{v}`"
    m = _MARKER_START.match(v) or _MARKER_ANYWHERE.search(v)
    if m:
        return f"is still a placeholder ({m.group(1).upper()})"
    if _ONLY_PUNCT.match(v):
        return f"holds only `{v}`"
    if hdr.normalize(name) in _NEEDS_CONTENT and (low in _NOTHING or low.rstrip(".") in _NOTHING):
        return (
            f"says only `{v}`, but every migration has a {'title' if hdr.normalize(name) == 'migration' else 'purpose'}"
        )
    return None


@rule(
    "header-placeholder",
    severity="error",
    group="convention",
    kinds=("migration",),
    summary="A header field is empty or still holds the template's [...] text.",
)
def check(f, ctx):
    h = f.header
    todo = []  # fields that still hold what --fix wrote: one finding for all of them
    for name in ctx.config.header:
        found = hdr.find(h, name)
        if found is None:
            continue  # missing-header reports it
        key, value, line = found
        if value.strip() == hdr.FIX_TODO:
            todo.append((name, key, line))
            continue
        why = problem(name, value)
        if why is None:
            continue
        help = _HELP.get(hdr.normalize(name), f"Fill in the {name} field.")
        yield f.hit(
            f"the {name} header field {why}", help, line=line, column=hdr.name_column(f.positions, line, key.split()[0])
        )
    if todo:
        names = [name for name, _, _ in todo]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        _, key, line = todo[0]
        yield f.hit(
            f"the {listed} header field{'s' if len(names) > 1 else ''} still hold{'' if len(names) > 1 else 's'} "
            f"the TODO that `migcheck check --fix` wrote",
            "Replace each TODO with the answer: "
            + " ".join(_HELP.get(hdr.normalize(n), f"Fill in the {n} field.") for n in names),
            line=line,
            column=hdr.name_column(f.positions, line, key.split()[0]),
        )
