"""Find the files, run the enabled rules, apply suppressions and severities, collect findings.

The engine knows nothing about output formats: it returns a ``Result``.
"""

from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable

from . import header as header_mod
from . import layout, plpgsql, registry, source
from .config import Config, ConfigError
from .verify import RULES as VERIFY_RULES
from .model import SEVERITY_RANK, Comment, Finding, Header, Hit, Statement


class MigrationFile:
    """One SQL file of the project. Reading and parsing happen on first use, so sibling files
    that only serve cross-file rules cost a directory listing, not a parse."""

    def __init__(self, path: Path, display: str, kind: str, mdir: Path, config: Config,
                 content: bytes | None = None):
        self.path = path
        self.display = display
        self.kind = kind
        self.mdir = mdir  # the migration directory the file belongs to
        self.name = path.name
        self.config = config
        self.content = content  # in-memory bytes (an editor's unsaved buffer) instead of the disk's
        ident = layout.identify(path, kind, config)
        self.version: str | None = ident.version
        self.date: str | None = ident.date
        self.seq: int | None = ident.seq
        self.description: str | None = ident.description

    def __repr__(self) -> str:
        return f"MigrationFile({self.display!r}, {self.kind})"

    # --- reading -------------------------------------------------------------------------
    @cached_property
    def _loaded(self) -> tuple[str | None, str | None, str | None, tuple[int, int] | None]:
        """(text, read problem rule id, message, (line, column) of the problem)."""
        try:
            data = self.content if self.content is not None else self.path.read_bytes()
        except FileNotFoundError:
            return None, "unreadable-file", "the file disappeared while it was being checked", None
        except PermissionError:
            return None, "unreadable-file", "permission denied: migcheck cannot read this file", None
        except IsADirectoryError:
            return None, "unreadable-file", "this is a directory, not a file", None
        except OSError as exc:
            return None, "unreadable-file", f"cannot read the file: {exc.strerror or exc}", None
        try:
            return source.decode(data), None, None, None
        except source.DecodeError as exc:
            where = None
            if exc.offset is not None:
                before = data[: exc.offset]
                line_start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
                where = (before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1,
                         len(before[line_start:].decode("utf-8", errors="replace")) + 1)
            return None, "encoding-error", str(exc), where

    @property
    def text(self) -> str:
        return self._loaded[0] or ""

    @property
    def read_problem(self) -> tuple[str, str, tuple[int, int] | None] | None:
        text, rid, msg, where = self._loaded
        return None if rid is None else (rid, msg, where)

    @cached_property
    def positions(self) -> source.Positions:
        return source.Positions(self.text)

    @cached_property
    def _parsed(self) -> source.Parsed:
        return source.parse(self.text, self.positions)

    @property
    def statements(self) -> list[Statement]:
        """Top-level statements, in file order."""
        return self._parsed.statements

    @property
    def problems(self):
        return self._parsed.problems

    @cached_property
    def all_statements(self) -> list[Statement]:
        """Top-level statements and, after each ``DO`` block, the statements its body runs."""
        out: list[Statement] = []
        for st in self.statements:
            out.append(st)
            if st.kind == "DoStmt":
                out.extend(plpgsql.inner_statements(st, self.text, self.positions))
        return out

    @cached_property
    def comments(self) -> list[Comment]:
        """Every comment, including those inside DO-block bodies (which the file's scanner
        sees as part of one string), in file order."""
        found = source.comments(self.text, self.positions)
        for st in self.statements:
            if st.kind == "DoStmt":
                found.extend(plpgsql.body_comments(st, self.text, self.positions))
        found.sort(key=lambda c: c.start)
        return found

    @cached_property
    def header(self) -> Header:
        first = self.statements[0].start if self.statements else None
        if self.problems:
            # the first statement may have failed to parse: the header ends at the first problem
            first_problem = self.positions.line_starts[self.problems[0].line - 1]
            first = first_problem if first is None else min(first, first_problem)
        return header_mod.header(self.text, first, self.positions)

    # --- helpers for rules ---------------------------------------------------------------
    def hit(self, message: str, help: str, stmt: Statement | None = None, *,
            line: int | None = None, column: int | None = None) -> Hit:
        """A finding at ``stmt`` (its first token), at ``line``/``column``, or at 1:1."""
        if stmt is not None:
            return Hit(self, stmt.line, stmt.column, message, help, stmt.end_line, stmt.end_column)
        return Hit(self, line or 1, column or 1, message, help)


