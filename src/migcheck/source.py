"""Read a SQL file and split it into statements with exact positions.

Positions: pglast reports statement locations as byte offsets into the UTF-8 text, while its
scanner and its parse errors use character offsets. Everything here is converted to character
offsets into the decoded text, and from there to 1-based line and column (in characters), with
CRLF, CR and LF all counted as one line break, so a position points into the original file.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass

from pglast import parser as pg

from .model import Comment, Header, ParseProblem, Statement

_LINE_BREAK = re.compile(r"\r\n?|\n")


class DecodeError(Exception):
    def __init__(self, message: str, offset: int | None = None):
        super().__init__(message)
        self.offset = offset


def decode(data: bytes) -> str:
    """Decode a file's bytes: UTF-8 with or without BOM. UTF-16 with a BOM is decoded too."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"the file starts with a UTF-16 byte order mark but is not valid UTF-16 ({exc.reason})", exc.start) from None
        if "\x00" in text:
            raise DecodeError("the file contains NUL characters: it looks like a binary file, not SQL", text.index("\x00"))
        return text
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DecodeError("the file contains NUL bytes: it looks like a binary file, not SQL", nul)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        guess = "Latin-1 or Windows-1252" if all(b >= 0xA0 or b < 0x80 for b in data[exc.start : exc.start + 1]) else "not UTF-8"
        raise DecodeError(
            f"the file is not valid UTF-8: byte 0x{data[exc.start]:02x} at byte offset {exc.start} ({guess}?)",
            exc.start,
        ) from None


class Positions:
    """Converts character offsets (and UTF-8 byte offsets) of a text to 1-based line/column."""

    __slots__ = ("text", "_starts", "_ascii", "_data", "_cursor")

    def __init__(self, text: str):
        self.text = text
        self._starts: list[int] | None = None
        self._ascii = text.isascii()
        self._data: bytes | None = None
        self._cursor = (0, 0)  # (byte offset, char offset) of the last conversion

    @property
    def line_starts(self) -> list[int]:
        if self._starts is None:
            self._starts = [0] + [m.end() for m in _LINE_BREAK.finditer(self.text)]
        return self._starts

    def line_col(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, len(self.text)))
        starts = self.line_starts
        i = bisect.bisect_right(starts, offset) - 1
        return i + 1, offset - starts[i] + 1

    def line_count(self) -> int:
        return len(self.line_starts)

    def line_text(self, line: int) -> str:
        starts = self.line_starts
        if not 1 <= line <= len(starts):
            return ""
        end = starts[line] if line < len(starts) else len(self.text)
        return self.text[starts[line - 1] : end].rstrip("\r\n")

    def char_of_byte(self, byte_offset: int) -> int:
        if self._ascii:
            return byte_offset
        if self._data is None:
            self._data = self.text.encode("utf-8")
        b0, c0 = self._cursor
        if byte_offset < b0:
            b0, c0 = 0, 0
        chars = c0 + len(self._data[b0:byte_offset].decode("utf-8", errors="ignore"))
        self._cursor = (byte_offset, chars)
        return chars


@dataclass(slots=True)
class Parsed:
    statements: list[Statement]
    problems: list[ParseProblem]


def _skip_trivia(text: str, pos: int, end: int) -> int:
    """Move ``pos`` past white space and comments (the parser's statement start may include them)."""
    while pos < end:
        ch = text[pos]
        if ch.isspace():
            pos += 1
        elif text.startswith("--", pos):
            nl = text.find("\n", pos)
            pos = end if nl < 0 else nl + 1
        elif text.startswith("/*", pos):
            depth, pos = 1, pos + 2
            while pos < end and depth:
                if text.startswith("/*", pos):
                    depth, pos = depth + 1, pos + 2
                elif text.startswith("*/", pos):
                    depth, pos = depth - 1, pos + 2
                else:
                    pos += 1
        else:
            break
    return pos


def _statements_from_json(tree: dict, text: str, base: int, pos: Positions, out: list[Statement],
                          local: Positions | None = None) -> None:
    """Turn pglast's JSON statements into Statement objects. ``base`` is the character offset of
    ``text`` in the file; ``local`` converts byte offsets inside ``text`` when ``text`` is a piece."""
    conv = local or pos
    for raw in tree.get("stmts", ()):
        stmt = raw["stmt"]
        kind, node = next(iter(stmt.items()))
        b_start = raw.get("stmt_location", 0)
        b_len = raw.get("stmt_len", 0)
        c_start = conv.char_of_byte(b_start)
        c_end = conv.char_of_byte(b_start + b_len) if b_len else len(text)
        c_start = _skip_trivia(text, c_start, c_end)
        start, end = base + c_start, base + c_end
        line, col = pos.line_col(start)
        end_line, end_col = pos.line_col(end)
        out.append(Statement(len(out), kind, node, start, end, line, col, end_line, end_col, text[c_start:c_end]))


