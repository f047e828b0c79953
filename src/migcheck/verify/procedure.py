"""The verify procedure: for each migration, in version order, on one scratch database:

1. (every earlier migration is already applied: the loop applies them one by one)
2. snapshot the schema;
3. apply the migration; a failure is ``verify-apply-failed`` (and the next steps are skipped);
4. apply it a second time (unless its header says ``-- Idempotent: no``): a failure, or a second
   run that changes the schema again (a nameless index or constraint created twice), is
   ``not-idempotent``;
5. apply its rollback: a failure is ``verify-rollback-failed``; otherwise snapshot again and diff
   against step 2: every difference is ``rollback-mismatch``;
6. apply the migration again (a failure here means the rollback did not restore a state the
   migration applies to: ``verify-rollback-failed`` on the migration) and go on with the next.

Only the migrations being reported (the paths given, as ``check`` does) get steps 2 to 6; the
earlier ones are only applied, and a run stops after the last reported migration.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .. import registry, suppress
from ..analysis import header as header_mod
from ..analysis import pg
from ..config import Config
from ..engine import Project, Result
from ..files import MigrationFile
from ..model import Finding, Statement, walk
from . import RULES, runner, snapshot
from . import trace as trace_mod
from .snapshot import Change, Obj

ProgressFn = Callable[[int, int, MigrationFile], None]


@dataclass
class Timings:
    """Where the time went, for the benchmark (seconds)."""

    database: float = 0.0  # creating and dropping the scratch database
    prelude: float = 0.0
    per_migration: dict[str, float] = field(default_factory=dict)
    snapshots: int = 0
    snapshot_time: float = 0.0
    applies: int = 0
    apply_time: float = 0.0
    traces: int = 0  # traced first applies (``--trace``)
    trace_time: float = 0.0  # their time, seeding included
    seed_time: float = 0.0
    data_rounds: int = 0  # ``--data``: rounds with rows (``data.Round``)
    data_time: float = 0.0


def idempotency_opt_out(f: MigrationFile) -> bool:
    """``-- Idempotent: no`` (or ``false``) in the header: the file is not meant to be re-run."""
    found = header_mod.find(f.header, "Idempotent")
    if not found:
        return False
    value = found[1].strip().lower()
    return bool(re.match(r"^(no|false|off|0)\b", value))


def ordered_migrations(project: Project) -> list[MigrationFile]:
    """Every migration of the project (the paths given and their siblings), in version order
    (files whose name has no version sort by name, which starts with the date for most)."""
    from .. import layout

    migrations = [f for f in project.files if f.kind == "migration"]
    config = getattr(project, "config", None)
    numeric = config is not None and layout.is_preset(config) and layout.runner_layout(config).numeric

    def key(f):
        v = f.version
        if v is not None and numeric and re.fullmatch(r"\d+(?:\.\d+)*", v):
            # the runner compares versions as numbers (golang-migrate, sqlx, goose, Flyway's parts,
            # postgres-migrations, refinery): 10 after 9, not between 1 and 2
            return (0, tuple(int(x) for x in v.split(".")), "", f.name, f.display)
        return (1, (), v or f.name.rsplit(".", 1)[0], f.name, f.display)

    return sorted(migrations, key=key)


def reported_migrations(project: Project) -> set[Path]:
    """The migrations to verify: those given, and the migration of every rollback given."""
    out = set()
    for f in project.files:
        if not project.is_reported(f):
            continue
        if f.kind == "migration":
            out.add(f.path)
        elif f.kind == "rollback" and f.version:
            for m in project.groups[f.mdir].migrations:
                if m.version == f.version and project.rollback_of(m) is f:
                    out.add(m.path)
    return out


# --- attributing a schema difference to a statement --------------------------------------

_CREATE_KINDS = {
    "table": {"table"},
    "view": {"view"},
    "materialized view": {"materialized view"},
    "index": {"index"},
    "sequence": {"sequence"},
    "type": {"type"},
    "function": {"function", "procedure"},
    "procedure": {"function", "procedure"},
    "aggregate": {"aggregate", "function"},
    "trigger": {"trigger"},
    "policy": {"policy"},
    "rule": {"rule"},
    "schema": {"schema"},
    "extension": {"extension"},
    "foreign table": {"foreign table"},
    "event trigger": {"event trigger"},
    "publication": {"publication"},
}


def _base_name(obj: Obj) -> str:
    return (obj.name or "").split("(", 1)[0]


def _relname(node: dict | None) -> str:
    return (node or {}).get("relname", "")


def _score(st: Statement, obj: Obj, prefer_drop: bool = False) -> int:
    """3: the statement makes (or, with ``prefer_drop``, drops) this very object; 2: it drops
    (makes) or alters it; 1: it touches its table; 0: no."""
    name = _base_name(obj)
    table = obj.table or (obj.name if obj.kind in ("table", "row level security") else None)
    kinds = _CREATE_KINDS.get(obj.kind)
    if kinds:
        key = pg.create_key(st)
        if key and key[0] in kinds and key[1] == name and (not key[2] or not obj.table or key[2] == obj.table):
            return 2 if prefer_drop else 3
        for dtype, dname, dtable in pg.drop_keys(st):
            if dtype in kinds and dname == name and (not dtable or not obj.table or dtable == obj.table):
                return 3 if prefer_drop else 2
    n = st.node
    if (
        obj.kind == "index"
        and st.kind == "IndexStmt"
        and not n.get("idxname")
        and _relname(n.get("relation")) == obj.table
    ):
        return 2
    if st.kind == "AlterTableStmt" and _relname(n.get("relation")) == table:
        for cmd in n.get("cmds", ()):
            c = cmd.get("AlterTableCmd", {})
            d = c.get("def", {})
            if obj.kind == "column" and (c.get("name") == name or d.get("ColumnDef", {}).get("colname") == name):
                return 2
            if obj.kind == "constraint" and (c.get("name") == name or d.get("Constraint", {}).get("conname") == name):
                return 2
            if obj.kind == "row level security" and "RowSecurity" in c.get("subtype", ""):
                return 2
        if obj.kind in ("column", "constraint", "table"):
            return 1
    if (
        st.kind == "CreateStmt"
        and _relname(n.get("relation")) == table
        and obj.kind in ("column", "constraint", "table")
    ):
        return 2
    if st.kind == "RenameStmt" and name and name in (n.get("newname"), n.get("subname")):
        return 2
    if obj.kind == "role" and st.kind in ("CreateRoleStmt", "DropRoleStmt", "AlterRoleStmt"):
        if st.kind == "DropRoleStmt":
            names = [r.get("RoleSpec", {}).get("rolename") for r in n.get("roles", ())]
        else:
            names = [n.get("role") if isinstance(n.get("role"), str) else (n.get("role") or {}).get("rolename")]
        if name in names:
            return 2
    if obj.kind == "publication table" and st.kind == "AlterPublicationStmt":
        return 2 if any(_relname(v) == obj.table for _, v in walk(n) if isinstance(v, dict) and "relname" in v) else 1
    if obj.kind == "comment" and st.kind == "CommentStmt":
        return 1
    if obj.kind in ("privileges", "default privileges") and st.kind in ("GrantStmt", "AlterDefaultPrivilegesStmt"):
        return 1
    if table:
        for ntype, fields in walk(n):
            if ntype == "RangeVar" and fields.get("relname") == table:
                return 1
    return 0


def responsible(f: MigrationFile | None, obj: Obj, prefer_drop: bool = False) -> Statement | None:
    """The first statement of ``f`` that most likely made the difference about ``obj``: the one
    that creates it (drops it, for ``prefer_drop``), else one that alters it, else the first one
    that touches its table."""
    if f is None or f.read_problem:
        return None
    best, best_score = None, 0
    for st in f.all_statements:
        s = _score(st, obj, prefer_drop)
        if s > best_score:
            best, best_score = st, s
            if s == 3:
                break
    return best


# --- the SQL that would undo an object ----------------------------------------------------


def _q(name: str | None) -> str:
    name = name or ""
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


def _qual(schema: str | None, name: str | None) -> str:
    return f"{_q(schema)}.{_q(name)}" if schema else _q(name)


def drop_sql(obj: Obj) -> str | None:
    """A statement that removes ``obj`` (for a rollback that leaves it behind)."""
    k, s, n, t = obj.kind, obj.schema, obj.name, obj.table
    simple = {
        "table": "TABLE",
        "view": "VIEW",
        "materialized view": "MATERIALIZED VIEW",
        "index": "INDEX",
        "sequence": "SEQUENCE",
        "foreign table": "FOREIGN TABLE",
        "statistics": "STATISTICS",
    }
    if k in simple:
        return f"DROP {simple[k]} IF EXISTS {_qual(s, n)};"
    if k == "type":
        return f"DROP {'DOMAIN' if obj.definition.startswith('DOMAIN') else 'TYPE'} IF EXISTS {_qual(s, n)};"
    if k in ("function", "procedure", "aggregate"):
        base, _, args = (n or "").partition("(")
        return f"DROP {k.upper()} IF EXISTS {_qual(s, base)}({args};"
    if k == "column":
        return f"ALTER TABLE {_qual(s, t)} DROP COLUMN IF EXISTS {_q(n)};"
    if k == "constraint":
        what = "DOMAIN" if obj.parent and obj.parent.startswith("type ") else "TABLE"
        return f"ALTER {what} {_qual(s, t)} DROP CONSTRAINT IF EXISTS {_q(n)};"
    if k in ("trigger", "policy", "rule"):
        return f"DROP {k.upper()} IF EXISTS {_q(n)} ON {_qual(s, t)};"
    if k in ("schema", "extension", "publication", "role", "event trigger"):
        return f"DROP {k.upper()} IF EXISTS {_q(n)};"
    if k == "publication table":
        pub = obj.key.rsplit(" in publication ", 1)[-1]
        return f"ALTER PUBLICATION {_q(pub)} DROP TABLE {_qual(s, t)};"
    if k == "comment":
        return f"COMMENT ON {obj.key[len('comment on ') :]} IS NULL;"
    if k == "database setting":
        return f"ALTER DATABASE <database> RESET {n};"
    return None


# --- findings -----------------------------------------------------------------------------


@dataclass
class _Emitter:
    """Collects ``verify``'s findings for the enabled rules."""

    config: Config
    enabled: set[str]
    findings: list[Finding] = field(default_factory=list)

    def emit(
        self,
        rule: str,
        f: MigrationFile,
        line: int,
        column: int,
        message: str,
        help: str,
        end_line: int | None = None,
        end_column: int | None = None,
    ) -> None:
        if rule not in self.enabled:
            return
        rules = registry.load()
        self.findings.append(
            Finding(
                rule, self.config.severity_of(rules[rule]), f.display, line, column, message, help, end_line, end_column
            )
        )

    def at(self, rule: str, f: MigrationFile, st: Statement | None, message: str, help: str) -> None:
        if st is None:
            self.emit(rule, f, 1, 1, message, help)
        else:
            self.emit(rule, f, st.line, st.column, message, help, st.end_line, st.end_column)

    def failure(self, rule: str, f: MigrationFile, fail: runner.Failure, message: str, help: str) -> None:
        self.emit(
            rule,
            f,
            fail.line,
            fail.column,
            message,
            help,
            fail.end_line if fail.line == fail.statement_line else None,
            fail.end_column if fail.line == fail.statement_line else None,
        )


