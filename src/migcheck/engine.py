"""Find the files, run the enabled rules, apply suppressions and severities, collect findings.

The engine knows nothing about output formats: it returns a ``Result``.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import cast

from . import layout, registry, suppress
from .config import Config, ConfigError
from .files import MigrationFile
from .model import SEVERITY_RANK, Finding, Hit, Record


class Group(Record):
    """One migration directory and its rollback files."""

    __slots__ = ("mdir", "migrations", "rollbacks", "__dict__")

    def __init__(
        self, mdir: Path, migrations: list[MigrationFile] | None = None, rollbacks: list[MigrationFile] | None = None
    ):
        self.mdir = mdir
        self.migrations = [] if migrations is None else migrations
        self.rollbacks = [] if rollbacks is None else rollbacks


class Changes(Record):
    """The files changed since a baseline (``check --diff REF``), as absolute paths. The engine
    reports only the added and modified files; ``modified-migration`` reads the rest. How the
    changes were found (git) is not the engine's business."""

    __slots__ = ("ref", "base", "added", "modified", "deleted", "locate", "_modified_keys", "__dict__")
    SHOWN = ("ref", "base", "added", "modified", "deleted", "locate")

    def __init__(
        self,
        ref: str,
        base: str,
        added: set[Path] | None = None,
        modified: set[Path] | None = None,
        deleted: set[Path] | None = None,
        locate: Callable[[Path], tuple[int, int] | None] | None = None,
    ):
        self.ref = ref  # the baseline as the user named it, e.g. ``origin/main``
        self.base = base  # the commit compared against (the merge base), short form
        self.added = set() if added is None else added  # added since the base, untracked files included
        self.modified = set() if modified is None else modified  # existed at the base, content differs now
        self.deleted = set() if deleted is None else deleted  # existed at the base, gone now
        # (first line, last line) of the first change in a modified file; None when the content is
        # the same after all (a mode change only)
        self.locate = locate
        self._modified_keys: set[str] | None = None

    def is_modified(self, path: Path) -> bool:
        if self._modified_keys is None:
            self._modified_keys = {_same_file_key(p) for p in self.modified}
        return _same_file_key(path) in self._modified_keys


def _same_file_key(path: Path) -> str:
    """Compare paths from different sources (git, the config root, the command line) even when
    a directory on the way is a symbolic link: resolve the directory, keep the file name."""
    return os.path.join(os.path.realpath(path.parent), path.name)


