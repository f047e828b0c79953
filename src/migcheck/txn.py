"""Transaction-block structure of a file's top-level statements, shared by the transaction rules.

Only top-level statements count: a ``BEGIN`` inside a ``$$ ... $$`` function body or a
``BEGIN ATOMIC`` body is part of that statement, not a transaction command.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import pg
from .model import Statement


@dataclass
class Blocks:
    inside: list[bool] = field(default_factory=list)  # per top-level statement: in an open block?
    nested_begins: list[Statement] = field(default_factory=list)
    stray_commits: list[Statement] = field(default_factory=list)
    rollbacks: list[Statement] = field(default_factory=list)
    unclosed: Statement | None = None
    has_begin: bool = False


def analyse(statements: list[Statement]) -> Blocks:
    b = Blocks()
    open_begin: Statement | None = None
    for st in statements:
        kind = pg.transaction_kind(st)
        if kind in pg.BEGIN_KINDS:
            b.has_begin = True
            if open_begin is not None:
                b.nested_begins.append(st)
            else:
                open_begin = st
            b.inside.append(True)
        elif kind in pg.COMMIT_KINDS:
            if open_begin is None:
                b.stray_commits.append(st)
            b.inside.append(open_begin is not None)
            open_begin = None
        elif kind in pg.ROLLBACK_KINDS:
            b.rollbacks.append(st)
            b.inside.append(open_begin is not None)
            open_begin = None
        else:
            b.inside.append(open_begin is not None)
    b.unclosed = open_begin
    return b
