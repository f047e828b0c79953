"""The schema of a database as ``{object key: definition}``, from catalog queries, and its diff.

One query (a ``UNION ALL`` of one ``SELECT`` per kind of object) returns every object of the
user's schemas: everything outside ``pg_catalog``, ``information_schema`` and the ``pg_toast`` /
``pg_temp`` schemas, minus the members of extensions (an extension is one object,
``extension uuid-ossp``, with its version and schema). Definitions come from PostgreSQL's own
deparsers (``pg_get_indexdef``, ``pg_get_constraintdef``, ``pg_get_viewdef``,
``pg_get_functiondef``, ``pg_get_triggerdef``, ...), run with ``search_path = pg_catalog`` so every
name is schema-qualified. Owners are left out; privileges (ACLs) are sorted, so a
``REVOKE``/``GRANT`` round trip compares equal. Column order is not compared (a column dropped and
added back lands at the end of the table, which changes nothing a query can see).

Keys name the object the way a message should (``index public.idx_leads_status``,
``column public.leads.status``, ``trigger public.leads.check_lead_email_unique``), so a diff entry
is already half a finding.
"""

from __future__ import annotations

from dataclasses import dataclass

# relkind -> the kind word used in keys
_RELKIND = (
    "CASE {c}.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'f' THEN 'foreign table' "
    "WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' "
    "WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' WHEN 'c' THEN 'type' ELSE 'relation' END"
)


def _relkey(c: str, n: str) -> str:
    """SQL for the key of relation alias ``c`` in namespace alias ``n``."""
    return f"({_RELKIND.format(c=c)} || ' ' || {n}.nspname || '.' || {c}.relname)"


def _acl(col: str) -> str:
    return f"(SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest({col}) a)"


_NOT_EXT = "NOT EXISTS (SELECT 1 FROM pg_depend xd WHERE xd.deptype = 'e' AND xd.classid = '{cat}'::regclass AND xd.objid = {oid})"

