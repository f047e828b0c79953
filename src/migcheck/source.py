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
from itertools import accumulate, repeat
from operator import add

from ._lazyre import lazy
from .model import Comment, ParseProblem, Record, Statement


class _Lazy:
    """pglast's parser, imported on first use (a run served from the cache never needs it);
    each attribute is looked up once."""

    def __getattr__(self, name):
        from ._pglast import parser

        value = getattr(parser, name)
        setattr(self, name, value)
        return value


pg = _Lazy()

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
            raise DecodeError(
                f"the file starts with a UTF-16 byte order mark but is not valid UTF-16 ({exc.reason})", exc.start
            ) from None
        if "\x00" in text:
            raise DecodeError(
                "the file contains NUL characters: it looks like a binary file, not SQL", text.index("\x00")
            )
        return text
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DecodeError("the file contains NUL bytes: it looks like a binary file, not SQL", nul)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        guess = (
            "Latin-1 or Windows-1252"
            if all(b >= 0xA0 or b < 0x80 for b in data[exc.start : exc.start + 1])
            else "not UTF-8"
        )
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
            text = self.text
            if "\r" in text:
                self._starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
            else:  # (LF only, as most files: each line's length plus its LF, summed, all in C)
                self._starts = list(accumulate(map(add, map(len, text.split("\n")), repeat(1)), initial=0))[:-1]
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


class Parsed(Record):
    """A file's top-level statements and the parse problems found on the way, and the kinds of
    every node of their parse trees (``node_kinds``; None when not known: another dialect)."""

    __slots__ = ("statements", "problems", "kinds")

    def __init__(self, statements: list[Statement], problems: list[ParseProblem], kinds: frozenset[str] | None = None):
        self.statements = statements
        self.problems = problems
        self.kinds = kinds


# A node of pglast's JSON tree is an object under its kind's name: ``{"DropStmt":{...}}``, and
# only kinds start with a capital letter (fields do not; a string's quotes are escaped). So one
# pass of this pattern over the parser's output finds every node kind of the file, in C.
_NODE_KIND = re.compile(r'"([A-Z][A-Za-z0-9_]*)":\{')


def node_kinds(raw: str) -> set[str]:
    """The node kinds in a parse tree's JSON text."""
    return set(_NODE_KIND.findall(raw))


_EOL = re.compile(r"[\r\n]")


def _skip_trivia(text: str, pos: int, end: int) -> int:
    """Move ``pos`` past white space and comments (the parser's statement start may include them)."""
    while pos < end:
        ch = text[pos]
        if ch.isspace():
            pos += 1
        elif text.startswith("--", pos):  # ends at a line feed or a lone carriage return, as in PostgreSQL
            eol = _EOL.search(text, pos)
            pos = end if eol is None else eol.end()
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


# Rules and analyses walk trees recursively (and copy.deepcopy them): a statement nested deeper than
# this is reported as too deep, not analysed. Real migrations stay under 40 levels; walkers overflow
# Python's stack near 500 (tests/test_hostile.py::test_deeply_nested_*).
MAX_DEPTH = 200
_TOO_DEEP = (
    f"statement is nested too deeply to analyse (more than {MAX_DEPTH} levels in its parse tree): split the expression"
)


