"""Statements run by a ``DO`` block: its PL/pgSQL body parsed with ``parse_plpgsql_json``.

Every SQL statement the body runs is returned as a ``Statement`` positioned where it starts in the
file: nested blocks, ``IF``/``ELSIF``/``ELSE``, ``CASE``, loops, ``EXCEPTION`` handlers, the query
of ``FOR ... IN <query> LOOP``, ``CALL``, and ``EXECUTE`` / ``FOR ... IN EXECUTE`` with a constant
string (dynamic SQL built with ``||`` or ``format()`` is not known until run time and is skipped).
``PERFORM`` and expressions (``IF``, assignments) run queries too, but only ``SELECT``s.

Positions: PL/pgSQL numbers the lines of the body from 1 (counting ``\\n`` only), so the body's
own characters are mapped back to file offsets, whether the body is dollar-quoted (``$$``,
``$tag$``, starting on the ``DO`` line or not) or a ``'...'`` / ``E'...'`` string with escapes.
"""

from __future__ import annotations

import functools
import json
import re

from .._pglast import parser as pg
from ..model import Comment, Statement
from ..source import Positions, too_deep

_DOLLAR = re.compile(
    r"\$((?:[A-Za-z_]|[^\x00-\x7f])(?:[A-Za-z0-9_]|[^\x00-\x7f])*)?\$"
)  # [^\x00-\x7f]: cheaper to compile than \x80-\U0010ffff
_OCTAL = re.compile(r"[0-7]{1,3}")
_HEX = re.compile(r"x([0-9A-Fa-f]{1,2})")
_UNI4 = re.compile(r"u([0-9A-Fa-f]{4})")
_UNI8 = re.compile(r"U([0-9A-Fa-f]{8})")
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


# --- string literals with a map back to their source --------------------------------------


def decode_literal(src: str) -> tuple[str, list[int]] | None:
    """Decode one SQL string constant (``'...'``, ``E'...'``, ``$tag$...$tag$``).

    Returns its value and, for each character of the value, its offset in ``src`` (plus one
    entry for the end of the value), or None when ``src`` is not such a constant."""
    src = src.strip()
    m = _DOLLAR.match(src)
    if m:
        tag = m.group(0)
        if len(src) >= 2 * len(tag) and src.endswith(tag) and tag not in src[len(tag) : -len(tag)]:
            n = len(tag)
            value = src[n:-n]
            return value, list(range(n, n + len(value) + 1))
        return None
    escapes = False
    i = 0
    if src[:1] in ("E", "e"):
        escapes, i = True, 1
    if len(src) < i + 2 or src[i] != "'" or src[-1] != "'":
        return None
    out: list[str] = []
    offsets: list[int] = []
    i += 1
    end = len(src) - 1
    while i < end:
        ch = src[i]
        if ch == "'":
            if src[i + 1 : i + 2] != "'" or i + 1 >= end:
                return None  # two constants or a stray quote: not one plain literal
            out.append("'")
            offsets.append(i)
            i += 2
        elif ch == "\\" and escapes:
            nxt = src[i + 1 : i + 2]
            if not nxt or i + 1 >= end:
                return None
            for pattern, base in ((_OCTAL, 8), (_HEX, 16), (_UNI4, 16), (_UNI8, 16)):
                m = pattern.match(src, i + 1)
                if m:
                    digits = m.group(1) if m.groups() else m.group(0)
                    out.append(chr(int(digits, base)))
                    offsets.append(i)
                    i = m.end()
                    break
            else:
                out.append(_SIMPLE_ESCAPES.get(nxt, nxt))
                offsets.append(i)
                i += 2
        else:
            out.append(ch)
            offsets.append(i)
            i += 1
    offsets.append(end)
    return "".join(out), offsets


class Body:
    """A DO block's body: its text and, when known, the file offset of each of its characters."""

    def __init__(self, text: str, offsets: list[int] | None):
        self.text = text
        self.offsets = offsets  # len(text) + 1 entries, or None: positions unknown
        self._line_starts: list[int] | None = None

    def file_offset(self, i: int) -> int | None:
        if self.offsets is None:
            return None
        return self.offsets[max(0, min(i, len(self.offsets) - 1))]

    def line_start(self, lineno: int) -> int:
        """Index in the body of the start of PL/pgSQL line ``lineno`` (lines end at ``\\n``)."""
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        starts = self._line_starts
        return starts[max(0, min(lineno - 1, len(starts) - 1))]


def do_body(stmt: Statement, text: str) -> Body | None:
    """The PL/pgSQL body of a ``DO`` statement, mapped to the file, or None when the block is
    written in another language."""
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
    return _located_body(text[stmt.start : stmt.end], stmt.start, body)