def _sentence(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


# --- the procedure ------------------------------------------------------------------------


def directories(project: Project) -> list[Path]:
    """The migration directories that hold a migration to verify, in path order. Each is a
    history of its own (a service's database, a tenant schema's, ...): verify gives each one a
    scratch database of its own, so one history's objects cannot change how another's apply."""
    targets = reported_migrations(project)
    return sorted({m.mdir for m in ordered_migrations(project) if m.path in targets})


def merge(results: list[Result]) -> Result:
    """One ``Result`` from the results of several directories."""
    findings = sorted((f for r in results for f in r.findings), key=Finding.sort_key)
    out = Result(findings, [f for r in results for f in r.files], [])
    traces = [getattr(r, "traces", None) for r in results]
    if any(t is not None for t in traces):
        out.traces = {k: v for t in traces if t for k, v in t.items()}
    data = [getattr(r, "data", None) for r in results]
    if any(d is not None for d in data):
        out.data = {k: v for d in data if d for k, v in d.items()}
    return out


def verify_project(
    project: Project,
    config: Config,
    conninfo: str,
    *,
    enabled: Iterable[str] = RULES,
    preludes: list[tuple[str, MigrationFile]] = (),
    progress: ProgressFn | None = None,
    timings: Timings | None = None,
    trace: bool = False,
    server_version: int = 15,
    directory: Path | None = None,
    shared_server: bool = False,
    data: bool = False,
) -> Result:
    """Run the procedure on the database ``conninfo`` (which should be empty: the caller creates
    it) and return the findings as an engine ``Result``. With ``trace``, the first apply of each
    verified migration is traced (``trace.apply``); the result then carries ``traces``: display
    path -> ``trace.FileTrace``, in verify order. ``directory``: only the migrations of that
    migration directory (``directories``). ``shared_server``: the database is on a server others
    use (``--dsn``): roles, which are cluster-wide, are left out of the comparisons (others may
    create some meanwhile; migrations that change roles are refused there, ``guard``). With
    ``data``, each rollback that passes is run again with rows in the tables (``data.Round``); the
    result then carries ``data``: display path -> ``data.FileData``."""
    import psycopg

    from .cluster import VerifyError

    timings = timings or Timings()
    out = _Emitter(config, set(enabled))
    migrations = [m for m in ordered_migrations(project) if directory is None or m.mdir == directory]
    targets = reported_migrations(project)
    if targets:
        last = max(i for i, m in enumerate(migrations) if m.path in targets)
        migrations = migrations[: last + 1]
    else:
        migrations = []
    files: list[MigrationFile] = []
    for m in migrations:
        if m.path in targets:
            files.append(m)
            rb = project.rollback_of(m)
            if rb is not None:
                files.append(rb)

    snap_conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=30)
    data_round = None
    seeded: dict[int, str] = {}
    try:
        if data:
            from .data import Round

            data_round = Round(conninfo, out, timings, trace_seeded=seeded, config=config)

        def snap() -> snapshot.Snapshot:
            t = time.perf_counter()
            s = snapshot.take(snap_conn)
            if shared_server:
                s = {k: o for k, o in s.items() if o.kind != "role"}
            timings.snapshots += 1
            timings.snapshot_time += time.perf_counter() - t
            return s

        def run(f: MigrationFile) -> runner.Failure | None:
            t = time.perf_counter()
            try:
                return runner.apply(conninfo, f, config=config)
            finally:
                timings.applies += 1
                timings.apply_time += time.perf_counter() - t

        traces: dict[str, trace_mod.FileTrace] = {}

        def first_apply(f: MigrationFile) -> runner.Failure | None:
            if not trace:
                return run(f)
            t = time.perf_counter()
            existing = trace_mod.seed(snap_conn, seeded)
            timings.seed_time += time.perf_counter() - t
            try:
                fail, ft = trace_mod.apply(conninfo, f, version=server_version, existing=existing, config=config)
            finally:
                timings.traces += 1
                timings.trace_time += time.perf_counter() - t
            touched = {lk.relation for st in ft.statements for lk in st.locks}
            touched |= {r for st in ft.statements for r in st.held}
            ft.empty = {
                rel: why.removeprefix("empty: ")
                for rel, why in existing.items()
                if why.startswith("empty") and rel in touched
            }
            traces[f.display] = ft
            if fail is None:
                trace_mod.findings(
                    ft,
                    f,
                    lambda rule, st, msg, hlp: out.emit(
                        rule, f, st.line, st.column, msg, hlp, st.end_line, st.end_column
                    ),
                )
            return fail

        t0 = time.perf_counter()
        for label, pf in preludes:
            fail = run(pf)
            if fail is not None:
                raise VerifyError(
                    f"the prelude {label} fails at line {fail.line}, column {fail.column}: {fail.describe()}"
                )
        timings.prelude = time.perf_counter() - t0

        failed_before: list[MigrationFile] = []  # migrations that failed to apply in this run
        for i, m in enumerate(migrations):
            if progress is not None:
                progress(i + 1, len(migrations), m)
            t_m = time.perf_counter()
            try:
                if m.path not in targets:
                    if m.read_problem or run(m) is not None:
                        failed_before.append(m)
                    continue
                _verify_one(m, project.rollback_of(m), out, snap, run, failed_before, first_apply, data_round)
            except psycopg.OperationalError as exc:  # the server went away (a statement crashed it?)
                raise VerifyError(
                    f"lost the connection to the database while verifying {m.display}: {' '.join(str(exc).split())}"
                ) from None
            timings.per_migration[m.display] = time.perf_counter() - t_m
    finally:
        snap_conn.close()
        if data_round is not None:
            data_round.close()

    # suppression comments (`-- migcheck: ignore <rule> -- <reason>`) apply as they do for check
    _apply_suppressions(out.findings, files)
    out.findings.sort(key=Finding.sort_key)
    result = Result(out.findings, files, [])
    if trace:
        result.traces = traces
    if data_round is not None:
        result.data = data_round.files
    return result


