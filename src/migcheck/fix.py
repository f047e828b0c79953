"""Safe, mechanical fixes (``migcheck check --fix``; the editor server's quick fixes).

``compute(text, path, config)`` is pure: it returns the fixes for the findings ``check`` reports
on ``text`` (unsuppressed, rules enabled), each a list of minimal text edits (character offsets
into ``text``, end exclusive). It never writes and never renames. Which fixes exist
(docs/fixes.md):

- ``missing-if-not-exists`` / ``missing-if-exists``: insert ``IF NOT EXISTS`` / ``IF EXISTS`` /
  ``OR REPLACE`` (and the name PostgreSQL would give an unnamed index) with the rewrite of
  ``analysis/idempotency.py``, which proves each edit by parsing the result;
- ``missing-transaction``: ``BEGIN;`` before the first change and ``COMMIT;`` after the last
  statement, only when the file has no transaction command at all and no statement that cannot
  run in a transaction;
- ``missing-header``: the guidelines' header skeleton at the top of a file that has none, its
  title from the file name; the fields only the author can fill in hold ``header.FIX_TODO``,
  which ``header-placeholder`` reports once for all of them.

Every fix is checked before it is offered: the edited text must parse, its parse tree must be the
old one changed only as intended, the finding must be gone, and no new finding may appear (other
than ``header-placeholder`` after a header skeleton). A fix that fails is dropped, with the reason
in ``rejected`` (``compute_all``).

``rename_target`` (for ``--unsafe-fixes``) is the name ``file-naming`` suggests.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ._pglast import parser as pgparser
from .analysis import header as hdr
from .analysis import pg
from .config import Config

# rules with a text fix, in the order their edits are applied at the same offset
FIXABLE = ("missing-header", "missing-transaction", "missing-if-not-exists", "missing-if-exists")
UNSAFE = ("file-naming",)
# findings a fix may bring up on purpose
_ALLOWED_NEW = {"missing-header": {"header-placeholder"}}


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``text``."""

    start: int  # character offsets into the decoded text, end exclusive
    end: int
    text: str


@dataclass(frozen=True)
class Fix:
    """One fix a rule offers for one finding: its edits."""

    rule: str
    title: str
    line: int  # the finding it fixes (1-based)
    column: int
    edits: tuple[Edit, ...]


@dataclass
class Outcome:
    """The fixes applied to a text, and those left out (overlapping or unsafe)."""

    fixes: list[Fix] = field(default_factory=list)
    rejected: list[tuple[str, int, int, str]] = field(default_factory=list)  # (rule, line, column, why)


def apply(text: str, edits) -> str:
    """``text`` with ``edits`` applied (they must not overlap); equal offsets keep their order."""
    ordered = sorted(enumerate(edits), key=lambda ie: (ie[1].start, ie[1].end, ie[0]))
    out, pos = [], 0
    for _, e in ordered:
        if e.start < pos:
            raise ValueError("overlapping edits")
        out.append(text[pos : e.start])
        out.append(e.text)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def newline_of(text: str) -> str:
    """The file's line ending: CRLF when it has one, else LF."""
    return "\r\n" if "\r\n" in text else ("\r" if "\r" in text and "\n" not in text else "\n")


# --- running the checker on a text ---------------------------------------------------------


def _findings(text: str, path: Path, config: Config, rules: set[str] | None):
    """(reported findings on ``path`` with ``text`` as its content, the MigrationFile)."""
    from . import engine

    enabled = config.enabled_rules()
    if rules is None:  # every rule a one-file edit can change: the file rules, and the lock's
        rules = {rid for rid, r in enabled.items() if r.scope == "file"} | {"modified-migration"}
    chosen = sorted(rules & set(enabled))
    if not chosen:
        return [], None
    cfg = config.replace(select=tuple(chosen))
    key = Path(os.path.abspath(path))
    project = engine.collect([str(key)], cfg, key.parent, overlay={key: text.encode("utf-8")})
    project = engine.Project(
        cfg, [f if f.path == key else _sibling(f, config) for f in project.files], project.reported
    )
    result = engine.run(project, cfg)
    f = next((x for x in result.files if x.path == key), None)
    if result.errors:  # a rule failed: what it would report is unknown, so nothing can be verified
        raise _Unverifiable(f"rule {result.errors[0].rule} failed on it ({result.errors[0].detail})")
    return [x for x in result.findings if not x.suppressed], f