class Project:
    def __init__(
        self, config: Config, files: list[MigrationFile], reported: set[Path], change_set: Iterable[Path] = ()
    ):
        self.config = config
        self.files = files
        self.reported = reported
        self.changes: Changes | None = None  # set by ``check --diff``
        # whether a file's check records the lock context of its safety findings (a cache keeps
        # them for a later run; a production snapshot reads them): set by ``run``
        self.lock_contexts = True
        self.deleted: list[MigrationFile] = []  # files of the checked directories deleted since the base
        self.excluded: list[Path] = []  # files under the given paths that ``exclude`` keeps out of the report
        # the .sql files the layout knows the runner never runs on PostgreSQL (another database's
        # version of a migration), by the reason it gave: not checked, and the run says so once
        self.skipped: dict[str, int] = {}
        self.skipped_files: list[str] = []  # their paths (the cache keys results on them too)
        self.groups: dict[Path, Group] = {}
        # The change set: the files of this change, whose tables are new to the running application
        # (the schema model, ``analysis.schema``): the files changed since the ``--diff`` base, or
        # the files given one by one (pre-commit passes the staged files). Empty when directories
        # are checked: the whole history is then being checked, and a table an earlier migration
        # created is an existing table. Set by ``collect``; read through ``changes_before``.
        self.change_set: frozenset[Path] = frozenset(change_set)
        # (changes_before) per directory: position by id, change-set members, popx unit by id, migrations
        self._before: dict[Path, tuple[dict[int, int], list[MigrationFile], dict[int, str], list[MigrationFile]]] = {}
        self._rollback_index: dict[Path, MigrationFile] | None = None
        for f in files:
            f.project = self
            g = self.groups.setdefault(f.mdir, Group(f.mdir))
            (g.rollbacks if f.kind == "rollback" else g.migrations if f.kind == "migration" else []).append(f)
        for g in self.groups.values():
            g.migrations.sort(key=layout.run_order)
            g.rollbacks.sort(key=layout.run_order)

    def changes_before(self, f: MigrationFile) -> list[MigrationFile]:
        """The migrations of the change set that run before migration ``f`` in its directory (in
        the runner's order, ``groups[mdir].migrations``). Empty when every migration of the
        directory is in the change set (a shell glob, ``pre-commit run --all-files``): that is
        the whole history being checked too.

        The earlier parts of the migration ``f`` is part of, when the runner reads several files
        as one migration (``Layout.unit_of``: popx's versions sharing their first 14 digits), are
        always in it: what an earlier part created is new to the running application too."""
        if f.kind != "migration":
            return []
        cached = self._before.get(f.mdir)
        if cached is None:
            group = self.groups.get(f.mdir)
            migrations = group.migrations if group is not None else []
            members = [m for m in migrations if m.path in self.change_set] if self.change_set else []
            if len(members) == len(migrations):
                members = []
            lay = layout.runner_layout(self.config) if layout.is_preset(self.config) else None
            units = {id(m): u for m in migrations if lay is not None and (u := lay.unit_of(m)) is not None}
            where = {id(m): i for i, m in enumerate(migrations)} if members or units else {}
            cached = self._before[f.mdir] = (where, members, units, migrations)
        where, members, units, migrations = cached
        pos = where.get(id(f))
        if pos is None:
            return []
        unit = units.get(id(f))
        if unit is None:
            return [m for m in members if where[id(m)] < pos]
        ids = {id(m) for m in members}
        return [m for m in migrations[:pos] if id(m) in ids or units.get(id(m)) == unit]

    def is_reported(self, f: MigrationFile) -> bool:
        # a runner's down section (layout.SectionsLayout) is reported with the file it is part of
        return f.path in self.reported or getattr(f, "section_of", None) in self.reported

    def rollback_path(self, migration: MigrationFile) -> Path | None:
        if migration.version is None:
            return None
        return migration.mdir / self.config.rollback.format(version=migration.version)

    def rollback_of(self, migration: MigrationFile) -> MigrationFile | None:
        if layout.is_preset(self.config):  # a runner's layout pairs by version (docs/presets.md)
            return layout.rollback_of(self, migration)
        want = self.rollback_path(migration)
        if want is None:
            return None
        if self._rollback_index is None:  # one dict for all lookups: O(1) each, not a scan
            self._rollback_index = {r.path: r for g in self.groups.values() for r in g.rollbacks}
        r = self._rollback_index.get(want)
        return r if r is not None and r.mdir == migration.mdir else None


class InternalError(Record):
    """A rule that raised on a file (or on the project): reported apart from the findings."""

    __slots__ = ("rule", "path", "detail", "__dict__")

    def __init__(self, rule: str, path: str, detail: str):
        self.rule = rule
        self.path = path
        self.detail = detail


class Result(Record):
    """What a check found, on which files, and the rules that failed."""

    __slots__ = ("findings", "files", "errors", "project", "risk", "skipped", "__dict__")
    SHOWN = ("findings", "files", "errors", "skipped")

    def __init__(
        self,
        findings: list[Finding],
        files: list[MigrationFile],
        errors: list[InternalError],
        project: Project | None = None,
        risk: object = None,
        skipped: dict[str, int] | None = None,
    ):
        self.findings = findings
        self.files = files
        self.errors = errors
        # the checked project (which rollback belongs to which migration: the markdown report)
        self.project = project
        # the ``migcheck.analysis.risk.Risk`` applied (a production snapshot: docs/stats.md), or None
        self.risk = risk
        self.skipped = {} if skipped is None else skipped  # Project.skipped: files not checked, by reason

    def summary(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0}
        suppressed = 0
        for f in self.findings:
            if f.suppressed:
                suppressed += 1
            else:
                counts[f.severity] += 1
        # a goose/dbmate file is two entries (its up and down sections) but one file on disk
        files = len({f.display for f in self.files})
        return {
            "files": files,
            "errors": counts["error"],
            "warnings": counts["warning"],
            "infos": counts["info"],
            "suppressed": suppressed,
        }

    def skipped_note(self) -> str | None:
        """One line that says which files were left out as another database's, or None."""
        if not self.skipped:
            return None
        total = sum(self.skipped.values())
        parts = [f"{n} {reason}" for reason, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0]))]
        return (
            f"migcheck: not checked as PostgreSQL: {total} file{'s' if total != 1 else ''} the runner never runs "
            f"on PostgreSQL ({'; '.join(parts)})"
        )

    def failed(self, fail_on: str) -> bool:
        threshold = SEVERITY_RANK[fail_on]
        return any(not f.suppressed and SEVERITY_RANK[f.severity] >= threshold for f in self.findings)


