"""What a migration runs through the functions and procedures it defines and then calls.

A ``CREATE FUNCTION`` only stores a body; the body runs when the function is called. When the
same migration calls it (``SELECT f()``, ``SELECT * FROM f()``, ``INSERT ... VALUES (f())``,
``CALL p()``, or ``PERFORM f()`` / ``CALL p()`` / any expression in a ``DO`` block), what the body
runs is part of the migration. ``executed(f)`` gives the file's statements (``all_statements``)
plus, for each such call, the statements of the called body, positioned at the call and marked
with ``via`` (the routine's name); calls inside the body are followed too. A routine the
migration only defines, and calls of routines defined in other files, add nothing.

What cannot be read statically is listed by ``dynamic(f)``: an ``EXECUTE`` whose SQL is built at
run time (``'DR' || 'OP TABLE x'``, ``format(...)``, a variable), in a ``DO`` block or in a body
the migration calls. An ``EXECUTE`` of one constant string is read as the statement it holds.

Bodies read: ``LANGUAGE plpgsql``, ``LANGUAGE sql`` (``AS '...'`` and ``BEGIN ATOMIC``). Not
followed (and not reported as calls): triggers (they run on later writes), defaults, views,
policies and index expressions, which name a function without running it now.
"""

from __future__ import annotations

from ..model import Record, Statement, walk
from ..source import too_deep
from . import pg as pgtree
from . import plpgsql