# The other files of the directory, parsed once: some rules read them (mixed-changes reads every
# migration's indexes), and a fix is re-checked many times. Keyed by what would change them.
_SIBLINGS: dict[tuple, object] = {}


def _sibling(f, config: Config):
    try:
        st = f.path.stat()
    except OSError:
        return f
    key = (
        f.path,
        st.st_mtime_ns,
        st.st_size,
        f.kind,
        f.display,
        config.root,
        tuple(config.migrations),
        config.rollback,
        config.naming.pattern,
        config.postgres_version,
    )
    hit = _SIBLINGS.get(key)
    if hit is None:
        if len(_SIBLINGS) > 20000:
            _SIBLINGS.clear()
        _SIBLINGS[key] = hit = f
    return hit


class _Unverifiable(Exception):
    pass


def _trees(text: str) -> list | None:
    """The file's statements as position-free parse trees, or None when it does not parse."""
    from .analysis.idempotency import _strip

    try:
        tree = json.loads(pgparser.parse_sql_json(text))
    except (pgparser.ParseError, RecursionError, ValueError):
        return None
    return [_strip(s["stmt"]) for s in tree.get("stmts") or []]


# --- the fixes -----------------------------------------------------------------------------


def _idempotency(f, config: Config, rule: str) -> dict[tuple[int, int], Fix]:
    """The IF [NOT] EXISTS / OR REPLACE fix of each statement the rule reports, by position."""
    from .analysis import idempotency as idem

    out = {}
    history = idem.History()
    for st in f.statements:
        if rule == "missing-if-not-exists":
            gaps = [
                g for g in idem.create_gaps(st.kind, st.node, config.postgres_version) if not history.excuses_create(g)
            ]
        else:
            gaps = [g for g in idem.drop_gaps(st.kind, st.node, config.postgres_version) if not history.excuses_drop(g)]
        history.note(st)
        if not gaps:
            continue
        rw = idem.rewrite(st.text, gaps)
        if rw is None:
            continue
        edits = tuple(Edit(st.start + off, st.start + off, words) for off, words in rw.insertions)
        words = sorted({g.words for g in gaps})
        title = "Add " + " and ".join(words)
        if any(g.unnamed for g in gaps):
            title = f"Name the index {gaps[0].name} and add IF NOT EXISTS"
        out[(st.line, st.column)] = Fix(rule, title, st.line, st.column, edits)
    return out


_COMMENTS = ("SQL_COMMENT", "C_COMMENT")


def _line_start(text: str, offset: int) -> int:
    return max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1


def _line_end(text: str, start: int) -> int:
    ends = [k for k in (text.find("\n", start), text.find("\r", start)) if k >= 0]
    return min(ends) if ends else len(text)