# --- discovery ---------------------------------------------------------------------------

_display = layout.display


def collect(
    paths: Iterable[str],
    config: Config,
    cwd: Path,
    changes: Changes | None = None,
    overlay: dict[Path, bytes] | None = None,
) -> Project:
    """Build the project: the files to report on and their sibling files. With ``changes``
    (``--diff``), only the added and modified files are reported; the siblings are all there.
    ``overlay`` maps absolute paths to in-memory contents that replace the disk's (an editor's
    unsaved buffers); an overlaid path need not exist on disk."""
    lay = layout.Layout(config)
    overlay = {Path(os.path.abspath(p)): data for p, data in (overlay or {}).items()}
    targets: list[Path] = []
    one_by_one: list[Path] = []  # files given as files, not found in a directory: the change set
    given = list(paths)
    if not given:
        dirs = [config.root / d for d in config.migrations]
        existing = [d for d in dirs if d.is_dir()]
        if not existing:
            raise ConfigError(
                f"no migrations directory found (looked for {', '.join(_display(d, cwd) for d in dirs)}); "
                "pass paths to check or set `migrations` in the configuration"
            )
        given = [str(d) for d in existing]
    scope_dirs: list[Path] = []
    for p in given:
        path = Path(p)
        if not path.is_absolute():
            path = cwd / path
        try:
            is_dir, exists = path.is_dir(), path.exists() or path.is_symlink()
        except PermissionError:  # in a directory we may not search: reading it reports unreadable-file
            is_dir, exists = False, True
        if is_dir:
            scope_dirs.append(path)
            targets.extend(lay.files_in(path))
        elif exists or Path(os.path.abspath(path)) in overlay:
            targets.append(path)
            one_by_one.append(Path(os.path.abspath(path)))
        else:
            raise ConfigError(f"path not found: {p}")
    files: dict[Path, MigrationFile] = {}
    reported: set[Path] = set()
    skipped: dict[str, int] = {}
    skipped_paths: set[str] = set()

    def skip(path) -> bool:
        """Another database's file (``Layout.skip_reason``): counted once, never checked."""
        reason = lay.skip_reason(path)
        if reason is None:
            return False
        name = os.path.abspath(path)
        if name not in skipped_paths:
            skipped_paths.add(name)
            skipped[reason] = skipped.get(reason, 0) + 1
        return True

    seen: dict[str, Path] = {}  # by absolute path string: a sibling is looked up before a Path is made
    under_cwd = os.path.join(os.path.abspath(cwd), "")

    def add(path: Path | str) -> Path:
        name = os.path.abspath(path)
        key = seen.get(name)
        if key is None:
            # the Path given when it is already absolute and normal (the walk's), else a new one
            key = seen[name] = path if isinstance(path, Path) and str(path) == name else Path(name)
            kind, mdir = lay.classify(key)
            if name.startswith(under_cwd):  # the usual case, as _display would say it, without pathlib
                shown = name[len(under_cwd) :].replace(os.sep, "/")
            else:
                shown = _display(key, cwd)
            files[key] = MigrationFile(key, shown, kind, mdir, config, overlay.get(key))
        return key

    excluded: list[Path] = []
    for t in targets:
        if skip(t):
            continue
        key = add(t)
        if config.exclude and config.excluded(key):  # read as a sibling, never reported
            excluded.append(key)
        else:
            reported.add(key)
    walked = [os.path.join(os.path.abspath(d), "") for d in scope_dirs] if lay.within_walk() else []
    for mdir in {f.mdir for f in list(files.values())}:
        here = os.path.join(str(mdir), "")
        # the walk of a directory above listed them (it does not follow a symlinked rollback directory)
        covered = any(here.startswith(w) for w in walked) and not (
            lay.rb_dirs and os.path.islink(mdir.joinpath(*lay.rb_dirs))
        )
        if not covered:
            for sib in lay.siblings(mdir):
                if not skip(sib):
                    add(sib)
        for extra in overlay:  # unsaved new files of the same directory
            if extra.name.endswith(".sql") and lay.classify(extra)[1] == mdir:
                add(extra)
    ordered = sorted(lay.expand(list(files.values())), key=lambda f: f.display)
    # the files given one by one are the change set (pre-commit passes the staged ones); a
    # directory given is history, its files are not
    project = Project(config, ordered, reported, one_by_one)
    project.excluded = excluded
    project.skipped = skipped
    project.skipped_files = sorted(skipped_paths)
    if changes is not None:
        _restrict(project, changes, scope_dirs, lay, cwd)
    return project