# Statements whose expressions run when the statement runs (a function named in them is called)
RUNS_EXPRESSIONS = frozenset(
    {"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "CallStmt", "CreateTableAsStmt", "CopyStmt"}
)
MAX_DEPTH = 20  # calls followed from one call site


class Routine(Record):
    """A function or procedure the file defines, and what its body does (read on first use:
    most functions a migration defines are not called by it)."""

    __slots__ = ("name", "key", "st", "_body", "__dict__")
    SHOWN = ("name", "key", "st")

    def __init__(self, name: str, key: tuple[str | None, str], st: Statement, _body: tuple | None = None):
        self.name = name  # as written (schema.name)
        self.key = key
        self.st = st  # its CREATE
        self._body = _body

    def _read(self) -> tuple:
        if self._body is None:
            self._body = _read_body(self.st)
        return self._body

    @property
    def runs(self) -> list[tuple[str, dict, str]]:
        """(kind, node, text) of the statements the body runs, its expressions included."""
        return self._read()[0]

    @property
    def calls(self) -> list[tuple[str | None, str]]:
        """The routines the body calls."""
        return self._read()[1]

    @property
    def dynamic(self) -> list[str]:
        """The body's EXECUTE expressions built at run time."""
        return self._read()[2]


# --- names ----------------------------------------------------------------------------------


def _key(parts: list[str]) -> tuple[str | None, str] | None:
    if not parts:
        return None
    return (parts[-2] if len(parts) >= 2 else None, parts[-1])


def _matches(call: tuple[str | None, str], defined: tuple[str | None, str]) -> bool:
    return call[1] == defined[1] and (call[0] is None or defined[0] is None or call[0] == defined[0])


def called(kind: str, node: dict) -> list[tuple[str | None, str]]:
    """Names of the routines a statement calls when it runs."""
    if kind not in RUNS_EXPRESSIONS:
        return []
    out = []
    if kind == "CallStmt":
        k = _key(pgtree.strings((node.get("funccall") or {}).get("funcname")))
        if k:
            out.append(k)
    for t, fields in walk(node):
        if t == "FuncCall":
            k = _key(pgtree.strings(fields.get("funcname")))
            if k:
                out.append(k)
    return out


# --- PL/pgSQL -------------------------------------------------------------------------------


def _parse(sql: str) -> list[tuple[str, dict, str]]:
    """(kind, node, text) of the statements of ``sql``, [] when it does not parse."""
    tree = plpgsql.sql_tree(sql)
    if tree is None:
        return []
    out = []
    data = sql.encode("utf-8")
    for raw in tree.get("stmts", ()):
        kind, node = next(iter(raw["stmt"].items()))
        if too_deep(node):
            continue
        start = raw.get("stmt_location", 0)
        length = raw.get("stmt_len", 0)
        piece = data[start : start + length] if length else data[start:]
        out.append((kind, node, piece.decode("utf-8", "replace").strip()))
    return out


def _expression(query: str, mode: int) -> list[tuple[str, dict, str]]:
    """A PL/pgSQL expression as statements (``parseMode`` 0: a statement, 2: an expression,
    3: an assignment ``target := expr``), [] when it calls nothing (no parenthesis) or does not
    parse."""
    if "(" not in query:
        return []
    if mode == 0:
        return _parse(query)
    if mode == 3:
        target, sep, expr = query.partition(":=")
        if not sep:
            target, sep, expr = query.partition("=")
        return _parse("SELECT " + expr) if sep else []
    return _parse("SELECT " + query)


# PL/pgSQL statements whose SQL plpgsql._queries already lists (the DO block's inner statements)
_LISTED = {
    "PLpgSQL_stmt_execsql": "sqlstmt",
    "PLpgSQL_stmt_call": "expr",
    "PLpgSQL_stmt_fors": "query",
    "PLpgSQL_stmt_open": "query",
    "PLpgSQL_stmt_return_query": "query",
}


def _pl_events(tree) -> tuple[list[tuple[int, str, dict, str]], list[tuple[int, str]]]:
    """``([(line, kind, node, text)], [(line, dynamic EXECUTE expression)])`` of a PL/pgSQL tree,
    lines counted in the body from 1: the expressions it evaluates (``PERFORM``, conditions,
    assignments, ``RETURN``, ``RAISE`` arguments, ...; not the SQL statements
    ``plpgsql._queries`` lists) as statements, and the ``EXECUTE``s of SQL built at run time."""
    exprs: list[tuple[int, str, dict, str]] = []
    dynamic: list[tuple[int, str]] = []
    listed: set[int] = set()
    stack = [(tree, 1)]
    while stack:
        cur, line = stack.pop()
        if isinstance(cur, list):
            stack.extend((item, line) for item in reversed(cur))
            continue
        if not isinstance(cur, dict):
            continue
        if len(cur) == 1:
            key, val = next(iter(cur.items()))
            if key == "PLpgSQL_expr" and isinstance(val, dict):
                if id(val) not in listed:
                    exprs.extend((line, *st) for st in _expression(val.get("query") or "", val.get("parseMode", 2)))
                continue
            if isinstance(val, dict) and key.startswith("PLpgSQL_"):
                line = val.get("lineno", line)
                if key in _LISTED and isinstance(val.get(_LISTED[key]), dict):
                    listed.add(id(val[_LISTED[key]].get("PLpgSQL_expr")))
                dyn = None
                if key in ("PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors"):
                    dyn = val.get("query")
                elif key in ("PLpgSQL_stmt_open", "PLpgSQL_stmt_return_query"):
                    dyn = val.get("dynquery")
                if dyn:
                    text = (dyn.get("PLpgSQL_expr") or {}).get("query", "")
                    listed.add(id(dyn.get("PLpgSQL_expr")))
                    if plpgsql.decode_literal(text) is None:
                        dynamic.append((line, text.strip()))
                        # (a function called to build it still runs)
                        exprs.extend((line, *st) for st in _expression(text, 2))
        stack.extend((v, line) for v in reversed(list(cur.values())))
    exprs.sort(key=lambda e: e[0])
    dynamic.sort(key=lambda d: d[0])
    return exprs, dynamic


def _plpgsql_statements(tree) -> list[tuple[str, dict, str]]:
    out = []
    for query, _line, is_literal in plpgsql._queries(tree):
        if is_literal:
            decoded = plpgsql.decode_literal(query)
            if decoded is None:
                continue  # built at run time: _pl_events lists it
            query = decoded[0]
        out.extend(_parse(query))
    return out


# --- definitions ----------------------------------------------------------------------------


def _option(node: dict, name: str):
    for opt in node.get("options") or ():
        d = opt.get("DefElem", {})
        if d.get("defname") == name:
            return d.get("arg")
    return None


def _routine(st: Statement) -> Routine | None:
    parts = pgtree.strings(st.node.get("funcname"))
    key = _key(parts)
    return Routine(".".join(parts), key, st) if key is not None else None


def _read_body(st: Statement) -> tuple[list, list, list]:
    """(runs, calls, dynamic) of a CREATE FUNCTION / PROCEDURE (see ``Routine``)."""
    n = st.node
    r = _Body()
    body = n.get("sql_body")
    if body:  # BEGIN ATOMIC ... END (or RETURN expr): already parsed
        items = (body.get("List") or {}).get("items") or []
        for item in items:
            inner = (item.get("List") or {}).get("items") if isinstance(item, dict) and "List" in item else [item]
            for stmt in inner or ():
                if isinstance(stmt, dict) and stmt:
                    kind, node = next(iter(stmt.items()))
                    r.runs.append((kind, node, ""))
        if "ReturnStmt" in body:  # RETURN expr
            r.runs.append(
                ("SelectStmt", {"targetList": [{"ResTarget": {"val": body["ReturnStmt"].get("returnval")}}]}, "")
            )
    lang = ((_option(n, "language") or {}).get("String") or {}).get("sval", "sql").lower()
    as_ = _option(n, "as")
    text = None
    if as_:
        items = pgtree.strings((as_.get("List") or {}).get("items"))
        text = items[0] if len(items) == 1 else None  # (two items: a C function's library and symbol)
    if text is not None and lang == "sql":
        r.runs.extend(_parse(text))
    elif text is not None and lang == "plpgsql":
        tree = plpgsql.plpgsql_tree(st.text)
        if tree is not None:
            r.runs.extend(_plpgsql_statements(tree))
            exprs, dynamic = _pl_events(tree)
            r.runs.extend((kind, node, text) for _, kind, node, text in exprs)
            r.dynamic.extend(q for _, q in dynamic)
    for kind, node, _ in r.runs:
        r.calls.extend(called(kind, node))
    return r.runs, r.calls, r.dynamic


class _Body:
    __slots__ = ("runs", "calls", "dynamic")

    def __init__(self):
        self.runs: list = []
        self.calls: list = []
        self.dynamic: list = []


class _Defined:
    """The routines a file defines, in file order; the one a call reaches is the last one
    defined before the call."""

    def __init__(self, statements: list[Statement]):
        self.routines: list[Routine] = []
        for st in statements:
            if st.kind != "CreateFunctionStmt":
                continue
            r = _routine(st)
            if r is not None:
                self.routines.append(r)

    def at(self, key: tuple[str | None, str], offset: int) -> Routine | None:
        found = None
        for r in self.routines:
            if r.st.start < offset and _matches(key, r.key):
                found = r
        return found


# --- call sites -----------------------------------------------------------------------------


def _line_site(do: Statement, body: plpgsql.Body, lineno: int, text: str, positions) -> Statement:
    """A stand-in statement at the start of line ``lineno`` of a DO block's body."""
    if body.offsets is None:
        return do
    i = plpgsql._skip_space_and_comments(body.text, body.line_start(lineno), len(body.text))
    end_i = body.text.find("\n", i)
    end_i = len(body.text) if end_i < 0 else end_i
    start, end = body.file_offset(i), body.file_offset(end_i)
    if start is None or end is None:  # (not reached: the offsets are known)
        return do
    line, col = positions.line_col(start)
    end_line, end_col = positions.line_col(end)
    return Statement(
        do.index, "PLpgSQL", {}, start, end, line, col, end_line, end_col, text[start:end].rstrip(), parent=do
    )


def _scan(f) -> tuple[_Defined, list[Statement], list[tuple[Statement, list[tuple]]], list[tuple[Statement, str]]]:
    """What the file's DO blocks and calls run: the routines the file defines; the expressions
    its DO blocks evaluate, as statements at their line; (where, routines called there) of every
    call of one of those routines (a statement, an inner statement of a DO block, or a line of
    one); (where, expression) of every dynamic EXECUTE of its DO blocks."""
    if "_routines" in f.__dict__:
        return f.__dict__["_routines"]
    defined = _Defined(f.all_statements)
    exprs: list[Statement] = []
    sites: list[tuple[Statement, list[tuple]]] = []
    dynamic: list[tuple[Statement, str]] = []
    for st in f.statements:
        if st.kind != "DoStmt":
            continue
        body = plpgsql.do_body(st, f.text)
        tree = plpgsql.parse_body(body) if body is not None else None
        if body is None or tree is None:
            continue
        found, dyn = _pl_events(tree)
        lines: dict[int, Statement] = {}
        for line, kind, node, text in found:
            site = lines.get(line) or lines.setdefault(line, _line_site(st, body, line, f.text, f.positions))
            exprs.append(
                Statement(
                    site.index,
                    kind,
                    node,
                    site.start,
                    site.end,
                    site.line,
                    site.column,
                    site.end_line,
                    site.end_column,
                    text,
                    parent=st,
                )
            )
        for line, q in dyn:
            site = lines.get(line) or lines.setdefault(line, _line_site(st, body, line, f.text, f.positions))
            dynamic.append((site, q))
    if defined.routines:
        names = {r.key[1].lower() for r in defined.routines}
        for st in [*f.all_statements, *exprs]:
            low = st.text.lower()
            if st.kind in RUNS_EXPRESSIONS and any(n in low for n in names):  # (a call names it: skip the walk)
                keys = called(st.kind, st.node)
                if keys:
                    sites.append((st, keys))
    f.__dict__["_routines"] = found_ = (defined, exprs, sites, dynamic)
    return found_


def _follow(defined: _Defined, key: tuple, offset: int, seen: set, chain: tuple = ()):
    """Yield (routine, the routines that called it, outermost first) for ``key`` and what it
    calls, each routine once."""
    r = defined.at(key, offset)
    if r is None or id(r) in seen or len(chain) > MAX_DEPTH:
        return
    seen.add(id(r))
    yield r, chain
    for k in r.calls:
        yield from _follow(defined, k, offset, seen, chain + (r,))


def _postgres(f) -> bool:
    return getattr(f.config, "dialect", "postgres") == "postgres"


def executed(f) -> list[Statement]:
    """``f.all_statements`` plus what else the file runs: the expressions its DO blocks evaluate
    (``PERFORM f()``, ``IF``, assignments, ...: ``parent`` the DO, at their line), and the
    statements of the routines the file defines and calls, positioned at the call (``parent``:
    the calling statement, ``via``: the routine)."""
    if "_executed" in f.__dict__:
        return f.__dict__["_executed"]
    statements = f.all_statements
    if not _postgres(f) or not any(s.kind in ("DoStmt", "CreateFunctionStmt") for s in f.statements):
        f.__dict__["_executed"] = statements
        return statements
    defined, exprs, sites, _ = _scan(f)
    extra: list[Statement] = list(exprs)
    for site, keys in sites:
        seen: set = set()
        for key in keys:
            for r, chain in _follow(defined, key, site.start, seen):
                for kind, node, text in r.runs:
                    extra.append(
                        Statement(
                            site.index,
                            kind,
                            node,
                            site.start,
                            site.end,
                            site.line,
                            site.column,
                            site.end_line,
                            site.end_column,
                            text or site.text,
                            parent=site,
                            via=_shown(r, chain),
                        )
                    )
    out = sorted(statements + extra, key=lambda s: s.start) if extra else statements
    f.__dict__["_executed"] = out
    return out


def _shown(r: Routine, chain: tuple = ()) -> str:
    """``function f() defined at line 4, called here``, or with the routines that call it
    ``function f() defined at line 4, through g() called here``."""
    word = "procedure" if r.st.node.get("is_procedure") else "function"
    if chain:
        return f"{word} {r.name}() defined at line {r.st.line}, through {' and '.join(c.name + '()' for c in chain)} called here"
    return f"{word} {r.name}() defined at line {r.st.line}, called here"


def dynamic(f) -> list[tuple[Statement, str | None, str]]:
    """(where, the routine it runs in or None, the expression) of every EXECUTE of SQL built at
    run time that the file runs: in a DO block, or in a routine it defines and calls."""
    if not _postgres(f) or not any(s.kind in ("DoStmt", "CreateFunctionStmt") for s in f.statements):
        return []
    defined, _, sites, dyn = _scan(f)
    out: list[tuple[Statement, str | None, str]] = [(st, None, q) for st, q in dyn]
    for site, keys in sites:
        seen: set = set()
        for key in keys:
            for r, chain in _follow(defined, key, site.start, seen):
                out.extend((site, _shown(r, chain), q) for q in r.dynamic)
    out.sort(key=lambda x: x[0].start)
    return out


def do_lines(f, do: Statement) -> list[Statement]:
    """The lines of the DO block ``do`` that evaluate an expression or run dynamic SQL, as
    statements (a suppression comment in the body covers the line that follows it)."""
    if not _postgres(f):
        return []
    _, exprs, _, dyn = _scan(f)
    found = {(st.start, st.end): st for st in exprs if st.parent is do}
    found.update(((st.start, st.end), st) for st, _ in dyn if st.parent is do)
    return list(found.values())


def defined(f) -> list[Routine]:
    """The functions and procedures the file defines (called or not), with what their bodies run."""
    if not _postgres(f) or not any(s.kind == "CreateFunctionStmt" for s in f.all_statements):
        return []
    return _scan(f)[0].routines
