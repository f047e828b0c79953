"""Transaction-block structure of a file's top-level statements, shared by the transaction rules.

Only top-level statements count: a ``BEGIN`` inside a ``$$ ... $$`` function body or a
``BEGIN ATOMIC`` body is part of that statement, not a transaction command.
"""

from __future__ import annotations

from .. import fsutil
from .._lazyre import lazy
from ..model import FrozenRecord, Record, Statement
from . import pg


class Blocks(Record):
    """The transaction blocks of a file: which statements are inside one, and the faults."""

    __slots__ = ("inside", "nested_begins", "stray_commits", "rollbacks", "unclosed", "has_begin", "__dict__")

    def __init__(
        self,
        inside: list[bool] | None = None,
        nested_begins: list[Statement] | None = None,
        stray_commits: list[Statement] | None = None,
        rollbacks: list[Statement] | None = None,
        unclosed: Statement | None = None,
        has_begin: bool = False,
    ):
        self.inside = [] if inside is None else inside  # per top-level statement: in an open block?
        self.nested_begins = [] if nested_begins is None else nested_begins
        self.stray_commits = [] if stray_commits is None else stray_commits
        self.rollbacks = [] if rollbacks is None else rollbacks
        self.unclosed = unclosed
        self.has_begin = has_begin


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


# --- how a runner preset runs a file (docs/presets.md) ----------------------------------------

import re  # noqa: E402
import tomllib  # noqa: E402

_GOOSE_NO_TX = lazy(r"^--\s*\+goose\s+no\s+transaction\b", re.I | re.M)
_REFINERY_NO_TX = lazy(r"^-{2,}\s?refinery:noTransaction\r?$", re.M)
_DBMATE_NO_TX = lazy(r"^--\s*migrate:(?:up|down)\b[^\n]*\btransaction:false\b", re.M)


class Runner(FrozenRecord):
    """How the configured runner runs one file with respect to transactions.

    ``title``: the runner's name, for messages; ``mode``: "wrap", in a transaction of the
    runner's, or "solo", atomic, but a statement that cannot run in a transaction must be alone in
    its file; ``opens_tx``: the runner opens the transaction itself (an explicit BEGIN in the file
    nests); ``marker``: the runner's opt-out marker; ``marker_where``: where the marker goes;
    ``opted_out``: this file carries the marker, the runner runs it without a transaction;
    ``preset``; ``splits``: opted out, the runner runs statement by statement (else: one implicit
    transaction); ``early_commit``: COMMIT ... BEGIN in the file ends the runner's transaction
    early (pop)."""

    __slots__ = ("title", "mode", "opens_tx", "marker", "marker_where", "opted_out", "preset", "splits", "early_commit")
    # (the fields, for type checkers: set by ``_init``, held in ``__slots__``)
    title: str
    mode: str
    opens_tx: bool
    marker: str | None
    marker_where: str
    opted_out: bool
    preset: str
    splits: bool
    early_commit: bool

    def __init__(
        self,
        title: str,
        mode: str,
        opens_tx: bool,
        marker: str | None,
        marker_where: str,
        opted_out: bool,
        preset: str,
        splits: bool = False,
        early_commit: bool = False,
    ):
        self._init(title, mode, opens_tx, marker, marker_where, opted_out, preset, splits, early_commit)

    @property
    def effective(self) -> str | None:
        """How the file runs: "wrap" (in the runner's transaction), "solo" (atomic, one query or
        the runner's all-or-nothing: a non-transactional statement only alone), or None (statement
        by statement, as the file says)."""
        if not self.opted_out:
            return self.mode
        return None if self.splits else "solo"


# Files beside a migration that decide how its runner runs it, by preset: what the rules read
# besides the file itself (so the result cache keys a file's results on them too: cache.py).
RUNNER_FILES = {"diesel": ("metadata.toml",)}


def inputs(f, config) -> list:
    """The paths of the files besides ``f`` whose content its results depend on (``RUNNER_FILES``)."""
    preset = getattr(config, "preset", None) or ""
    if preset == "sqitch":  # file-naming: is the deploy script's change in the plan?
        from .. import layout

        found = layout.SqitchLayout._split(f.path)
        return [found[0] / "sqitch.plan"] if found else []
    return [f.path.parent / name for name in RUNNER_FILES.get(preset, ())]