def _restrict(project: Project, changes: Changes, scope_dirs: list[Path], lay: layout.Layout, cwd: Path) -> None:
    """Report only the files added or modified since the baseline; keep the deleted files of
    the checked directories for ``modified-migration``."""
    project.changes = changes
    changed = {_same_file_key(p) for p in changes.added | changes.modified}
    project.reported = {p for p in project.reported if _same_file_key(p) in changed}
    project.change_set = frozenset(f.path for f in project.files if _same_file_key(f.path) in changed)
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
            if project.config.exclude and project.config.excluded(gone):
                continue
            path = Path(os.path.abspath(gone))
            kind, mdir = lay.classify(path)
            project.deleted.append(MigrationFile(path, _display(path, cwd), kind, mdir, project.config))
            project.reported.add(path)
            break


# --- running the rules -------------------------------------------------------------------


class Context:
    """What a rule sees besides its target. Reading ``project`` marks the findings of the file
    being checked as depending on the other files too (the cache then keys them on all files)."""

    __slots__ = ("config", "_project", "touched", "partial", "touched_by")

    def __init__(self, config: Config, project: Project, partial: bool = False):
        self.config = config
        self._project = project
        self.touched = False
        self.touched_by: set[str] = set()  # the rules that read the project (in the current check)
        # a pool worker: it parses only its share of the files, so a rule that needs what the
        # others hold raises ``registry.Deferred`` and runs again in the main process
        self.partial = partial

    @property
    def project(self) -> Project:
        self.touched = True
        return self._project


class EngineFailure(Exception):
    """The run could not produce a complete result (a worker process died): exit 2, never a
    partial result that looks clean."""


# What one file contributes to a run, in plain data (tuples of str/int/None/bool), so that it
# can come back from a worker process or from the cache. A hit is
# (rule, absolute path, line, column, message, help, end_line, end_column); a suppression is
# ``suppress.records``'s (the statement it covers, from its first token to just past it, and the
# comment); an error is (rule, path, detail).
class FileResult(Record):
    """The file rules' raw hits on one file and its suppressions: what the cache keeps per file."""

    __slots__ = (
        "hits",
        "errors",
        "sups",
        "sup_hits",
        "statements",
        "contextual",
        "deferred",
        "locks",
        "semantic",
        "__dict__",
    )

    def __init__(
        self,
        hits: list[tuple],
        errors: list[tuple],
        sups: list[tuple],
        sup_hits: list[tuple],
        statements: int | None,
        contextual: bool = False,
        deferred: tuple = (),
        locks: dict | None = None,
        semantic: bool = False,
    ):
        self.hits = hits
        self.errors = errors
        self.sups = sups
        self.sup_hits = sup_hits  # unknown-rule / suppression-missing-reason found in the comments
        self.statements = statements  # statement count when the file was parsed
        self.contextual = contextual  # a rule read the project: the result depends on the other files
        self.deferred = deferred  # ids of the rules that raised ``registry.Deferred`` (a pool worker's result)
        # "line:column" of a safety hit -> its statement's lock context (``risk.hit_contexts``), read
        # against the production snapshot when the findings are assembled
        self.locks = {} if locks is None else locks
        # contextual, but every rule that read the project is one of SUMMARY_ONLY_RULES: the
        # result depends on the other files' summaries, not their bytes (cache.semantic_fp)
        self.semantic = semantic


