"""`migcheck lsp`: end-to-end tests driving the real server process with pytest-lsp.

The server must publish, for an open (unsaved) buffer, exactly the findings `migcheck check
--format json` reports for the same text on disk; these tests compare the two directly.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
lsp = pytest.importorskip("lsprotocol.types")
import pytest_asyncio  # noqa: E402  (installed with pytest-lsp)
from pygls.uris import from_fs_path  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from migcheck.lsp.positions import LineIndex, units  # noqa: E402

aio = pytest.mark.asyncio(loop_scope="module")

SERVER = [sys.executable, "-m", "migcheck", "lsp"]
# A server with two faults injected from outside (no test hook in migcheck): a rule registered
# through the public decorator raises inside the engine, and checking any file named 20990101_*
# raises in the server's own code. Both must be logged to the client while the server keeps
# answering.
FAULTY = [
    sys.executable,
    "-c",
    textwrap.dedent("""
    from migcheck import registry
    from migcheck.lsp import analysis
    registry.load()
    @registry.rule("injected-fault", severity="error", group="safety", summary="always raises")
    def boom(f, ctx):
        raise RuntimeError("injected rule fault")
    original = analysis.check_text
    def check_text(path, *args, **kwargs):
        if path.name.startswith("20990101"):
            raise RuntimeError("injected server fault")
        return original(path, *args, **kwargs)
    analysis.check_text = check_text
    from migcheck.lsp.server import serve
    serve()
"""),
]

HEADER = """\
-- =====================================================
-- MIGRATION: Add leads
-- =====================================================
-- Purpose: store leads
-- Impact: none
-- Rollback: drop the table
-- Testing: local
-- =====================================================
"""

MIGRATION = (
    HEADER
    + """
BEGIN;
CREATE TABLE leads (id bigint PRIMARY KEY, email text);
CREATE INDEX leads_email ON accounts (email);
/* 😀😀 */ DROP TABLE old_leads;
-- migcheck: ignore delete-statement -- approved in review #12
DELETE FROM leads WHERE id < 0;
COMMIT;
"""
)


async def _start(command, encodings=None, **init) -> LanguageClient:
    client = await ClientServerConfig(server_command=command).start()

    @client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def register(params):  # the server asks to watch the configuration and SQL files
        client.registrations = list(getattr(client, "registrations", [])) + list(params.registrations)

    caps = client_capabilities("visual-studio-code")
    if encodings:
        caps.general = lsp.GeneralClientCapabilities(position_encodings=encodings)
    await client.initialize_session(lsp.InitializeParams(capabilities=caps, initialization_options=init or None))
    return client


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client():
    c = await _start(SERVER, debounceMs=50)
    yield c
    await c.shutdown_session()
    await c.stop()


def _project(root: Path, config: str = "changelog = false\n") -> Path:
    (root / "migrations" / "rollback").mkdir(parents=True)
    (root / "migcheck.toml").write_text(config)
    return root / "migrations"


async def _published(client: LanguageClient, uri: str, timeout: float = 20) -> list:
    """Wait for the next diagnostics of ``uri`` (the caller popped the old ones)."""

    async def wait():
        while uri not in client.diagnostics:
            await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    await asyncio.wait_for(wait(), timeout)
    return list(client.diagnostics[uri])


async def _open(client, path: Path, text: str) -> list:
    uri = from_fs_path(str(path))
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="sql", version=1, text=text)
        )
    )
    return await _published(client, uri)


async def _change(client, path: Path, text: str, version: int) -> list:
    uri = from_fs_path(str(path))
    client.diagnostics.pop(uri, None)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    return await _published(client, uri)


async def _close(client, path: Path) -> list:
    uri = from_fs_path(str(path))
    client.diagnostics.pop(uri, None)
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    return await _published(client, uri)


def _cli_findings(root: Path, path: Path, text: str) -> list[dict]:
    """`migcheck check --format json FILE` from the project root, with ``text`` on disk (in
    process: the command's own entry point, without an interpreter start)."""
    import contextlib
    import io
    import os

    from migcheck.cli import main

    path.write_text(text, encoding="utf-8", newline="")
    out, err, cwd = io.StringIO(), io.StringIO(), os.getcwd()
    try:
        os.chdir(root)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["check", "--format", "json", str(path.relative_to(root))])
    finally:
        os.chdir(cwd)
    assert code in (0, 1), err.getvalue()
    return [f for f in json.loads(out.getvalue())["findings"] if not f["suppressed"]]


