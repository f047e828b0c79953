"""The rules of ``migcheck verify`` (group ``rollback``). ``check`` never emits them: they need a
database. ``migcheck.verify`` applies each migration, twice, then its rollback, and reports
these ids; declaring them here gives them a severity, a doc (``migcheck explain``) and a place in
``migcheck rules``, ``--select``/``--ignore``, ``severity`` and suppression comments."""

from ..registry import declare

declare(
    "verify-apply-failed",
    by="verify",
    severity="error",
    group="rollback",
    kinds=("migration",),
    summary="`migcheck verify`: the migration fails on PostgreSQL after every earlier migration (error mapped to file:line).",
)
declare(
    "not-idempotent",
    by="verify",
    severity="error",
    group="rollback",
    kinds=("migration",),
    summary="`migcheck verify`: running the migration a second time fails or changes the schema again.",
)
declare(
    "verify-rollback-failed",
    by="verify",
    severity="error",
    group="rollback",
    kinds=("migration", "rollback"),
    summary="`migcheck verify`: the rollback fails right after the migration, or the migration no longer applies after it.",
)
declare(
    "rollback-mismatch",
    by="verify",
    severity="error",
    group="rollback",
    kinds=("migration", "rollback"),
    summary="`migcheck verify`: after the rollback the schema differs from before the migration (object left behind, dropped or changed).",
)
declare(
    "verify-refused",
    by="verify",
    severity="error",
    group="safety",
    kinds=("migration", "rollback", "other"),
    summary="`migcheck verify`: a statement verify must not run (host access; with --dsn, cluster-wide); nothing was run.",
)
declare(
    "rollback-fails-with-data",
    by="verify",
    severity="error",
    group="rollback",
    kinds=("rollback",),
    summary="`migcheck verify --data`: the rollback fails once the tables hold rows (it runs on empty tables).",
)
declare(
    "rollback-loses-rows",
    by="verify",
    severity="error",
    group="rollback",
    kinds=("migration", "rollback"),
    summary="`migcheck verify --data`: after the rollback, rows from before the migration are missing or changed.",
)
declare(
    "rollback-discards-new-data",
    by="verify",
    severity="info",
    group="rollback",
    kinds=("migration", "rollback"),
    summary="`migcheck verify --data`: the rollback drops a column or table holding data written after the migration.",
)
