"""The language server (pygls 2, lsprotocol types): diagnostics as you type, code actions, hovers.

Imported only by ``migcheck lsp`` when the ``lsp`` extra is installed. All the migcheck logic is in
``analysis`` (no LSP types there); this module maps it to the protocol and keeps the server alive:
every handler logs an unexpected exception to the client (``window/logMessage``) and answers
with an empty result instead of dying.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import from_fs_path, to_fs_path

from .. import __version__
from . import analysis
from .positions import LineIndex

SOURCE = "migcheck"
DEBOUNCE_SECONDS = 0.2
SLOW_CHECK = 0.25  # seconds: a check slower than this makes the wait after a keystroke longer
MAX_ADAPTIVE_DELAY = 2.0  # seconds: the longest wait after a keystroke when checks are slow
CONFIG_ERROR_CODE = "config-error"
FIX_ALL = "source.fixAll.migcheck"  # every safe fix at once (editor.codeActionsOnSave)
SEVERITY = {
    "error": lsp.DiagnosticSeverity.Error,
    "warning": lsp.DiagnosticSeverity.Warning,
    "info": lsp.DiagnosticSeverity.Information,
}
log = logging.getLogger("migcheck.lsp")


@dataclass
class DocState:
    """What the server knows of an open document: its version and when it was last checked."""

    version: int | None
    checked: analysis.Checked | None = None
    checked_version: int | None = None
    seconds: float = 0.0  # the CPU time its last check took


class _Answered:
    """A request already answered with an error while it was being read."""


class Protocol(LanguageServerProtocol):
    """pygls's protocol, but a request whose params do not have the method's shape (``hover``
    with ``"params": "nope"``) gets the JSON-RPC error reply the specification requires
    (InvalidParams, -32602; anything else unreadable: InternalError) instead of only a log line,
    so the client does not wait for an answer forever."""

    def structure_message(self, data):
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            msg_id = data.get("id") if isinstance(data, dict) else None
            if (
                isinstance(data, dict)
                and "method" in data
                and "error" not in data
                and isinstance(msg_id, (int, str))
                and not isinstance(msg_id, bool)
            ):
                self._send_response(msg_id, error=exc.to_response_error())
                log.warning("answered %s request %r with %s", data.get("method"), msg_id, exc.message)
                return _Answered()
            raise

    def handle_message(self, message):
        if isinstance(message, _Answered):
            return
        super().handle_message(message)


class MigcheckServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "migcheck", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Full, protocol_cls=Protocol
        )
        self.configs = analysis.ConfigCache()
        self.docs: dict[str, DocState] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.published_closed: dict[str, str] = {}  # closed migration -> the rollback it was checked for
        self.check_all = False
        self.debounce = DEBOUNCE_SECONDS
        self.logged: set[tuple] = set()
        # uri -> (text, config, fixes): `migcheck.fix` runs the checker several times per fix, and
        # editors ask for code actions at every cursor move: compute once per text
        self.fix_cache: dict[str, tuple[str, object, list[analysis.Action]]] = {}

    # --- helpers ------------------------------------------------------------------------
    @property
    def encoding(self) -> str:
        enc = self.workspace.position_encoding or "utf-16"
        enc = str(getattr(enc, "value", enc))  # a PositionEncodingKind, or a plain string
        return enc if enc in ("utf-8", "utf-16", "utf-32") else "utf-16"

    def log(self, message: str, kind: lsp.MessageType = lsp.MessageType.Error) -> None:
        log.log(logging.ERROR if kind == lsp.MessageType.Error else logging.INFO, message)
        try:
            self.window_log_message(lsp.LogMessageParams(type=kind, message=f"migcheck: {message}"))
        except Exception:  # the client may be gone: nothing more to do
            pass

    def internal_error(self, where: str, exc: BaseException) -> None:
        tb = traceback.extract_tb(exc.__traceback__)
        last = tb[-1] if tb else None
        at = f" ({Path(last.filename).name}:{last.lineno})" if last else ""
        self.log(
            f"internal error in {where}: {type(exc).__name__}: {exc}{at}; the server keeps running (please report this)"
        )
        log.debug("%s", "".join(traceback.format_exception(exc)))

    def text_of(self, uri: str) -> str:
        return self.workspace.get_text_document(uri).source

    def path_of(self, uri: str) -> Path | None:
        if not uri.startswith("file:"):
            return None
        fs = to_fs_path(uri)
        return Path(fs).absolute() if fs else None

    def workspace_roots(self) -> tuple[Path, ...]:
        roots = []
        for folder in self.workspace.folders.values():
            p = self.path_of(folder.uri)
            if p:
                roots.append(p)
        if self.workspace.root_path:
            roots.append(Path(self.workspace.root_path))
        return tuple(roots)

    def overlay(self, skip: str) -> dict[Path, str]:
        """The other open documents' unsaved texts."""
        out = {}
        for uri in self.docs:
            if uri == skip:
                continue
            p = self.path_of(uri)
            if p is not None:
                out[p] = self.text_of(uri)
        return out

    # --- checking -----------------------------------------------------------------------
    def check(self, uri: str) -> analysis.Checked | None:
        """Check an open document now (if it changed since the last check) and publish."""
        state = self.docs.get(uri)
        path = self.path_of(uri)
        if state is None or path is None:
            return None
        if state.checked is not None and state.checked_version == state.version:
            return state.checked
        text = self.text_of(uri)
        began = time.thread_time()  # CPU time: a loaded machine does not make a check "slow"
        scope = analysis.scope_of(path, self.configs, self.check_all, self.workspace_roots())
        checked = analysis.check_text(path, text, scope, self.overlay(uri))
        state.checked, state.checked_version = checked, state.version
        state.seconds = time.thread_time() - began
        for err in checked.errors:  # once per distinct error, not at every keystroke
            key = (err.rule, err.path, err.detail)
            if key not in self.logged:
                if len(self.logged) > 1000:
                    self.logged.clear()
                self.logged.add(key)
                self.log(
                    f"internal error in rule {err.rule} on {err.path}: {err.detail} (the other findings are "
                    "complete; please report this)"
                )
        if checked.failure and ("failure", checked.failure) not in self.logged:
            self.logged.add(("failure", checked.failure))
            self.log(f"cannot check {path}: {checked.failure}", lsp.MessageType.Warning)
        self.publish(uri, checked, state.version)
        return checked

    def diagnostics(self, checked: analysis.Checked) -> list[lsp.Diagnostic]:
        index = LineIndex(checked.text, self.encoding)
        if checked.scope.error is not None:
            end = index.migcheck_to_lsp(1, len(index.line_text(0)) + 1)
            return [
                lsp.Diagnostic(
                    range=lsp.Range(lsp.Position(0, 0), lsp.Position(*end)),
                    message=f"migcheck configuration error: {checked.scope.error}\n"
                    "help: fix the configuration file; this file is checked again as soon as it is saved.",
                    severity=lsp.DiagnosticSeverity.Error,
                    code=CONFIG_ERROR_CODE,
                    source=SOURCE,
                )
            ]
        out = []
        for f in checked.findings:
            start, end = index.range_of(f.line, f.column, f.end_line, f.end_column)
            out.append(
                lsp.Diagnostic(
                    range=lsp.Range(lsp.Position(*start), lsp.Position(*end)),
                    message=f"{f.message}\nhelp: {f.help}" if f.help else f.message,
                    severity=SEVERITY.get(f.severity, lsp.DiagnosticSeverity.Warning),
                    code=f.rule,
                    source=SOURCE,
                    data={"rule": f.rule, "line": f.line, "column": f.column},
                )
            )
        return out

    def publish(self, uri: str, checked: analysis.Checked, version: int | None) -> None:
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=self.diagnostics(checked), version=version)
        )

    def related(self, uri: str, pair_only: bool = False) -> list[str]:
        """Open documents whose findings may change with ``uri``'s text: the other files of its
        migration directory (rollbacks included), or with ``pair_only`` just its migration or
        rollback (what most cross-file findings depend on; the rest mostly on file names)."""
        state = self.docs.get(uri)
        if state is None or state.checked is None or state.checked.scope.config is None:
            return []
        cfg = state.checked.scope.config
        key = analysis.group_key(state.checked.path, cfg)
        pair = analysis.pair_of(state.checked) if pair_only else None
        out = []
        for other, st in self.docs.items():
            if other == uri or st.checked is None or st.checked.scope.config is None:
                continue
            if pair_only and st.checked.path != pair:
                continue
            if analysis.group_key(st.checked.path, st.checked.scope.config) == key:
                out.append(other)
        return out

    def recheck(self, uri: str, with_related: bool = True, pair_only: bool = False) -> None:
        """Check ``uri`` and then the open files its text may change the findings of. While
        typing (``pair_only``) that is its migration or rollback; on open, save and close, every
        file of its migration directory."""
        self.cancel_timer(uri)
        try:
            checked = self.check(uri)
        except Exception as exc:  # keep answering; say what broke
            self.internal_error(f"checking {uri}", exc)
            return
        if not with_related or checked is None:
            return
        for other in self.related(uri, pair_only):
            st = self.docs[other]
            st.checked_version = None  # its siblings changed: check again
            try:
                self.check(other)
            except Exception as exc:
                self.internal_error(f"checking {other}", exc)
        self.check_closed_migration(checked, uri)

    def check_closed_migration(self, checked: analysis.Checked, checked_uri: str) -> None:
        """Editing a rollback file re-checks its migration, even when that one is not open."""
        cfg = checked.scope.config
        if cfg is None or checked.file is None or checked.file.kind != "rollback":
            return
        mig = analysis.migration_of_rollback(checked.path, cfg)
        if mig is None:
            return
        uri = from_fs_path(str(mig))
        if uri is None or uri in self.docs:
            return
        try:
            text = mig.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return
        try:
            scope = analysis.scope_of(mig, self.configs, self.check_all, self.workspace_roots())
            done = analysis.check_text(mig, text, scope, self.overlay(uri))
            self.publish(uri, done, None)
            self.published_closed[uri] = checked_uri
        except Exception as exc:
            self.internal_error(f"checking {mig}", exc)

    def cancel_timer(self, uri: str) -> None:
        timer = self.timers.pop(uri, None)
        if timer is not None:
            timer.cancel()

    def schedule(self, uri: str) -> None:
        self.cancel_timer(uri)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.recheck(uri)
            return
        # a check that takes long (a big project: some rules read every sibling) waits longer
        # after the last keystroke, so that typing is not interrupted by one check per pause
        state = self.docs.get(uri)
        slow = 0.0
        if state is not None and state.seconds > SLOW_CHECK:
            slow = min(MAX_ADAPTIVE_DELAY, 1.5 * state.seconds)
        self.timers[uri] = loop.call_later(max(self.debounce, slow), self._fire, uri)

    def _fire(self, uri: str) -> None:
        self.timers.pop(uri, None)
        if uri in self.docs:
            self.recheck(uri, pair_only=True)

    def fresh(self, uri: str) -> analysis.Checked | None:
        """The current check of ``uri`` (checking now when an edit is still waiting)."""
        if uri not in self.docs:
            return None
        if uri in self.timers:
            self.recheck(uri, pair_only=True)
        return self.check(uri)