@dataclass
class Group:
    """One migration directory and its rollback files."""

    mdir: Path
    migrations: list[MigrationFile] = field(default_factory=list)
    rollbacks: list[MigrationFile] = field(default_factory=list)


@dataclass
class Changes:
    """The files changed since a baseline (``check --diff REF``), as absolute paths. The engine
    reports only the added and modified files; ``modified-migration`` reads the rest. How the
    changes were found (git) is not the engine's business."""

    ref: str  # the baseline as the user named it, e.g. ``origin/main``
    base: str  # the commit compared against (the merge base), short form
    added: set[Path] = field(default_factory=set)  # added since the base, untracked files included
    modified: set[Path] = field(default_factory=set)  # existed at the base, content differs now
    deleted: set[Path] = field(default_factory=set)  # existed at the base, gone now
    # (first line, last line) of the first change in a modified file; None when the content is
    # the same after all (a mode change only)
    locate: Callable[[Path], tuple[int, int] | None] | None = None
    _modified_keys: set[str] | None = field(default=None, init=False, repr=False, compare=False)

    def is_modified(self, path: Path) -> bool:
        if self._modified_keys is None:
            self._modified_keys = {_same_file_key(p) for p in self.modified}
        return _same_file_key(path) in self._modified_keys


def _same_file_key(path: Path) -> str:
    """Compare paths from different sources (git, the config root, the command line) even when
    a directory on the way is a symbolic link: resolve the directory, keep the file name."""
    return os.path.join(os.path.realpath(path.parent), path.name)


class Project:
    def __init__(self, config: Config, files: list[MigrationFile], reported: set[Path]):
        self.config = config
        self.files = files
        self.reported = reported
        self.changes: Changes | None = None  # set by ``check --diff``
        self.deleted: list[MigrationFile] = []  # files of the checked directories deleted since the base
        self.groups: dict[Path, Group] = {}
        for f in files:
            g = self.groups.setdefault(f.mdir, Group(f.mdir))
            (g.rollbacks if f.kind == "rollback" else g.migrations if f.kind == "migration" else []).append(f)
        for g in self.groups.values():
            g.migrations.sort(key=lambda f: f.name)
            g.rollbacks.sort(key=lambda f: f.name)

    def is_reported(self, f: MigrationFile) -> bool:
        return f.path in self.reported

    def rollback_path(self, migration: MigrationFile) -> Path | None:
        if migration.version is None:
            return None
        return migration.mdir / self.config.rollback.format(version=migration.version)

    def rollback_of(self, migration: MigrationFile) -> MigrationFile | None:
        want = self.rollback_path(migration)
        if want is None:
            return None
        for r in self.groups[migration.mdir].rollbacks:
            if r.path == want:
                return r
        return None


@dataclass
class InternalError:
    rule: str
    path: str
    detail: str


@dataclass
class Result:
    findings: list[Finding]
    files: list[MigrationFile]
    errors: list[InternalError]

    def summary(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0}
        suppressed = 0
        for f in self.findings:
            if f.suppressed:
                suppressed += 1
            else:
                counts[f.severity] += 1
        return {"files": len(self.files), "errors": counts["error"], "warnings": counts["warning"],
                "infos": counts["info"], "suppressed": suppressed}

    def failed(self, fail_on: str) -> bool:
        threshold = SEVERITY_RANK[fail_on]
        return any(not f.suppressed and SEVERITY_RANK[f.severity] >= threshold for f in self.findings)


# --- discovery ---------------------------------------------------------------------------

_display = layout.display
rollback_name_regex = layout.rollback_name_regex


