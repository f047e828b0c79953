"""What a statement reaches beyond the database it runs in.

- ``host(kind, node)``: the database server's host: programs (``COPY ... PROGRAM``, untrusted
  procedural languages, C functions, ``LOAD``, settings that name a command or a library), its
  files (``COPY`` to or from a server file, ``pg_read_file``, ``lo_import``/``lo_export``, ...)
  and the network (``dblink``, subscriptions).
- ``cluster(kind, node)``: the other databases of the cluster and what they share: databases,
  roles and memberships, tablespaces, server settings, other sessions.

Each returns a short description of the first such thing the statement does (to name it in a
message), or None. They look at one statement; what a called function's body runs is given by
``migcheck.routines``. Used by the ``host-access`` rule and by ``migcheck verify``, which refuses
to run such statements (``migcheck.verify.guard``).
"""

from __future__ import annotations

from . import pg

# Procedural languages that can do anything the server's operating-system user can (PostgreSQL
# marks them untrusted: only a superuser may use them), and C, which loads a shared library.
UNTRUSTED_LANGUAGES = frozenset(
    {
        "plpythonu",
        "plpython2u",
        "plpython3u",
        "plperlu",
        "pltclu",
        "plsh",
        "plr",
        "pljavau",
        "plv8u",
        "c",
    }
)

# Functions that read or write the server's files, or connect to other servers.
HOST_FUNCTIONS = {
    "pg_read_file": "reads a file of the database server's host",
    "pg_read_binary_file": "reads a file of the database server's host",
    "pg_stat_file": "reads a file's metadata on the database server's host",
    "pg_ls_dir": "lists a directory of the database server's host",
    "pg_ls_logdir": "lists a directory of the database server's host",
    "pg_ls_waldir": "lists a directory of the database server's host",
    "pg_ls_tmpdir": "lists a directory of the database server's host",
    "pg_ls_archive_statusdir": "lists a directory of the database server's host",
    "pg_ls_logicalsnapdir": "lists a directory of the database server's host",
    "pg_ls_logicalmapdir": "lists a directory of the database server's host",
    "pg_ls_replslotdir": "lists a directory of the database server's host",
    "lo_import": "reads a file of the database server's host into a large object",
    "lo_export": "writes a large object to a file of the database server's host",
    "pg_file_write": "writes a file of the database server's host",
    "pg_file_rename": "renames a file of the database server's host",
    "pg_file_unlink": "deletes a file of the database server's host",
    "pg_file_sync": "writes a file of the database server's host",
    "pg_logdir_ls": "lists a directory of the database server's host",
}
HOST_FUNCTION_PREFIXES = {"dblink": "connects from the database server to another server (dblink)"}

# Predefined roles that give their members the host (PostgreSQL's documentation: "can be used to
# gain superuser-level access").
HOST_ROLES = frozenset({"pg_execute_server_program", "pg_read_server_files", "pg_write_server_files"})

# Settings whose value is a shell command run by the server, or libraries it loads.
HOST_SETTINGS_SUFFIXES = ("_command", "_preload_libraries", "dynamic_library_path")

# Functions that act on the whole cluster: its configuration, its other sessions, replication.
CLUSTER_FUNCTIONS = {
    "pg_reload_conf": "reloads the server's configuration",
    "pg_terminate_backend": "ends another session on the server",
    "pg_cancel_backend": "cancels another session's query on the server",
    "pg_promote": "promotes a standby server",
    "pg_switch_wal": "switches the server's write-ahead log file",
    "pg_rotate_logfile": "rotates the server's log file",
    "pg_create_restore_point": "writes a restore point for the whole cluster",
    "pg_create_physical_replication_slot": "creates a replication slot of the cluster",
    "pg_create_logical_replication_slot": "creates a replication slot of the cluster",
    "pg_drop_replication_slot": "drops a replication slot of the cluster",
}

_SHARED_OBJECTS = {"OBJECT_DATABASE": "database", "OBJECT_ROLE": "role", "OBJECT_TABLESPACE": "tablespace"}


