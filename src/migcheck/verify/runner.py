"""Apply one SQL file to a database, statement by statement, and map a failure to file:line.

The statements are the engine's parsed statements (``MigrationFile.statements``: exact character
offsets into the file), or, in a file with a statement the parser rejects, the pieces of
PostgreSQL's own scanner (``source.split``), so the server reports its own error on that piece.
Each file runs on a connection of its own, in autocommit mode:

- a file with its own ``BEGIN``/``COMMIT`` runs as written: its transaction commands are sent
  like every other statement, so the file's transaction is the transaction;
- a file without runs each statement in its own transaction, as the Supabase SQL editor does.

The first failing statement ends the run of the file (an open transaction is rolled back). A file
that leaves a transaction open at its end is a failure too: its session ends, and the server
rolls the transaction back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import pg, plpgsql, source
from ..model import Statement


@dataclass
class Piece:
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
        return " ".join(parts)


def pieces(f) -> list[Piece]:
    """The statements of file ``f`` as they will be sent to the server."""
    text = f.text
    if not f.problems:
        return [Piece(st.start, st.end, text[st.start:st.end], st) for st in f.statements]
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
    m = None
    for m in _INLINE_LINE.finditer(ctx):
        pass  # the last one is the DO block itself (an inner function call comes first)
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


def apply(conninfo: str, f, *, connect_timeout: int = 30) -> Failure | None:
    """Run file ``f`` on a fresh connection; None when every statement succeeded."""
    import psycopg
    from psycopg.pq import TransactionStatus

    ps = pieces(f)
    as_written = runs_as_written(ps)
    conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=connect_timeout)
    conn.add_notice_handler(lambda diag: None)  # RAISE NOTICE and friends are not findings
    try:
        for i, p in enumerate(ps):
            try:
                conn.execute(p.text)
            except psycopg.Error as exc:
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
                return Failure(line, col, msg, diag.sqlstate, diag.message_detail, diag.message_hint,
                               sl, sc, el, ec, autocommit=not as_written and i > 0, index=i)
        if conn.info.transaction_status != TransactionStatus.IDLE:
            opened = next((p for p in reversed(ps) if p.stmt is not None and pg.is_begin(p.stmt)), ps[-1] if ps else None)
            start = opened.start if opened else 0
            line, col = f.positions.line_col(start)
            conn.execute("ROLLBACK")
            return Failure(line, col, "the transaction opened here is never committed, so the server rolls "
                           "the migration back when the session ends", None, None,
                           "End the transaction with COMMIT.", line, col, index=len(ps))
    finally:
        conn.close()
    return None