# Every SELECT returns: key, kind, schema, name, table (for objects that live on a table), parent
# key (what the object goes away with), definition.
SNAPSHOT_SQL = f"""
WITH nsp AS (
  SELECT oid, nspname, nspacl FROM pg_namespace
  WHERE nspname <> 'information_schema' AND nspname !~ '^pg_'
    AND {_NOT_EXT.format(cat="pg_namespace", oid="pg_namespace.oid")}
),
rel AS (
  SELECT c.*, n.nspname FROM pg_class c JOIN nsp n ON n.oid = c.relnamespace
  WHERE {_NOT_EXT.format(cat="pg_class", oid="c.oid")}
)
-- schemas
SELECT 'schema ' || n.nspname, 'schema', n.nspname, n.nspname, NULL, NULL, 'SCHEMA'
FROM nsp n
UNION ALL
SELECT 'privileges on schema ' || n.nspname, 'privileges', n.nspname, n.nspname, NULL,
       'schema ' || n.nspname, {_acl("n.nspacl")}
FROM nsp n WHERE n.nspacl IS NOT NULL
-- tables, views, materialized views, foreign tables
UNION ALL
SELECT {_relkey("c", "c")}, {_RELKIND.format(c="c")}, c.nspname, c.relname, NULL, 'schema ' || c.nspname,
  concat_ws(' ',
    CASE WHEN c.relkind IN ('r', 'p', 'f') THEN 'TABLE' END,
    CASE c.relkind WHEN 'p' THEN 'PARTITION BY ' || pg_get_partkeydef(c.oid) END,
    CASE WHEN c.relispartition THEN 'PARTITION OF '
         || (SELECT string_agg(i.inhparent::regclass::text, ', ') FROM pg_inherits i WHERE i.inhrelid = c.oid)
         || ' ' || pg_get_expr(c.relpartbound, c.oid) END,
    CASE WHEN NOT c.relispartition AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
         THEN 'INHERITS (' || (SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)
                                FROM pg_inherits i WHERE i.inhrelid = c.oid) || ')' END,
    CASE c.relpersistence WHEN 'u' THEN 'UNLOGGED' END,
    CASE WHEN c.reloptions IS NOT NULL THEN 'WITH (' || array_to_string(c.reloptions, ', ') || ')' END,
    CASE WHEN c.relkind IN ('r', 'p') THEN CASE c.relreplident WHEN 'f' THEN 'REPLICA IDENTITY FULL' WHEN 'n' THEN 'REPLICA IDENTITY NOTHING'
         WHEN 'i' THEN 'REPLICA IDENTITY USING INDEX' END END,
    CASE WHEN c.relkind IN ('v', 'm') THEN 'AS ' || pg_get_viewdef(c.oid, true) END)
FROM rel c WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
UNION ALL
SELECT 'row level security on ' || {_relkey("c", "c")}, 'row level security', c.nspname, c.relname, c.relname,
       {_relkey("c", "c")},
       CASE WHEN c.relforcerowsecurity THEN 'ENABLED, FORCED' WHEN c.relrowsecurity THEN 'ENABLED' ELSE 'DISABLED' END
FROM rel c WHERE c.relkind IN ('r', 'p')
UNION ALL
SELECT 'privileges on ' || {_relkey("c", "c")}, 'privileges', c.nspname, c.relname, NULL, {_relkey("c", "c")},
       {_acl("c.relacl")}
FROM rel c WHERE c.relacl IS NOT NULL AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
-- columns
UNION ALL
SELECT 'column ' || c.nspname || '.' || c.relname || '.' || a.attname, 'column', c.nspname, a.attname, c.relname,
       {_relkey("c", "c")},
       format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attcollation <> t.typcollation THEN ' COLLATE ' || quote_ident(co.collname) ELSE '' END
       || CASE WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
               WHEN d.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END
       || CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY'
                             WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' PRIVILEGES ' || {_acl("a.attacl")}, '')
FROM rel c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p', 'f')
-- indexes (those behind a primary key, unique or exclusion constraint are the constraint)
UNION ALL
SELECT 'index ' || c.nspname || '.' || c.relname, 'index', c.nspname, c.relname, t.relname,
       {_RELKIND.format(c="t")} || ' ' || c.nspname || '.' || t.relname,
       pg_get_indexdef(i.indexrelid) || CASE WHEN NOT i.indisvalid THEN ' (INVALID)' ELSE '' END
FROM pg_index i JOIN rel c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                  AND k.contype IN ('p', 'u', 'x'))
-- constraints of tables and domains
UNION ALL
SELECT 'constraint ' || n.nspname || '.' || coalesce(t.relname, ty.typname) || '.' || k.conname, 'constraint',
       n.nspname, k.conname, coalesce(t.relname, ty.typname),
       CASE WHEN t.oid IS NOT NULL THEN {_RELKIND.format(c="t")} || ' ' || n.nspname || '.' || t.relname
            ELSE 'type ' || n.nspname || '.' || ty.typname END,
       pg_get_constraintdef(k.oid, true)
FROM pg_constraint k JOIN nsp n ON n.oid = k.connamespace
LEFT JOIN pg_class t ON t.oid = k.conrelid AND k.conrelid <> 0
LEFT JOIN pg_type ty ON ty.oid = k.contypid AND k.contypid <> 0
WHERE (t.oid IS NOT NULL OR ty.oid IS NOT NULL)
  AND {_NOT_EXT.format(cat="pg_class", oid="k.conrelid")} AND {_NOT_EXT.format(cat="pg_type", oid="k.contypid")}
-- triggers
UNION ALL
SELECT 'trigger ' || c.nspname || '.' || c.relname || '.' || tg.tgname, 'trigger', c.nspname, tg.tgname, c.relname,
       {_relkey("c", "c")},
       pg_get_triggerdef(tg.oid, true)
       || CASE tg.tgenabled WHEN 'D' THEN ' (DISABLED)' WHEN 'R' THEN ' (ENABLE REPLICA)' WHEN 'A' THEN ' (ENABLE ALWAYS)' ELSE '' END
FROM pg_trigger tg JOIN rel c ON c.oid = tg.tgrelid
WHERE NOT tg.tgisinternal
-- row level security policies
UNION ALL
SELECT 'policy ' || c.nspname || '.' || c.relname || '.' || p.polname, 'policy', c.nspname, p.polname, c.relname,
       {_relkey("c", "c")},
       concat('AS ', CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
              ' FOR ', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                      WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
              ' TO ', (SELECT string_agg(CASE WHEN o = 0 THEN 'public' ELSE pg_get_userbyid(o)::text END, ', ' ORDER BY 1)
                       FROM unnest(p.polroles) o),
              ' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')',
              ' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')')
FROM pg_policy p JOIN rel c ON c.oid = p.polrelid
-- rules (not the _RETURN rule that makes a view)
UNION ALL
SELECT 'rule ' || c.nspname || '.' || c.relname || '.' || r.rulename, 'rule', c.nspname, r.rulename, c.relname,
       {_relkey("c", "c")}, pg_get_ruledef(r.oid, true)
FROM pg_rewrite r JOIN rel c ON c.oid = r.ev_class
WHERE r.rulename <> '_RETURN'
-- sequences (not those behind identity columns, which are the column)
UNION ALL
SELECT 'sequence ' || c.nspname || '.' || c.relname, 'sequence', c.nspname, c.relname, NULL,
       coalesce((SELECT {_RELKIND.format(c="t")} || ' ' || tn.nspname || '.' || t.relname
                 FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
                 WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
                   AND d.deptype = 'a' LIMIT 1), 'schema ' || c.nspname),
       format('AS %s START %s INCREMENT %s MINVALUE %s MAXVALUE %s CACHE %s%s', s.seqtypid::regtype, s.seqstart,
              s.seqincrement, s.seqmin, s.seqmax, s.seqcache, CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END)
       || coalesce((SELECT ' OWNED BY ' || d.refobjid::regclass::text || '.' || quote_ident(a.attname)
                    FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
                      AND d.deptype = 'a' LIMIT 1), '')
FROM pg_sequence s JOIN rel c ON c.oid = s.seqrelid
WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
-- functions, procedures, aggregates
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' ELSE 'function ' END
         || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
       n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL, 'schema ' || n.nspname,
       CASE WHEN p.prokind = 'a' THEN
         (SELECT format('SFUNC = %s, STYPE = %s, FINALFUNC = %s, INITCOND = %s', g.aggtransfn::regproc,
                        format_type(g.aggtranstype, NULL), g.aggfinalfn::regproc, g.agginitval)
          FROM pg_aggregate g WHERE g.aggfnoid = p.oid)
       ELSE pg_get_functiondef(p.oid) END
FROM pg_proc p JOIN nsp n ON n.oid = p.pronamespace
WHERE {_NOT_EXT.format(cat="pg_proc", oid="p.oid")}
UNION ALL
SELECT 'privileges on ' || CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' ELSE 'function ' END
         || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       'privileges', n.nspname, p.proname, NULL,
       CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' ELSE 'function ' END
         || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       {_acl("p.proacl")}
FROM pg_proc p JOIN nsp n ON n.oid = p.pronamespace
WHERE p.proacl IS NOT NULL AND {_NOT_EXT.format(cat="pg_proc", oid="p.oid")}
-- types: enums, domains, composite types, ranges, base types (not arrays, not table row types)
UNION ALL
SELECT 'type ' || n.nspname || '.' || t.typname, 'type', n.nspname, t.typname, NULL, 'schema ' || n.nspname,
  CASE t.typtype
    WHEN 'e' THEN 'ENUM (' || coalesce((SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                        FROM pg_enum e WHERE e.enumtypid = t.oid), '') || ')'
    WHEN 'd' THEN 'DOMAIN ' || format_type(t.typbasetype, t.typtypmod)
                  || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END || coalesce(' DEFAULT ' || t.typdefault, '')
    WHEN 'c' THEN 'COMPOSITE (' || coalesce((SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                                             FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')'
    WHEN 'r' THEN 'RANGE (SUBTYPE = ' || (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) || ')'
    ELSE 'BASE (INPUT = ' || t.typinput::text || ', OUTPUT = ' || t.typoutput::text || ')'
  END
FROM pg_type t JOIN nsp n ON n.oid = t.typnamespace
WHERE t.typtype IN ('e', 'd', 'c', 'r', 'b')
  AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = t.typrelid AND r.relkind = 'c'))
  AND NOT EXISTS (SELECT 1 FROM pg_type el WHERE el.typarray = t.oid)
  AND {_NOT_EXT.format(cat="pg_type", oid="t.oid")}
UNION ALL
SELECT 'privileges on type ' || n.nspname || '.' || t.typname, 'privileges', n.nspname, t.typname, NULL,
       'type ' || n.nspname || '.' || t.typname, {_acl("t.typacl")}
FROM pg_type t JOIN nsp n ON n.oid = t.typnamespace
WHERE t.typacl IS NOT NULL AND t.typtype IN ('e', 'd', 'c', 'r', 'b')
  AND NOT EXISTS (SELECT 1 FROM pg_type el WHERE el.typarray = t.oid)
  AND {_NOT_EXT.format(cat="pg_type", oid="t.oid")}
-- extended statistics
UNION ALL
SELECT 'statistics ' || n.nspname || '.' || s.stxname, 'statistics', n.nspname, s.stxname, t.relname,
       {_RELKIND.format(c="t")} || ' ' || tn.nspname || '.' || t.relname, pg_get_statisticsobjdef(s.oid)
FROM pg_statistic_ext s JOIN nsp n ON n.oid = s.stxnamespace
JOIN pg_class t ON t.oid = s.stxrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
-- extensions (their member objects are left out above)
UNION ALL
SELECT 'extension ' || x.extname, 'extension', NULL, x.extname, NULL, NULL,
       'VERSION ' || x.extversion || ' SCHEMA ' || xn.nspname
FROM pg_extension x JOIN pg_namespace xn ON xn.oid = x.extnamespace
WHERE x.extname <> 'plpgsql'
-- publications and their tables (Supabase realtime)
UNION ALL
SELECT 'publication ' || p.pubname, 'publication', NULL, p.pubname, NULL, NULL,
       concat_ws(' ', CASE WHEN p.puballtables THEN 'FOR ALL TABLES' END,
                 'PUBLISH ' || concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END,
                                         CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END))
FROM pg_publication p
UNION ALL
SELECT 'table ' || n.nspname || '.' || c.relname || ' in publication ' || p.pubname, 'publication table',
       n.nspname, c.relname, c.relname, 'table ' || n.nspname || '.' || c.relname, 'ALTER PUBLICATION ' || quote_ident(p.pubname) || ' ADD TABLE ' || pr.prrelid::regclass::text
FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
-- event triggers
UNION ALL
SELECT 'event trigger ' || e.evtname, 'event trigger', NULL, e.evtname, NULL, NULL,
       'ON ' || e.evtevent || coalesce(' WHEN TAG IN (' || array_to_string(e.evttags, ', ') || ')', '')
       || ' EXECUTE FUNCTION ' || e.evtfoid::regproc::text || CASE e.evtenabled WHEN 'D' THEN ' (DISABLED)' ELSE '' END
FROM pg_event_trigger e
WHERE {_NOT_EXT.format(cat="pg_event_trigger", oid="e.oid")}
-- default privileges
UNION ALL
SELECT 'default privileges of role ' || pg_get_userbyid(d.defaclrole) || coalesce(' in schema ' || n.nspname, '')
         || ' on ' || CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                                           WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE d.defaclobjtype::text END,
       'default privileges', n.nspname, NULL, NULL, 'schema ' || n.nspname, {_acl("d.defaclacl")}
FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
-- comments
UNION ALL
SELECT 'comment on ' || pg_describe_object(d.classoid, d.objoid, d.objsubid), 'comment', NULL, NULL, NULL,
       CASE WHEN d.classoid = 'pg_class'::regclass THEN
              (SELECT {_RELKIND.format(c="c")} || ' ' || n.nspname || '.' || c.relname
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = d.objoid)
            WHEN d.classoid = 'pg_proc'::regclass THEN
              (SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' ELSE 'function ' END
                      || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = d.objoid)
            WHEN d.classoid = 'pg_namespace'::regclass THEN
              (SELECT 'schema ' || n.nspname FROM pg_namespace n WHERE n.oid = d.objoid)
            WHEN d.classoid = 'pg_extension'::regclass THEN
              (SELECT 'extension ' || x.extname FROM pg_extension x WHERE x.oid = d.objoid)
            WHEN d.classoid = 'pg_type'::regclass THEN
              (SELECT 'type ' || n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = d.objoid)
       END,
       d.description
FROM pg_description d
WHERE d.objoid >= 16384
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.deptype = 'e' AND e.classid = d.classoid AND e.objid = d.objoid)
  AND NOT (d.classoid = 'pg_class'::regclass
           AND NOT EXISTS (SELECT 1 FROM rel c WHERE c.oid = d.objoid))
-- roles (cluster-wide, but what a migration creates a rollback should drop)
UNION ALL
SELECT 'role ' || r.rolname, 'role', NULL, r.rolname, NULL, NULL,
       concat_ws(' ', CASE WHEN r.rolsuper THEN 'SUPERUSER' END, CASE WHEN r.rolcanlogin THEN 'LOGIN' ELSE 'NOLOGIN' END,
                 CASE WHEN NOT r.rolinherit THEN 'NOINHERIT' END, CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
                 CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END, CASE WHEN r.rolreplication THEN 'REPLICATION' END,
                 CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END,
                 CASE WHEN r.rolconnlimit <> -1 THEN 'CONNECTION LIMIT ' || r.rolconnlimit END,
                 (SELECT 'IN ROLE ' || string_agg(g.rolname, ', ' ORDER BY g.rolname)
                  FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid))
FROM pg_roles r WHERE r.rolname !~ '^pg_'
-- ALTER DATABASE ... SET
UNION ALL
SELECT 'database setting ' || split_part(s.cfg, '=', 1), 'database setting', NULL, split_part(s.cfg, '=', 1), NULL, NULL,
       substr(s.cfg, length(split_part(s.cfg, '=', 1)) + 2)
FROM pg_db_role_setting rs, unnest(rs.setconfig) AS s(cfg)
WHERE rs.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND rs.setrole = 0
"""