def parse(text: str, pos: Positions) -> Parsed:
    """Parse the whole file; on a syntax error, recover statement by statement."""
    statements: list[Statement] = []
    try:
        tree = json.loads(pg.parse_sql_json(text))
    except pg.ParseError:
        return _parse_recovering(text, pos)
    except RecursionError:
        return Parsed([], [ParseProblem("statement is nested too deeply to analyse", 1, 1)])
    _statements_from_json(tree, text, 0, pos, statements)
    return Parsed(statements, [])


def split(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into top-level statement pieces (character ranges, ``;`` excluded).

    Uses PostgreSQL's own scanner, so strings, quoted identifiers, dollar quotes and comments are
    understood; ``BEGIN ATOMIC ... END`` bodies are kept whole. An unterminated string, dollar quote
    or comment makes the rest of the file one piece, which then fails to parse with the scanner's
    message. psql meta-commands (a backslash command) end at the end of their line.
    """
    try:
        tokens = pg.scan(text)
        tail = None
    except pg.ParseError as exc:
        stop = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        try:
            tokens = pg.scan(text[:stop])
        except pg.ParseError:
            tokens = []
            stop = 0
        tail = stop
    pieces: list[tuple[int, int]] = []
    start = 0
    depth = 0
    prev = ""
    meta_line_end = -1
    for tok in tokens:
        name = tok.name
        if tok.start < meta_line_end:
            continue
        if name == "ASCII_92" and depth == 0:  # psql meta-command: the rest of the line
            nl = text.find("\n", tok.start)
            meta_line_end = len(text) if nl < 0 else nl
            if text[start:tok.start].strip():
                pieces.append((start, tok.start))
            pieces.append((tok.start, meta_line_end))
            start = meta_line_end
            continue
        if name in ("SQL_COMMENT", "C_COMMENT"):
            continue
        if depth:
            if name in ("CASE", "BEGIN_P"):
                depth += 1
            elif name == "END_P":
                depth -= 1
        elif name == "ATOMIC" and prev == "BEGIN_P":
            depth = 1
        elif name == "ASCII_59":
            pieces.append((start, tok.start))
            start = tok.end + 1
        prev = name
    end = len(text)
    if tail is not None and tail >= start:
        pieces.append((start, end))
    elif text[start:end].strip():
        pieces.append((start, end))
    return pieces


def _parse_recovering(text: str, pos: Positions) -> Parsed:
    statements: list[Statement] = []
    problems: list[ParseProblem] = []
    for p_start, p_end in split(text):
        piece = text[p_start:p_end]
        if not piece.strip():
            continue
        lead = _skip_trivia(piece, 0, len(piece))
        if lead == len(piece):
            continue  # only comments
        if piece[lead] == "\\":
            line, col = pos.line_col(p_start + lead)
            meta = piece[lead:].split(None, 1)[0]
            problems.append(ParseProblem(
                f"psql meta-command `{meta}` is not SQL: this file is a psql script and only psql can run it", line, col))
            continue
        try:
            tree = json.loads(pg.parse_sql_json(piece))
        except pg.ParseError as exc:
            offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else lead
            offset = min(max(offset, lead), len(piece))
            line, col = pos.line_col(p_start + offset)
            problems.append(ParseProblem(str(exc.args[0]), line, col))
            continue
        except RecursionError:
            line, col = pos.line_col(p_start + lead)
            problems.append(ParseProblem("statement is nested too deeply to analyse", line, col))
            continue
        _statements_from_json(tree, piece, p_start, pos, statements, Positions(piece))
    return Parsed(statements, problems)


def comments(text: str, pos: Positions) -> list[Comment]:
    """Every comment in the file, with its position, from PostgreSQL's scanner."""
    try:
        tokens = pg.scan(text)
    except pg.ParseError as exc:
        stop = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        try:
            tokens = pg.scan(text[:stop])
        except pg.ParseError:
            tokens = []
    out = []
    starts = pos.line_starts
    for tok in tokens:
        if tok.name in ("SQL_COMMENT", "C_COMMENT"):
            line, col = pos.line_col(tok.start)
            own = not text[starts[line - 1] : tok.start].strip()
            out.append(Comment(text[tok.start : tok.end + 1], tok.start, line, col, own))
    return out


_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9 _-]{0,40}?)\s*:\s?(.*)$")
_DECORATION = re.compile(r"^[\s=\-*#~_+]*$")