def collect(paths: Iterable[str], config: Config, cwd: Path, changes: Changes | None = None,
            overlay: dict[Path, bytes] | None = None) -> Project:
    """Build the project: the files to report on and their sibling files. With ``changes``
    (``--diff``), only the added and modified files are reported; the siblings are all there.
    ``overlay`` maps absolute paths to in-memory contents that replace the disk's (an editor's
    unsaved buffers); an overlaid path need not exist on disk."""
    lay = layout.Layout(config)
    overlay = {Path(os.path.abspath(p)): data for p, data in (overlay or {}).items()}
    targets: list[Path] = []
    given = list(paths)
    if not given:
        dirs = [config.root / d for d in config.migrations]
        existing = [d for d in dirs if d.is_dir()]
        if not existing:
            raise ConfigError(
                f"no migrations directory found (looked for {', '.join(_display(d, cwd) for d in dirs)}); "
                "pass paths to check or set `migrations` in the configuration")
        given = [str(d) for d in existing]
    scope_dirs: list[Path] = []
    for p in given:
        path = Path(p)
        if not path.is_absolute():
            path = cwd / path
        if path.is_dir():
            scope_dirs.append(path)
            targets.extend(lay.files_in(path))
        elif path.exists() or path.is_symlink() or Path(os.path.abspath(path)) in overlay:
            targets.append(path)
        else:
            raise ConfigError(f"path not found: {p}")
    files: dict[Path, MigrationFile] = {}
    reported: set[Path] = set()

    def add(path: Path) -> None:
        key = Path(os.path.abspath(path))
        if key not in files:
            kind, mdir = lay.classify(key)
            files[key] = MigrationFile(key, _display(key, cwd), kind, mdir, config, overlay.get(key))

    for t in targets:
        add(t)
        reported.add(Path(os.path.abspath(t)))
    for mdir in {f.mdir for f in list(files.values())}:
        for sib in lay.siblings(mdir):
            add(sib)
        for extra in overlay:  # unsaved new files of the same directory
            if extra.name.endswith(".sql") and lay.classify(extra)[1] == mdir:
                add(extra)
    ordered = sorted(files.values(), key=lambda f: f.display)
    project = Project(config, ordered, reported)
    if changes is not None:
        _restrict(project, changes, scope_dirs, lay, cwd)
    return project


def _restrict(project: Project, changes: Changes, scope_dirs: list[Path], lay: layout.Layout, cwd: Path) -> None:
    """Report only the files added or modified since the baseline; keep the deleted files of
    the checked directories for ``modified-migration``."""
    project.changes = changes
    changed = {_same_file_key(p) for p in changes.added | changes.modified}
    project.reported = {p for p in project.reported if _same_file_key(p) in changed}
    roots = [os.path.realpath(d) for d in scope_dirs]
    for gone in sorted(changes.deleted):
        if not gone.name.endswith(".sql") or gone.exists():
            continue
        key = _same_file_key(gone)
        for root in roots:
            rel = os.path.relpath(key, root)
            if rel.startswith(os.pardir + os.sep) or rel == os.pardir or os.path.isabs(rel):
                continue
            if any(part.startswith(".") or part == "node_modules" for part in Path(rel).parts[:-1]):
                continue
            path = Path(os.path.abspath(gone))
            kind, mdir = lay.classify(path)
            project.deleted.append(MigrationFile(path, _display(path, cwd), kind, mdir, project.config))
            project.reported.add(path)
            break


# --- running the rules -------------------------------------------------------------------

@dataclass
class Context:
    config: Config
    project: Project


_DIRECTIVE = re.compile(r"^(?:--|/\*)\s*migcheck:\s*(ignore-file|ignore)\b(.*?)(?:\*/)?\s*$", re.S)


@dataclass
class Suppression:
    comment: Comment
    file_wide: bool
    rules: list[str]  # canonical ids that exist
    reason: str
    used: set[str] = field(default_factory=set)
    statement: Statement | None = None