def too_deep(node) -> bool:
    """Whether a JSON parse tree nests deeper than MAX_DEPTH (iteratively: no recursion here)."""
    stack = [(node, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        cur, d = pop()
        if d > MAX_DEPTH:
            return True
        d += 1
        for v in cur.values() if isinstance(cur, dict) else cur:
            if isinstance(v, (dict, list)):
                push((v, d))
    return False


_RAW_STMT = lazy(r'\{"stmt":')  # where each statement starts in the JSON (only RawStmt has a "stmt" field)


def _deep(raw: str, count: int) -> list[bool] | None:
    """Per statement of the parser's JSON ``raw`` (``count`` of them, in order), whether it has more
    than MAX_DEPTH brackets: only such a statement can nest that deep, so only its tree needs the
    walk of ``too_deep`` (a large file's statements were all walked: 7% of a cold run on lemmy).
    None when the statements cannot be told apart in the text: walk them all."""
    if raw.count("{") + raw.count("[") <= MAX_DEPTH:
        return [False] * count
    starts = [m.start() for m in _RAW_STMT.finditer(raw)]
    if len(starts) != count:
        return None
    ends = [*starts[1:], len(raw)]
    return [raw.count("{", a, b) + raw.count("[", a, b) > MAX_DEPTH for a, b in zip(starts, ends)]


def _statements_from_json(
    tree: dict,
    text: str,
    base: int,
    pos: Positions,
    out: list[Statement],
    local: Positions | None = None,
    problems: list[ParseProblem] | None = None,
    deep: list[bool] | None = None,
) -> None:
    """Turn pglast's JSON statements into Statement objects. ``base`` is the character offset of
    ``text`` in the file; ``local`` converts byte offsets inside ``text`` when ``text`` is a piece.
    A statement nested deeper than MAX_DEPTH becomes a problem in ``problems`` instead (``deep``:
    which statements may be, ``_deep``; None: any of them)."""
    conv = local or pos
    starts, size, bisect_right = pos.line_starts, len(pos.text), bisect.bisect_right
    for i, raw in enumerate(tree.get("stmts", ())):
        stmt = raw["stmt"]
        kind, node = next(iter(stmt.items()))
        b_start = raw.get("stmt_location", 0)
        b_len = raw.get("stmt_len", 0)
        c_start = conv.char_of_byte(b_start)
        c_end = conv.char_of_byte(b_start + b_len) if b_len else len(text)
        c_start = _skip_trivia(text, c_start, c_end)
        start, end = base + c_start, base + c_end
        # (pos.line_col of both, written out: two calls per statement were 1% of a cold run)
        at = max(0, min(start, size))
        k = bisect_right(starts, at) - 1
        line, col = k + 1, at - starts[k] + 1
        at = max(0, min(end, size))
        k = bisect_right(starts, at) - 1
        end_line, end_col = k + 1, at - starts[k] + 1
        if problems is not None and (deep is None or deep[i]) and too_deep(node):
            problems.append(ParseProblem(_TOO_DEEP, line, col))
            continue
        out.append(Statement(len(out), kind, node, start, end, line, col, end_line, end_col, text[c_start:c_end]))


def parse(text: str, pos: Positions) -> Parsed:
    """Parse the whole file; on a syntax error, recover statement by statement."""
    statements: list[Statement] = []
    try:
        raw = pg.parse_sql_json(text)
        tree = json.loads(raw)
    except pg.ParseError:
        return _parse_recovering(text, pos)
    except RecursionError:  # too deep for json: find that statement, check the others
        return _parse_recovering(text, pos)
    problems: list[ParseProblem] = []
    # a tree MAX_DEPTH deep needs that many brackets in its JSON: most statements have fewer, and
    # then their trees need no walk to know (too_deep was 4% of a cold run)
    _statements_from_json(
        tree, text, 0, pos, statements, problems=problems, deep=_deep(raw, len(tree.get("stmts", ())))
    )
    return Parsed(statements, problems, frozenset(node_kinds(raw)))


def split(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into top-level statement pieces (character ranges, each with its ``;``).

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
            if text[start : tok.start].strip():
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
            pieces.append((start, tok.end + 1))  # the piece keeps its ';', as the parser saw it
            start = tok.end + 1
        prev = name
    end = len(text)
    if tail is not None and tail >= start:
        pieces.append((start, end))
    elif text[start:end].strip():
        pieces.append((start, end))
    return pieces


_PSQL_VAR = lazy(r""":(?:[A-Za-z_][A-Za-z0-9_]*|'[A-Za-z_][A-Za-z0-9_]*'|"[A-Za-z_][A-Za-z0-9_]*")""")


def _explain(message: str, piece: str, offset: int) -> str:
    """Name the usual non-SQL causes of a syntax error: psql variables and templating."""
    m = _PSQL_VAR.match(piece, offset)
    if m and message.startswith("syntax error"):
        return (
            f"psql variable `{m.group(0)}` is not SQL: this file is a psql script and only psql "
            f"(with the variable set) can run it ({message})"
        )
    if piece.startswith(("{{", "${", "{%"), offset):
        return f"template placeholder `{piece[offset : offset + 2]}...` is not SQL: render the template before checking it ({message})"
    if "memory exhausted" in message:  # the grammar's stack limit: PostgreSQL rejects it too
        return f"statement is nested too deeply for the PostgreSQL parser: split the expression ({message})"
    return message


def _parse_recovering(text: str, pos: Positions) -> Parsed:
    statements: list[Statement] = []
    problems: list[ParseProblem] = []
    kinds: set[str] = set()
    for p_start, p_end in split(text):
        piece = text[p_start:p_end]
        if not piece.strip():
            continue
        lead = _skip_trivia(piece, 0, len(piece))
        if lead < len(piece) and piece[lead] == "\\":
            line, col = pos.line_col(p_start + lead)
            meta = piece[lead:].split(None, 1)[0]
            problems.append(
                ParseProblem(
                    f"psql meta-command `{meta}` is not SQL: this file is a psql script and only psql can run it",
                    line,
                    col,
                )
            )
            continue
        try:
            raw = pg.parse_sql_json(piece)
            tree = json.loads(raw)
        except pg.ParseError as exc:
            offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else lead
            offset = min(max(offset, 0), len(piece))
            line, col = pos.line_col(p_start + offset)
            problems.append(ParseProblem(_explain(str(exc.args[0]), piece, offset), line, col))
            continue
        except RecursionError:
            line, col = pos.line_col(p_start + lead)
            problems.append(ParseProblem(_TOO_DEEP, line, col))
            continue
        _statements_from_json(
            tree, piece, p_start, pos, statements, Positions(piece), problems, _deep(raw, len(tree.get("stmts", ())))
        )
        kinds |= node_kinds(raw)
    return Parsed(statements, problems, frozenset(kinds))


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
