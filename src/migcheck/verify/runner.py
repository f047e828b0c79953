"""Apply one SQL file to a database, statement by statement, and map a failure to file:line.

The statements are the engine's parsed statements (``MigrationFile.statements``: exact character
offsets into the file), or, in a file with a statement the parser rejects, the pieces of
PostgreSQL's own scanner (``source.split``), so the server reports its own error on that piece.
Each file runs on a connection of its own, in autocommit mode:

- a file with its own ``BEGIN``/``COMMIT`` runs as written: its transaction commands are sent
  like every other statement, so the file's transaction is the transaction;
- a file without runs each statement in its own transaction, as the Supabase SQL editor does.

Under a runner preset (docs/presets.md) the file runs as the runner runs it (``wrapper``): in the
runner's own transaction (goose, dbmate, diesel, sqlx, postgres-migrations, unless the file opts
out with the runner's marker), or as one query, which PostgreSQL runs as one implicit transaction
(golang-migrate; an opted-out dbmate, diesel, sqlx or postgres-migrations file; Flyway and the
Supabase CLI, which make each file atomic): verify then sends ``BEGIN``, the statements one by one
(so a failure still has its own line), and ``COMMIT``. A statement that cannot run in a transaction
block (``CREATE INDEX CONCURRENTLY``, ``VACUUM``) fails there as it fails in production; alone in an
implicit transaction it runs, as PostgreSQL runs a one-statement query.

The first failing statement ends the run of the file (an open transaction is rolled back). A file
that leaves a transaction open at its end is a failure too: its session ends, and the server
rolls the transaction back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import source
from ..analysis import pg, plpgsql
from ..model import Statement
from . import limits


@dataclass
class Piece:
    """A statement's text as ``verify`` runs it, with its parse when there is one."""

    start: int  # character offsets into the file
    end: int
    text: str
    stmt: Statement | None  # the parsed statement, when the parser read it


@dataclass
class Failure:
    """A statement the server rejected (or a transaction the file left open)."""

    line: int
    column: int
    message: str  # PostgreSQL's primary message
    sqlstate: str | None = None
    detail: str | None = None
    hint: str | None = None
    statement_line: int = 0  # where the failing statement starts
    statement_column: int = 0
    end_line: int | None = None
    end_column: int | None = None
    autocommit: bool = False  # statements before it were committed one by one
    index: int = 0  # which statement failed (0-based)
    wrapped: object = None  # the ``txn.Runner`` whose transaction verify ran the file in, if any
    newer_syntax: int = 0  # a syntax error in a statement migcheck's parser reads: the server's major version

    def describe(self) -> str:
        code = f" (SQLSTATE {self.sqlstate})" if self.sqlstate else ""
        return f"{self.message}{code}"

    def extra(self) -> str:
        """PostgreSQL's DETAIL and HINT, as sentences for the help text."""
        parts = []
        if self.detail:
            parts.append(f"PostgreSQL: {self.detail.rstrip('.')}.")
        if self.hint:
            parts.append(f"Hint: {self.hint.rstrip('.')}.")
        if self.newer_syntax:
            parts.append(
                f"migcheck's own parser (PostgreSQL 17's grammar) reads this statement, so it is likely syntax "
                f"of a later PostgreSQL than the {self.newer_syntax} verify ran on: verify on the version "
                "production runs (`--dsn URL`, or MIGCHECK_PG_BINDIR for a private cluster)."
            )
        return " ".join(parts)


def pieces(f) -> list[Piece]:
    """The statements of file ``f`` as they will be sent to the server."""
    text = f.text
    if not f.problems:
        return [Piece(st.start, st.end, text[st.start : st.end], st) for st in f.statements]
    out = []
    by_start = {st.start: st for st in f.statements}
    for p_start, p_end in source.split(text):
        lead = source._skip_trivia(text, p_start, p_end)
        body = text[lead:p_end]
        if not body.strip() or body.strip() == ";":
            continue
        stmt = next((st for st in f.statements if lead <= st.start < p_end), None) or by_start.get(lead)
        out.append(Piece(lead, p_end, body, stmt))
    return out


def runs_as_written(ps: list[Piece]) -> bool:
    """Does the file manage its own transaction (BEGIN / START TRANSACTION / COMMIT)?"""
    for p in ps:
        if p.stmt is not None and p.stmt.kind == "TransactionStmt":
            return True
        if p.stmt is None and re.match(r"(?is)\s*(begin|start\s+transaction|commit|end)\b", p.text):
            return True
    return False


def wrapper(f, config, ps: list[Piece]):
    """The runner (``txn.Runner``) whose transaction the file runs in, when verify must open one
    around it; None: the file runs as written (the guidelines, sqitch, goose's NO TRANSACTION)."""
    if config is None or getattr(f, "kind", None) not in ("migration", "rollback"):
        return None
    from ..analysis import txn

    r = txn.runner(f, config)
    if r is None or r.effective is None:
        return None
    if r.effective == "wrap" and r.opens_tx:
        return r  # the runner's BEGIN ... COMMIT around the file, whatever it holds
    # one query (or the runner's all-or-nothing file): one implicit transaction when it holds more
    # than one statement; a single statement runs on its own
    return r if sum(1 for p in ps if p.text.strip().strip(";").strip()) > 1 else None