# A DO block's body is asked for by its inner statements, its comments, the effects, the routines
# and mixed-changes: three scans of the block each (issue 22), all while its file is checked (a
# few kept: a body holds an offset per character). Bodies are shared: nobody changes them.
@functools.lru_cache(maxsize=16)
def _located_body(src: str, start: int, body: str) -> Body:
    """``body`` (the string constant of the DO block ``src``, at ``start`` in its file) mapped to
    the file."""
    try:
        tokens = pg.scan(src)
    except pg.ParseError:
        tokens = []
    for tok in tokens:
        if tok.name != "SCONST":
            continue
        lit = src[tok.start : tok.end + 1]
        decoded = decode_literal(lit)
        if decoded is not None and decoded[0] == body:
            base = start + tok.start
            return Body(body, [base + o for o in decoded[1]])
    return Body(body, None)  # a form not mapped (U&'...'): the statements sit at the DO


# --- the statements a PL/pgSQL body runs --------------------------------------------------


def _expr(node) -> str:
    return (node or {}).get("PLpgSQL_expr", {}).get("query", "") if isinstance(node, dict) else ""


def _queries(tree) -> list[tuple[str, int, bool]]:
    """``(text, line in the body, is_literal)`` of every SQL statement the body runs, in source
    order. ``is_literal``: the text is a string constant whose value is the SQL (``EXECUTE``)."""
    found: list[tuple[str, int, bool]] = []

    def visit(cur, line: int) -> None:
        if isinstance(cur, list):
            for item in cur:
                visit(item, line)
            return
        if not isinstance(cur, dict):
            return
        if len(cur) == 1:
            key, val = next(iter(cur.items()))
            if isinstance(val, dict) and key.startswith("PLpgSQL_"):
                ln = val.get("lineno", line)
                if key == "PLpgSQL_function":
                    visit(val.get("action"), ln)  # not the declarations ("datums")
                    return
                if key == "PLpgSQL_stmt_execsql":
                    found.append((_expr(val.get("sqlstmt")), ln, False))
                    return
                if key == "PLpgSQL_stmt_call":
                    found.append((_expr(val.get("expr")), ln, False))
                    return
                if key in ("PLpgSQL_stmt_fors", "PLpgSQL_stmt_open", "PLpgSQL_stmt_return_query"):
                    if val.get("query"):
                        found.append((_expr(val.get("query")), ln, False))
                    if val.get("dynquery"):
                        found.append((_expr(val.get("dynquery")), ln, True))
                    visit(val.get("body"), ln)
                    return
                if key in ("PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors"):
                    found.append((_expr(val.get("query")), ln, True))
                    visit(val.get("body"), ln)
                    return
                for value in val.values():
                    visit(value, ln)
                return
        for value in cur.values():
            visit(value, line)

    visit(tree, 1)
    return [q for q in found if q[0].strip()]


def _locate(body: str, query: str, start: int) -> int | None:
    """Where ``query`` starts in ``body`` at or after ``start``. PL/pgSQL blanks an ``INTO``
    target out of the query with as many spaces, so only the other characters must match."""
    q = query.strip()
    if not q:
        return None
    idx = body.find(q, start)
    if idx >= 0:
        return idx
    first = q.split(None, 1)[0]
    pos = start
    while True:
        idx = body.find(first, pos)
        if idx < 0:
            return None
        window = body[idx : idx + len(q)]
        if len(window) == len(q) and all(a == b or a.isspace() for a, b in zip(q, window)):
            return idx
        pos = idx + 1


def _skip_space_and_comments(text: str, i: int, end: int) -> int:
    while i < end:
        if text[i].isspace():
            i += 1
        elif text.startswith("--", i):
            nl = text.find("\n", i)
            i = end if nl < 0 else nl + 1
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = end if close < 0 else close + 2
        else:
            break
    return min(i, end)


# A body is parsed once (issue 22): the DO block's statements, its comments, mixed-changes'
# relations and the routines a migration calls all read the same PL/pgSQL and SQL trees, and
# each used to parse them again (1,182 PL/pgSQL parses of 427 bodies on the 1,506-file corpus).
# The trees are shared, as a file's statement trees are: nobody changes them.


@functools.lru_cache(maxsize=256)
def plpgsql_tree(text: str):
    """The PL/pgSQL parse tree of ``text`` (a ``CREATE FUNCTION`` statement), or None when it
    does not parse."""
    try:
        return json.loads(pg.parse_plpgsql_json(text))
    except (pg.ParseError, RecursionError, ValueError):
        return None


# What a PL/pgSQL parse tree's JSON says of each expression: ``{"PLpgSQL_expr":{"query":"..."``
# (the parser writes the query first; a raw ``"`` in JSON always delimits a string).
_EXPR_QUERY = re.compile(r'"PLpgSQL_expr":\{"query":"((?:[^"\\]|\\.)*)"')
# Below this many ``{`` and ``[`` the JSON cannot nest deep enough for ``json.loads`` to give up
# (RecursionError, which makes ``plpgsql_tree`` None): read as text, it says the same.
_SHALLOW = 500


