"""What the editor server computes, without any LSP types: which configuration applies to a file,
the findings of ``migcheck check`` on an unsaved text, the lock hover, the code actions.

The findings come from ``engine.check`` exactly as ``migcheck check FILE`` computes them, run from
the project root (the directory of the configuration file): same configuration, same sibling files
on disk (with the other open, unsaved buffers of the directory laid over them), same rules,
severities and suppressions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .. import config as config_mod
from .. import engine, files, layout, registry
from ..config import Config, ConfigError
from ..model import Finding

CONFIG_NAMES = ("migcheck.toml", "pyproject.toml")


# --- configuration -----------------------------------------------------------------------


@dataclass
class Loaded:
    """The configuration for a document (or why it could not be loaded)."""

    config: Config | None
    error: str | None  # a broken configuration: the message of ``migcheck check``
    source: Path | None  # the configuration file, when there is one


class ConfigCache:
    """The configuration of a directory's project, found the way ``migcheck check`` finds it
    when run from that directory, and loaded again whenever a candidate file on the way up
    (``migcheck.toml``, ``pyproject.toml``) appears, disappears or changes (size or mtime)."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[tuple, Loaded]] = {}

    @staticmethod
    def _signature(start: Path) -> tuple:
        sig = []
        for d in (start, *start.parents):
            for name in CONFIG_NAMES:
                try:
                    st = os.stat(d / name)
                except OSError:
                    continue
                sig.append((str(d / name), st.st_mtime_ns, st.st_size))
        return tuple(sig)

    def load(self, start: Path) -> Loaded:
        sig = self._signature(start)
        hit = self._cache.get(start)
        if hit is not None and hit[0] == sig:
            return hit[1]
        try:
            source = config_mod.find_config(start)
            cfg = config_mod.load(source, cwd=start)
            loaded = Loaded(cfg, None, source)
        except ConfigError as exc:
            loaded = Loaded(None, str(exc), None)
        self._cache[start] = (sig, loaded)
        return loaded

    def clear(self) -> None:
        self._cache.clear()


# --- which files are checked, from where ---------------------------------------------------


@dataclass
class Scope:
    """How a file is checked: its configuration and the project root ``check`` runs from.
    ``config`` is None when the file is not a migration of a project (not checked), or when the
    configuration is broken (``error``)."""

    config: Config | None
    root: Path
    error: str | None = None
    reason: str = ""  # why a file is not checked


def _under(path: Path, directory: Path) -> bool:
    try:
        path.relative_to(directory)
        return True
    except ValueError:
        return False


def _preset_dirs() -> list[tuple[str, str | None]]:
    """(relative directory, the preset it belongs to; None for the default) where runners keep
    migrations (``migrations``, ``supabase/migrations``, ``db/migrations``, ...)."""
    try:
        from .. import presets
    except ImportError:  # a migcheck without presets
        return [(d, None) for d in Config().migrations]
    out: dict[str, str | None] = {d: None for d in Config().migrations}
    for name in presets.NAMES:
        for rel in presets.get(name).dirs:
            if rel != "." and rel not in out:
                out[rel] = name
    return sorted(out.items(), key=lambda item: -len(Path(item[0]).parts))


def _no_config_root(path: Path) -> Path | None:
    """Without a configuration: the project root ``check`` would run from for ``path``, the
    directory holding the migrations directory the file is in (``migrations/`` or a runner's own
    directory such as ``supabase/migrations/``, the latter only when its files look like that
    runner's)."""
    for rel, preset in _preset_dirs():  # the longest first: supabase/migrations before migrations
        for d in path.parents:
            base = d / rel
            if not _under(path, base):
                continue
            if preset is not None:
                from .. import detect

                try:
                    if detect.detect_dir(base) is None:
                        continue
                except OSError:
                    continue
            return d
    return None


class _Detected:
    """``migcheck check FILE`` recognises a runner's layout from the files when the configuration
    pins no preset (``detect.apply``); the result is kept per directory while the directory's
    listing (its mtime) and the configuration stay the same."""

    def __init__(self) -> None:
        self._cache: dict[tuple, Config] = {}

    def apply(self, cfg: Config, path: Path, root: Path) -> Config:
        if getattr(cfg, "preset", "guidelines") is not None:
            return cfg
        try:
            from .. import detect
        except ImportError:
            return cfg
        where = path.parent.parent if path.name in ("up.sql", "down.sql") else path.parent
        try:
            key = (id(cfg), where, os.stat(where).st_mtime_ns)
        except OSError:
            key = (id(cfg), where, None)
        got = self._cache.get(key)
        if got is None:
            got = detect.apply(cfg, [str(path)], root, lambda line: None)
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = got
        return got


