"""Suppression comments: ``-- migcheck: ignore <rule>[, ...] -- <reason>`` and ``ignore-file``.

Engine layer: reads a file's comments, says which statement each suppression covers, and marks
the findings it covers as suppressed. It never imports a rule module.

Other tools' markers that teams already have in their files count as suppressions, with the
tool's name as the reason (docs/squawk-parity.md, "Other tools' markers"):

- squawk's ``-- squawk-ignore <rule>[, ...]`` (the next statement, or the statement the comment is
  in or ends) and ``-- squawk-ignore-file [<rule>, ...]`` (the whole file; with no rule, every
  migcheck rule that covers a squawk rule). squawk's rule ids expand to the migcheck rules that
  cover them (``registry.SQUAWK``); an unknown id is an ``unknown-rule`` finding, as in ours.
- diesel-guard's ``-- safety-assured:start`` ... ``-- safety-assured:end``: every statement that
  starts between the two lines, for the rules of the ``safety`` group (diesel-guard's checks are
  its safety checks). A marker without its pair suppresses nothing and is an ``unknown-rule``
  finding (diesel-guard refuses such a file).

A marker of another tool never draws ``unused-suppression``: it serves that tool too, whose rules
reach further than the migcheck rules they map to.

A suppression covers one statement: the next one when the comment is on a line of its own,
the one it ends otherwise (CONVENTIONS.md). A finding is covered when its position lies in that
statement, from its first token up to (not including) the position just past it: never the rest
of the line, so ``BEGIN; DROP TABLE x;`` after the comment covers the BEGIN only.

A suppression travels as plain data (it is cached per file and comes back from pool workers):
``(file_wide, rules, reason, statement line, statement column, statement end line, statement
end column, comment line, comment column, comment end column, names)``; the statement's four are
None for a file-wide one or one that covers no statement; ``names`` pairs each id as written
with the rules it stands for, for ``unused-suppression`` (empty for another tool's marker).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import registry
from .model import Comment, Finding, Hit, Record, Statement

if TYPE_CHECKING:
    from .files import MigrationFile

DIRECTIVE = re.compile(r"^(?:--|/\*)\s*migcheck:\s*(ignore-file|ignore)\b(.*?)(?:\*/)?\s*$", re.S)
SQUAWK_DIRECTIVE = re.compile(r"^(?:--|/\*)\s*(squawk-ignore-file|squawk-ignore)(?![\w-])(.*?)(?:\*/)?\s*$", re.S)
SAFETY_ASSURED = re.compile(r"^--\s*safety-assured:(start|end)\s*$", re.I)
SQUAWK_REASON = "squawk-ignore"
DIESEL_GUARD_REASON = "diesel-guard safety-assured"
_MARKERS = ("migcheck:", "squawk-ignore", "safety-assured")


class Suppression(Record):
    """A ``migcheck: ignore`` / ``ignore-file`` comment (or another tool's marker) and the rules it names."""

    __slots__ = ("comment", "file_wide", "rules", "reason", "used", "statement", "names", "__dict__")

    def __init__(
        self,
        comment: Comment,
        file_wide: bool,
        rules: list[str],
        reason: str,
        used: set[str] | None = None,
        statement: Statement | None = None,
        names: tuple[tuple[str, tuple[str, ...]], ...] = (),
    ):
        self.comment = comment
        self.file_wide = file_wide
        self.rules = rules  # canonical ids that exist
        self.reason = reason
        self.used = set() if used is None else used
        self.statement = statement
        # each id as written and the rules it stands for (unused-suppression); empty: another tool's marker
        self.names = names


def _known(
    f: MigrationFile, c: Comment, names: list[str], hits: list[Hit], what: str
) -> list[tuple[str, tuple[str, ...]]]:
    """``names`` that are rule ids, aliases or squawk ids, with the rules each stands for; an
    ``unknown-rule`` hit for each other one."""
    known = []
    for name in names:
        canon = registry.expand(name)
        if not canon:
            close = registry.suggest(name)
            hits.append(
                Hit(
                    f,
                    c.line,
                    c.column,
                    f"{what} names unknown rule '{name}'" + (f"; did you mean `{close}`?" if close else ""),
                    "Check the id with `migcheck rules`; the comment's other ids still apply.",
                    rule_override="unknown-rule",
                )
            )
        else:
            known.append((name, canon))
    return known


def _ids(known: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    return list(dict.fromkeys(r for _, canon in known for r in canon))


def _covered(c: Comment, stmts: list[Statement], inside: bool = False) -> Statement | None:
    """The statement a comment covers: the next one when it is on a line of its own, the one it
    ends otherwise; with ``inside``, the one it is in (squawk's markers may sit inside a statement)."""
    if inside:
        around = next((s for s in stmts if s.start < c.start < s.end), None)
        if around is not None:
            return around
    if c.own_line:
        return next((s for s in stmts if s.start > c.start), None)
    return next((s for s in reversed(stmts) if s.start < c.start and s.end_line >= c.line), None)


def suppressions(f: MigrationFile, hits: list[Hit]) -> list[Suppression]:
    """The file's suppression comments; problems with them (unknown rule, no reason) are
    appended to ``hits``."""
    if not any(marker in f.text for marker in _MARKERS):
        return []
    out = []
    blocks: list[Comment] = []  # diesel-guard's safety-assured markers, in file order
    for c in f.comments:
        m = DIRECTIVE.match(c.text)
        if not m:
            if SAFETY_ASSURED.match(c.text) and c.own_line:
                blocks.append(c)
            elif (m := SQUAWK_DIRECTIVE.match(c.text)) is not None:
                out.extend(_squawk(f, c, m, hits))
            continue
        # inside a DO block, a suppression covers the statements of the body, and its lines that
        # evaluate an expression or run dynamic SQL
        parent = next((s for s in f.statements if s.kind == "DoStmt" and s.start < c.start < s.end), None)
        if parent:
            from .analysis import routines  # (it needs the parser: a warm run does not load it)

            stmts = [s for s in f.all_statements if s.parent is parent] + routines.do_lines(f, parent)
            stmts.sort(key=lambda s: s.start)
        else:
            stmts = f.statements
        directive, rest = m.group(1), m.group(2)
        ids_part, sep, reason = rest.partition("--")
        names = [n for n in re.split(r"[\s,]+", ids_part.strip()) if n]
        known = _known(f, c, names, hits, "suppression comment")
        reason = reason.strip()
        if not names:
            hits.append(
                Hit(
                    f,
                    c.line,
                    c.column,
                    "suppression comment names no rule",
                    "Name the rules to suppress: `-- migcheck: ignore <rule-id> -- <reason>`.",
                    rule_override="unknown-rule",
                )
            )
            continue
        if not reason:
            hits.append(
                Hit(
                    f,
                    c.line,
                    c.column,
                    f"suppression of {', '.join(names)} has no reason, so it suppresses nothing",
                    f"Add the review record after `--`: `-- migcheck: {directive} {', '.join(names)} -- <why this is safe, who approved>`.",
                    rule_override="suppression-missing-reason",
                )
            )
            continue
        sup = Suppression(c, directive == "ignore-file", _ids(known), reason, names=tuple(known))
        if not sup.file_wide:
            sup.statement = _covered(c, stmts)
        out.append(sup)
    if blocks:
        out.extend(_safety_assured(f, blocks, hits))
    return out


def _squawk(f: MigrationFile, c: Comment, m: re.Match, hits: list[Hit]) -> list[Suppression]:
    """squawk's ``squawk-ignore`` / ``squawk-ignore-file`` marker (squawk's own syntax: ids
    separated by commas, an optional trailing ``-- comment``)."""
    directive, rest = m.group(1), m.group(2)
    ids_part, _, comment = rest.partition("--")
    names = [n for n in re.split(r"[\s,]+", ids_part.strip()) if n]
    file_wide = directive == "squawk-ignore-file"
    if not names:
        if not file_wide:
            return []  # squawk: a bare squawk-ignore ignores nothing
        rules = list(dict.fromkeys(r for canon in registry.SQUAWK.values() for r in canon))
    else:
        rules = _ids(_known(f, c, names, hits, f"`{directive}` comment"))
    if not rules:
        return []
    comment = comment.strip()
    reason = f"{SQUAWK_REASON}: {comment}" if comment else SQUAWK_REASON
    sup = Suppression(c, file_wide, rules, reason)
    if not file_wide:
        sup.statement = _covered(c, f.statements, inside=True)
    return [sup]


def _safety_assured(f: MigrationFile, markers: list[Comment], hits: list[Hit]) -> list[Suppression]:
    """diesel-guard's ``safety-assured:start`` ... ``safety-assured:end`` blocks: one suppression
    of the safety rules per statement that starts between the two lines (as diesel-guard decides);
    markers inside a statement (a DO body) are not diesel-guard's, and are left alone."""
    safety = [rid for rid, r in registry.load().items() if r.group == "safety"]
    out: list[Suppression] = []
    start: Comment | None = None

    def problem(c: Comment, message: str) -> None:
        hits.append(
            Hit(
                f,
                c.line,
                c.column,
                message,
                "Pair every `-- safety-assured:start` with a `-- safety-assured:end` after it (blocks do not "
                "nest), or suppress with `-- migcheck: ignore <rule-id> -- <reason>`.",
                rule_override="unknown-rule",
            )
        )

    for c in markers:
        if any(s.start < c.start < s.end for s in f.statements):
            continue
        is_start = SAFETY_ASSURED.match(c.text).group(1).lower() == "start"
        if is_start and start is not None:
            problem(
                start,
                f"diesel-guard `safety-assured:start` on line {start.line} is not closed before the next "
                f"start on line {c.line}, so it suppresses nothing",
            )
            start = c
        elif is_start:
            start = c
        elif start is None:
            problem(c, "diesel-guard `safety-assured:end` has no `safety-assured:start` before it")
        else:
            for st in f.statements:
                if start.line < st.line < c.line:
                    out.append(Suppression(start, False, safety, DIESEL_GUARD_REASON, statement=st))
            start = None
    if start is not None:
        problem(
            start, "diesel-guard `safety-assured:start` has no `safety-assured:end` after it, so it suppresses nothing"
        )
    return out


def records(f: MigrationFile, hits: list[Hit]) -> list[tuple]:
    """The file's suppressions as plain data (see the module's docstring)."""
    out = []
    for sup in suppressions(f, hits):
        c = sup.comment
        st = sup.statement
        where = (st.line, st.column, st.end_line, st.end_column) if st else (None, None, None, None)
        out.append(
            (
                sup.file_wide,
                tuple(sup.rules),
                sup.reason,
                *where,
                c.line,
                c.column,
                c.column + len(c.text.splitlines()[0]),
                sup.names,
            )
        )
    return out


WIDTH = 11  # items of a record


def covers(start: tuple[int, int], end: tuple[int, int], line: int, column: int) -> bool:
    """Is the position ``line``:``column`` in the statement from ``start`` (its first token) to
    ``end`` (just past it)?"""
    return start <= (line, column) < end


class Table:
    """The suppressions of the reported files, matched against their findings."""

    def __init__(self) -> None:
        self.by_file: dict[str, list[list]] = {}

    def add(self, path: str, sups: list[tuple]) -> None:
        self.by_file[path] = [[*s, set()] for s in sups]

    def apply(self, finding: Finding, rid: str, path: str) -> None:
        """Mark ``finding`` (of rule ``rid`` on the file at ``path``) suppressed when a
        suppression covers it."""
        if rid == "suppression-missing-reason" or path not in self.by_file:
            return
        line, column = finding.line, finding.column
        for sup in self.by_file[path]:
            file_wide, sup_rules, reason, s_line, s_col, e_line, e_col = sup[:7]
            if rid not in sup_rules:
                continue
            if file_wide or (s_line is not None and covers((s_line, s_col), (e_line, e_col), line, column)):
                finding.suppressed, finding.reason = True, reason
                sup[WIDTH].add(rid)
                break

    def unused(self, path: str, display: str, enabled, severity: str, ignored=frozenset()) -> list[Finding]:
        """``unused-suppression`` findings of the file at ``path``: ids of enabled rules (other
        than ``ignored``, rules this run never emits) that suppressed nothing."""
        out = []
        for file_wide, _rules, _reason, *_, c_line, c_col, c_end, names, used in self.by_file.get(path, ()):
            # an id as written is unused when none of the rules it stands for suppressed anything
            unused = [
                name
                for name, canon in names
                if not used.intersection(canon) and any(r in enabled and r not in ignored for r in canon)
            ]
            if unused:
                what = "file" if file_wide else "statement"
                out.append(
                    Finding(
                        "unused-suppression",
                        severity,
                        display,
                        c_line,
                        c_col,
                        f"suppression of {', '.join(unused)} matches no finding in this {what}",
                        "Remove the stale id from the comment (or the whole comment) so it cannot hide a future finding.",
                        c_line,
                        c_end,
                    )
                )
        return out