def expr_queries(text: str) -> list[str] | None:
    """The query text of every ``PLpgSQL_expr`` of ``text`` (a ``CREATE FUNCTION`` statement),
    in no particular order, or None when it does not parse: what ``plpgsql_tree`` holds, read
    from the parser's JSON without building the tree (issue 22: decoding a function's whole tree,
    its variables and statements, to read its expressions' text was 4% of a cold run)."""
    try:
        raw = pg.parse_plpgsql_json(text)
    except (pg.ParseError, RecursionError, ValueError):
        return None
    if raw.count("{") + raw.count("[") >= _SHALLOW:
        tree = plpgsql_tree(text)
        if tree is None:
            return None
        stack, out = [tree], []
        while stack:
            cur = stack.pop()
            if isinstance(cur, dict):
                expr = cur.get("PLpgSQL_expr")
                if isinstance(expr, dict) and "query" in expr:
                    out.append(expr["query"])
                stack.extend(v for v in cur.values() if isinstance(v, (dict, list)))
            elif isinstance(cur, list):
                stack.extend(cur)
        return out
    return [json.loads('"' + q + '"') for q in _EXPR_QUERY.findall(raw)]


@functools.lru_cache(maxsize=1024)
def sql_tree(text: str):
    """The SQL parse tree of ``text`` (the JSON form: ``{"stmts": [...]}``), or None when it does
    not parse."""
    try:
        return json.loads(pg.parse_sql_json(text))
    except (pg.ParseError, RecursionError, ValueError):
        return None


def parse_body(body: Body):
    """The PL/pgSQL parse tree of a ``DO`` block's body (as the body of a function), or None
    when it does not parse."""
    tag = "migcheck"
    while f"${tag}$" in body.text:
        tag += "_"
    return plpgsql_tree(f"CREATE FUNCTION migcheck_do() RETURNS void LANGUAGE plpgsql AS ${tag}${body.text}${tag}$")


def inner_statements(stmt: Statement, text: str, pos: Positions) -> list[Statement]:
    """Statements run by a ``DO`` block, positioned where they start inside the body."""
    body = do_body(stmt, text)
    if body is None:
        return []
    tree = parse_body(body)
    if tree is None:
        return []
    try:
        queries = _queries(tree)
    except RecursionError:
        return []
    out: list[Statement] = []
    cursor = 0
    for query, lineno, is_literal in queries:
        line_start = body.line_start(lineno)
        at = _locate(body.text, query, max(cursor, line_start))
        if at is None:
            at = _locate(body.text, query, line_start)
        if is_literal:
            decoded = decode_literal(query)
            if decoded is None:
                continue  # built at run time: unknown
            sql, lit_offsets = decoded
            # offsets are relative to the stripped expression, which starts at `at`
            mapping = None if at is None else [at + o for o in lit_offsets]
            if at is not None:
                cursor = at + len(query.strip())
        else:
            sql = query
            if at is None:
                mapping = None
            else:
                lead = len(query) - len(query.lstrip())
                mapping = [at - lead + i for i in range(len(query) + 1)]
                cursor = at + len(query.strip())
        parsed = sql_tree(sql)
        if parsed is None:
            continue
        local = Positions(sql)
        for raw in parsed.get("stmts", ()):
            kind, node = next(iter(raw["stmt"].items()))
            if too_deep(node):  # like an inner statement that does not parse: our walkers could not follow it
                continue
            b_start = raw.get("stmt_location", 0)
            b_len = raw.get("stmt_len", 0)
            c_start = local.char_of_byte(b_start)
            c_end = local.char_of_byte(b_start + b_len) if b_len else len(sql)
            c_start = _skip_space_and_comments(sql, c_start, c_end)
            piece = sql[c_start:c_end].rstrip()
            c_end = c_start + len(piece)
            start: int | None = None
            end: int | None = None
            if mapping is not None:
                start = body.file_offset(mapping[c_start])
                end = body.file_offset(mapping[c_end - 1] + 1) if c_end > c_start else start
            if mapping is not None and not is_literal and c_end > c_start:
                piece = body.text[mapping[c_start] : mapping[c_end - 1] + 1]  # with its INTO
            if start is None or end is None:
                if mapping is None and body.offsets is not None:
                    # not found in the body (should not happen): the start of its line
                    ls = body.line_start(lineno)
                    ls = _skip_space_and_comments(body.text, ls, len(body.text))
                    start = body.file_offset(ls)
                    end = start + len(piece) if start is not None else None
                else:
                    start, end = stmt.start, stmt.end
            assert start is not None and end is not None
            line, col = pos.line_col(start)
            end_line, end_col = pos.line_col(end)
            out.append(Statement(len(out), kind, node, start, end, line, col, end_line, end_col, piece, parent=stmt))
    return out


def body_comments(stmt: Statement, text: str, pos: Positions) -> list[Comment]:
    """The comments inside a ``DO`` block's body (the file's scanner sees the body as one string),
    positioned in the file, so a suppression comment written inside the body can be found."""
    body = do_body(stmt, text)
    if body is None or body.offsets is None:
        return []
    try:
        tokens = pg.scan(body.text)
    except pg.ParseError:
        return []
    out = []
    starts = pos.line_starts
    for tok in tokens:
        if tok.name not in ("SQL_COMMENT", "C_COMMENT"):
            continue
        start = body.file_offset(tok.start)
        end = body.file_offset(tok.end + 1)
        if start is None or end is None:
            continue
        line, col = pos.line_col(start)
        own = not text[starts[line - 1] : start].strip()
        out.append(Comment(text[start:end], start, line, col, own))
    return out