def transaction_note(r, sqlstate: str | None) -> tuple[str, str]:
    """(message tail, help) for a statement that failed because the runner's transaction was
    around it (``sqlstate`` 25001: cannot run inside a transaction block)."""
    if r is None or sqlstate != "25001":
        return "", ""
    if r.effective == "wrap" and r.opens_tx and r.marker:
        return (
            f"{r.title} runs each migration in a transaction unless it is marked `{r.marker}`",
            f"Mark the file with `{r.marker}` {r.marker_where}, and keep this statement alone in it "
            f"(with the marker, {r.title} "
            + (
                "runs the statements one by one)."
                if r.splits
                else "sends the file as one query, which PostgreSQL still runs as "
                "one transaction when it holds more than one statement)."
            ),
        )
    if r.opted_out:
        return (
            f"the file is marked `{r.marker}`, but {r.title} sends it as one query, which PostgreSQL runs as "
            "one transaction",
            "Move this statement into a migration of its own, alone.",
        )
    how = (
        "sends the file as one query, which PostgreSQL runs as one transaction"
        if not r.opens_tx
        else "runs each file in one transaction"
    )
    return (
        f"{r.title} {how}",
        "Move this statement into a migration file of its own, alone "
        f"({r.title} runs a file that holds only such a statement without a transaction).",
    )


_INLINE_LINE = re.compile(r"PL/pgSQL function inline_code_block line (\d+)")


def _map_position(f, piece: Piece, diag) -> int:
    """The file offset where the error is: PostgreSQL's cursor position inside the statement
    sent, or, for an error inside a DO block's body, the start of the body line it names."""
    pos = diag.statement_position
    if pos:
        try:
            return piece.start + max(int(pos) - 1, 0)
        except ValueError:
            pass
    ctx = diag.context or ""
    # the last one is the DO block itself (an inner function call comes first)
    m = next(reversed(list(_INLINE_LINE.finditer(ctx))), None)
    if m and piece.stmt is not None and piece.stmt.kind == "DoStmt":
        body = plpgsql.do_body(piece.stmt, f.text)
        if body is not None and body.offsets is not None:
            i = body.line_start(int(m.group(1)))
            while i < len(body.text) and body.text[i] in " \t":
                i += 1
            off = body.file_offset(i)
            if off is not None:
                return off
    return piece.start


def failure(conn, f, p: Piece, exc, ps: list[Piece], i: int, wrapped=None) -> Failure:
    """The ``Failure`` for statement ``p`` (index ``i``) rejected with ``exc``; an open transaction
    is rolled back."""
    import psycopg
    from psycopg.pq import TransactionStatus

    diag = exc.diag
    off = _map_position(f, p, diag)
    line, col = f.positions.line_col(off)
    sl, sc = f.positions.line_col(p.start)
    el, ec = f.positions.line_col(p.end)
    msg = diag.message_primary or str(exc).strip().splitlines()[0]
    if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
        try:
            conn.execute("ROLLBACK")
        except psycopg.Error:
            pass
    newer = 0
    if diag.sqlstate == "42601" and p.stmt is not None and not f.problems and not conn.closed:
        newer = conn.info.server_version // 10000
    return limits.explain(
        conn,
        Failure(
            line,
            col,
            msg,
            diag.sqlstate,
            diag.message_detail,
            diag.message_hint,
            sl,
            sc,
            el,
            ec,
            autocommit=wrapped is None and not runs_as_written(ps) and i > 0,
            index=i,
            wrapped=wrapped,
            newer_syntax=newer,
        ),
    )


def apply_tail(conn, f, ps: list[Piece]) -> Failure:
    """The file left its transaction open: roll it back and say where it was opened."""
    opened = next((p for p in reversed(ps) if p.stmt is not None and pg.is_begin(p.stmt)), ps[-1] if ps else None)
    start = opened.start if opened else 0
    line, col = f.positions.line_col(start)
    conn.execute("ROLLBACK")
    return Failure(
        line,
        col,
        "the transaction opened here is never committed, so the server rolls the migration back when the session ends",
        None,
        None,
        "End the transaction with COMMIT.",
        line,
        col,
        index=len(ps),
    )


def apply(conninfo: str, f, *, connect_timeout: int = 30, config=None) -> Failure | None:
    """Run file ``f`` on a fresh connection; None when every statement succeeded. With ``config``
    (a runner preset in it), the file runs in the runner's transaction (``wrapper``)."""
    import psycopg
    from psycopg.pq import TransactionStatus

    ps = pieces(f)
    wrapped = wrapper(f, config, ps)
    conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=connect_timeout)
    conn.add_notice_handler(lambda diag: None)  # RAISE NOTICE and friends are not findings
    dog = limits.watch(conn, config)
    try:
        if wrapped is not None:
            conn.execute("BEGIN")
        for i, p in enumerate(ps):
            dog.statement()
            try:
                conn.execute(p.text)
            except psycopg.Error as exc:
                return failure(conn, f, p, exc, ps, i, wrapped)
        if wrapped is not None:  # the runner commits (a COMMIT in the file may have ended it early)
            try:
                conn.execute("COMMIT")
            except psycopg.Error as exc:  # a deferred constraint, say: the last statement's doing
                return failure(conn, f, ps[-1], exc, ps, len(ps) - 1, wrapped) if ps else None
        if conn.info.transaction_status != TransactionStatus.IDLE:
            return apply_tail(conn, f, ps)
    finally:
        dog.close()
        conn.close()
    return None