_READ_HELP = {
    "encoding-error": "Save the file as UTF-8 (most editors: 'Save with encoding'); migcheck cannot check what it cannot read.",
    "unreadable-file": "Make the file readable by the user running migcheck, or remove it from the migrations directory.",
    "file-too-large": "Split the file into smaller migrations, or raise `max-file-size` in the configuration if it must stay one file.",
    "unrendered-template": (
        "migcheck renders template values and `if`/`else`/`end` on the database dialect as the "
        "runner does for PostgreSQL, and did not check this file: write it with those only, or "
        "review its SQL by hand (rules/unrendered-template.md)."
    ),
}


def _rec(rid: str, h: Hit) -> tuple:
    return (rid, str(h.file.path), h.line, h.column, h.message, h.help, h.end_line, h.end_column)


def _call(
    rule: registry.Rule, target, ctx: Context, path: str, hits: list, errors: list, deferred: list | None = None
) -> None:
    found: list[tuple] = []  # held back until the rule ends: a deferred rule's partial hits are dropped
    touched = ctx.touched
    ctx.touched = False
    try:
        func = registry.impl(rule)
        assert func is not None  # (registry.load found every rule's function)
        for h in func(target, ctx) or ():
            found.append(_rec(h.rule_override or rule.id, h))
        hits.extend(found)
    except registry.Deferred:
        if deferred is None:  # only a pool worker's Context is partial
            raise
        deferred.append(rule.id)
    except Exception as exc:  # a broken rule must not hide the other findings
        hits.extend(found)  # (nor what it found before it failed)
        import traceback  # (only when a rule fails: it imports textwrap, 2 ms of a one-file check)

        tb = traceback.extract_tb(exc.__traceback__)[-1]
        errors.append((rule.id, path, f"{type(exc).__name__}: {exc} ({Path(tb.filename).name}:{tb.lineno})"))
    finally:
        if ctx.touched:
            ctx.touched_by.add(rule.id)
        ctx.touched = touched or ctx.touched


# Call a file rule only on files that hold a node kind it reads (``registry.Rule.reads``); off:
# every file rule on every file (tests/test_dispatch.py compares the two).
DISPATCH = True


def check_file(f: MigrationFile, file_rules: list[registry.Rule], enabled, ctx: Context) -> FileResult:
    """Run the file-scope rules on ``f`` and read its suppression comments."""
    problem = f.read_problem
    if problem:
        rid, msg, where = problem
        line, col = where or (1, 1)
        read_hits: list[tuple] = (
            [(rid, str(f.path), line, col, msg, _READ_HELP[rid], None, None)] if rid in enabled else []
        )
        return FileResult(read_hits, [], [], [], 0)  # (no statement: nothing was read, or it did not decode)
    hits: list[tuple] = []
    errors: list[tuple] = []
    deferred: list[str] = []
    ctx.touched = False
    ctx.touched_by = set()
    present = f.node_kinds if DISPATCH else None  # (a rule that reads none of them finds nothing here)
    for r in file_rules:
        if f.kind in r.kinds and (r.reads is None or present is None or not r.reads.isdisjoint(present)):
            _call(r, f, ctx, f.display, hits, errors, deferred)
    extra: list[Hit] = []
    sups = suppress.records(f, extra)
    return FileResult(
        hits,
        errors,
        sups,
        [_rec(cast(str, h.rule_override), h) for h in extra],
        len(f.statements) if "_parsed" in f.__dict__ else None,
        ctx.touched,
        tuple(deferred),
        _lock_contexts(f, hits, ctx.config) if ctx._project.lock_contexts else {},
        ctx.touched and ctx.touched_by <= SUMMARY_ONLY_RULES,
    )


def _lock_contexts(f: MigrationFile, hits: list[tuple], config: Config) -> dict:
    """The lock context of the statement of each safety hit (``migcheck.analysis.risk``)."""
    rules = registry.load()
    at = [(h[2], h[3]) for h in hits if (r := rules.get(h[0])) is not None and r.group == "safety"]
    if not at:
        return {}
    from .analysis import risk

    return risk.hit_contexts(f, at, config.postgres_version)