def _suppressions(f: MigrationFile, hits: list[Hit]) -> list[Suppression]:
    if "migcheck:" not in f.text:
        return []
    out = []
    for c in f.comments:
        # inside a DO block, a suppression covers the statements of the body
        parent = next((s for s in f.statements if s.kind == "DoStmt" and s.start < c.start < s.end), None)
        stmts = [s for s in f.all_statements if s.parent is parent] if parent else f.statements
        m = _DIRECTIVE.match(c.text)
        if not m:
            continue
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


def run(project: Project, config: Config) -> Result:
    rules = config.enabled_rules()
    ctx = Context(config, project)
    hits_by_rule: list[tuple[str, Hit]] = []
    errors: list[InternalError] = []
    reported = [f for f in project.files if project.is_reported(f)]

    def call(rule: registry.Rule, target, path: str) -> None:
        try:
            for h in rule.func(target, ctx) or ():
                hits_by_rule.append((h.rule_override or rule.id, h))
        except Exception as exc:  # a broken rule must not hide the other findings
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            errors.append(InternalError(rule.id, path, f"{type(exc).__name__}: {exc} ({Path(tb.filename).name}:{tb.lineno})"))

    file_rules = [r for r in rules.values() if r.scope == "file"]
    project_rules = [r for r in rules.values() if r.scope == "project"]
    readable = []
    for f in reported:
        problem = f.read_problem
        if problem:
            rid, msg, where = problem
            line, col = where or (1, 1)
            helps = {
                "encoding-error": "Save the file as UTF-8 (most editors: 'Save with encoding'); migcheck cannot check what it cannot read.",
                "unreadable-file": "Make the file readable by the user running migcheck, or remove it from the migrations directory.",
            }
            if rid in rules:
                hits_by_rule.append((rid, Hit(f, line, col, msg, helps[rid])))
            continue
        readable.append(f)
        for r in file_rules:
            if f.kind in r.kinds:
                call(r, f, f.display)
    for r in project_rules:
        call(r, project, "(project)")

    # suppressions and the three rules about them
    sups_by_file: dict[Path, list[Suppression]] = {}
    extra: list[Hit] = []
    for f in readable:
        sups_by_file[f.path] = _suppressions(f, extra)
    for h in extra:
        hits_by_rule.append((h.rule_override, h))

    findings: list[Finding] = []
    all_rules = registry.load()
    for rid, h in hits_by_rule:
        if rid not in rules or not project.is_reported(h.file):
            continue
        finding = Finding(rid, config.severity_of(all_rules[rid]), h.file.display, h.line, h.column,
                          h.message, h.help, h.end_line, h.end_column)
        if rid != "suppression-missing-reason":
            for sup in sups_by_file.get(h.file.path, ()):
                if rid not in sup.rules:
                    continue
                if sup.file_wide or (sup.statement is not None and sup.statement.line <= h.line <= sup.statement.end_line):
                    finding.suppressed, finding.reason = True, sup.reason
                    sup.used.add(rid)
                    break
        findings.append(finding)
    if "unused-suppression" in rules:
        for f in readable:
            for sup in sups_by_file.get(f.path, ()):
                # verify's rules are never emitted by check: their suppressions are not unused here
                unused = [r for r in sup.rules if r not in sup.used and r in rules and r not in VERIFY_RULES]
                if unused:
                    c = sup.comment
                    what = "file" if sup.file_wide else "statement"
                    findings.append(Finding(
                        "unused-suppression", config.severity_of(all_rules["unused-suppression"]), f.display, c.line, c.column,
                        f"suppression of {', '.join(unused)} matches no finding in this {what}",
                        "Remove the stale id from the comment (or the whole comment) so it cannot hide a future finding.",
                        c.line, c.column + len(c.text.splitlines()[0])))
    findings.sort(key=Finding.sort_key)
    return Result(findings, reported, errors)


def check(paths: Iterable[str], config: Config, cwd: Path | None = None, changes: Changes | None = None,
          overlay: dict[Path, bytes] | None = None) -> Result:
    cwd = cwd or Path.cwd()
    project = collect(paths, config, cwd, changes, overlay)
    return run(project, config)