def _opted_out(f, preset: str) -> bool:
    text = getattr(f, "section_source", None) or f.text
    if preset == "goose":  # applies to both sections, wherever it stands
        return bool(_GOOSE_NO_TX.search(text))
    if preset == "dbmate":  # per section: this section's marker line
        return bool(_DBMATE_NO_TX.search(f.text))
    if preset == "postgres-migrations":  # 5.x: `migration.sql.includes("-- postgres-migrations disable-transaction")`
        return "-- postgres-migrations disable-transaction" in f.text
    if preset == "refinery":  # refinery_core util.rs: a line matching `^[-]{2,}[\s]?(refinery:noTransaction)$`
        return bool(_REFINERY_NO_TX.search(f.text))
    if preset == "popx":  # popx match.go: `<version>_<name>[.<dialect>].autocommit.(up|down).sql`
        name = getattr(f, "path", None)
        return ".autocommit." in (name.name if name is not None else f.name)
    if preset == "sqlx":  # sqlx: `sql.starts_with("-- no-transaction")`
        return f.text.startswith("-- no-transaction")
    if preset == "diesel":
        meta = f.path.parent / RUNNER_FILES["diesel"][0]
        try:
            data = tomllib.loads(fsutil.read_regular(meta, 1 << 20)[0].decode("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return False
        return data.get("run_in_transaction") is False
    return False


def runner(f, config) -> Runner | None:
    """The runner's transaction handling for file ``f``; None when the file manages its own
    transaction (the guidelines, sqitch: the rules read BEGIN/COMMIT as written)."""
    from .. import presets

    preset = presets.get(getattr(config, "preset", None))
    if preset.txn == "none":
        return None
    return Runner(
        preset.title,
        preset.txn,
        preset.opens_tx,
        preset.no_tx_marker,
        preset.marker_where,
        preset.txn == "wrap" and _opted_out(f, preset.name),
        preset.name,
        preset.splits,
        preset.early_commit,
    )


class EarlyCommits(Record):
    """A file the runner runs in its transaction, read as pop reads it: a ``COMMIT`` ends the
    runner's transaction early, a later ``BEGIN`` opens the one the runner commits at the end. The
    statements in between still go to PostgreSQL in the same query as the rest of the file, which
    it runs as one implicit transaction."""

    __slots__ = ("between", "nested_begins", "stray_commits", "unreopened", "__dict__")

    def __init__(
        self,
        between: list[bool] | None = None,
        nested_begins: list[Statement] | None = None,
        stray_commits: list[Statement] | None = None,
        unreopened: Statement | None = None,
    ):
        self.between = [] if between is None else between  # per top-level statement: after a COMMIT, before its BEGIN
        self.nested_begins = (
            [] if nested_begins is None else nested_begins
        )  # BEGIN while the runner's transaction is open
        self.stray_commits = [] if stray_commits is None else stray_commits  # COMMIT with no transaction open
        self.unreopened = unreopened  # the COMMIT no BEGIN follows: the file ends outside a transaction


def early_commits(statements: list[Statement]) -> EarlyCommits:
    out = EarlyCommits()
    open_tx = True  # the runner's
    last_commit: Statement | None = None
    for st in statements:
        kind = pg.transaction_kind(st)
        if kind in pg.BEGIN_KINDS:
            if open_tx:
                out.nested_begins.append(st)
            open_tx = True
            out.between.append(False)
        elif kind in pg.COMMIT_KINDS or kind in pg.ROLLBACK_KINDS:
            if not open_tx and kind in pg.COMMIT_KINDS:
                out.stray_commits.append(st)
            if open_tx:
                last_commit = st
            open_tx = False
            out.between.append(False)
        else:
            out.between.append(not open_tx)
    if not open_tx:
        out.unreopened = last_commit
    return out


def outside_transaction(f, config) -> str:
    """How a statement that cannot run in a transaction block runs outside one in this project, in
    its runner's words, to follow "so ..." in a help text: the guidelines' file without
    BEGIN/COMMIT, the runner's opt-out marker (diesel's `metadata.toml`, goose's annotation,
    popx's `.autocommit.` name, ...), a file of its own where the runner then sends the statement
    alone, or outside a runner that has no way to opt out."""
    run = runner(f, config)
    if run is None:
        return "put it in a migration of its own without BEGIN/COMMIT"
    if run.mode == "wrap" and run.marker:
        return (
            f"put it alone in a migration of its own and add `{run.marker}` {run.marker_where}, so that "
            f"{run.title} runs it without a transaction"
        )
    if run.mode == "wrap":
        return (
            f"run it outside {run.title}, which runs every migration in a transaction and has no way to opt "
            "out (by hand, or from the application's code)"
        )
    return (
        f"put it alone in a migration file of its own, with no other statement: {run.title} then runs it "
        "outside a transaction"
    )