_detected = _Detected()


def scope_of(path: Path, cache: ConfigCache, check_all: bool = False, workspace_roots: tuple[Path, ...] = ()) -> Scope:
    """The configuration and project root for ``path`` (absolute).

    With a configuration file (``migcheck.toml`` or ``pyproject.toml`` with ``[tool.migcheck]``,
    nearest above the file), the file is checked when it is under one of its ``migrations``
    directories (a preset's directories when it names one), from the configuration's directory.
    Without one, it is checked when it is under a ``migrations`` directory (or a runner's own,
    such as ``supabase/migrations``), from the directory that holds it. With ``check_all``, any
    SQL file is checked (from the configuration's directory, else the workspace folder holding
    it, else its own directory). As ``migcheck check FILE`` does, a runner's layout is then
    recognised from the files when the configuration pins no preset."""
    loaded = cache.load(path.parent)
    if loaded.error is not None:
        return Scope(None, path.parent, error=loaded.error)
    cfg = loaded.config
    assert cfg is not None
    if loaded.source is not None:
        root = cfg.root
        dirs = [Path(d) if Path(d).is_absolute() else root / d for d in cfg.migrations]
        if not (check_all or any(_under(path, Path(os.path.abspath(d))) for d in dirs)):
            detected = _detected.apply(cfg, path, root)
            dirs = [Path(d) if Path(d).is_absolute() else root / d for d in detected.migrations]
            if detected is cfg or not any(_under(path, Path(os.path.abspath(d))) for d in dirs):
                return Scope(None, root, reason=f"not under a `migrations` directory of {loaded.source}")
    else:
        found = _no_config_root(path)
        if found is None and not check_all:
            return Scope(None, path.parent, reason="no migcheck configuration and not under a migrations directory")
        root = found or next((w for w in workspace_roots if _under(path, w)), path.parent)
        cfg = cache.load(root).config or Config(root=root)
    return Scope(_detected.apply(cfg, path, root), root)


# --- checking ------------------------------------------------------------------------------


@dataclass
class Checked:
    """The outcome of checking one document."""

    path: Path
    text: str  # the text that was checked
    scope: Scope
    findings: list[Finding] = field(default_factory=list)  # reported, unsuppressed, for this file
    file: files.MigrationFile | None = None  # the (first) MigrationFile of this path
    # all of them: a runner whose files hold up and down sections makes one per section
    files: list = field(default_factory=list)
    errors: list[engine.InternalError] = field(default_factory=list)
    failure: str | None = None  # a usage error of the engine (path not found, ...)


def to_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def check_text(path: Path, text: str, scope: Scope, overlay: dict[Path, str]) -> Checked:
    """``migcheck check PATH`` from the project root, with ``text`` as the file's content and
    ``overlay`` (other open buffers) over the disk."""
    out = Checked(path, text, scope)
    if scope.config is None:
        return out
    buffers = {p: to_bytes(t) for p, t in overlay.items()}
    buffers[path] = to_bytes(text)
    try:
        result = engine.check([str(path)], scope.config, scope.root, overlay=buffers)
    except ConfigError as exc:
        out.failure = str(exc)
        return out
    except Exception as exc:  # engine.EngineFailure: no partial result that looks clean
        if type(exc).__name__ != "EngineFailure":
            raise
        out.failure = f"internal error: {exc}"
        return out
    down = path.with_name(path.name + "#down")  # a runner's down section (layout.SectionsLayout)
    out.files = [f for f in result.files if f.path in (path, down)]
    out.file = out.files[0] if out.files else None
    display = out.file.display if out.file is not None else None
    out.findings = [f for f in result.findings if not f.suppressed and f.path == display]
    out.errors = list(result.errors)
    return out


def _counterpart(path: Path, cfg: Config, want: str) -> Path | None:
    """The file of kind ``want`` (migration or rollback) beside ``path`` with the same version."""
    lay = layout.Layout(cfg)
    kind, mdir = lay.classify(path)
    if kind == want:
        return None
    version = layout.identify(path, kind, cfg).version
    if version is None:
        return None
    for sib in map(Path, lay.siblings(mdir)):  # (strings from the base layout)
        if lay.classify(sib)[0] == want and layout.identify(sib, want, cfg).version == version:
            return Path(os.path.abspath(sib))
    return None