def _cascade_note(failed_before: list[MigrationFile]) -> str:
    if not failed_before:
        return ""
    more = f" (and {len(failed_before) - 1} more after it)" if len(failed_before) > 1 else ""
    return f"Earlier in this run, {failed_before[0].name} failed to apply{more}; this failure may follow from that."


def _verify_one(
    m: MigrationFile,
    rb: MigrationFile | None,
    out: _Emitter,
    snap,
    run,
    failed_before: list[MigrationFile],
    first_apply=None,
    data_round=None,
) -> None:
    if m.read_problem:
        out.emit(
            "verify-apply-failed",
            m,
            *(m.read_problem[2] or (1, 1)),
            f"the migration cannot be run: {m.read_problem[1]}",
            "Make the file readable UTF-8 SQL; `migcheck check` reports the same problem.",
        )
        failed_before.append(m)
        return
    before = snap()

    # 3. apply (traced with --trace)
    fail = (first_apply or run)(m)
    if fail is not None:
        partial = (
            "The statements before it were committed one by one (the file has no BEGIN/COMMIT), "
            "so a failed run leaves the migration half-applied."
            if fail.autocommit
            else ""
        )
        why, fix = runner.transaction_note(fail.wrapped, fail.sqlstate)
        out.failure(
            "verify-apply-failed",
            m,
            fail,
            f"the migration fails to apply: {fail.describe()}" + (f": {why}" if why else ""),
            fix
            or _sentence(
                fail.extra(),
                "" if fail.sqlstate == "42601" else _cascade_note(failed_before),
                "Fix the statement so the migration applies on a database with every earlier migration applied.",
                partial,
            ),
        )
        failed_before.append(m)
        return

    # 4. apply again
    if "not-idempotent" in out.enabled and not idempotency_opt_out(m):  # off under a runner preset
        applied = snap()
        fail2 = run(m)
        if fail2 is not None:
            out.failure(
                "not-idempotent",
                m,
                fail2,
                f"running the migration a second time fails: {fail2.describe()}",
                _sentence(
                    fail2.extra(),
                    "The guidelines ask for re-runnable migrations: use IF NOT EXISTS / OR REPLACE, "
                    "DROP ... IF EXISTS before a CREATE, or guard the statement; if the migration "
                    "cannot be re-run by design, say so in its header with `-- Idempotent: no`.",
                ),
            )
        else:
            for ch in snapshot.diff(applied, snap()):
                st = responsible(m, ch.obj)
                if ch.what == "added":
                    msg = f"running the migration a second time creates {ch.key} again: {snapshot.compact(ch.obj.definition)}"
                    hlp = (
                        "A re-run must find what the first run made: name the object and create it with "
                        "IF NOT EXISTS (an unnamed index or constraint gets a new name on every run)."
                    )
                elif ch.what == "removed":
                    msg = f"running the migration a second time removes {ch.key}: {snapshot.compact(ch.obj.definition)}"
                    hlp = "A re-run must leave the schema as the first run left it."
                else:
                    msg = (
                        f"running the migration a second time changes {ch.key}: before "
                        f"`{snapshot.compact(ch.before.definition, 160)}`, after `{snapshot.compact(ch.after.definition, 160)}`"
                    )
                    hlp = "A re-run must leave the schema as the first run left it."
                out.at(
                    "not-idempotent",
                    m,
                    st,
                    msg,
                    hlp + " If the migration cannot be re-run by design, "
                    "say so in its header with `-- Idempotent: no`.",
                )

    # 5. rollback
    if rb is None:
        return  # `check` reports missing-rollback-file
    fail3 = run(rb)
    if fail3 is not None and data_round is not None and data_round.only_with_rows(m, rb, fail3):
        pass  # the rows --trace generated made it fail: rollback-fails-with-data (reported by the round)
    elif fail3 is not None:
        why, fix = runner.transaction_note(fail3.wrapped, fail3.sqlstate)
        out.failure(
            "verify-rollback-failed",
            rb,
            fail3,
            f"the rollback fails: {fail3.describe()}" + (f": {why}" if why else ""),
            fix
            or _sentence(
                fail3.extra(),
                f"Run the rollback right after {m.name} on a scratch database and fix the statement; "
                "a rollback that fails leaves production half-way at the worst moment.",
                "The statements before it were committed one by one (the file has no BEGIN/COMMIT)."
                if fail3.autocommit
                else "",
            ),
        )
    if fail3 is not None:
        # the rollback's own transaction is undone: the migration is still applied; without one,
        # re-apply the migration so the next migrations start from a known state
        if fail3.autocommit:
            run(m)
        return
    after = snap()
    for ch in snapshot.diff(before, after):
        _mismatch(m, rb, ch, out, _cascade_note(failed_before))
    if data_round is not None:  # --data: the same pair again, with rows in the tables
        data_round(m, rb)

    # 6. re-apply, so the next migration starts where production would be
    fail4 = run(m)
    if fail4 is not None:
        out.failure(
            "verify-rollback-failed",
            m,
            fail4,
            f"after its rollback ({rb.name}), the migration fails to apply again: {fail4.describe()}",
            _sentence(
                fail4.extra(),
                "The rollback does not bring the database back to where the migration started; "
                "make it undo everything the migration does.",
            ),
        )
        failed_before.append(m)


