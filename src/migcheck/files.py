"""A migration project's SQL file as data: its identity (from the layout), its bytes, text,
statements, comments and header, each read or parsed on first use. The engine, the rules and
the tools all use this one type; it knows no rule and no engine."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from . import fsutil, layout, source
from ._digest import blake2b
from .analysis import header as header_mod
from .config import Config
from .model import Comment, Header, Hit, Statement


def _too_large(size: int, limit: int) -> tuple[str, str]:
    return (
        "file-too-large",
        f"the file is {_human(size)}, above the {_human(limit)} limit (`max-file-size`): migcheck did not check it",
    )


def _human(n: int) -> str:
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= factor:
            return f"{n / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


class MigrationFile:
    """One SQL file of the project. Reading and parsing happen on first use, so sibling files
    that only serve cross-file rules cost a directory listing, not a parse."""

    def __init__(self, path: Path, display: str, kind: str, mdir: Path, config: Config, content: bytes | None = None):
        self.path = path
        self.display = display
        self.kind = kind
        self.mdir = mdir  # the migration directory the file belongs to
        self.name = path.name
        self.config = config
        self.content = content  # in-memory bytes (an editor's unsaved buffer) instead of the disk's
        self._statement_count: int | None = None  # set from a cached or a worker's result
        ident = layout.identify(path, kind, config)
        self.version: str | None = ident.version
        self.date: str | None = ident.date
        self.seq: int | None = ident.seq
        self.description: str | None = ident.description

    def __repr__(self) -> str:
        return f"MigrationFile({self.display!r}, {self.kind})"

    # What the file is and what was read of it; anything else in its __dict__ was computed from
    # its text (parse trees, and what rules cached on it: the safety timeline, ...). The layouts
    # that split a file into sections add ``section_of``/``section_source``.
    KEEP = frozenset(
        {
            "path",
            "display",
            "kind",
            "mdir",
            "name",
            "config",
            "content",
            "version",
            "date",
            "seq",
            "description",
            "section_of",
            "section_source",
            "_statement_count",
            "data",
            "_loaded",
            "positions",
            "stat",
            "digest",
            "decodes",
            "from_memo",
            "checked",
            "project",
        }
    )

    # the ``engine.Project`` it was collected into (the schema model reads its change set), or None
    project: Any = None

    def release(self) -> None:
        """Free the parse trees and what was derived from them; a later use computes them again.
        (A run over thousands of files keeps one file's trees at a time: ``migcheck.parallel``.)"""
        d = self.__dict__
        for name in [n for n in d if n not in self.KEEP]:
            del d[name]

    # --- reading -------------------------------------------------------------------------
    @cached_property
    def data(self) -> tuple[bytes | None, tuple[str, str] | None]:
        """(the file's bytes, None) or (None, (problem rule id, message)). A file larger than
        the configured ``max-file-size`` is not read at all (``file-too-large``)."""
        limit = getattr(self.config, "max_file_size", None)
        try:
            if self.content is not None:
                data = self.content
                if limit is not None and len(data) > limit:
                    return None, _too_large(len(data), limit)
                return data, None
            # only a regular file, never more than the limit (counted while reading: a file that
            # grows, /dev/zero); the stat of what was read: migcheck.cache's stat memo pairs them
            data, st = fsutil.read_regular(self.path, limit)
            self.stat = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
            return data, None
        except fsutil.TooLarge as exc:  # (raised only under a limit)
            return None, _too_large(exc.size, limit if limit is not None else exc.size)
        except fsutil.NotRegularFile as exc:
            if os.path.isdir(self.path):
                if not os.access(self.path, os.R_OK | os.X_OK):  # a directory we may not list (layout.sql_files_in)
                    return None, (
                        "unreadable-file",
                        (
                            "permission denied: migcheck cannot list this directory, "
                            "so the migrations in it are not checked"
                        ),
                    )
                return None, ("unreadable-file", "this is a directory, not a file")
            return None, ("unreadable-file", f"{exc.strerror}: migcheck reads only regular files")
        except FileNotFoundError:
            return None, ("unreadable-file", "the file disappeared while it was being checked")
        except PermissionError:
            if os.path.isdir(self.path):  # a directory we may not list (layout.sql_files_in)
                return None, (
                    "unreadable-file",
                    ("permission denied: migcheck cannot list this directory, so the migrations in it are not checked"),
                )
            return None, ("unreadable-file", "permission denied: migcheck cannot read this file")
        except IsADirectoryError:
            return None, ("unreadable-file", "this is a directory, not a file")
        except OSError as exc:
            return None, ("unreadable-file", f"cannot read the file: {exc.strerror or exc}")

    @cached_property
    def digest(self) -> tuple[int, bytes] | None:
        """(size, 128-bit BLAKE2b digest) of the file's bytes, or None when they cannot be read.
        ``migcheck.cache`` may set it from its stat memo, without reading the file."""
        data, problem = self.data
        if problem is not None or data is None:
            return None
        return len(data), blake2b(data, digest_size=16).digest()

    @property
    def statement_count(self) -> int:
        """How many top-level statements the file has (known from the cache without a parse)."""
        if self._statement_count is not None and "_parsed" not in self.__dict__:
            return self._statement_count
        return len(self.statements)

    @cached_property
    def _loaded(self) -> tuple[str | None, str | None, str | None, tuple[int, int] | None]:
        """(text, read problem rule id, message, (line, column) of the problem)."""
        data, problem = self.data
        if problem is not None or data is None:
            return None, *(problem or ("unreadable-file", "the file could not be read")), None
        try:
            text = source.decode(data)
        except source.DecodeError as exc:
            where = None
            if exc.offset is not None:
                before = data[: exc.offset]
                line_start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
                where = (
                    before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1,
                    len(before[line_start:].decode("utf-8", errors="replace")) + 1,
                )
            return None, "encoding-error", str(exc), where
        # a runner that renders its files (Go templates: pop, popx) runs the rendered text; it
        # keeps every position (layout.PopLayout, gotemplate)
        rendered, problem = layout.render(self.config, text)
        if problem is not None:
            message, offset = problem
            return None, "unrendered-template", message, source.Positions(text).line_col(offset)
        return rendered, None, None, None

    @property
    def text(self) -> str:
        return self._loaded[0] or ""

    @property
    def read_problem(self) -> tuple[str, str, tuple[int, int] | None] | None:
        d = self.__dict__
        if "_loaded" not in d and d.get("decodes"):  # unchanged since it decoded (migcheck.cache)
            return None
        text, rid, msg, where = self._loaded
        return None if rid is None else (rid, msg or "", where)

    @cached_property
    def positions(self) -> source.Positions:
        return source.Positions(self.text)

    @cached_property
    def _parsed(self) -> source.Parsed:
        dialect = getattr(self.config, "dialect", "postgres")
        if dialect != "postgres":  # another dialect: sqlglot, imported only then (docs/dialects.md)
            from . import dialects

            return dialects.parse(self.text, self.positions, dialect)
        return source.parse(self.text, self.positions)

    @property
    def statements(self) -> list[Statement]:
        """Top-level statements, in file order."""
        return self._parsed.statements

    @property
    def problems(self):
        return self._parsed.problems

    @cached_property
    def node_kinds(self) -> frozenset[str] | None:
        """The kinds of every node in the parse trees of what the file runs: its statements, those
        a ``DO`` block runs and those of the routines it defines and calls (``analysis.routines``);
        None when not known (another dialect's parser). The engine calls a rule that declares the
        kinds it reads (``@rule(reads=...)``) only when one of them is here."""
        kinds = self._parsed.kinds
        if kinds is None or not ("DoStmt" in kinds or "CreateFunctionStmt" in kinds):
            return kinds
        import json

        from .analysis import routines

        inner = [{st.kind: st.node} for st in routines.executed(self) if st.parent is not None]
        if not inner:
            return kinds
        # (their trees as JSON, in C, then the same pattern: a walk of them in Python cost more
        # than the rules it saves on a file of functions)
        return kinds | source.node_kinds(json.dumps(inner, separators=(",", ":"), default=str))

    @cached_property
    def all_statements(self) -> list[Statement]:
        """Top-level statements and, after each ``DO`` block, the statements its body runs."""
        out: list[Statement] = []
        for st in self.statements:
            out.append(st)
            if st.kind == "DoStmt":
                from .analysis import plpgsql

                out.extend(plpgsql.inner_statements(st, self.text, self.positions))
        return out

    @cached_property
    def comments(self) -> list[Comment]:
        """Every comment, including those inside DO-block bodies (which the file's scanner
        sees as part of one string), in file order."""
        if getattr(self.config, "dialect", "postgres") != "postgres":
            found = list(cast(Any, self._parsed).comments)  # found by the dialect's own tokenizer (DialectParsed)
        else:
            found = source.comments(self.text, self.positions)
        for st in self.statements:
            if st.kind == "DoStmt":
                from .analysis import plpgsql

                found.extend(plpgsql.body_comments(st, self.text, self.positions))
        found.sort(key=lambda c: c.start)
        return found

    @cached_property
    def header(self) -> Header:
        first = self.statements[0].start if self.statements else None
        if self.problems:
            # the first statement may have failed to parse: the header ends at the first problem
            first_problem = self.positions.line_starts[self.problems[0].line - 1]
            first = first_problem if first is None else min(first, first_problem)
        return header_mod.header(self.text, first, self.positions)

    # --- helpers for rules ---------------------------------------------------------------
    def hit(
        self,
        message: str,
        help: str,
        stmt: Statement | None = None,
        *,
        line: int | None = None,
        column: int | None = None,
    ) -> Hit:
        """A finding at ``stmt`` (its first token), at ``line``/``column``, or at 1:1."""
        if stmt is not None:
            return Hit(self, stmt.line, stmt.column, message, help, stmt.end_line, stmt.end_column)
        return Hit(self, line or 1, column or 1, message, help)