@dataclass(frozen=True, slots=True)
class Obj:
    """One catalog object of a schema snapshot and its definition."""

    key: str
    kind: str
    schema: str | None
    name: str | None
    table: str | None  # the table an object lives on (column, index, constraint, trigger, policy, ...)
    parent: str | None  # key of the object it goes away with
    definition: str


Snapshot = dict[str, Obj]


def take(conn) -> Snapshot:
    """The schema of the database ``conn`` is connected to. ``conn`` is a connection of its own, in
    autocommit mode (each call then sees every committed change); its ``search_path`` is set to
    ``pg_catalog`` and the query is prepared (planning it costs more than running it)."""
    conn.execute("SET search_path = pg_catalog")
    rows = conn.execute(SNAPSHOT_SQL, prepare=True).fetchall()
    out: Snapshot = {}
    for key, kind, schema, name, table, parent, definition in rows:
        out[key] = Obj(key, kind, schema, name, table, parent, definition or "")
    return out


@dataclass(frozen=True, slots=True)
class Change:
    """An object whose definition differs between two snapshots."""

    key: str
    before: Obj | None  # None: the object is new
    after: Obj | None  # None: the object is gone

    @property
    def obj(self) -> Obj:
        return self.after or self.before  # type: ignore[return-value]

    @property
    def what(self) -> str:
        return "added" if self.before is None else "removed" if self.after is None else "changed"


def diff(before: Snapshot, after: Snapshot) -> list[Change]:
    """Every object added, removed or changed from ``before`` to ``after``, without the parts of an
    object that is itself added or removed (a table left behind is one change, not one per
    column, index and trigger)."""
    added = {k for k in after if k not in before}
    removed = {k for k in before if k not in after}
    changes: list[Change] = []

    def covered(obj: Obj, gone: set[str], snap: Snapshot) -> bool:
        seen = set()
        p = obj.parent
        while p and p not in seen:
            if p in gone:
                return True
            seen.add(p)
            parent = snap.get(p)
            p = parent.parent if parent else None
        return False

    for k in sorted(added):
        if not covered(after[k], added, after):
            changes.append(Change(k, None, after[k]))
    for k in sorted(removed):
        if not covered(before[k], removed, before):
            changes.append(Change(k, before[k], None))
    for k in sorted(before.keys() & after.keys()):
        if before[k].definition != after[k].definition:
            changes.append(Change(k, before[k], after[k]))
    changes.sort(key=lambda c: c.key)
    return changes


def compact(definition: str, width: int = 160) -> str:
    """A definition on one line, shortened for a message."""
    text = " ".join(definition.split())
    return text if len(text) <= width else text[: width - 3] + "..."
