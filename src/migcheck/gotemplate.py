"""Go ``text/template`` migrations rendered the way gobuffalo pop and ory popx render them before
they run, keeping every byte where it is: the rules then read SQL, and a finding points at the
original file's line and column.

pop executes every migration as a template with the connection's details (``{{ index .Options
"Namespace" }}``, ``.Dialect``); popx with the dialect flags (``.IsPostgreSQL``, ``.IsCockroach``,
``.IsMySQL``, ``.IsMariaDB``, ``.IsSQLite``), ``.Parameters`` and the ``identifier`` function
(pop ``migration_content.go``, popx ``migration_content.go``). migcheck checks PostgreSQL, so:

- a value action (``{{ index .Options "Namespace" }}``, ``{{ identifier .Parameters.table }}``)
  becomes an identifier of the same width named after what it stands for (``namespace`` and
  spaces, or underscores when an identifier continues right after it), so
  ``{{ index .Options "Namespace" }}.users`` reads as the table ``namespace.users``;
- ``{{ if }}`` / ``{{ else if }}`` / ``{{ else }}`` / ``{{ end }}`` on the dialect are decided for
  PostgreSQL: the branches not taken become spaces (line breaks kept), as do the actions and
  ``{{/* comments */}}`` themselves;
- anything else (``range``, ``with``, ``define``, ``template``, a condition on a value only the
  runner knows, an action that never ends) is a ``Problem``: the caller reports it once instead
  of checking text that is not what the runner sends.

Parser layer: plain text in, plain text out; it knows no file, rule or layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# what the dialect flags are when the migration runs on PostgreSQL (popx's template data), and
# pop's ConnectionDetails.Dialect
_KNOWN = {
    ".IsPostgreSQL": True,
    ".IsCockroach": False,
    ".IsMySQL": False,
    ".IsMariaDB": False,
    ".IsSQLite": False,
    ".Dialect": "postgres",
}
_CONTROL = {"if", "else", "end", "range", "with", "define", "block", "template", "break", "continue"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$]")


@dataclass(frozen=True)
class Problem:
    """Why a template cannot be rendered, and where (offset of the action in the text)."""

    message: str
    offset: int


@dataclass
class _Action:
    start: int  # offset of `{{`
    end: int  # offset just after `}}`
    body: str  # between the delimiters, trim markers and surrounding space removed


def has_actions(text: str) -> bool:
    return "{{" in text


def _actions(text: str) -> list[_Action] | Problem:
    """The actions of ``text`` in order; a ``}}`` inside a quoted string of an action does not end it."""
    out: list[_Action] = []
    pos = 0
    n = len(text)
    while True:
        start = text.find("{{", pos)
        if start < 0:
            return out
        i = start + 2
        quote = None
        while i < n:
            c = text[i]
            if quote is not None:
                if c == "\\" and quote != "`":
                    i += 2
                    continue
                if c == quote:
                    quote = None
            elif c in "\"'`":
                quote = c
            elif c == "}" and text.startswith("}}", i):
                break
            i += 1
        if i >= n:
            return Problem("a template action `{{` is never closed with `}}`", start)
        body = text[start + 2 : i]
        if body.startswith("- ") or body.startswith("-\t") or body.startswith("-\n"):  # {{- trim marker
            body = body[1:]
        if body.endswith(" -") or body.endswith("\t-") or body.endswith("\n-"):  # -}} trim marker
            body = body[:-1]
        out.append(_Action(start, i + 2, body.strip()))
        pos = i + 2


def _tokens(body: str) -> list[str]:
    return re.findall(r'"(?:[^"\\]|\\.)*"|`[^`]*`|\(|\)|[^\s()]+', body)


def _value(tokens: list[str]):
    """The value of a condition on the dialect, or None when only the runner knows it."""
    if not tokens:
        return None
    if tokens[0] == "(" and tokens[-1] == ")":
        return _value(tokens[1:-1])
    if len(tokens) == 1:
        t = tokens[0]
        if t in _KNOWN:
            return _KNOWN[t]
        if t in ("true", "false"):
            return t == "true"
        if t.startswith('"') and t.endswith('"'):
            return t[1:-1]
        return None
    head, args = tokens[0], _args(tokens[1:])
    if args is None:
        return None
    values = [_value(a) for a in args]
    if any(v is None for v in values):
        return None
    if head == "not" and len(values) == 1:
        return not values[0]
    if head == "or" and values:
        return next((v for v in values if v), values[-1])
    if head == "and" and values:
        return next((v for v in values if not v), values[-1])
    if head in ("eq", "ne") and len(values) >= 2:
        same = any(values[0] == v for v in values[1:])
        return same if head == "eq" else values[0] != values[1]
    return None


def _args(tokens: list[str]) -> list[list[str]] | None:
    """Split a function's arguments (a parenthesised group is one argument)."""
    out: list[list[str]] = []
    depth = 0
    for t in tokens:
        if t == "(":
            if depth == 0:
                out.append([])
            depth += 1
            out[-1].append(t)
        elif t == ")":
            if depth == 0:
                return None
            out[-1].append(t)
            depth -= 1
        elif depth:
            out[-1].append(t)
        else:
            out.append([t])
    return out if depth == 0 else None


