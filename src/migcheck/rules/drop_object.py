from ..analysis import destructive as d
from ..analysis import history_facts, pg, routines, schema
from ..analysis import idempotency as idem
from ..registry import rule

_NOT_HERE = {"OBJECT_TABLE": "drop-table", "OBJECT_SCHEMA": "drop-schema"}

_CONSEQUENCE = {
    "OBJECT_VIEW": "queries and code that read {it} fail",
    "OBJECT_MATVIEW": "queries that read {it} fail and the data has to be computed again",
    "OBJECT_INDEX": "queries that used {it} can become slow, and a unique index stops enforcing uniqueness",
    "OBJECT_SEQUENCE": "the current value is lost and defaults that call nextval() on {it} fail",
    "OBJECT_TYPE": "queries and code that still name {it} fail (the DROP itself fails while columns "
    "or functions use {it})",
    "OBJECT_DOMAIN": "queries and code that still name {it} fail (the DROP itself fails while columns use {it})",
    "OBJECT_FUNCTION": "code, triggers and defaults that call {it} fail",
    "OBJECT_PROCEDURE": "code that calls {it} fails",
    "OBJECT_ROUTINE": "code, triggers and defaults that call {it} fail",
    "OBJECT_AGGREGATE": "queries that call {it} fail",
    "OBJECT_TRIGGER": "what {it} did on every write stops happening",
    "OBJECT_EVENT_TRIGGER": "what {it} did on every DDL command stops happening",
    "OBJECT_POLICY": "the table's row-level security changes, so rows can become visible or writable to other users",
    "OBJECT_RULE": "the rewriting {it} did stops",
    "OBJECT_EXTENSION": "every object of the extension goes too",
    "OBJECT_FOREIGN_TABLE": "queries that read {it} fail",
    "OBJECT_PUBLICATION": "subscribers stop receiving changes",
}


def _idiom(word: str, replace: bool = False) -> str:
    how = f"use `CREATE OR REPLACE {word}` or " if replace else ""
    return (
        f"To change it rather than remove it, {how}write `DROP {word} IF EXISTS` directly followed by "
        f"its `CREATE {word}` (the re-create idiom), which is not reported."
    )


_ALTERNATIVE = {
    "OBJECT_VIEW": _idiom("VIEW", replace=True),
    "OBJECT_MATVIEW": _idiom("MATERIALIZED VIEW"),
    "OBJECT_FUNCTION": _idiom("FUNCTION", replace=True),
    "OBJECT_PROCEDURE": _idiom("PROCEDURE", replace=True),
    "OBJECT_TRIGGER": _idiom("TRIGGER"),
    "OBJECT_POLICY": _idiom("POLICY"),
    "OBJECT_INDEX": _idiom("INDEX"),
}

_OTHER_DROPS = {
    "DropRoleStmt": ("DROP ROLE", "the role can no longer log in and its grants are gone"),
    "DropOwnedStmt": (
        "DROP OWNED BY",
        "every object the role owns in this database is dropped, tables and their rows included",
    ),
    "DropTableSpaceStmt": ("DROP TABLESPACE", "objects can no longer be stored there"),
    "DropSubscriptionStmt": ("DROP SUBSCRIPTION", "replication from the publisher stops"),
    "DropUserMappingStmt": ("DROP USER MAPPING", "foreign tables can no longer be read as that user"),
}


def _reviewed(what: str) -> str:
    return (
        f"Make sure nothing still uses {what} (code, views, functions, `pg_depend`) and that the rollback "
        "file can re-create it"
    )


def _replaced_index(f, ctx, st, i: int) -> bool:
    """Is the i-th index ``st`` drops a unique index that the same file replaces with a UNIQUE
    constraint (or another unique index) on the same columns, a plain index another one
    duplicates, or a plain index the same file replaces with a wider one that starts with its
    columns (the schema model)?"""
    keys = pg.drop_keys(st)
    if i >= len(keys) or st.node.get("behavior") == "DROP_CASCADE":
        return False
    if schema.drop_loses_nothing(ctx.project, f, st, "", keys[i][1], index=True) is not None:
        return True
    return history_facts.covering_index(ctx.project, f, st, keys[i][1]) is not None