def _expected(findings: list[dict], text: str) -> list[tuple]:
    """The LSP view of CLI findings, converted independently of the server (UTF-16)."""
    lines = text.replace("\r\n", "\n").split("\n")
    out = []
    for f in findings:
        line = lines[f["line"] - 1]
        start = (f["line"] - 1, len(line[: f["column"] - 1].encode("utf-16-le")) // 2)
        if f["end_line"] is None:
            end = (f["line"] - 1, len(line.encode("utf-16-le")) // 2)
        else:
            eline = lines[f["end_line"] - 1]
            end = (f["end_line"] - 1, len(eline[: f["end_column"] - 1].encode("utf-16-le")) // 2)
        sev = {"error": 1, "warning": 2, "info": 3}[f["severity"]]
        out.append((f["rule"], sev, start, end, f["message"]))
    return sorted(out)


def _got(diags: list) -> list[tuple]:
    return sorted(
        (
            d.code,
            int(d.severity),
            (d.range.start.line, d.range.start.character),
            (d.range.end.line, d.range.end.character),
            d.message.split("\nhelp: ")[0],
        )
        for d in diags
    )


def _apply(text: str, edits: list) -> str:
    index = LineIndex(text)
    spans = sorted(
        (
            (
                index.lsp_to_offset(e.range.start.line, e.range.start.character),
                index.lsp_to_offset(e.range.end.line, e.range.end.character),
                e.new_text,
            )
            for e in edits
        ),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


@aio
async def test_diagnostics_match_check_and_follow_edits(client, tmp_path):
    mdir = _project(tmp_path)
    path = mdir / "20250101_001_add_leads.sql"
    path.write_text("-- an older saved version\n")  # the server must check the buffer, not this
    diags = await _open(client, path, MIGRATION)
    assert {d.source for d in diags} == {"migcheck"}
    rules = {d.code for d in diags}
    assert {"drop-table", "missing-rollback-file", "require-concurrent-index"} <= rules
    assert "delete-statement" not in rules  # suppressed with a reason, as in `check`
    # the DROP after two non-BMP characters: UTF-16 columns (each emoji is two code units)
    drop = next(d for d in diags if d.code == "drop-table")
    assert (drop.range.start.line, drop.range.start.character) == (12, 11)
    assert _got(diags) == _expected(_cli_findings(tmp_path, path, MIGRATION), MIGRATION)

    edited = MIGRATION.replace("DROP TABLE old_leads;", "SELECT 1;").replace(
        "CREATE INDEX leads_email", "CREATE INDEX CONCURRENTLY leads_email"
    )
    diags = await _change(client, path, edited, 2)
    assert "drop-table" not in {d.code for d in diags}
    assert _got(diags) == _expected(_cli_findings(tmp_path, path, edited), edited)
    broken = edited.replace("email text);", "email text;")  # a syntax error: at the parser's position
    diags = await _change(client, path, broken, 3)
    assert "parse-error" in {d.code for d in diags}
    assert _got(diags) == _expected(_cli_findings(tmp_path, path, broken), broken)
    assert await _close(client, path) == []

    crlf = MIGRATION.replace("\n", "\r\n")  # Windows line endings: the same lines and columns
    diags = await _open(client, path, crlf)
    assert _got(diags) == _expected(_cli_findings(tmp_path, path, crlf), crlf)
    assert await _close(client, path) == []


@aio
async def test_rollback_edit_rechecks_migration(client, tmp_path):
    mdir = _project(tmp_path)
    mig = mdir / "20250101_001_add_leads.sql"
    rb = mdir / "rollback" / "20250101_001_rollback.sql"
    mig_text = HEADER + "\nBEGIN;\nCREATE TABLE IF NOT EXISTS leads (id bigint PRIMARY KEY);\nCOMMIT;\n"
    mig.write_text(mig_text)
    rb.write_text("BEGIN;\nDROP TABLE IF EXISTS leads;\nCOMMIT;\n")
    assert "rollback-incomplete" not in {d.code for d in await _open(client, mig, mig_text)}
    mig_uri = from_fs_path(str(mig))
    client.diagnostics.pop(mig_uri, None)
    rb_diags = await _open(client, rb, "BEGIN;\nDROP TABLE IF EXISTS leads;\nCOMMIT;\n")
    assert "rollback-incomplete" not in {d.code for d in rb_diags}
    assert "rollback-incomplete" not in {d.code for d in await _published(client, mig_uri)}
    client.diagnostics.pop(mig_uri, None)
    # the undo is gone from the rollback (unsaved): both files are checked again
    rb_diags = await _change(client, rb, "BEGIN;\nDROP VIEW IF EXISTS other_view;\nCOMMIT;\n", 2)
    assert "rollback-incomplete" in {d.code for d in rb_diags}
    assert "rollback-incomplete" in {d.code for d in await _published(client, mig_uri)}
    await _close(client, rb)
    await _close(client, mig)


@aio
async def test_code_actions_fix_suppress_and_create_rollback(client, tmp_path):
    mdir = _project(tmp_path)
    path = mdir / "20250101_001_add_leads.sql"
    text = HEADER + "\nBEGIN;\nCREATE TABLE leads (id bigint PRIMARY KEY);\nCOMMIT;\n"
    path.write_text(text)
    uri = from_fs_path(str(path))
    diags = await _open(client, path, text)
    target = next(d for d in diags if d.code == "missing-if-not-exists")
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=target.range,
            context=lsp.CodeActionContext(diagnostics=[target]),
        )
    )
    titles = [a.title for a in actions]
    fix = next(a for a in actions if "IF NOT EXISTS" in a.title)
    suppress = next(a for a in actions if a.title.startswith("Suppress missing-if-not-exists"))
    assert fix.kind == lsp.CodeActionKind.QuickFix and fix.diagnostics[0].code == "missing-if-not-exists", titles

    fixed = _apply(text, fix.edit.document_changes[0].edits)
    assert "CREATE TABLE IF NOT EXISTS leads" in fixed
    diags = await _change(client, path, fixed, 2)
    assert "missing-if-not-exists" not in {d.code for d in diags}

    suppressed = _apply(text, suppress.edit.document_changes[0].edits)
    assert "\n-- migcheck: ignore missing-if-not-exists -- \nCREATE TABLE leads" in suppressed
    diags = await _change(client, path, suppressed, 3)  # no reason yet: the finding stays
    assert {"missing-if-not-exists", "suppression-missing-reason"} <= {d.code for d in diags}
    with_reason = suppressed.replace("-- \nCREATE", "-- created by the deploy tool\nCREATE")
    diags = await _change(client, path, with_reason, 4)
    assert not {"missing-if-not-exists", "suppression-missing-reason"} & {d.code for d in diags}

    # every safe fix at once, as editors ask on save (`source.fixAll.migcheck`)
    two = text.replace("COMMIT;", "CREATE TABLE notes (id bigint);\nCOMMIT;")
    diags = await _change(client, path, two, 5)
    assert sum(d.code == "missing-if-not-exists" for d in diags) == 2
    (fix_all,) = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)),
            context=lsp.CodeActionContext(diagnostics=[], only=["source.fixAll"]),
        )
    )
    assert fix_all.kind == "source.fixAll.migcheck"
    all_fixed = _apply(two, fix_all.edit.document_changes[0].edits)
    assert all_fixed.count("IF NOT EXISTS") == 2
    diags = await _change(client, path, all_fixed, 6)
    assert "missing-if-not-exists" not in {d.code for d in diags}

    missing = next(d for d in diags if d.code == "missing-rollback-file")
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=missing.range,
            context=lsp.CodeActionContext(diagnostics=[missing]),
        )
    )
    create = next(a for a in actions if a.title.startswith("Create the rollback file"))
    op, content = create.edit.document_changes
    assert op.kind == "create" and op.uri == from_fs_path(str(mdir / "rollback" / "20250101_001_rollback.sql"))
    rb_text = content.edits[0].new_text
    assert "20250101_001" in rb_text and "BEGIN;" in rb_text
    (mdir / "rollback" / "20250101_001_rollback.sql").write_text(rb_text)  # what the editor does
    client.workspace_did_change_watched_files(
        lsp.DidChangeWatchedFilesParams(changes=[lsp.FileEvent(uri=op.uri, type=lsp.FileChangeType.Created)])
    )
    client.diagnostics.pop(uri, None)
    diags = await _published(client, uri)
    assert "missing-rollback-file" not in {d.code for d in diags}
    await _close(client, path)


