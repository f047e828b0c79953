"""grant-to-public: GRANT (or ALTER DEFAULT PRIVILEGES ... GRANT) to PUBLIC on objects PUBLIC has
no access to by default (rules/grant-to-public.md)."""

from __future__ import annotations

from ..analysis import locking as lk
from ..analysis import pg
from ..registry import rule

# Objects whose privileges PUBLIC does not hold by default (the PostgreSQL documentation,
# "Privileges", table of default access privileges). Functions, procedures, types, domains and
# languages give EXECUTE / USAGE to PUBLIC already, so granting it again opens nothing.
_NOUN = {
    "OBJECT_TABLE": "TABLE",
    "OBJECT_SEQUENCE": "SEQUENCE",
    "OBJECT_SCHEMA": "SCHEMA",
    "OBJECT_FOREIGN_SERVER": "FOREIGN SERVER",
    "OBJECT_FDW": "FOREIGN DATA WRAPPER",
    "OBJECT_LARGEOBJECT": "LARGE OBJECT",
    "OBJECT_TABLESPACE": "TABLESPACE",
    "OBJECT_PARAMETER_ACL": "PARAMETER",
    "OBJECT_DATABASE": "DATABASE",
}
_DEFAULTS = {"OBJECT_TABLE": "TABLES", "OBJECT_SEQUENCE": "SEQUENCES", "OBJECT_SCHEMA": "SCHEMAS"}
# privileges PUBLIC already holds on these objects: granting them is a no-op
_ALREADY = {("OBJECT_DATABASE", "connect"), ("OBJECT_DATABASE", "temporary"), ("OBJECT_DATABASE", "temp")}


def _to_public(node: dict) -> bool:
    return any(g.get("RoleSpec", {}).get("roletype") == "ROLESPEC_PUBLIC" for g in node.get("grantees") or ())


def _privileges(node: dict) -> list[str]:
    privs = [p.get("AccessPriv", {}).get("priv_name") for p in node.get("privileges") or ()]
    return [p for p in privs if p] or ["all"]


def _opens(node: dict, objtype: str) -> list[str]:
    """The privileges the grant gives PUBLIC that it does not hold by default."""
    privs = _privileges(node)
    if objtype == "OBJECT_SCHEMA" and node.get("targtype") == "ACL_TARGET_OBJECT":
        names = [o.get("String", {}).get("sval") for o in node.get("objects") or ()]
        if names == ["public"]:
            # USAGE on schema public is PUBLIC's by default; CREATE was until PostgreSQL 15
            privs = [p for p in privs if p != "usage"]
    return [p for p in privs if (objtype, p) not in _ALREADY]


def _objects(node: dict) -> str:
    out = []
    for o in node.get("objects") or ():
        if "RangeVar" in o:
            out.append(lk.relation(o["RangeVar"]))
        elif "String" in o:
            out.append(lk.ident(o["String"].get("sval", "")))
        elif "List" in o:
            out.append(lk.names(pg.strings(o["List"].get("items"))))
        elif "Integer" in o or "Float" in o:
            out.append(str(next(iter(o.values())).get("ival", next(iter(o.values())).get("fval", "?"))))
    return ", ".join(out) or "?"


def _shown(node: dict, privs: list[str]) -> str:
    """``SELECT (email), INSERT``: the privileges, with their columns."""
    cols = {}
    for p in node.get("privileges") or ():
        ap = p.get("AccessPriv", {})
        if ap.get("priv_name") and ap.get("cols"):
            cols[ap["priv_name"]] = " (" + ", ".join(lk.ident(c) for c in pg.strings(ap["cols"])) + ")"
    return ", ".join(p.upper() + cols.get(p, "") for p in privs)


@rule(
    "grant-to-public",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("GrantStmt", "AlterDefaultPrivilegesStmt"),
    summary="GRANT ... TO PUBLIC on a table, sequence, schema, ...: every role, present and future, gets it.",
)
def check(f, ctx):
    for st in f.all_statements:
        if st.kind == "GrantStmt":
            n = st.node
            objtype = n.get("objtype", "")
            if not n.get("is_grant") or objtype not in _NOUN or not _to_public(n):
                continue
            privs = _opens(n, objtype)
            if not privs:
                continue
            shown = _shown(n, privs)
            if n.get("targtype") == "ACL_TARGET_ALL_IN_SCHEMA":
                plural = _DEFAULTS.get(objtype, _NOUN[objtype] + "S")
                target = f"ALL {plural} IN SCHEMA {_objects(n)}"
                scope = f"every {plural.lower()[:-1]} in schema {_objects(n)} that exists now"
            else:
                target = f"{_NOUN[objtype]} {_objects(n)}"
                scope = _objects(n)
            sql = f"GRANT {shown} ON {target} TO PUBLIC"
            example = f"GRANT {shown} ON {target} TO authenticated;"
        elif st.kind == "AlterDefaultPrivilegesStmt":
            n = st.node.get("action") or {}
            objtype = n.get("objtype", "")
            if not n.get("is_grant") or objtype not in _DEFAULTS or not _to_public(n):
                continue
            shown = _shown(n, _privileges(n))
            sql = f"ALTER DEFAULT PRIVILEGES ... GRANT {shown} ON {_DEFAULTS[objtype]} TO PUBLIC"
            scope = f"every {_DEFAULTS[objtype].lower()[:-1]} the role creates from now on"
            example = f"ALTER DEFAULT PRIVILEGES ... GRANT {shown} ON {_DEFAULTS[objtype]} TO authenticated;"
        else:
            continue
        yield f.hit(
            f"{sql}{lk.where(st)} gives {shown} on {scope} to every role, including roles created later (on "
            "Supabase that includes anon: anyone holding the project's public API key)",
            f"Grant to the roles that need it instead, for example `{example}`, and keep row level security on "
            "the tables those roles can reach.",
            st,
        )