def _unused_trigger_function(f, ctx, st, i: int) -> bool:
    """Is the i-th object ``st`` drops a ``RETURNS trigger`` function whose every trigger is gone
    (dropped earlier in this file, or before it): nothing can call it any more (schema model)?"""
    keys = pg.drop_keys(st)
    if i >= len(keys) or keys[i][0] != "function":
        return False
    return history_facts.unused_trigger_function(ctx.project, f, st, keys[i][1]) is not None


def _goes_with_its_table(f, ctx, st, i: int) -> bool:
    """Is the i-th object ``st`` drops an index, trigger, policy or rule of a table the file drops
    further down (schema model)?"""
    keys = pg.drop_keys(st)
    if i >= len(keys) or keys[i][0] not in ("index", "trigger", "policy", "rule"):
        return False
    otype, name, table = keys[i]
    return schema.table_dropped_later(ctx.project, f, st, otype, name, table) is not None


def _drop_stmt(f, ctx, st, recreated):
    n = st.node
    rtype = n.get("removeType", "")
    if rtype in _NOT_HERE:
        return None
    word = d.OBJECT_WORDS.get(rtype, rtype.replace("OBJECT_", "").replace("_", " "))
    shown = d.dropped_names(n)
    aligned = len(pg.drop_keys(st)) == len(shown)
    cascade = d.cascade(n)
    left = [
        name
        for i, name in enumerate(shown)
        if not (
            aligned
            and (
                recreated.idiom(st, i)
                or recreated.later(st, i)
                or (rtype == "OBJECT_INDEX" and _replaced_index(f, ctx, st, i))
                or (rtype in ("OBJECT_FUNCTION", "OBJECT_ROUTINE") and _unused_trigger_function(f, ctx, st, i))
                or _goes_with_its_table(f, ctx, st, i)
            )
        )
    ]
    again = [name for i, name in enumerate(shown) if aligned and recreated.later(st, i)]
    concurrently = " CONCURRENTLY" if n.get("concurrent") else ""
    if not left:
        if not (cascade and again):
            return None  # the re-create idiom, or created again further down: nothing is lost
        # created again, but CASCADE took its dependents with it
        it, is_ = ("it", "is") if len(again) == 1 else ("them", "are")
        return f.hit(
            f"DROP {word}{concurrently} {d.listing(again)} CASCADE{d.where(st)} also drops every object that depends "
            f"on {it}, without naming them ({d.listing(again)} {is_} created again further down, the dependents "
            f"only if the migration re-creates them too); {d.REVIEW_REQUIRED}",
            "List the dependent objects and drop them explicitly (and re-create them), so the review sees them; "
            f"without CASCADE the DROP fails if one is forgotten; {d.review('drop-object', st)}.",
            st,
        )
    it = "it" if len(left) == 1 else "them"
    consequence = _CONSEQUENCE.get(rtype, "whatever uses {it} fails").format(it=it)
    if cascade:
        consequence += f", and CASCADE silently drops every object that depends on {it}"
        if rtype in ("OBJECT_TYPE", "OBJECT_DOMAIN"):
            consequence += " (table columns of that type, with their data)"
    message = (
        f"DROP {word}{concurrently} {d.listing(left)}{d.where(st)} removes {it}: {consequence}; {d.REVIEW_REQUIRED}"
    )
    help = f"{_reviewed(it)}; {d.review('drop-object', st)}."
    if rtype in _ALTERNATIVE:
        help += f" {_ALTERNATIVE[rtype]}"
    return f.hit(message, help, st)