def migration_of_rollback(path: Path, cfg: Config) -> Path | None:
    """The migration a rollback file belongs to, when it exists on disk."""
    if layout.Layout(cfg).classify(path)[0] != "rollback":
        return None
    return _counterpart(path, cfg, "migration")


def pair_of(c: Checked) -> Path | None:
    """A migration's rollback file, or a rollback's migration, when it exists on disk."""
    cfg, f = c.scope.config, c.file
    if cfg is None or f is None or f.kind not in ("migration", "rollback"):
        return None
    return _counterpart(c.path, cfg, "rollback" if f.kind == "migration" else "migration")


def group_key(path: Path, cfg: Config) -> Path:
    """The migration directory a file belongs to (rollbacks: the migrations beside their folder)."""
    return layout.Layout(cfg).classify(path)[1]


# --- hover ---------------------------------------------------------------------------------


def statement_at(f: files.MigrationFile, offset: int):
    """The innermost statement (top level, or inside a DO body) that holds ``offset``."""
    best = None
    for st in f.all_statements:
        if st.start <= offset <= st.end and (best is None or st.start >= best.start):
            best = st
    return best


def lock_hover(f: files.MigrationFile, stmt, cfg: Config) -> str | None:
    """Markdown: the locks ``stmt`` takes, as the schema model sees them (``migcheck locks``)."""
    from ..analysis import pg, schema
    from ..report.locks_report import describe, label

    if not pg.is_change(stmt) or getattr(cfg, "dialect", "postgres") != "postgres":
        return None
    locks = schema.statement_locks(f, stmt, cfg.postgres_version)
    head = f"**{label(stmt)}** (PostgreSQL {cfg.postgres_version}, static lock model)"
    if not locks:
        return f"{head}\n\nNo lock on an existing table."
    lines = [head, ""]
    from ..analysis import risk as risk_mod

    try:
        risky = risk_mod.for_config(cfg)  # figures and estimates with a production snapshot (docs/stats.md)
    except ConfigError:
        risky = None  # (a broken snapshot is reported with the diagnostics)
    for lk, state in locks:
        fresh = state is not None and state.origin != "existing"
        what = []
        if lk.rewrite:
            what.append("rewrites the table and its indexes")
        if lk.scan:
            what.append("reads every row")
        lines.append(f"- `{lk.relation}`: **{lk.mode}**" + (f" ({', '.join(what)})" if what else ""))
        lines.append(f"  - {describe(lk, state)}")
        if lk.note:
            lines.append(f"  - {lk.note}")
        if risky is not None and not fresh:
            v = risky.view(*risk_mod.lock_context(stmt, lk, False))
            lines.append(f"  - {v.line()}")
    if risky is not None:
        lines += ["", f"_{risky.hover_note()}_"]
    return "\n".join(lines)


def rule_hover(rule_id: str) -> str:
    """Markdown: a rule's summary and its doc's "Use instead" example."""
    from .. import docs

    rule = registry.load().get(rule_id)
    out = [f"**{rule_id}**" + (f": {rule.summary}" if rule else "")]
    example = docs.use_instead(rule_id)
    if example:
        out += ["", "Use instead:", "```sql", example.rstrip("\n"), "```"]
    out += ["", f"`migcheck explain {rule_id}` for the full rule."]
    return "\n".join(out)


# --- code actions --------------------------------------------------------------------------


@dataclass(frozen=True)
class TextEdit:
    """Replace the characters ``start``..``end`` of a document with ``text``."""

    start: int  # character offsets into the document's text, end exclusive
    end: int
    text: str


@dataclass
class Action:
    """A code action offered for a finding: a fix, or a suppression comment."""

    title: str
    rule: str
    finding: Finding
    edits: list[TextEdit] = field(default_factory=list)
    create: tuple[Path, str] | None = None  # a new file and its content
    preferred: bool = False


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else ("\r" if "\r" in text and "\n" not in text else "\n")


def _line_start(text: str, offset: int) -> int:
    return max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1