def placeholder_name(body: str) -> str:
    """What a value action stands for, as a lower-case SQL identifier: the last quoted key or
    field it names (``index .Options "Namespace"`` -> ``namespace``)."""
    quoted = re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', body)
    if quoted:
        return quoted[-1].lower()
    fields = re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)", body)
    if fields:
        return fields[-1].lower()
    words = _WORD.findall(body)
    return words[-1].lower() if words else "tmpl"


def _placeholder(text: str, a: _Action) -> tuple[str, int]:
    """The identifier that stands for a value action, and where the text goes on after it. A
    value that is a whole quoted identifier (`"{{ index .Options "Namespace" }}".users`) keeps its
    quotes around the name alone, the padding after the closing quote (`"namespace"    .users`),
    so that it names the same object as the unquoted `namespace.users` elsewhere."""
    width = a.end - a.start
    name = placeholder_name(a.body)[:width]
    if a.start > 0 and text[a.start - 1] == '"' and text.startswith('"', a.end):
        return name + '"' + " " * (width - len(name)), a.end + 1
    follows = a.end < len(text) and _IDENT_CHAR.match(text[a.end])
    return name + ("_" if follows else " ") * (width - len(name)), a.end


def _blank(chunk: str) -> str:
    return re.sub(r"[^\r\n]", " ", chunk)


def render(text: str) -> tuple[str, Problem | None]:
    """``text`` rendered for PostgreSQL, the same length with every line break where it was; or
    ``(text, Problem)`` when the runner's rendering cannot be reproduced."""
    if "{{" not in text:
        return text, None
    found = _actions(text)
    if isinstance(found, Problem):
        return text, found
    out: list[str] = []
    pos = 0
    # a stack of [taking this branch, some branch already taken, the `if` action] per open `if`
    stack: list[list] = []

    def live() -> bool:
        return all(frame[0] for frame in stack)

    for a in found:
        chunk = text[pos : a.start]
        out.append(chunk if live() else _blank(chunk))
        pos = a.end
        words = _tokens(a.body)
        keyword = words[0] if words else ""
        if a.body.startswith("/*"):  # {{/* a comment */}}
            if not a.body.endswith("*/"):
                return text, Problem("a template comment `{{/*` is not closed with `*/}}`", a.start)
            out.append(_blank(text[a.start : a.end]))
            continue
        if keyword == "if" or (keyword == "else" and words[1:2] == ["if"]):
            cond = words[1:] if keyword == "if" else words[2:]
            value = _value(cond)
            if value is None:
                return text, Problem(
                    f"cannot decide `{{{{ {a.body} }}}}` for PostgreSQL: the condition depends on "
                    "a value only the runner knows when it renders the migration",
                    a.start,
                )
            if keyword == "if":
                stack.append([bool(value), bool(value), a])
            else:
                if not stack:
                    return text, Problem("`{{ else }}` without an `{{ if }}`", a.start)
                frame = stack[-1]
                frame[0] = bool(value) and not frame[1]
                frame[1] = frame[1] or frame[0]
        elif keyword == "else":
            if not stack:
                return text, Problem("`{{ else }}` without an `{{ if }}`", a.start)
            frame = stack[-1]
            frame[0] = not frame[1]
            frame[1] = True
        elif keyword == "end":
            if not stack:
                return text, Problem("`{{ end }}` without an `{{ if }}`", a.start)
            stack.pop()
        elif keyword in _CONTROL:
            return text, Problem(
                f"`{{{{ {keyword} ... }}}}` is not rendered by migcheck (only values and "
                "`if`/`else`/`end` on the database dialect are)",
                a.start,
            )
        elif not a.body:
            return text, Problem("an empty template action `{{ }}`", a.start)
        elif live():
            value, pos = _placeholder(text, a)
            out.append(value)
            continue
        else:
            out.append(_blank(text[a.start : a.end]))
            continue
        out.append(_blank(text[a.start : a.end]))
    if stack:
        return text, Problem("this `{{ if }}` has no `{{ end }}`", stack[-1][2].start)
    tail = text[pos:]
    out.append(tail)
    rendered = "".join(out)
    assert len(rendered) == len(text)
    return rendered, None
