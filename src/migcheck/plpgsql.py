"""Statements run by a ``DO`` block: its PL/pgSQL body parsed with ``parse_plpgsql_json``."""

from __future__ import annotations

import json
import re

from pglast import parser as pg

from .model import Statement
from .source import Positions

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