def guarded(default=None):
    """Handlers never raise: an exception is logged to the client and ``default`` answered."""

    def deco(func):
        @functools.wraps(func)
        def wrapper(ls: MigcheckServer, params):
            try:
                return func(ls, params)
            except Exception as exc:
                ls.internal_error(func.__name__, exc)
                return default

        return wrapper

    return deco


WATCHED = ("**/pyproject.toml", "**/migcheck.toml", "**/*.sql", "**/CHANGELOG.md")


def build() -> MigcheckServer:
    server = MigcheckServer()

    @server.feature(lsp.INITIALIZE)
    @guarded()
    def initialize(ls: MigcheckServer, params: lsp.InitializeParams):
        opts = params.initialization_options
        if isinstance(opts, dict):
            ls.check_all = bool(opts.get("checkAllSqlFiles", False))
            debounce = opts.get("debounceMs")
            if isinstance(debounce, (int, float)) and not isinstance(debounce, bool) and 0 <= debounce <= 5000:
                ls.debounce = debounce / 1000

    @server.feature(lsp.INITIALIZED)
    @guarded()
    def initialized(ls: MigcheckServer, params: lsp.InitializedParams):
        caps = ls.client_capabilities.workspace
        watch = caps.did_change_watched_files if caps else None
        if watch is not None and watch.dynamic_registration:
            ls.client_register_capability(
                lsp.RegistrationParams(
                    registrations=[
                        lsp.Registration(
                            id="migcheck-watch",
                            method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=lsp.DidChangeWatchedFilesRegistrationOptions(
                                watchers=[lsp.FileSystemWatcher(glob_pattern=g) for g in WATCHED]
                            ),
                        )
                    ]
                )
            )

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    @guarded()
    def did_open(ls: MigcheckServer, params: lsp.DidOpenTextDocumentParams):
        uri = params.text_document.uri
        ls.docs[uri] = DocState(params.text_document.version)
        ls.published_closed.pop(uri, None)
        ls.recheck(uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    @guarded()
    def did_change(ls: MigcheckServer, params: lsp.DidChangeTextDocumentParams):
        uri = params.text_document.uri
        state = ls.docs.get(uri)
        if state is None:
            return
        state.version = params.text_document.version
        ls.schedule(uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    @guarded()
    def did_save(ls: MigcheckServer, params: lsp.DidSaveTextDocumentParams):
        uri = params.text_document.uri
        if uri in ls.docs:
            ls.docs[uri].checked_version = None  # the disk changed too (mtime-keyed caches)
            ls.recheck(uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    @guarded()
    def did_close(ls: MigcheckServer, params: lsp.DidCloseTextDocumentParams):
        uri = params.text_document.uri
        ls.cancel_timer(uri)
        state = ls.docs.get(uri)
        others = ls.related(uri) if state is not None else []
        ls.docs.pop(uri, None)
        ls.fix_cache.pop(uri, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        for closed, by in list(ls.published_closed.items()):  # a migration re-checked for this rollback
            if by == uri:
                del ls.published_closed[closed]
                if closed not in ls.docs:
                    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=closed, diagnostics=[]))
        for other in others:  # the closed buffer no longer overlays the disk
            if other in ls.docs:
                ls.docs[other].checked_version = None
                ls.recheck(other, with_related=False)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded()
    def watched(ls: MigcheckServer, params: lsp.DidChangeWatchedFilesParams):
        """A configuration or CHANGELOG.md changed: check every open file again. A SQL file
        changed on disk (created, deleted, or saved while not open here): check the open files
        of its migration directory again."""
        everything = False
        dirs: set[Path] = set()
        for ch in params.changes:
            if ch.uri.endswith((".toml", "CHANGELOG.md")):
                everything = True
            elif ch.uri not in ls.docs:  # an open file's buffer is what counts, not the disk
                p = ls.path_of(ch.uri)
                if p is not None:
                    dirs |= {p.parent, p.parent.parent}
        if everything:
            ls.configs.clear()
        for uri in list(ls.docs):
            st = ls.docs.get(uri)
            if st is None:
                continue
            if not everything:
                c = st.checked
                if c is None or c.scope.config is None:
                    continue
                key = analysis.group_key(c.path, c.scope.config)
                if not any(d == key or d.parent == key or key in d.parents for d in dirs):
                    continue
            st.checked_version = None
            ls.recheck(uri, with_related=False)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    @guarded()
    def hover(ls: MigcheckServer, params: lsp.HoverParams):
        uri = params.text_document.uri
        checked = ls.fresh(uri)
        if checked is None or checked.file is None or checked.file.read_problem:
            return None
        index = LineIndex(checked.text, ls.encoding)
        pos = params.position
        offset = index.lsp_to_offset(pos.line, pos.character)
        parts = []
        seen = set()
        for f in checked.findings:
            start, end = index.range_of(f.line, f.column, f.end_line, f.end_column)
            if start <= (pos.line, pos.character) <= end and f.rule not in seen:
                seen.add(f.rule)
                parts.append(analysis.rule_hover(f.rule))
        cfg = checked.scope.config
        body_offset = offset - index.bom
        for f in checked.files if cfg is not None else ():  # (one per section of an up/down file)
            stmt = analysis.statement_at(f, body_offset)
            if stmt is not None:
                text = analysis.lock_hover(f, stmt, cfg)
                if text:
                    parts.insert(0, text)
                break
        if not parts:
            return None
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL])
    )
    @guarded(default=[])
    def code_action(ls: MigcheckServer, params: lsp.CodeActionParams):
        uri = params.text_document.uri
        checked = ls.fresh(uri)
        if checked is None or checked.file is None:
            return []
        index = LineIndex(checked.text, ls.encoding)
        only = [str(getattr(k, "value", k)) for k in (params.context.only or [])]
        if only and any(FIX_ALL.startswith(k) for k in only):  # e.g. editor.codeActionsOnSave
            a = analysis.fix_all(checked)
            if a is None:
                return []
            return [
                lsp.CodeAction(title=a.title, kind=FIX_ALL, edit=_workspace_edit(uri, ls.docs[uri].version, index, a))
            ]
        if only and not any(k in ("quickfix", "") or "quickfix".startswith(k) for k in only):
            return []
        lo = (params.range.start.line, params.range.start.character)
        hi = (params.range.end.line, params.range.end.character)
        wanted = []
        for f in checked.findings:
            start, end = index.range_of(f.line, f.column, f.end_line, f.end_column)
            if start <= hi and lo <= end:
                wanted.append(f)
        if not wanted:
            return []
        version = ls.docs[uri].version
        diags = {(d.code, d.range.start.line, d.range.start.character): d for d in ls.diagnostics(checked)}
        actions: list[analysis.Action] = []
        if any(f.rule in _fixable() for f in wanted):
            try:
                cached = ls.fix_cache.get(uri)
                if cached is None or cached[0] != checked.text or cached[1] is not checked.scope.config:
                    cached = (checked.text, checked.scope.config, analysis.fix_actions(checked))
                    ls.fix_cache[uri] = cached
                keys = {(f.rule, f.line, f.column) for f in wanted}
                actions += [a for a in cached[2] if (a.rule, a.finding.line, a.finding.column) in keys]
            except Exception as exc:
                ls.internal_error("computing the fixes", exc)
        for f in wanted:
            if f.rule == "missing-rollback-file" and _can_create(ls):
                a = analysis.rollback_action(checked, f)
                if a:
                    actions.append(a)
        for f in wanted:
            if f.rule in ("unknown-rule", "unused-suppression"):
                continue
            a = analysis.suppress_action(checked, f)
            if a:
                actions.append(a)
        out = []
        for a in actions:
            start, _ = index.range_of(a.finding.line, a.finding.column, None, None)
            diag = diags.get((a.rule, start[0], start[1]))
            out.append(
                lsp.CodeAction(
                    title=a.title,
                    kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=[diag] if diag else None,
                    is_preferred=a.preferred or None,
                    edit=_workspace_edit(uri, version, index, a),
                )
            )
        return out

    return server