def _language(node: dict) -> str:
    for key in ("options", "args"):
        for opt in node.get(key) or ():
            d = opt.get("DefElem", {})
            if d.get("defname") == "language":
                return ((d.get("arg") or {}).get("String") or {}).get("sval", "").lower()
    return "plpgsql" if "args" in node else "sql"


def _function_name(fields: dict) -> str:
    parts = pg.strings(fields.get("funcname"))
    if not parts or (len(parts) == 2 and parts[0] not in ("pg_catalog", "public", "extensions")):
        return ""
    return parts[-1].lower()


def _functions(node: dict, table: dict, prefixes: dict | None = None) -> str | None:
    """The first call (in ``model.walk``'s order) of a function of ``table`` or ``prefixes``, said.

    ``model.walk`` written out for the one node type asked for: every statement of every file
    that calls a function goes through here twice (host-access, cluster-access), and the
    generator's yield per node was most of the time (197,467 on the corpus, issue 22)."""
    prefixes = prefixes or {}
    stack = [node]
    pop, push, extend = stack.pop, stack.append, stack.extend
    leaves = pg.LEAF_NODES
    while stack:
        cur = pop()
        if isinstance(cur, dict):
            for key, value in cur.items():
                if isinstance(value, dict):
                    if key in leaves:
                        continue  # (no call below: the order of the others is kept)
                    if key == "FuncCall":
                        name = _function_name(value)
                        if name in table:
                            return f"{name}() {table[name]}"
                        for prefix, what in prefixes.items():
                            if name.startswith(prefix):
                                return f"{name}() {what}"
                    push(value)
                elif isinstance(value, list):
                    extend(value)
        elif isinstance(cur, list):
            extend(cur)
    return None


def role_names(items) -> list[str]:
    """The role names of a GRANT/REVOKE role's ``granted_roles`` or ``grantee_roles``."""
    out = []
    for item in items or ():
        if "AccessPriv" in item:
            out.append(item["AccessPriv"].get("priv_name", ""))
        elif "RoleSpec" in item:
            out.append(item["RoleSpec"].get("rolename") or "")
    return [n for n in out if n]


def _setting(node: dict) -> str:
    return ((node.get("setstmt") or {}).get("VariableSetStmt") or node.get("setstmt") or {}).get("name", "")


def host(kind: str, node: dict) -> str | None:
    """What the statement does on the database server's host, or None."""
    if kind == "CopyStmt":
        where = "TO" if not node.get("is_from") else "FROM"
        if node.get("is_program"):
            return f"COPY ... {where} PROGRAM runs a shell command on the database server's host"
        if node.get("filename"):
            return (
                f"COPY ... {where} '{node['filename']}' {'writes' if where == 'TO' else 'reads'} a file of the "
                "database server's host"
            )
    elif kind == "CreateFunctionStmt":
        lang = _language(node)
        if lang in UNTRUSTED_LANGUAGES:
            word = "procedure" if node.get("is_procedure") else "function"
            what = (
                "loads a shared library from the server's disk"
                if lang == "c"
                else f"runs {lang} code, an untrusted language that can do anything the server's operating-system user can"
            )
            return f"CREATE {word.upper()} in LANGUAGE {lang} {what}"
        return None  # its body runs when it is called (migcheck.routines)
    elif kind == "DoStmt":
        lang = _language(node)
        if lang in UNTRUSTED_LANGUAGES:
            return f"DO in LANGUAGE {lang} runs untrusted code on the database server's host"
        return None  # its statements are the file's inner statements
    elif kind == "CreatePLangStmt":
        return f"CREATE LANGUAGE {node.get('plname', '')} installs a procedural language handler from the server's disk"
    elif kind == "CreateExtensionStmt":
        name = (node.get("extname") or "").lower()
        if name in UNTRUSTED_LANGUAGES:
            return f"CREATE EXTENSION {name} installs an untrusted language that can run anything on the server's host"
    elif kind == "LoadStmt":
        return f"LOAD '{node.get('filename', '')}' loads a shared library from the server's disk"
    elif kind == "CreateForeignTableStmt":
        for opt in node.get("options") or ():
            name = opt.get("DefElem", {}).get("defname", "")
            if name == "program":
                return "a foreign table with OPTIONS (program ...) runs a shell command on the server's host when read"
            if name == "filename":
                return "a foreign table with OPTIONS (filename ...) reads a file of the server's host"
    elif kind in ("CreateSubscriptionStmt", "AlterSubscriptionStmt") and node.get("conninfo"):
        return "a subscription connects from the database server to another server"
    elif kind == "GrantRoleStmt" and node.get("is_grant", False):
        granted = [r for r in role_names(node.get("granted_roles")) if r in HOST_ROLES]
        if granted:
            return f"GRANT {granted[0]} gives its members the server's {'programs' if 'program' in granted[0] else 'files'}"
    elif kind in ("AlterSystemStmt", "AlterDatabaseSetStmt", "AlterRoleSetStmt"):
        name = _setting(node)
        if name and name.lower().endswith(HOST_SETTINGS_SUFFIXES):
            return f"setting {name} names a command or library the server runs on its host"
    return _functions(node, HOST_FUNCTIONS, HOST_FUNCTION_PREFIXES)