def run_deferred(f: MigrationFile, fr: FileResult, rules: dict[str, registry.Rule], ctx: Context) -> None:
    """Run on ``f``, in this (the main) process, the file rules a pool worker deferred, and add
    their hits and errors to ``fr``."""
    if not fr.deferred:
        return
    before = len(fr.hits)
    for rid in fr.deferred:  # (findings are sorted by a total order later: appending is enough)
        _call(rules[rid], f, ctx, f.display, fr.hits, fr.errors)
    if ctx._project.lock_contexts:
        fr.locks.update(_lock_contexts(f, fr.hits[before:], ctx.config))
    fr.semantic = (fr.semantic or not fr.contextual) and set(fr.deferred) <= SUMMARY_ONLY_RULES
    fr.deferred = ()
    fr.contextual = True


def run_project_rules(
    project: Project, rules: list[registry.Rule], ctx: Context
) -> tuple[dict[str, list[tuple]], list[tuple]]:
    """The hits of each project rule (by rule id), and the rules' internal errors."""
    hits: dict[str, list[tuple]] = {}
    errors: list[tuple] = []
    for r in rules:
        hits[r.id] = []
        _call(r, project, ctx, "(project)", hits[r.id], errors)
    return hits, errors


# Project rules whose findings depend only on the project's files (names and contents) and the
# configuration, so the cache may keep them while no file changes. Any other project rule (one
# that reads CHANGELOG.md, migcheck.lock, git, the disk beyond the collected files, or a new
# rule nobody vetted) runs on every run.
CACHEABLE_PROJECT_RULES = frozenset(
    {
        "duplicate-version",
        "sequence-order",
        "sequence-gap",
        "orphan-rollback",
        "rollback-incomplete",
        "rollback-data-change",
        "unknown-dependency",
    }
)

# The rules that ask the schema model (``analysis.schema``) what an earlier migration made of a
# table: it reads the other files only through their ``words`` (which of them name the table:
# their text without comments, ``analysis.perfile``) and their ``effects`` (the replay), so a
# comment edited in one migration leaves the results of the files whose history reads it as
# they were (issue 22: one file changed in a 3,500-migration directory).
SCHEMA_MODEL_READERS = frozenset(
    {
        "add-unique-constraint",
        "adding-not-null-column",
        "adding-serial-column",
        "changing-column-type",
        "cluster",
        "constraint-missing-not-valid",
        "drop-column",
        "drop-not-null",
        "drop-object",
        "empty-migration",
        "lock-table",
        "missing-transaction",
        "prefer-bigint",
        "prefer-identity",
        "rename-column",
        "require-concurrent-index",
        "require-concurrent-index-deletion",
        "require-concurrent-partition-detach",
        "require-concurrent-reindex",
        "require-lock-timeout",
        "set-not-null",
        "update-in-same-transaction-as-ddl",
        "update-without-where",
        "vacuum-full",
        "volatile-default",
    }
)

# The rules that read the other files of the project only through the project's shape (the files'
# paths, kinds, versions, which rollback is whose) and the summaries they declare (``needs``:
# ``migcheck.analysis.perfile``, and whether a file parses; the schema model's readers: words and
# effects): their results depend on the other files' summaries, not on their bytes, so the cache
# keeps them while the summaries are the same (``cache.semantic_fp``: an edit that changes a
# migration's comments or data changes only its own results). tests/test_semantic.py holds each
# of them to it: with every other file sealed, a check reads nothing of them but their summaries.
SUMMARY_ONLY_RULES = (
    frozenset(
        {
            "mixed-changes",
            "file-naming",
            "empty-rollback",
            "duplicate-version",
            "sequence-order",
            "sequence-gap",
            "orphan-rollback",
            "rollback-incomplete",
            "rollback-data-change",
        }
    )
    | SCHEMA_MODEL_READERS
)


def semantic_kinds(rules: dict[str, registry.Rule]) -> frozenset[str]:
    """The summary kinds the enabled summary-only rules read of the other files (the cache's
    semantic fingerprint hashes these): the effects' readers read which files name an object
    (``words``) and whether a file parses too."""
    needs = {n for rid, r in rules.items() if rid in SUMMARY_ONLY_RULES for n in r.needs}
    if any(rid in SCHEMA_MODEL_READERS for rid in rules):
        needs.add("effects")
    return frozenset(
        ({"effects", "parses", "words"} if needs & {"effects", "history"} else set()) | ({"schema"} & needs)
    )


# Below this many files to check, a process pool costs more than it saves.
POOL_MIN_FILES = 200