def _transaction(f, config: Config, line: int, column: int) -> tuple[Fix | None, str | None]:
    from .analysis import txn

    stmts = f.statements
    if not stmts:
        return None, None
    if any(pg.transaction_kind(st) for st in stmts):
        return None, "the file already has transaction commands: put BEGIN/COMMIT where they belong by hand"
    solo = next(
        (
            pg.non_transactional(st, config.postgres_version)
            for st in stmts
            if pg.non_transactional(st, config.postgres_version)
        ),
        None,
    )
    if solo:
        return None, f"the file holds {solo}, which cannot run in a transaction"
    if any(txn.analyse(stmts).inside):
        return None, "the file already has a transaction block"
    text = f.text
    nl = newline_of(text)
    first = next((st for st in stmts if pg.is_change(st)), stmts[0])
    at = _line_start(text, first.start)
    if text[at : first.start].strip():  # something else before it on its line
        at = first.start
    else:  # above the comment lines right above it (`-- Step 1: ...`), below the header
        found = [hdr.find(f.header, name) for name in config.header]
        header_end = max((x[2] for x in found if x), default=-1) + 1
        lines = f.positions.line_starts
        ln = first.line - 1  # 1-based number of the line above
        top = at
        while ln > header_end and text[lines[ln - 1] : _line_end(text, lines[ln - 1])].lstrip().startswith("--"):
            top = lines[ln - 1]
            ln -= 1
        if ln > header_end or header_end == 0:
            at = top
    edits = [Edit(at, at, "BEGIN;" + nl + nl)]
    try:
        tokens = [t for t in pgparser.scan(text) if t.name not in _COMMENTS]
    except pgparser.ParseError:
        return None, "the file cannot be scanned"
    last = tokens[-1]
    end = last.end + 1
    if last.name != "ASCII_59":
        edits.append(Edit(end, end, ";"))
    # after the end of the last statement's line (a comment on that line stays with it)
    breaks = [k for k in (text.find("\n", end), text.find("\r", end)) if k >= 0]
    if breaks:
        k = min(breaks)
        k += 2 if text.startswith("\r\n", k) else 1
        edits.append(Edit(k, k, nl + "COMMIT;" + nl))
    else:
        edits.append(Edit(len(text), len(text), nl + nl + "COMMIT;" + nl))
    return Fix("missing-transaction", "Wrap the file in BEGIN; ... COMMIT;", line, column, tuple(edits)), None


def _header(f, config: Config, line: int, column: int) -> tuple[Fix | None, str | None]:

    if not config.header:
        return None, None
    if any(hdr.find(f.header, name) is not None for name in config.header):
        return None, "the header is there but incomplete: add the missing fields by hand"
    if hdr.late_header(f, config.header):
        return None, "the file has a header below its first statement: move it to the top by hand"
    title = _title(f)
    lines = []
    for line in hdr.skeleton(config.header).split("\n"):  # the template, its [...] replaced
        name, sep, _ = line[3:].partition(":")
        if sep:
            line = f"-- {name}: {title if title and hdr.normalize(name) == 'migration' else hdr.FIX_TODO}"
        lines.append(line)
    block = "\n".join(lines)
    nl = newline_of(f.text)
    insert = block.replace("\n", nl) + nl + (nl if f.text.strip() else "")
    return Fix("missing-header", "Insert the header skeleton", line, column, (Edit(0, 0, insert),)), None


def _title(f) -> str | None:
    """A migration title from the file's name: its description (``add_lead_score``, or
    ``Add-Lead-Score`` in a name the naming rule rejects) without the version in front."""
    from .authoring import title_of

    raw = f.description or re.sub(r"^[Vv]?\d[\d._-]*", "", f.name.removesuffix(".sql")).strip("_-. ")
    return title_of(raw) if re.search(r"[A-Za-z]", raw or "") else None


def _candidates(text: str, path: Path, config: Config, out: Outcome):
    """Fixes for the current findings, unverified."""
    findings, f = _findings(text, path, config, set(FIXABLE))
    if f is None or f.read_problem or f.problems:
        if f is not None and f.problems and findings:
            for x in findings:
                if x.rule in FIXABLE:
                    out.rejected.append((x.rule, x.line, x.column, "the file has a parse error: fix that first"))
        return [], findings
    by_rule: dict[str, dict] = {}
    fixes = []
    for x in findings:
        if x.rule in ("missing-if-not-exists", "missing-if-exists"):
            if x.rule not in by_rule:
                by_rule[x.rule] = _idempotency(f, config, x.rule)
            fix = by_rule[x.rule].get((x.line, x.column))
            why = None if fix else "no edit could be proved right (see the finding's help)"
        elif x.rule == "missing-transaction":
            fix, why = _transaction(f, config, x.line, x.column)
        elif x.rule == "missing-header":
            fix, why = _header(f, config, x.line, x.column)
        else:
            continue
        if fix is not None:
            fixes.append(fix)
        elif why:
            out.rejected.append((x.rule, x.line, x.column, why))
    return fixes, findings


