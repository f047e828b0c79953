"""What ``migcheck verify`` refuses to run, decided before it runs anything.

``verify`` executes the migrations, as a superuser of the server it uses. Two kinds of statement
must never run there:

- statements that reach the server's host (``migcheck.reach.host``: ``COPY ... PROGRAM``, server
  files, untrusted languages, ``dblink``, ...), anywhere: on the private cluster too they would
  run as the operating-system user that runs the server, beside the CI job's files;
- with ``--dsn`` (a server migcheck did not create, shared with others), statements that reach
  outside the scratch database (``migcheck.reach.cluster``: databases, roles and memberships,
  tablespaces, ``ALTER SYSTEM``, other sessions), which migcheck could neither confine nor undo.

Every file verify would run is read: the migrations up to the last one verified in each
directory, the rollbacks of those verified, and the preludes (the host part only: a prelude is
the user's own set-up, and the shipped Supabase prelude creates roles). Each statement counts,
with what DO blocks evaluate, the bodies of the functions a file defines (called or not: a
trigger can run them later), and dynamic SQL whose text names such a thing (the text is an
expression, so this part is a heuristic; the server's scrubbed environment is the other layer).
A refusal is a ``verify-refused`` finding at the statement, and nothing runs at all.

``owned`` reads the preludes for the roles and memberships they create, so that on a shared
server migcheck drops only those at the end (``cluster.Server.database``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import registry
from ..analysis import reach, routines
from ..model import Finding, Statement

RULE = "verify-refused"

# words in the text of dynamic SQL (EXECUTE 'COPY ... ' || x) that make verify refuse it
_HOST_WORDS = re.compile(
    r"(?i)program|pg_read|pg_ls_|pg_stat_file|lo_import|lo_export|dblink|pg_file_|"
    r"\bcopy\b|\bload\b|\blanguage\b|_command|_preload_libraries|alter\s+system|server_files"
)
_CLUSTER_WORDS = re.compile(
    r"(?i)\b(database|role|user|tablespace|system|owned|subscription)\b|\bgroup\b(?!\s+by\b)|"
    r"pg_terminate_backend|pg_cancel_backend|pg_reload_conf"
)
# GRANT/REVOKE of a role (cluster-wide) has no ON: `'grant ' || r || ' to authenticator'`; one of
# privileges on an object (`'GRANT SELECT ON TABLE t TO ' || r`) stays in the database
_ROLE_GRANT = re.compile(r"(?is)^(?!.*\bon\b).*\b(grant|revoke)\b")


def files_to_run(project) -> list:
    """The files ``verify`` would run for ``project``: each directory's migrations up to the last
    one verified, and the rollbacks of those verified."""
    from . import procedure

    targets = procedure.reported_migrations(project)
    out = []
    for d in procedure.directories(project):
        ms = [m for m in procedure.ordered_migrations(project) if m.mdir == d]
        last = max((i for i, m in enumerate(ms) if m.path in targets), default=-1)
        for m in ms[: last + 1]:
            out.append(m)
            if m.path in targets:
                rb = project.rollback_of(m)
                if rb is not None:
                    out.append(rb)
    return out


def _statements(f) -> list[tuple[Statement, str, dict, str]]:
    """(where, kind, node, how it runs) of everything the file can run."""
    out = [
        (st, st.kind, st.node, f" (run by {st.via})" if st.via else " (inside a DO block)" if st.inner else "")
        for st in routines.executed(f)
    ]
    for r in routines.defined(f):
        word = "procedure" if r.st.node.get("is_procedure") else "function"
        out.extend((r.st, kind, node, f" (in the body of {word} {r.name}())") for kind, node, _ in r.runs)
    return out


def _dynamic(f) -> list[tuple[Statement, str, str]]:
    out = [(st, expr, f" (run by {via})" if via else " (in a DO block)") for st, via, expr in routines.dynamic(f)]
    for r in routines.defined(f):
        out.extend((r.st, expr, f" (in the body of {r.name}())") for expr in r.dynamic)
    return out


def refusals(files, config, *, shared_server: bool, preludes=()) -> list[Finding]:
    """The ``verify-refused`` findings of ``files`` (and of ``preludes``: (label, file) pairs)."""
    severity = config.severity_of(registry.load()[RULE])
    found: list[Finding] = []
    seen: set[tuple] = set()

    def refuse(f, st: Statement, why: str, help: str) -> None:
        key = (f.display, st.line, st.column, why)
        if key in seen:
            return
        seen.add(key)
        found.append(
            Finding(
                RULE,
                severity,
                f.display,
                st.line,
                st.column,
                f"verify refused to run anything: {why}",
                help,
                st.end_line,
                st.end_column,
            )
        )

    host_help = (
        "verify executes the migrations as a superuser; a statement that reaches the server's host is "
        "never run (`check` reports it as host-access). Move that work out of the migration."
    )
    cluster_help = (
        "--dsn points verify at a server it did not create: it works only in a scratch database there, "
        "and a statement that changes the whole cluster (databases, roles, tablespaces, settings, other "
        "sessions) could not be confined or undone. Verify this migration without --dsn: the private "
        "throwaway cluster runs it."
    )
    for f, host_only in [(f, False) for f in files] + [(pf, True) for _, pf in preludes]:
        if f.read_problem:
            continue  # verify reports it as verify-apply-failed without running it
        for st, kind, node, where in _statements(f):
            what = reach.host(kind, node)
            if what:
                refuse(f, st, f"{what}{where}", host_help)
            elif shared_server and not host_only:
                what = reach.cluster(kind, node)
                if what:
                    refuse(f, st, f"{what}{where}", cluster_help)
        for st, expr, where in _dynamic(f):
            shown = " ".join(expr.split())[:80]
            if _HOST_WORDS.search(expr):
                refuse(
                    f,
                    st,
                    f"dynamic SQL (`EXECUTE {shown}`){where} may reach the server's host, and cannot be "
                    "read before it runs",
                    host_help,
                )
            elif shared_server and not host_only and (_CLUSTER_WORDS.search(expr) or _ROLE_GRANT.search(expr)):
                refuse(
                    f,
                    st,
                    f"dynamic SQL (`EXECUTE {shown}`){where} may change the whole cluster, and cannot be "
                    "read before it runs",
                    cluster_help,
                )
    found.sort(key=Finding.sort_key)
    return found


@dataclass
class Owned:
    """Roles and role memberships (role, member) that the preludes create: on a shared server
    migcheck drops those, once, at the end, and nothing else."""

    roles: set[str] = field(default_factory=set)
    grants: set[tuple[str, str]] = field(default_factory=set)


def owned(preludes) -> Owned:
    out = Owned()
    for _, f in preludes:
        if f.read_problem:
            continue
        for st in routines.executed(f):
            if st.kind == "CreateRoleStmt" and st.node.get("role"):
                out.roles.add(st.node["role"])
            elif st.kind == "GrantRoleStmt" and st.node.get("is_grant"):
                for role in reach.role_names(st.node.get("granted_roles")):
                    for member in reach.role_names(st.node.get("grantee_roles")):
                        out.grants.add((role, member))
    return out