def cluster(kind: str, node: dict) -> str | None:
    """What the statement does outside its own database (to the cluster), or None."""
    simple = {
        "CreatedbStmt": "CREATE DATABASE",
        "DropdbStmt": "DROP DATABASE",
        "AlterDatabaseStmt": "ALTER DATABASE",
        "AlterDatabaseSetStmt": "ALTER DATABASE ... SET",
        "AlterDatabaseRefreshCollStmt": "ALTER DATABASE",
        "CreateRoleStmt": "CREATE ROLE",
        "AlterRoleStmt": "ALTER ROLE",
        "AlterRoleSetStmt": "ALTER ROLE ... SET",
        "DropRoleStmt": "DROP ROLE",
        "GrantRoleStmt": "GRANT/REVOKE of a role",
        "CreateTableSpaceStmt": "CREATE TABLESPACE",
        "DropTableSpaceStmt": "DROP TABLESPACE",
        "AlterTableSpaceOptionsStmt": "ALTER TABLESPACE",
        "AlterSystemStmt": "ALTER SYSTEM",
        "ReassignOwnedStmt": "REASSIGN OWNED",
        "DropOwnedStmt": "DROP OWNED",
        "CreateSubscriptionStmt": "CREATE SUBSCRIPTION",
        "AlterSubscriptionStmt": "ALTER SUBSCRIPTION",
        "DropSubscriptionStmt": "DROP SUBSCRIPTION",
    }
    if kind in simple:
        return f"{simple[kind]} changes the whole cluster, not only this database"
    if kind == "RenameStmt" and node.get("renameType") in _SHARED_OBJECTS:
        return f"ALTER {_SHARED_OBJECTS[node['renameType']].upper()} ... RENAME changes the whole cluster"
    shared = node.get("objectType") if kind == "AlterOwnerStmt" else node.get("objtype")
    if kind in ("AlterOwnerStmt", "CommentStmt", "SecLabelStmt") and shared in _SHARED_OBJECTS:
        return f"it changes a {_SHARED_OBJECTS[shared]}, which the whole cluster shares"
    if kind == "GrantStmt" and node.get("objtype") in ("OBJECT_DATABASE", "OBJECT_TABLESPACE", "OBJECT_PARAMETER_ACL"):
        what = {
            "OBJECT_DATABASE": "a database",
            "OBJECT_TABLESPACE": "a tablespace",
            "OBJECT_PARAMETER_ACL": "a server parameter",
        }[node["objtype"]]
        return f"GRANT/REVOKE on {what} changes the whole cluster"
    if kind == "VariableSetStmt" and (node.get("name") or "").lower() in ("role", "session_authorization"):
        return None  # the session's own identity
    return _functions(node, CLUSTER_FUNCTIONS)