def _same_but_wrapped(old: list, new: list) -> bool:
    """``new`` is ``old`` with one BEGIN inserted and a COMMIT appended."""
    begin, commit = _trees("BEGIN;")[0], _trees("COMMIT;")[0]
    if not new or new[-1] != commit:
        return False
    rest = new[:-1]
    return any(rest[i] == begin and rest[:i] + rest[i + 1 :] == old for i in range(len(rest)))


def _tree_problem(text: str, fix: Fix, old_trees: list) -> str | None:
    """Why the fix alone must be dropped, judged by the parse trees; None when they are right."""
    try:
        new_text = apply(text, fix.edits)
    except ValueError:
        return "its edits overlap"
    new_trees = _trees(new_text)
    if new_trees is None:
        return "the fixed file would not parse"
    if fix.rule == "missing-header":
        ok = new_trees == old_trees
    elif fix.rule == "missing-transaction":
        ok = _same_but_wrapped(old_trees, new_trees)
    else:  # one statement changed (the rewrite proved how), the others the same
        ok = len(new_trees) == len(old_trees) and sum(a != b for a, b in zip(old_trees, new_trees)) == 1
    return None if ok else "the fix would change the statements in a way it does not intend"


def _counts(findings) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in findings:
        out[x.rule] = out.get(x.rule, 0) + 1
    return out


def _findings_problem(before: list, after: list, fixes: list[Fix]) -> str | None:
    """Why the fixes must be dropped, judged by the findings after them; None when each fixed
    finding is gone and nothing new appeared."""
    old, new = _counts(before), _counts(after)
    fixed = _counts(fixes)
    allowed = set().union(*(_ALLOWED_NEW.get(r, set()) for r in fixed))
    for rule, n in fixed.items():
        if new.get(rule, 0) > old.get(rule, 0) - n:
            return "the finding would still be reported"
    grew = sorted(r for r, n in new.items() if r not in fixed and r not in allowed and n > old.get(r, 0))
    if grew:
        return f"the fixed file would get new findings ({', '.join(grew)})"
    return None


def _verify(text: str, path: Path, config: Config, fix: Fix, before: list, old_trees: list) -> str | None:
    """Why the fix must be dropped, or None when it is right."""
    why = _tree_problem(text, fix, old_trees)
    if why:
        return why
    after, _ = _findings(apply(text, fix.edits), path, config, None)
    if any(x.rule == fix.rule and x.line == fix.line and x.column == fix.column for x in after):
        return "the finding would still be reported"
    return _findings_problem(before, after, [fix])


def compute_all(text: str, path: Path, config: Config) -> Outcome:
    """The verified text fixes for ``text`` and the fixes dropped, with why. The fixes are
    checked together first (one re-check); when that fails, one by one."""
    out = Outcome()
    bom = text.startswith("\ufeff")
    body = text[1:] if bom else text
    path = Path(path)
    try:
        fixes, _ = _candidates(body, path, config, out)
        if not fixes:
            return out
        before, _ = _findings(body, path, config, None)
    except _Unverifiable as exc:
        out.rejected.append(("", 1, 1, f"no fix: {exc}"))
        return out
    old_trees = _trees(body) or []
    good = []
    for fix in fixes:
        why = _tree_problem(body, fix, old_trees)
        if why:
            out.rejected.append((fix.rule, fix.line, fix.column, why))
        else:
            good.append(fix)
    together = None
    if len(good) > 1:
        try:
            edits = [e for fx in sorted(good, key=lambda fx: FIXABLE.index(fx.rule)) for e in fx.edits]
            combined = apply(body, edits)
            if _trees(combined) is not None:
                after, _ = _findings(combined, path, config, None)
                together = _findings_problem(before, after, good) is None
        except (ValueError, _Unverifiable):
            together = False
    for fix in good:
        if not together:
            try:
                why = _verify(body, path, config, fix, before, old_trees)
            except _Unverifiable as exc:
                why = f"the fixed file cannot be re-checked: {exc}"
            if why:
                out.rejected.append((fix.rule, fix.line, fix.column, why))
                continue
        if bom:
            fix = replace(fix, edits=tuple(Edit(e.start + 1, e.end + 1, e.text) for e in fix.edits))
        out.fixes.append(fix)
    return out