def _mismatch(m: MigrationFile, rb: MigrationFile, ch: Change, out: _Emitter, note: str = "") -> None:
    """One rollback-mismatch finding for the change ``ch``; ``note``: earlier migrations failed
    in this run (the schema verify started from is not production's)."""
    if note:
        out = _Noted(out, note)
    obj = ch.obj
    if ch.what == "added":
        st = responsible(m, obj)
        where = m
        msg = f"the rollback leaves {ch.key} behind: {snapshot.compact(obj.definition)}"
        sql = drop_sql(obj)
        hlp = (
            f"Add `{sql}` to {rb.display}." if sql else f"Make {rb.display} undo it too."
        ) + " Before the migration it did not exist."
    elif ch.what == "removed":
        st = responsible(rb, obj, prefer_drop=True)
        dropped_by_rollback = st is not None and _score(st, obj, prefer_drop=True) == 3
        mst = responsible(m, obj, prefer_drop=True)
        if not dropped_by_rollback and mst is not None and _score(mst, obj, prefer_drop=True) == 3:
            # the migration drops it (or a CASCADE does) and the rollback does not bring it back
            st, where = mst, m
            msg = (
                f"the migration drops {ch.key} and the rollback does not restore it: {snapshot.compact(obj.definition)}"
            )
            hlp = (
                f"Make {rb.display} re-create it as it was before the migration: "
                f"`{snapshot.compact(obj.definition, 400)}`."
            )
            out.at("rollback-mismatch", where, st, msg, hlp)
            return
        where = rb if st is not None else m
        if st is None:
            st = responsible(m, obj)
        msg = f"the rollback removes {ch.key}, which existed before the migration: {snapshot.compact(obj.definition)}"
        hlp = (
            "A rollback restores the state before the migration: it must not drop what the migration did not "
            f"create. Before the migration: `{snapshot.compact(obj.definition, 400)}`."
        )
    else:
        st = responsible(m, obj)
        where = m
        if st is None:
            st = responsible(rb, obj)
            where = rb if st is not None else m
        msg = (
            f"after the rollback, {ch.key} differs from before the migration: before "
            f"`{snapshot.compact(ch.before.definition, 160)}`, after `{snapshot.compact(ch.after.definition, 160)}`"
        )
        hlp = f"Make {rb.display} restore the previous definition: `{snapshot.compact(ch.before.definition, 400)}`."
    out.at("rollback-mismatch", where, st, msg, hlp)


class _Noted:
    """An emitter that adds a sentence to every help text."""

    def __init__(self, out: _Emitter, note: str):
        self.out, self.note = out, note

    def at(self, rule, f, st, message, help):
        self.out.at(rule, f, st, message, _sentence(help, self.note))


def _apply_suppressions(findings: list[Finding], files: list[MigrationFile]) -> None:
    by_path = {f.display: f for f in files}
    cache: dict[str, list] = {}
    for finding in findings:
        f = by_path.get(finding.path)
        if f is None or f.read_problem:
            continue
        if finding.path not in cache:
            try:
                cache[finding.path] = suppress.suppressions(f, [])
            except Exception:  # the engine's suppression parser is not part of verify's contract
                cache[finding.path] = []
        for sup in cache[finding.path]:
            if finding.rule not in sup.rules:
                continue
            st = sup.statement
            if sup.file_wide or (
                st is not None
                and suppress.covers((st.line, st.column), (st.end_line, st.end_column), finding.line, finding.column)
            ):
                finding.suppressed, finding.reason = True, sup.reason
                break