@aio
async def test_hover_shows_lock_and_rule(client, tmp_path):
    mdir = _project(tmp_path)
    path = mdir / "20250101_001_add_leads.sql"
    text = HEADER + "\nBEGIN;\nCREATE INDEX leads_email ON accounts (email);\nCOMMIT;\n"
    path.write_text(text)
    uri = from_fs_path(str(path))
    diags = await _open(client, path, text)
    line = next(d for d in diags if d.code == "require-concurrent-index").range.start.line
    hover = await client.text_document_hover_async(
        lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line, 3))
    )
    value = hover.contents.value
    assert "`accounts`: **SHARE**" in value and "existing table: blocks writes" in value
    assert "require-concurrent-index" in value and "CONCURRENTLY" in value.split("Use instead:")[1]
    await _close(client, path)


@aio
async def test_hover_shows_the_schema_models_view_of_a_new_table(client, tmp_path):
    mdir = _project(tmp_path)
    path = mdir / "20250101_001_add_notes.sql"
    text = (
        HEADER + "\nBEGIN;\nCREATE TABLE IF NOT EXISTS notes (id int);\nCREATE INDEX notes_id ON notes (id);\nCOMMIT;\n"
    )
    path.write_text(text)
    uri = from_fs_path(str(path))
    await _open(client, path, text)
    line = text.splitlines().index("CREATE INDEX notes_id ON notes (id);")
    hover = await client.text_document_hover_async(
        lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line, 3))
    )
    value = hover.contents.value
    assert "`notes`: **SHARE**" in value
    assert f"table created in this file (line {line}): no one else can hold it" in value
    await _close(client, path)


