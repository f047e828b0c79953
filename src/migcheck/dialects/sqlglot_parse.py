"""Parse a file of another dialect with sqlglot and translate what the neutral rules read into
pglast-shaped statements (see ``migcheck.dialects`` and docs/dialects.md).

Splitting and positions come from sqlglot's tokenizer for the dialect (tokens carry character
offsets into the text), so a statement's line and column are exact in the original file, like
on the PostgreSQL path. Each statement is parsed on its own, so a syntax error costs only that
statement. A statement sqlglot keeps as an opaque ``Command`` (it did not understand it) becomes
an ``UnparsedStmt``: the ``unparsed-statement`` rule reports it, and no other rule reads inside it.

The translation covers the statement kinds the neutral rules read: transaction control,
CREATE / DROP of tables, views, indexes, schemas, functions, procedures, triggers, sequences,
ALTER TABLE ADD / DROP COLUMN and DROP CONSTRAINT, DELETE, UPDATE, INSERT, TRUNCATE, SELECT and
session settings. Anything else sqlglot parsed keeps its sqlglot class name as its kind
(``sqlglot.Grant``): a change no neutral rule has anything to say about.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError
from sqlglot.tokens import TokenType

from ..model import Comment, ParseProblem, Statement
from ..source import Parsed, Positions

UNPARSED = "UnparsedStmt"

# MySQL and its relatives: the mysql client's DELIMITER command changes the statement terminator.
_DELIMITER_DIALECTS = frozenset({"mysql", "doris", "starrocks"})
_END_FOLLOWERS = frozenset({"IF", "LOOP", "WHILE", "REPEAT"})  # END IF closes an IF, not a BEGIN


class DialectParsed(Parsed):
    """``Parsed`` plus the file's comments, found by the dialect's own tokenizer."""

    __slots__ = ("comments",)

    def __init__(self, statements, problems, comments):
        super().__init__(statements, problems)
        self.comments = comments


@contextmanager
def _quiet():
    """sqlglot logs a warning for every statement it falls back to a Command for; migcheck
    reports those as findings instead of letting the warning reach stderr."""
    log = logging.getLogger("sqlglot")
    old = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(old)


# --- splitting -------------------------------------------------------------------------------


class _Chunk:
    __slots__ = ("tokens", "compound")

    def __init__(self, tokens=None, compound=False):
        self.tokens = tokens if tokens is not None else []
        self.compound = compound  # holds a BEGIN ... END body with its own semicolons


# The mysql client's DELIMITER command, on a line of its own.
_DELIMITER_LINE = re.compile(r"(?im)^[ \t]*DELIMITER[ \t]+(\S+)[ \t]*$")
_GO_LINE = re.compile(r"(?im)^[ \t]*GO(?:[ \t]+\d+)?[ \t]*;?[ \t]*$")


def _regions(text: str, dialect: str) -> list[tuple[int, int, str]]:
    """``(start, end, terminator)`` ranges of the text. Client commands that are not SQL separate
    them and belong to none: ``DELIMITER`` lines (mysql client), ``GO`` lines (T-SQL's sqlcmd /
    SSMS batch separator)."""
    if dialect == "tsql" and "go" in text.lower():
        out, pos = [], 0
        for m in _GO_LINE.finditer(text):
            out.append((pos, m.start(), ";"))
            pos = m.end()
        out.append((pos, len(text), ";"))
        return out
    if dialect not in _DELIMITER_DIALECTS or "delimiter" not in text.lower():
        return [(0, len(text), ";")]
    out, pos, delim = [], 0, ";"
    for m in _DELIMITER_LINE.finditer(text):
        out.append((pos, m.start(), delim))
        delim, pos = m.group(1), m.end()
    out.append((pos, len(text), delim))
    return out


def _tokenize(d, text: str, start: int, end: int, dialect: str, pos: Positions, problems: list[ParseProblem]) -> list:
    """The tokens of ``text[start:end]``, offsets into ``text``. An unterminated string, quoted
    name or comment is a problem at its start; the tokens before it are kept."""
    tokenizer = d.tokenizer()
    try:
        tokens = tokenizer.tokenize(text[start:end])
    except Exception as exc:  # TokenError, or the tokenizer failing on hostile input
        core = getattr(tokenizer, "_core", tokenizer)
        tokens = list(getattr(core, "tokens", []))
        stop = getattr(core, "_start", None)
        if not isinstance(stop, int):
            stop = tokens[-1].end + 1 if tokens else 0
        tokens = [t for t in tokens if t.end < stop]
        while tokens and tokens[-1].token_type != TokenType.SEMICOLON:
            tokens.pop()  # the statement the error cuts short is the problem, not a statement
        cause = str(exc.__cause__ or exc)
        m = re.match(r"Missing (.+?) from", cause)
        what = f"unterminated string, quoted name or comment: no closing {m.group(1)}" if m else cause
        line, col = pos.line_col(start + stop)
        problems.append(ParseProblem(f"syntax error ({dialect}): {what}", line, col))
    if start:
        for t in tokens:
            t.start += start
            t.end += start
    return tokens


def _split(tokens, text: str, dialect: str) -> list[_Chunk]:
    """Top-level statements as token chunks: split at ``;``, keeping a ``CREATE ... BEGIN ... END``
    body (trigger, procedure) whole."""
    chunks: list[_Chunk] = [_Chunk()]
    depth = 0
    n = len(tokens)
    for i, tok in enumerate(tokens):
        cur = chunks[-1]
        if tok.token_type == TokenType.SEMICOLON and depth == 0:
            chunks.append(_Chunk())
            continue
        cur.tokens.append(tok)
        word = tok.text.upper()
        if (
            tok.token_type == TokenType.BEGIN
            and len(cur.tokens) > 1
            and cur.tokens[0].text.upper() in ("CREATE", "ALTER")
        ):
            depth += 1
            cur.compound = True
        elif depth and word == "CASE":
            depth += 1
        elif depth and tok.token_type == TokenType.END:
            nxt = tokens[i + 1].text.upper() if i + 1 < n else ""
            if nxt not in _END_FOLLOWERS:
                depth -= 1
    return [c for c in chunks if c.tokens]


def _split_custom(
    d, tokens, text: str, delim: str, dialect: str, pos: Positions, problems: list[ParseProblem]
) -> list[_Chunk]:
    """Statements of a region that ends them with a custom ``DELIMITER`` (``//``, ``$$``): the
    terminator may sit inside a token (``END$$``), so each piece is tokenized again alone."""
    cuts: list[int] = []
    for tok in tokens:
        if tok.token_type in (TokenType.STRING, TokenType.IDENTIFIER) or (cuts and tok.start < cuts[-1] + len(delim)):
            continue
        at = text.find(delim, tok.start)
        if 0 <= at <= tok.end:
            cuts.append(at)
    chunks = []
    start = tokens[0].start if tokens else 0
    ends = cuts + ([tokens[-1].end + 1] if tokens and (not cuts or tokens[-1].end >= cuts[-1] + len(delim)) else [])
    for end in ends:
        piece = [t for t in _tokenize(d, text, start, end, dialect, pos, problems)]
        if piece:
            chunks.append(_Chunk(piece, any(t.token_type == TokenType.SEMICOLON for t in piece)))
        start = end + len(delim)
    return chunks


# --- comments ----------------------------------------------------------------------------------


def _comments_in(text: str, start: int, end: int, markers, pos: Positions, out: list[Comment]) -> None:
    """The comments between two tokens (the gap holds only white space and comments)."""
    singles = [m for m in markers if isinstance(m, str)]
    pairs = [m for m in markers if not isinstance(m, str)]
    i = start
    while i < end:
        if text[i].isspace():
            i += 1
            continue
        found = False
        for open_, close in pairs:
            if text.startswith(open_, i):
                stop = text.find(close, i + len(open_))
                stop = end if stop < 0 else min(stop + len(close), end)
                out.append(_comment(text, i, stop, pos))
                i, found = stop, True
                break
        if found:
            continue
        for single in singles:
            if text.startswith(single, i):
                stop = i
                while stop < end and text[stop] not in "\r\n":
                    stop += 1
                out.append(_comment(text, i, stop, pos))
                i, found = stop, True
                break
        if not found:
            i += 1


def _comment(text: str, start: int, stop: int, pos: Positions) -> Comment:
    line, col = pos.line_col(start)
    own = not text[pos.line_starts[line - 1] : start].strip()
    return Comment(text[start:stop], start, line, col, own)


def _comments(text: str, tokens, markers, pos: Positions) -> list[Comment]:
    out: list[Comment] = []
    prev_end = 0
    for tok in tokens:
        if tok.start > prev_end:
            _comments_in(text, prev_end, tok.start, markers, pos, out)
        prev_end = max(prev_end, tok.end + 1)
    _comments_in(text, prev_end, len(text), markers, pos, out)
    return out


# --- parsing ---------------------------------------------------------------------------------


def _error_offset(chunk_tokens, error: dict) -> int:
    line, col = error.get("line"), error.get("col")
    for tok in chunk_tokens:
        if tok.line == line and tok.col == col:
            return tok.start
    return chunk_tokens[0].start


def parse(text: str, pos: Positions, dialect: str) -> DialectParsed:
    d = Dialect.get_or_raise(dialect)
    problems: list[ParseProblem] = []
    tokens: list = []
    chunks: list[_Chunk] = []
    for start, end, delim in _regions(text, dialect):
        region = _tokenize(d, text, start, end, dialect, pos, problems)
        tokens.extend(region)
        if delim == ";":
            chunks.extend(_split(region, text, dialect))
        else:
            chunks.extend(_split_custom(d, region, text, delim, dialect, pos, problems))
    statements: list[Statement] = []
    with _quiet():
        for chunk in chunks:
            toks = chunk.tokens
            start, end = toks[0].start, toks[-1].end + 1
            failed = ""
            try:
                trees = [t for t in d.parser().parse(toks, text) if t is not None]
            except ParseError as exc:
                if chunk.compound:
                    trees = []  # a BEGIN ... END body sqlglot cannot read: unparsed, not a syntax error
                else:
                    err = exc.errors[0] if exc.errors else {}
                    line, col = pos.line_col(_error_offset(toks, err))
                    desc = err.get("description") or str(exc)
                    if err.get("highlight"):
                        desc += f" at or near `{err['highlight']}`"
                    problems.append(ParseProblem(f"syntax error ({dialect}): {desc}", line, col))
                    continue
            except Exception as exc:  # sqlglot itself failed (RecursionError, a bug): not a syntax error
                trees, failed = [], f"sqlglot failed on it ({type(exc).__name__})"
            kind = None
            if len(trees) == 1 and not isinstance(trees[0], exp.Command):
                try:
                    kind, node = translate(trees[0], toks, dialect)
                except Exception:  # a tree shape the translation does not expect: unparsed, said so
                    trees, failed = [], "migcheck cannot translate sqlglot's tree for it"
            if kind is None:
                kind, node = UNPARSED, _unparsed(trees, toks, chunk.compound, text[start:end], failed)
            line, col = pos.line_col(start)
            end_line, end_col = pos.line_col(end)
            statements.append(
                Statement(len(statements), kind, node, start, end, line, col, end_line, end_col, text[start:end])
            )
    problems.sort(key=lambda p: (p.line, p.column))
    markers = d.tokenizer_class.COMMENTS
    return DialectParsed(statements, problems, _comments(text, tokens, markers, pos))


def _unparsed(trees, toks, compound: bool, text: str, failed: str = "") -> dict:
    words = " ".join(text.split()[:3])
    if failed:
        why = failed
    elif compound:
        why = "it holds a BEGIN ... END body"
    elif trees and isinstance(trees[0], exp.Command):
        why = "sqlglot keeps it as an opaque command"
    else:
        why = "sqlglot read it as more than one statement"
    return {"words": words, "why": why}


# --- translation to pglast-shaped nodes ---------------------------------------------------


def _name(e) -> str:
    if e is None:
        return ""
    if isinstance(e, str):
        return e
    if isinstance(e, (exp.Table, exp.Column, exp.Identifier)):
        return e.name
    return getattr(e, "name", "") or e.sql()


def _rangevar(table) -> dict:
    if isinstance(table, exp.Schema):
        table = table.this
    if not isinstance(table, exp.Table):
        return {"relname": _name(table)}
    rv = {"relname": table.name}
    if table.db:
        rv["schemaname"] = table.db
    if table.catalog:
        rv["catalogname"] = table.catalog
    return rv


def _string(s: str) -> dict:
    return {"String": {"sval": s}}


def _qualified(table) -> list[dict]:
    if isinstance(table, exp.Table):
        parts = [p for p in (table.catalog, table.db, table.name) if p]
    else:
        parts = [_name(table)]
    return [_string(p) for p in parts]


def _const(lit) -> dict | None:
    if isinstance(lit, exp.Boolean):
        return {"A_Const": {"boolval": {"boolval": bool(lit.this)}}}
    if isinstance(lit, exp.Literal):
        if lit.is_string:
            return {"A_Const": {"sval": {"sval": lit.this}}}
        return {"A_Const": {"ival": {"ival": lit.this}}}
    return None


def _where(where) -> dict | None:
    """A WHERE clause: enough of its shape for ``always_true`` (TRUE, 1 = 1), else opaque."""
    if where is None:
        return None
    cond = where.this if isinstance(where, exp.Where) else where
    while isinstance(cond, exp.Paren):
        cond = cond.this
    c = _const(cond)
    if c is not None and "boolval" in c["A_Const"]:
        return c
    if isinstance(cond, exp.EQ):
        left, right = _const(cond.this), _const(cond.expression)
        if left is not None and right is not None:
            return {"A_Expr": {"kind": "AEXPR_OP", "name": [_string("=")], "lexpr": left, "rexpr": right}}
    return {"sqlglot": cond.sql()}


_DROP_KINDS = {
    "TABLE": "OBJECT_TABLE",
    "VIEW": "OBJECT_VIEW",
    "INDEX": "OBJECT_INDEX",
    "SCHEMA": "OBJECT_SCHEMA",
    "FUNCTION": "OBJECT_FUNCTION",
    "PROCEDURE": "OBJECT_PROCEDURE",
    "TRIGGER": "OBJECT_TRIGGER",
    "SEQUENCE": "OBJECT_SEQUENCE",
    "TYPE": "OBJECT_TYPE",
}


def _drop(e: exp.Drop) -> tuple[str, dict]:
    kind = (e.args.get("kind") or "").upper()
    objs = e.args.get("tables") or ([e.this] if e.this is not None else e.expressions)
    missing_ok = bool(e.args.get("exists"))
    if kind == "DATABASE":
        return "DropdbStmt", {"dbname": _name(objs[0]) if objs else "", "missing_ok": missing_ok}
    if kind == "VIEW" and e.args.get("materialized"):
        rtype = "OBJECT_MATVIEW"
    else:
        rtype = _DROP_KINDS.get(kind, "OBJECT_" + kind.replace(" ", "_"))
    objects = []
    for o in objs:
        if rtype in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE"):
            objects.append({"ObjectWithArgs": {"objname": _qualified(o)}})
        elif rtype == "OBJECT_SCHEMA":
            objects.append(_string(_name(o)))
        else:
            objects.append({"List": {"items": _qualified(o)}})
    node = {"removeType": rtype, "objects": objects, "missing_ok": missing_ok}
    if e.args.get("cascade"):
        node["behavior"] = "DROP_CASCADE"
    return "DropStmt", node


def _create(e: exp.Create, dialect: str) -> tuple[str, dict]:
    kind = (e.args.get("kind") or "").upper()
    this = e.this
    exists = bool(e.args.get("exists"))
    if kind == "TABLE":
        return "CreateStmt", {"relation": _rangevar(this), "if_not_exists": exists}
    if kind == "VIEW":
        if e.args.get("materialized") or any(
            isinstance(p, exp.MaterializedProperty) for p in (e.args.get("properties") or exp.Properties()).expressions
        ):
            return "CreateTableAsStmt", {
                "objtype": "OBJECT_MATVIEW",
                "into": {"rel": _rangevar(this)},
                "if_not_exists": exists,
            }
        return "ViewStmt", {"view": _rangevar(this), "replace": bool(e.args.get("replace")), "if_not_exists": exists}
    if kind == "INDEX" and isinstance(this, exp.Index):
        return "IndexStmt", {
            "idxname": _name(this.this),
            "relation": _rangevar(this.args.get("table")),
            "unique": bool(e.args.get("unique")),
            "if_not_exists": exists,
        }
    if kind in ("SCHEMA", "DATABASE"):
        return "CreateSchemaStmt", {"schemaname": _name(this), "if_not_exists": exists}
    if kind in ("FUNCTION", "PROCEDURE"):
        target = this.this if isinstance(this, exp.UserDefinedFunction) else this
        return "CreateFunctionStmt", {
            "funcname": _qualified(target),
            "is_procedure": kind == "PROCEDURE",
            "replace": bool(e.args.get("replace")),
            "if_not_exists": exists,
        }
    if kind == "SEQUENCE":
        return "CreateSeqStmt", {"sequence": _rangevar(this), "if_not_exists": exists}
    return "sqlglot.Create", {"kind": kind}


def _alter(e: exp.Alter) -> tuple[str, dict]:
    if (e.args.get("kind") or "").upper() != "TABLE":
        return "sqlglot.Alter", {"kind": e.args.get("kind")}
    cmds = []
    for action in e.args.get("actions") or ():
        if isinstance(action, exp.ColumnDef):
            cmds.append(
                {
                    "AlterTableCmd": {
                        "subtype": "AT_AddColumn",
                        "missing_ok": bool(action.args.get("exists")),
                        "def": {"ColumnDef": {"colname": action.name}},
                    }
                }
            )
        elif isinstance(action, exp.Drop):
            kind = (action.args.get("kind") or "").upper()
            objs = action.args.get("tables") or ([action.this] if action.this is not None else [])
            name = _name(objs[0]) if objs else ""
            c = {"name": name, "missing_ok": bool(action.args.get("exists"))}
            if action.args.get("cascade"):
                c["behavior"] = "DROP_CASCADE"
            if kind == "COLUMN":
                c["subtype"] = "AT_DropColumn"
            elif kind in ("CONSTRAINT", "FOREIGN KEY", "CHECK"):
                c["subtype"] = "AT_DropConstraint"
            else:
                c["subtype"] = f"sqlglot.Drop {kind}"
            cmds.append({"AlterTableCmd": c})
        else:
            cmds.append({"AlterTableCmd": {"subtype": f"sqlglot.{type(action).__name__}"}})
    return "AlterTableStmt", {
        "relation": _rangevar(e.this),
        "objtype": "OBJECT_TABLE",
        "missing_ok": bool(e.args.get("exists")),
        "cmds": cmds,
    }


def translate(e: exp.Expression, toks, dialect: str) -> tuple[str, dict]:
    """``(kind, node)`` in pglast's shape for the kinds the neutral rules read."""
    first = toks[0].text.upper()
    if isinstance(e, exp.Transaction):
        return "TransactionStmt", {"kind": "TRANS_STMT_START" if first == "START" else "TRANS_STMT_BEGIN"}
    if isinstance(e, exp.Commit):
        return "TransactionStmt", {"kind": "TRANS_STMT_COMMIT"}
    if isinstance(e, exp.Rollback):
        if e.args.get("savepoint"):
            return "TransactionStmt", {"kind": "TRANS_STMT_ROLLBACK_TO"}
        return "TransactionStmt", {"kind": "TRANS_STMT_ROLLBACK"}
    if dialect == "sqlite" and first == "END" and all(t.text.upper() in ("END", "TRANSACTION") for t in toks):
        return "TransactionStmt", {"kind": "TRANS_STMT_COMMIT"}  # SQLite: END [TRANSACTION] = COMMIT
    if isinstance(e, (exp.Set, exp.Use, exp.Pragma)):
        return "VariableSetStmt", {}
    if isinstance(e, exp.Query):
        if isinstance(e, exp.Select) and e.args.get("into"):
            return "SelectStmt", {"intoClause": {"sqlglot": e.args["into"].sql()}}
        return "SelectStmt", {}
    if isinstance(e, exp.Delete):
        node = {"relation": _rangevar(e.this)}
        where = _where(e.args.get("where"))
        if where:
            node["whereClause"] = where
        return "DeleteStmt", node
    if isinstance(e, exp.Update):
        node = {"relation": _rangevar(e.this)}
        where = _where(e.args.get("where"))
        if where:
            node["whereClause"] = where
        if e.args.get("from") or e.args.get("from_"):  # UPDATE ... FROM (its join condition is the WHERE)
            node["fromClause"] = [{"sqlglot": "from"}]
        return "UpdateStmt", node
    if isinstance(e, exp.Insert):
        return "InsertStmt", {"relation": _rangevar(e.this.this if isinstance(e.this, exp.Schema) else e.this)}
    if isinstance(e, exp.TruncateTable):
        node = {"relations": [{"RangeVar": _rangevar(t)} for t in e.expressions]}
        if e.args.get("cascade"):
            node["behavior"] = "DROP_CASCADE"
        return "TruncateStmt", node
    if isinstance(e, exp.Drop):
        return _drop(e)
    if isinstance(e, exp.Create):
        return _create(e, dialect)
    if isinstance(e, exp.Alter):
        return _alter(e)
    return f"sqlglot.{type(e).__name__}", {}