def suppress_action(c: Checked, finding: Finding) -> Action | None:
    """Insert ``-- migcheck: ignore <rule> -- `` on its own line above the statement the finding
    is on (same indentation), or ``ignore-file`` before the first statement for a file-level
    finding. The reason after ``--`` is left for the author (until then the comment is reported
    by ``suppression-missing-reason`` and suppresses nothing)."""
    f = c.file
    if f is None or f.read_problem or finding.rule in ("parse-error", "suppression-missing-reason"):
        return None
    bom = 1 if c.text.startswith("\ufeff") else 0
    text = c.text[bom:]  # what the engine read (same positions in every section of a file)
    nl = newline_of(text)
    stmt = None
    if finding.end_line is not None:
        # the innermost statement holding the finding's line (DO bodies: the inner statement)
        for st in (st for ff in c.files for st in ff.all_statements):
            if st.line <= finding.line <= st.end_line and (stmt is None or st.start >= stmt.start):
                stmt = st
    if stmt is None:
        if not f.statements:
            return None
        first = f.statements[0]
        at = _line_start(text, first.start)
        directive, title = "ignore-file", f"Suppress {finding.rule} for this file (with a reason)"
        indent = ""
        if text[at : first.start].strip():
            return None
    else:
        at = _line_start(text, stmt.start)
        before = text[at : stmt.start]
        if before.strip():  # another statement starts earlier on this line
            return None
        indent = before
        directive, title = "ignore", f"Suppress {finding.rule} for this statement (with a reason)"
    comment = f"{indent}-- migcheck: {directive} {finding.rule} -- {nl}"
    return Action(title, finding.rule, finding, [TextEdit(at + bom, at + bom, comment)])


def rollback_action(c: Checked, finding: Finding) -> Action | None:
    """``missing-rollback-file``: create the rollback with the scaffold ``migcheck new`` writes."""
    from .. import authoring

    f = c.file
    cfg = c.scope.config
    if f is None or cfg is None or f.version is None or f.kind != "migration" or layout.is_preset(cfg):
        return None  # (a runner preset's down file is not the guidelines' rollback scaffold)
    target = f.mdir / cfg.rollback.format(version=f.version)
    if target.exists():
        return None
    title = None
    if not f.read_problem:
        got = f.header.get("MIGRATION")
        if got and got[0].strip() and not got[0].strip().startswith("["):
            title = got[0].strip()
    if title is None:
        title = authoring.title_of((f.description or f.version).replace("_", " "))
    t = authoring.Target(
        mdir=f.mdir,
        date=f.date or "",
        seq=f.seq or 0,
        description=f.description or "",
        title=title,
        name=f.name,
        version=f.version,
        migration=f.path,
        rollback=target,
    )
    content = authoring.default_rollback(cfg, t)
    rel = os.path.relpath(target, f.mdir).replace(os.sep, "/")
    return Action(f"Create the rollback file {rel}", finding.rule, finding, create=(target, content), preferred=True)


def fix_actions(c: Checked) -> list[Action]:
    """The safe fixes of ``check --fix`` (``migcheck.fix``) for this text."""
    try:
        from .. import fix as fix_mod
    except ImportError:  # an older migcheck without --fix
        return []
    cfg = c.scope.config
    if cfg is None:
        return []
    out = []
    by_pos = {(x.rule, x.line, x.column): x for x in c.findings}
    for fx in fix_mod.compute(c.text, c.path, cfg):
        finding = by_pos.get((fx.rule, fx.line, fx.column))
        if finding is None:
            continue
        out.append(
            Action(fx.title, fx.rule, finding, [TextEdit(e.start, e.end, e.text) for e in fx.edits], preferred=True)
        )
    return out


def fix_all(c: Checked) -> Action | None:
    """Every safe fix at once (``check --fix`` on this text), as one minimal edit."""
    try:
        from .. import fix as fix_mod
    except ImportError:
        return None
    cfg = c.scope.config
    if cfg is None or c.file is None or not c.findings:
        return None
    result = fix_mod.fix_text(c.text, c.path, cfg)
    old, new = c.text, result.new
    if new == old:
        return None
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old, end_new = end_old - 1, end_new - 1
    rules = sorted({fx.rule for fx in result.applied})
    return Action(
        f"Apply the safe migcheck fixes ({', '.join(rules)})",
        "",
        c.findings[0],
        [TextEdit(start, end_old, new[start:end_new])],
    )