@aio
async def test_broken_config_is_one_diagnostic(client, tmp_path):
    mdir = _project(tmp_path, config='migrationz = ["migrations"]\n')
    path = mdir / "20250101_001_add_leads.sql"
    path.write_text(MIGRATION)
    diags = await _open(client, path, MIGRATION)
    assert len(diags) == 1 and diags[0].code == "config-error"
    assert "unknown key 'migrationz'" in diags[0].message
    hover = await client.text_document_hover_async(
        lsp.HoverParams(  # still answering
            text_document=lsp.TextDocumentIdentifier(uri=from_fs_path(str(path))), position=lsp.Position(0, 0)
        )
    )
    assert hover is None
    (tmp_path / "migcheck.toml").write_text("changelog = false\n")
    client.diagnostics.pop(from_fs_path(str(path)), None)
    client.text_document_did_save(
        lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=from_fs_path(str(path))))
    )
    diags = await _published(client, from_fs_path(str(path)))
    assert "drop-table" in {d.code for d in diags}
    await _close(client, path)


@aio
async def test_outside_migrations_is_not_checked(client, tmp_path):
    _project(tmp_path)
    other = tmp_path / "queries.sql"
    assert await _open(client, other, "DROP TABLE x;\n") == []
    await _close(client, other)


@aio
async def test_internal_errors_are_logged_and_server_answers_utf32(tmp_path):
    # (one server process for two things: this client also prefers UTF-32 positions)
    client = await _start(FAULTY, encodings=["utf-32", "utf-16"], debounceMs=50)
    try:
        mdir = _project(tmp_path)
        bad = mdir / "20990101_001_boom.sql"
        bad.write_text("")
        uri = from_fs_path(str(bad))
        client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(uri=uri, language_id="sql", version=1, text="SELECT 1;\n")
            )
        )
        hover = await client.text_document_hover_async(
            lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(0, 0))
        )
        assert hover is None
        assert any(
            "injected server fault" in m.message and m.type == lsp.MessageType.Error for m in client.log_messages
        )

        path = mdir / "20250101_001_add_leads.sql"
        diags = await _open(client, path, MIGRATION)
        assert "drop-table" in {d.code for d in diags}  # the other rules' findings are all there
        drop = next(d for d in diags if d.code == "drop-table")
        assert (drop.range.start.line, drop.range.start.character) == (12, 9)  # UTF-32: characters
        assert any("internal error in rule injected-fault" in m.message for m in client.log_messages)
    finally:
        await client.shutdown_session()
        await client.stop()