def header(text: str, first_statement: int | None, pos: Positions) -> Header:
    """Parse the ``-- Field: value`` comment block before the first statement.

    ``====`` rule lines are decoration. A comment line that is not ``Name: value`` continues the
    previous field's value. Field names are case-insensitive.
    """
    end = len(text) if first_statement is None else first_statement
    block = text[:end]
    result = Header()
    current: str | None = None
    for i, raw in enumerate(_LINE_BREAK.split(block)):
        line = raw.strip()
        if not line:
            current = None
            continue
        if not line.startswith("--"):
            break
        content = line.lstrip("-").strip()
        result.present = True
        if not content or _DECORATION.match(content):
            current = None
            continue
        m = _FIELD.match(content)
        if m and not m.group(1).lower().startswith("migcheck"):
            name = " ".join(m.group(1).lower().split())
            if name not in result.fields:
                result.fields[name] = (m.group(2).strip(), i + 1)
            current = name
        elif current is not None:
            value, ln = result.fields[current]
            result.fields[current] = ((value + " " + content).strip(), ln)
    return result


# --- PL/pgSQL: statements a DO block runs ---------------------------------------------------

_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def do_body(stmt: Statement, text: str) -> tuple[str, int] | None:
    """The PL/pgSQL body of a ``DO`` statement and its character offset in the file."""
    lang = "plpgsql"
    body = None
    for arg in stmt.node.get("args", ()):
        d = arg.get("DefElem", {})
        if d.get("defname") == "as":
            body = d.get("arg", {}).get("String", {}).get("sval")
        elif d.get("defname") == "language":
            lang = d.get("arg", {}).get("String", {}).get("sval", "").lower()
    if body is None or lang != "plpgsql":
        return None
    idx = text.find(body, stmt.start, stmt.end)
    if idx < 0:
        return None  # a quoted body with escapes: positions unknown, stay quiet
    return body, idx


def _plpgsql_queries(tree) -> list[tuple[str, int]]:
    """(query text, line within the body) of every SQL statement a PL/pgSQL function runs,
    including ``EXECUTE 'literal'`` dynamic SQL with a constant string."""
    found: list[tuple[str, int]] = []
    stack = [(tree, 1)]
    while stack:
        cur, line = stack.pop()
        if isinstance(cur, dict):
            line = cur.get("lineno", line)
            if "PLpgSQL_stmt_execsql" in cur:
                st = cur["PLpgSQL_stmt_execsql"]
                q = st.get("sqlstmt", {}).get("PLpgSQL_expr", {}).get("query")
                if q:
                    found.append((q, st.get("lineno", line)))
                continue
            if "PLpgSQL_stmt_dynexecute" in cur:
                st = cur["PLpgSQL_stmt_dynexecute"]
                q = st.get("query", {}).get("PLpgSQL_expr", {}).get("query", "")
                literal = _string_literal(q)
                if literal:
                    found.append((literal, st.get("lineno", line)))
                continue
            for value in cur.values():
                if isinstance(value, (dict, list)):
                    stack.append((value, line))
        elif isinstance(cur, list):
            for value in reversed(cur):
                stack.append((value, line))
    found.sort(key=lambda q: q[1])
    return found


def _string_literal(expr: str) -> str | None:
    expr = expr.strip()
    if len(expr) >= 2 and expr[0] == "'" and expr[-1] == "'" and "'" not in expr[1:-1].replace("''", ""):
        return expr[1:-1].replace("''", "'")
    m = _DOLLAR.match(expr)
    if m and expr.endswith(m.group(0)) and len(expr) > 2 * len(m.group(0)):
        return expr[len(m.group(0)) : -len(m.group(0))]
    return None


def inner_statements(stmt: Statement, text: str, pos: Positions) -> list[Statement]:
    """Statements run by a ``DO`` block, positioned at their line inside the body."""
    found = do_body(stmt, text)
    if found is None:
        return []
    body, body_start = found
    tag = "migcheck"
    while f"${tag}$" in body:
        tag += "_"
    wrapper = f"CREATE FUNCTION migcheck_do() RETURNS void LANGUAGE plpgsql AS ${tag}${body}${tag}$"
    try:
        tree = json.loads(pg.parse_plpgsql_json(wrapper))
    except (pg.ParseError, RecursionError, ValueError):
        return []
    body_line, _ = pos.line_col(body_start)
    out: list[Statement] = []
    for query, lineno in _plpgsql_queries(tree):
        try:
            parsed = json.loads(pg.parse_sql_json(query))
        except (pg.ParseError, RecursionError):
            continue
        line = body_line + lineno - 1
        line_text = pos.line_text(line)
        first_word = query.split(None, 1)[0] if query.split() else ""
        col_idx = line_text.lower().find(first_word.lower()) if first_word else -1
        col = col_idx + 1 if col_idx >= 0 else 1
        start = pos.line_starts[line - 1] + col - 1 if line <= pos.line_count() else stmt.start
        for raw in parsed.get("stmts", ()):
            kind, node = next(iter(raw["stmt"].items()))
            out.append(Statement(len(out), kind, node, start, start + len(query), line, col,
                                 line, col + len(first_word), query, parent=stmt))
    return out