def _fixable() -> frozenset[str]:
    try:
        from .. import fix as fix_mod
    except ImportError:
        return frozenset()
    return frozenset(getattr(fix_mod, "FIXABLE", ()))


def _can_create(ls: MigcheckServer) -> bool:
    ws = ls.client_capabilities.workspace
    edit = ws.workspace_edit if ws else None
    ops = (edit.resource_operations or []) if edit else []
    return lsp.ResourceOperationKind.Create in ops and bool(edit and edit.document_changes)


def _workspace_edit(uri: str, version: int | None, index: LineIndex, a: analysis.Action) -> lsp.WorkspaceEdit:
    if a.create is not None:
        path, content = a.create
        new_uri = from_fs_path(str(path))
        return lsp.WorkspaceEdit(
            document_changes=[
                lsp.CreateFile(uri=new_uri, options=lsp.CreateFileOptions(ignore_if_exists=True)),
                lsp.TextDocumentEdit(
                    text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=new_uri, version=None),
                    edits=[lsp.TextEdit(range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)), new_text=content)],
                ),
            ]
        )
    edits = [
        lsp.TextEdit(
            range=lsp.Range(lsp.Position(*index.offset_to_lsp(e.start)), lsp.Position(*index.offset_to_lsp(e.end))),
            new_text=e.text,
        )
        for e in a.edits
    ]
    return lsp.WorkspaceEdit(
        document_changes=[
            lsp.TextDocumentEdit(
                text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=edits
            )
        ]
    )


def serve() -> None:
    """Serve on stdin/stdout until the client says exit. The protocol owns the real stdout: a
    stray print anywhere below would corrupt it, so ``sys.stdout`` points at stderr meanwhile."""
    import sys

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    try:
        build().start_io(stdin, stdout)
    finally:
        sys.stdout = sys.__stdout__