def test_lsp_without_the_extra(tmp_path):
    blocker = tmp_path / "pygls"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('no pygls here', name='pygls')\n")
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "migcheck", "lsp"], capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "pip install 'migcheck[lsp]'" in proc.stderr


@pytest.mark.parametrize("encoding, expected", [("utf-16", 11), ("utf-32", 9), ("utf-8", 15)])
def test_positions_in_each_encoding(encoding, expected):
    text = "SELECT 1;\r\n/* 😀😀 */ DROP TABLE old;\n"
    index = LineIndex(text, encoding)
    assert index.migcheck_to_lsp(2, 10) == (1, expected)
    assert index.lsp_to_offset(1, expected) == text.index("DROP")
    assert index.offset_to_lsp(text.index("DROP")) == (1, expected)
    assert units("😀", encoding) == {"utf-16": 2, "utf-32": 1, "utf-8": 4}[encoding]
    bom = LineIndex("\ufeffDROP TABLE x;\n", encoding)
    assert bom.migcheck_to_lsp(1, 1) == (0, units("\ufeff", encoding))


def test_which_files_are_checked(tmp_path):
    from migcheck.lsp import analysis

    cache = analysis.ConfigCache()
    bare = tmp_path / "bare"
    (bare / "db" / "migrations").mkdir(parents=True)
    mig = bare / "db" / "migrations" / "20250101_001_x.sql"
    scope = analysis.scope_of(mig, cache)  # no configuration: under a `migrations` directory
    assert scope.config is not None and scope.root == bare / "db"
    assert analysis.scope_of(bare / "query.sql", cache).config is None
    assert analysis.scope_of(bare / "query.sql", cache, check_all=True).config is not None
    # a runner's layout is recognised as `migcheck check FILE` recognises it (here diesel's)
    step = bare / "app" / "migrations" / "2020-01-01-000000_create_users"
    step.mkdir(parents=True)
    (step / "up.sql").write_text("CREATE TABLE users (id bigint);\n")
    (step / "down.sql").write_text("DROP TABLE users;\n")
    scope = analysis.scope_of(step / "up.sql", cache)
    assert scope.root == bare / "app" and scope.config.preset == "diesel"

    conf = tmp_path / "conf"
    (conf / "sql" / "changes").mkdir(parents=True)
    (conf / "pyproject.toml").write_text('[tool.migcheck]\nmigrations = ["sql/changes"]\n')
    scope = analysis.scope_of(conf / "sql" / "changes" / "20250101_001_x.sql", cache)
    assert scope.config is not None and scope.root == conf
    assert analysis.scope_of(conf / "sql" / "other.sql", cache).config is None
    # the configuration is read again when it changes, and a broken one is reported
    (conf / "pyproject.toml").write_text('[tool.migcheck]\nmigrations = ["sql/changes"]\nsequence = "weekly"\n')
    scope = analysis.scope_of(conf / "sql" / "changes" / "20250101_001_x.sql", cache)
    assert scope.config is None and "'sequence' must be" in scope.error