def compute(text: str, path: Path, config: Config) -> list[Fix]:
    """The safe text fixes for the findings ``check`` reports on ``text`` (the content of
    ``path``), each verified; never renames, never writes."""
    return compute_all(text, path, config).fixes


# --- the whole file, for the CLI -----------------------------------------------------------


@dataclass
class FileResult:
    """A file's text before and after ``--fix``."""

    path: Path
    old: str  # decoded text (BOM kept as U+FEFF)
    new: str
    applied: list[Fix]
    rejected: list[tuple[str, int, int, str]]


def decode(data: bytes) -> str | None:
    """The file's text with a UTF-8 BOM kept as U+FEFF (so writing it back keeps it), or None
    when it is not UTF-8 (fixes are not offered on it)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def fix_text(text: str, path: Path, config: Config, rounds: int = 3) -> FileResult:
    """Apply every verified fix, re-computing after each round until nothing changes. Fixes that
    do not combine are applied one at a time."""
    current = text
    applied: list[Fix] = []
    rejected: list = []
    said: set[tuple[str, str]] = set()  # (rule, why) said in an earlier round
    for _ in range(rounds):
        outcome = compute_all(current, path, config)
        # a later round sees the text of the earlier fixes: the same refusal at moved lines is not new
        fresh = [r for r in outcome.rejected if (r[0], r[3]) not in said]
        for r in fresh:
            if r not in rejected:
                rejected.append(r)
        said.update((r[0], r[3]) for r in fresh)
        if not outcome.fixes:
            break
        edits = [e for fx in sorted(outcome.fixes, key=lambda fx: FIXABLE.index(fx.rule)) for e in fx.edits]
        try:
            candidate = apply(current, edits)
        except ValueError:
            candidate = None
        if candidate is not None and _trees(candidate.lstrip("\ufeff")) is not None:
            current = candidate
            applied.extend(outcome.fixes)
            continue
        # they do not combine: take the first one only and look again
        current = apply(current, outcome.fixes[0].edits)
        applied.append(outcome.fixes[0])
    return FileResult(Path(path), text, current, applied, rejected)


def unified_diff(display: str, old: str, new: str) -> str:
    a = old.lstrip("\ufeff").splitlines(keepends=True)
    b = new.lstrip("\ufeff").splitlines(keepends=True)
    lines = []
    for ln in difflib.unified_diff(a, b, f"a/{display}", f"b/{display}"):
        if not ln.endswith(("\n", "\r")):
            ln += "\n\\ No newline at end of file\n"
        lines.append(ln)
    return "".join(lines)


def rename_target(project, f) -> Path | None:
    """The name ``file-naming`` suggests for the migration ``f`` (same directory), or None."""
    from .analysis import naming as nm

    if f.kind != "migration" or f.mdir not in project.groups:
        return None
    sug = nm.plan(project, f.mdir).get(f.path)
    if sug is None or not sug.name or sug.name == f.name:
        return None
    if not re.fullmatch(r"[^/\\]+\.sql", sug.name):
        return None
    return f.path.with_name(sug.name)


# --- `check --fix` ---------------------------------------------------------------------------


def run_cli(
    paths, config: Config, cwd: Path, changes=None, dry_run: bool = False, unsafe: bool = False, out=None, err=None
) -> tuple[list[str], bool]:
    """Fix the files ``check`` would report on. Writes each fixed file atomically (``dry_run``:
    prints a unified diff instead), renames misnamed migrations with ``unsafe`` (else says what it
    would rename). Messages go to ``err``, diffs to ``out``. Returns the paths to check afterwards
    (renamed ones replaced) and whether anything changed (or would)."""
    import sys

    from . import engine, layout
    from .fsutil import ChangedError, atomic_write, read_regular

    out = out or sys.stdout
    err = err or sys.stderr
    project = engine.collect(paths, config, cwd, changes)
    changed = False
    renames: dict[str, str] = {}
    # one run over everything first: only the files with a fixable finding are looked at closely
    chosen = sorted(set(FIXABLE) & set(config.enabled_rules()))
    todo: set[str] = set()
    if chosen:
        pre = engine.run(
            engine.collect(paths, config.replace(select=tuple(chosen)), cwd, changes),
            config.replace(select=tuple(chosen)),
        )
        todo = {x.path for x in pre.findings if not x.suppressed and x.rule in FIXABLE}
    for f in project.files:
        if not project.is_reported(f) or f.kind not in ("migration", "rollback") or f.display not in todo:
            continue
        try:
            data = read_regular(f.path, getattr(config, "max_file_size", None))[0]
        except OSError:
            continue  # unreadable-file reports it
        text = decode(data)
        if text is None:
            continue  # encoding-error: never rewrite a file in an encoding we do not write
        result = fix_text(text, f.path, config)
        for rule, line, column, why in result.rejected:
            where = f"{f.display}:{line}:{column}: {rule}" if rule else f.display
            err.write(f"migcheck: not fixed: {where}: {why}\n")
        if result.new != text:
            changed = True
            counts: dict[str, int] = {}
            for fx in result.applied:
                counts[fx.rule] = counts.get(fx.rule, 0) + 1
            what = ", ".join(f"{r} ({counts[r]})" if counts[r] > 1 else r for r in FIXABLE if r in counts)
            if dry_run:
                out.write(unified_diff(f.display, text, result.new))
                err.write(f"migcheck: would fix {f.display}: {what}\n")
            else:
                try:  # (compared with what was read right before the new text takes the name)
                    atomic_write(f.path, result.new, overwrite=True, expect=data)
                except ChangedError:
                    err.write(f"migcheck: not fixed: {f.display} changed while it was being fixed\n")
                    continue
                except OSError as exc:
                    err.write(f"migcheck: not fixed: cannot write {f.display}: {exc.strerror or exc}\n")
                    continue
                err.write(f"migcheck: fixed {f.display}: {what}\n")
    # renames last: the text fixes above used the old names
    for f in project.files:
        if not project.is_reported(f) or f.kind != "migration" or "file-naming" not in config.enabled_rules():
            continue
        target = rename_target(project, f)
        if target is None:
            continue
        shown = layout.display(target, cwd)
        if target.exists():
            err.write(f"migcheck: not renamed: {f.display}: {shown} already exists\n")
            continue
        if not unsafe:  # (what --fix would leave, --dry-run included: it previews --fix as given)
            err.write(
                f"migcheck: would rename {f.display} -> {shown} "
                "(renaming needs --unsafe-fixes: other tooling may refer to the old name)\n"
            )
            continue
        if dry_run:
            err.write(f"migcheck: would rename {f.display} -> {shown}\n")
            changed = True
            continue
        try:
            os.rename(f.path, target)  # same directory: atomic
        except OSError as exc:
            err.write(f"migcheck: not renamed: {f.display}: {exc.strerror or exc}\n")
            continue
        changed = True
        renames[os.path.abspath(f.path)] = str(target)
        err.write(f"migcheck: renamed {f.display} -> {shown}\n")
    new_paths = []
    for p in paths:
        key = os.path.abspath(p if os.path.isabs(p) else cwd / p)
        new_paths.append(renames.get(key, p))
    return new_paths, changed
