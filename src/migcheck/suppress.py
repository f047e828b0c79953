"""Suppression comments: ``-- migcheck: ignore <rule>[, ...] -- <reason>`` and ``ignore-file``.

Engine layer: reads a file's comments, says which statement each suppression covers, and marks
the findings it covers as suppressed. It never imports a rule module.

A suppression covers one statement: the next one when the comment is on a line of its own,
the one it ends otherwise (CONVENTIONS.md). A finding is covered when its position lies in that
statement, from its first token up to (not including) the position just past it: never the rest
of the line, so ``BEGIN; DROP TABLE x;`` after the comment covers the BEGIN only.

A suppression travels as plain data (it is cached per file and comes back from pool workers):
``(file_wide, rules, reason, statement line, statement column, statement end line, statement
end column, comment line, comment column, comment end column)``; the statement's four are None
for a file-wide one or one that covers no statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import registry
from .model import Comment, Finding, Hit, Statement

if TYPE_CHECKING:
    from .files import MigrationFile

DIRECTIVE = re.compile(r"^(?:--|/\*)\s*migcheck:\s*(ignore-file|ignore)\b(.*?)(?:\*/)?\s*$", re.S)


@dataclass
class Suppression:
    """A ``migcheck: ignore`` / ``ignore-file`` comment and the rules it names."""

    comment: Comment
    file_wide: bool
    rules: list[str]  # canonical ids that exist
    reason: str
    used: set[str] = field(default_factory=set)
    statement: Statement | None = None


def suppressions(f: MigrationFile, hits: list[Hit]) -> list[Suppression]:
    """The file's suppression comments; problems with them (unknown rule, no reason) are
    appended to ``hits``."""
    if "migcheck:" not in f.text:
        return []
    out = []
    for c in f.comments:
        # inside a DO block, a suppression covers the statements of the body
        m = DIRECTIVE.match(c.text)
        if not m:
            continue
        parent = next((s for s in f.statements if s.kind == "DoStmt" and s.start < c.start < s.end), None)
        if parent:  # its SQL statements, and its lines that evaluate an expression or run dynamic SQL
            from .analysis import routines  # (it needs the parser: a warm run does not load it)

            stmts = [s for s in f.all_statements if s.parent is parent] + routines.do_lines(f, parent)
            stmts.sort(key=lambda s: s.start)
        else:
            stmts = f.statements
        directive, rest = m.group(1), m.group(2)
        ids_part, sep, reason = rest.partition("--")
        names = [n for n in re.split(r"[\s,]+", ids_part.strip()) if n]
        known = []
        for name in names:
            canon = registry.resolve(name)
            if canon is None:
                hits.append(Hit(f, c.line, c.column,
                                f"suppression comment names unknown rule '{name}'",
                                "Check the id with `migcheck rules`; the comment's other ids still apply.",
                                rule_override="unknown-rule"))
            else:
                known.append(canon)
        reason = reason.strip()
        if not names:
            hits.append(Hit(f, c.line, c.column, "suppression comment names no rule",
                            "Name the rules to suppress: `-- migcheck: ignore <rule-id> -- <reason>`.",
                            rule_override="unknown-rule"))
            continue
        if not reason:
            hits.append(Hit(f, c.line, c.column,
                            f"suppression of {', '.join(names)} has no reason, so it suppresses nothing",
                            f"Add the review record after `--`: `-- migcheck: {directive} {', '.join(names)} -- <why this is safe, who approved>`.",
                            rule_override="suppression-missing-reason"))
            continue
        sup = Suppression(c, directive == "ignore-file", known, reason)
        if not sup.file_wide:
            if c.own_line:
                sup.statement = next((s for s in stmts if s.start > c.start), None)
            else:
                sup.statement = next((s for s in reversed(stmts) if s.start < c.start and s.end_line >= c.line), None)
        out.append(sup)
    return out


def records(f: MigrationFile, hits: list[Hit]) -> list[tuple]:
    """The file's suppressions as plain data (see the module's docstring)."""
    out = []
    for sup in suppressions(f, hits):
        c = sup.comment
        st = sup.statement
        where = (st.line, st.column, st.end_line, st.end_column) if st else (None, None, None, None)
        out.append((sup.file_wide, tuple(sup.rules), sup.reason, *where,
                    c.line, c.column, c.column + len(c.text.splitlines()[0])))
    return out


WIDTH = 10  # items of a record


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
        for file_wide, sup_rules, reason, *_, c_line, c_col, c_end, used in self.by_file.get(path, ()):
            unused = [r for r in sup_rules if r not in used and r in enabled and r not in ignored]
            if unused:
                what = "file" if file_wide else "statement"
                out.append(Finding(
                    "unused-suppression", severity, display, c_line, c_col,
                    f"suppression of {', '.join(unused)} matches no finding in this {what}",
                    "Remove the stale id from the comment (or the whole comment) so it cannot hide a future finding.",
                    c_line, c_end))
        return out