def cpu_count() -> int:
    """The CPUs this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@contextlib.contextmanager
def no_gc():
    """Without the cyclic garbage collector for a while. A check allocates millions of small
    dicts and lists (parse trees) that hold no cycles; the collector kept re-scanning them all
    as the heap grew: a third of the CPU of a 6,635-file run (benchmarks/RESULTS.md). What few
    cycles a check makes (a recursive local function) wait for the next collection."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def run(project: Project, config: Config, *, cache=None, jobs: int = 1, progress=None) -> Result:
    """Run the enabled rules. ``cache``: a ``migcheck.cache.Cache`` (or None); ``jobs``: the
    number of processes to use when the batch is large enough (1: this process only);
    ``progress``: called with (files checked, files to check) as a large batch goes."""
    with no_gc():
        return _run(project, config, cache=cache, jobs=jobs, progress=progress)


def _snapshot(config: Config) -> bool:
    """Is there a production snapshot to read (docs/stats.md)? Asked without importing its modules."""
    from .config import snapshot_path

    path, required = snapshot_path(config)
    return path is not None and (required or path.exists())


def _run(project: Project, config: Config, *, cache=None, jobs: int = 1, progress=None) -> Result:
    rules = config.enabled_rules()
    ctx = Context(config, project)
    reported = [f for f in project.files if project.is_reported(f)]
    if project.changes is not None:  # --diff: what rules see depends on git too; a small set anyway
        cache = None
    project.lock_contexts = cache is not None or _snapshot(config)
    file_rules = [r for r in rules.values() if r.scope == "file"]
    project_rules = [r for r in rules.values() if r.scope == "project"]

    results: dict[Path, FileResult] = {}
    project_hits: dict[str, list[tuple]] = {}
    if cache is not None:
        cache.start(project, config, rules)
        # what the rules that read other files only through summaries read of them (cache.semantic_fp)
        cache.semantic_kinds = semantic_kinds(rules)
        for f in reported:
            got = cache.get(f)
            if got is not None:
                results[f.path] = got
        project_hits.update(
            cache.get_project([r.id for r in project_rules if r.id in CACHEABLE_PROJECT_RULES], SUMMARY_ONLY_RULES)
        )
    todo = [f for f in reported if f.path not in results]
    todo_project = [r for r in project_rules if r.id not in project_hits]
    errors: list[tuple] = []

    workers = min(jobs, len(todo) // max(POOL_MIN_FILES // 4, 1) or 1) if len(todo) >= POOL_MIN_FILES else 1
    from . import parallel, summaries

    summaries.after_miss = parallel.sibling_hook(project, rules)
    summaries.hold(len(project.files) * (len(summaries.SHARED_KINDS) + 1))  # (+1: empty-rollback's, spare)
    try:
        if workers > 1 and project.changes is None:
            fresh, p_hits, p_errors = parallel.run(
                project, config, todo, file_rules, todo_project, rules, workers, progress
            )
        elif len(todo) >= POOL_MIN_FILES and project.changes is None:
            fresh, p_hits, p_errors = parallel.check_serial(
                project, config, todo, file_rules, todo_project, rules, progress
            )
        else:
            fresh = {f.path: check_file(f, file_rules, rules, ctx) for f in todo}
            p_hits, p_errors = run_project_rules(project, todo_project, ctx)
    finally:
        summaries.after_miss = None
        summaries.hold(0)
    results.update(fresh)
    project_hits.update(p_hits)
    errors.extend(p_errors)
    if cache is not None:
        for f in todo:
            cache.put(f, fresh[f.path])
        if not p_errors:
            # (those reused by their summaries too: kept under this run's fingerprint from now on)
            cache.put_project(
                {rid: hits for rid, hits in project_hits.items() if rid in CACHEABLE_PROJECT_RULES}, SUMMARY_ONLY_RULES
            )
        cache.save()
    return assemble(project, config, rules, reported, results, project_rules, project_hits, errors)


def assemble(
    project: Project,
    config: Config,
    rules,
    reported: list[MigrationFile],
    results: dict[Path, FileResult],
    project_rules: list[registry.Rule],
    project_hits: dict[str, list[tuple]],
    errors: list[tuple],
) -> Result:
    """Turn the per-file and project results into findings: severities, suppressions, order."""
    by_path = {str(f.path): f for f in project.files}
    for f in project.deleted:
        by_path.setdefault(str(f.path), f)
    hits: list[tuple] = []
    file_errors: list[tuple] = []
    for f in reported:
        fr = results[f.path]
        hits.extend(fr.hits)
        file_errors.extend(fr.errors)
        if fr.statements is not None:
            f._statement_count = fr.statements
    for r in project_rules:
        hits.extend(project_hits.get(r.id, ()))
    sups = suppress.Table()
    for f in reported:  # (a file that cannot be read has no suppressions: its bytes are not needed here)
        fr = results[f.path]
        sups.add(str(f.path), fr.sups)
        hits.extend(fr.sup_hits)

    findings: list[Finding] = []
    all_rules = registry.load()
    severity = {rid: config.severity_of(all_rules[rid]) for rid in rules}
    shown = {path: f.display for path, f in by_path.items() if project.is_reported(f)}
    risky = None
    if _snapshot(config):
        from .analysis import risk  # production stats (docs/stats.md): applied here, so no part of the cache key

        risky = risk.for_config(config)
    lock_ctx = {str(f.path): results[f.path].locks for f in reported} if risky is not None else {}
    off = _per_file_ignores(config, shown)
    for rid, path, line, col, msg, help, end_line, end_col in hits:
        display = shown.get(path)
        if display is None or rid not in severity or rid in off.get(path, ()):
            continue
        sev = severity[rid]
        if risky is not None and (ctx := lock_ctx.get(path, {}).get(f"{line}:{col}")):
            sev, msg = risky.assess(rid, sev, msg, ctx)
        finding = Finding(rid, sev, display, line, col, msg, help, end_line, end_col)
        sups.apply(finding, rid, path)
        findings.append(finding)
    if "unused-suppression" in rules:
        level = config.severity_of(all_rules["unused-suppression"])
        verify_only = {rid for rid, r in all_rules.items() if r.scope == "verify"}
        for f in reported:
            # verify's rules are never emitted by check: their suppressions are not unused here; nor
            # are those of rules per-file-ignores turns off for the file
            ignored = verify_only | off.get(str(f.path), frozenset())
            findings.extend(sups.unused(str(f.path), f.display, rules, level, ignored))
    findings.sort(key=Finding.sort_key)
    errs = [InternalError(*e) for e in file_errors + errors]
    return Result(findings, reported, errs, project, risky, dict(project.skipped))


def merge(results: list[Result]) -> Result:
    """One result from the runs of several configurations (``check`` groups the paths by the
    configuration found up from each): findings in the usual order, files in run order."""
    if len(results) == 1:
        return results[0]
    findings = sorted((f for r in results for f in r.findings), key=Finding.sort_key)
    skipped: dict[str, int] = {}
    for r in results:
        for reason, n in r.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + n
    risky = next((r.risk for r in results if r.risk is not None), None)
    return Result(
        findings, [f for r in results for f in r.files], [e for r in results for e in r.errors], None, risky, skipped
    )


def _per_file_ignores(config: Config, paths) -> dict[str, frozenset[str]]:
    """The rules ``per-file-ignores`` turns off, by absolute path (only paths with some)."""
    if not config.per_file_ignores:
        return {}
    out = {}
    for path in paths:
        off = config.ignored_rules(path.removesuffix("#down"))  # (a runner's down section: its file's)
        if off:
            out[path] = off
    return out


def configured_project(config: Config, cwd: Path):
    """The configured migration directories as the engine sees them (`lock` and `status` take no
    paths: the lock file and the tracking table cover the whole project)."""
    try:
        return collect([], config, cwd)
    except ConfigError:
        dirs = ", ".join(str(d) for d in config.migrations)
        raise ConfigError(
            f"no migrations directory found (looked for {dirs} under {config.root}): `migcheck lock` "
            "and `migcheck status` read the configured directories; set `migrations` in migcheck.toml "
            "or [tool.migcheck] of pyproject.toml, or run them where that configuration is"
        ) from None


def check(
    paths: Iterable[str],
    config: Config,
    cwd: Path | None = None,
    changes: Changes | None = None,
    overlay: dict[Path, bytes] | None = None,
    *,
    cache=None,
    jobs: int = 1,
    progress=None,
) -> Result:
    cwd = cwd or Path.cwd()
    project = collect(paths, config, cwd, changes, overlay)
    return run(project, config, cache=cache, jobs=jobs, progress=progress)