def _alter_table(f, ctx, st, recreated):
    n = st.node
    cmds = [c.get("AlterTableCmd", {}) for c in n.get("cmds") or ()]
    objtype = n.get("objtype")
    table = d.relation(n.get("relation"))
    hits = []
    constraints = [c for c in cmds if c.get("subtype") == "AT_DropConstraint"]
    left = [c for i, c in enumerate(constraints) if not (recreated.idiom(st, i) or recreated.later(st, i))]
    # the schema model: a CHECK that only proved columns NOT NULL they now are, a UNIQUE or PRIMARY
    # KEY the file replaces with an equivalent one: nothing is lost
    relname = (n.get("relation") or {}).get("relname", "")
    left = [
        c
        for c in left
        if c.get("behavior") == "DROP_CASCADE"
        or schema.drop_loses_nothing(ctx.project, f, st, relname, c.get("name", "")) is None
    ]
    if left:
        names = d.listing([d.ident(c.get("name", "")) for c in left])
        noun = "constraint" if len(left) == 1 else "constraints"
        keyword = "ALTER FOREIGN TABLE" if objtype == "OBJECT_FOREIGN_TABLE" else "ALTER TABLE"
        it, rule_ = ("it", "the rule it enforced is") if len(left) == 1 else ("them", "the rules they enforced are")
        cascade = (
            f", and CASCADE also drops what depends on {it} (foreign keys that use a unique index)"
            if any(c.get("behavior") == "DROP_CASCADE" for c in left)
            else ""
        )
        message = (
            f"{keyword} {table} drops {noun} {names}{d.where(st)}: {rule_} no longer checked, so bad "
            f"rows can get in{cascade}; {d.REVIEW_REQUIRED}"
        )
        help = (
            f"Make sure the rule is enforced elsewhere or no longer needed; {d.review('drop-object', st)}. "
            f"To change a constraint instead, drop and re-add it in one statement "
            f"(`ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {d.ident(left[0].get('name', ''))}, "
            f"ADD CONSTRAINT {d.ident(left[0].get('name', ''))} ...`), which is not reported."
        )
        hits.append(f.hit(message, help, st))
    if objtype in ("OBJECT_TYPE", "OBJECT_FOREIGN_TABLE"):
        cols = [c for c in cmds if c.get("subtype") == "AT_DropColumn"]
        if cols:
            names = d.listing([d.ident(c.get("name", "")) for c in cols])
            if objtype == "OBJECT_TYPE":
                message = (
                    f"ALTER TYPE {table} drops attribute {names}{d.where(st)}: values of the type lose that "
                    f"field, in every column of the type; {d.REVIEW_REQUIRED}"
                )
            else:
                message = (
                    f"ALTER FOREIGN TABLE {table} drops column {names}{d.where(st)}: queries that read it "
                    f"fail; {d.REVIEW_REQUIRED}"
                )
            hits.append(f.hit(message, f"{_reviewed('it')}; {d.review('drop-object', st)}.", st))
    return hits


@rule(
    "drop-object",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=(
        "DropStmt",
        "AlterTableStmt",
        "AlterDomainStmt",
        "DropRoleStmt",
        "DropOwnedStmt",
        "DropTableSpaceStmt",
        "DropSubscriptionStmt",
        "DropUserMappingStmt",
    ),
    summary="A DROP of an index, view, function, trigger, type, constraint, sequence, policy, ... in a migration.",
)
def check(f, ctx):
    statements = routines.executed(f)
    recreated = idem.Recreated(statements)
    for st in statements:
        if st.kind == "DropStmt":
            h = _drop_stmt(f, ctx, st, recreated)
            if h is not None:
                yield h
        elif st.kind == "AlterTableStmt":
            yield from _alter_table(f, ctx, st, recreated)
        elif st.kind == "AlterDomainStmt" and st.node.get("subtype") == "X":
            domain = d.names(pg.strings(st.node.get("typeName")))
            yield f.hit(
                f"ALTER DOMAIN {domain} drops constraint {d.ident(st.node.get('name', ''))}{d.where(st)}: the rule it "
                f"enforced is no longer checked; {d.REVIEW_REQUIRED}",
                f"Make sure the rule is enforced elsewhere or no longer needed; {d.review('drop-object', st)}.",
                st,
            )
        elif st.kind in _OTHER_DROPS:
            keyword, consequence = _OTHER_DROPS[st.kind]
            n = st.node
            if st.kind in ("DropRoleStmt", "DropOwnedStmt"):
                what = d.listing(
                    [d.ident(r.get("RoleSpec", {}).get("rolename") or "CURRENT_USER") for r in n.get("roles") or ()]
                )
            elif st.kind == "DropTableSpaceStmt":
                what = d.ident(n.get("tablespacename", ""))
            elif st.kind == "DropSubscriptionStmt":
                what = d.ident(n.get("subname", ""))
            else:
                what = (
                    "FOR "
                    + d.ident((n.get("user") or {}).get("RoleSpec", {}).get("rolename") or "CURRENT_USER")
                    + " SERVER "
                    + d.ident(n.get("servername", ""))
                )
            yield f.hit(
                f"{keyword} {what}{d.where(st)}: {consequence}; {d.REVIEW_REQUIRED}",
                f"Make sure nothing still needs it; {d.review('drop-object', st)}.",
                st,
            )
