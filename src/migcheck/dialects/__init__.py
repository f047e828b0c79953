"""SQL dialects other than PostgreSQL (``dialect = "mysql"``, ``"sqlite"``, ``"tsql"``, ...).

PostgreSQL (the default) is parsed by pglast, and nothing here changes that path: this module
does not import sqlglot, and ``migcheck.dialects.sqlglot_parse`` (which does) is imported only
when a file of another dialect is parsed. See docs/dialects.md.

How the other dialects are checked: sqlglot parses each statement, and the translation in
``sqlglot_parse`` turns the statement kinds the dialect-neutral rules read into the same
pglast-shaped nodes the PostgreSQL path produces (``DropStmt`` with ``removeType`` and
``missing_ok``, ``DeleteStmt`` with ``whereClause``, ...). Only the rules listed in ``NEUTRAL``
run; the PostgreSQL-only rules (locks, rewrites, types, RLS, rollback modelling, ...) are
skipped, with one note per run (``note``).
"""

from __future__ import annotations

POSTGRES = "postgres"

# The rules that read nothing PostgreSQL-specific (or only node kinds the translation produces
# faithfully). Every other rule is skipped for another dialect, even when named in `select`.
NEUTRAL = frozenset(
    {
        # naming, versions, project
        "file-naming",
        "duplicate-version",
        "sequence-order",
        "sequence-gap",
        "unknown-dependency",
        "changelog-missing",
        "modified-migration",
        # header
        "missing-header",
        "header-placeholder",
        # transactions
        "missing-transaction",
        "unbalanced-transaction",
        # idempotency (gated per dialect by FORMS below)
        "missing-if-not-exists",
        "missing-if-exists",
        # destructive statements
        "drop-table",
        "drop-column",
        "drop-schema",
        "drop-object",
        "delete-statement",
        "delete-without-where",
        "update-without-where",
        "truncate",
        # rollback files
        "missing-rollback-file",
        "empty-rollback",
        "orphan-rollback",
        # the file itself, suppressions
        "empty-migration",
        "parse-error",
        "unparsed-statement",
        "encoding-error",
        "unreadable-file",
        "file-too-large",
        "suppression-missing-reason",
        "unknown-rule",
        "unused-suppression",
    }
)

# Rules that run for the dialect only when named in `select` (see docs/dialects.md):
# MySQL commits implicitly before and after every DDL statement, so BEGIN ... COMMIT cannot make
# a migration with DDL atomic, and asking for it would promise what MySQL does not do.
OFF_BY_DEFAULT = {
    "mysql": frozenset({"missing-transaction"}),
}

# The IF [NOT] EXISTS / OR REPLACE forms each dialect has, as the idempotency rules name them
# (clause, words). A missing form is only reported where the dialect has it; a dialect that is not
# listed here gets no idempotency findings at all (see docs/dialects.md for the sources).
_IF_NOT = "IF NOT EXISTS"
_IF = "IF EXISTS"
_REPLACE = "OR REPLACE"
FORMS: dict[str, frozenset] = {
    # MySQL 8: CREATE TABLE / DATABASE IF NOT EXISTS; CREATE OR REPLACE VIEW; DROP TABLE / VIEW /
    # DATABASE / SCHEMA / PROCEDURE / FUNCTION / TRIGGER / EVENT IF EXISTS. No IF [NOT] EXISTS for
    # CREATE INDEX, DROP INDEX, or ALTER TABLE ADD / DROP (MariaDB has them; MySQL does not).
    "mysql": frozenset(
        {
            ("CREATE TABLE", _IF_NOT),
            ("CREATE SCHEMA", _IF_NOT),
            ("CREATE VIEW", _REPLACE),
            ("DROP TABLE", _IF),
            ("DROP VIEW", _IF),
            ("DROP SCHEMA", _IF),
            ("DROP DATABASE", _IF),
            ("DROP PROCEDURE", _IF),
            ("DROP FUNCTION", _IF),
            ("DROP TRIGGER", _IF),
            ("DROP EVENT", _IF),
        }
    ),
    # SQLite: CREATE TABLE / INDEX / VIEW / TRIGGER IF NOT EXISTS, DROP TABLE / INDEX / VIEW /
    # TRIGGER IF EXISTS; no OR REPLACE, no IF [NOT] EXISTS in ALTER TABLE.
    "sqlite": frozenset(
        {
            ("CREATE TABLE", _IF_NOT),
            ("CREATE INDEX", _IF_NOT),
            ("DROP TABLE", _IF),
            ("DROP INDEX", _IF),
            ("DROP VIEW", _IF),
            ("DROP TRIGGER", _IF),
        }
    ),
    # SQL Server 2016+: DROP <object> IF EXISTS and ALTER TABLE DROP COLUMN / CONSTRAINT IF EXISTS;
    # no CREATE ... IF NOT EXISTS (CREATE OR ALTER is not OR REPLACE).
    "tsql": frozenset(
        {
            ("DROP TABLE", _IF),
            ("DROP VIEW", _IF),
            ("DROP INDEX", _IF),
            ("DROP PROCEDURE", _IF),
            ("DROP FUNCTION", _IF),
            ("DROP TRIGGER", _IF),
            ("DROP SCHEMA", _IF),
            ("DROP DATABASE", _IF),
            ("DROP SEQUENCE", _IF),
            ("DROP TYPE", _IF),
            ("DROP COLUMN", _IF),
            ("DROP CONSTRAINT", _IF),
        }
    ),
}

_IDEMPOTENCY = frozenset({"missing-if-not-exists", "missing-if-exists"})


def has_form(dialect: str, clause: str, words: str) -> bool:
    """Does ``dialect`` have the ``words`` (IF NOT EXISTS, ...) form of ``clause``?"""
    if dialect == POSTGRES:
        return True
    forms = FORMS.get(dialect)
    return forms is not None and (clause, words) in forms


def names() -> list[str]:
    """The dialect names sqlglot knows (imports sqlglot)."""
    from sqlglot.dialects import Dialects

    return sorted(d.value for d in Dialects if d.value)


def validate(value: object, where: str) -> str:
    """The configured dialect name, or ConfigError (exit 2) naming the valid ones."""
    from ..config import ConfigError

    if not isinstance(value, str) or not value:
        raise ConfigError(f'{where}: \'dialect\' must be a dialect name such as "postgres" or "mysql"')
    name = value.strip().lower()
    if name in (POSTGRES, "postgresql"):
        return POSTGRES
    try:
        known = names()
    except ImportError:
        raise ConfigError(
            f'{where}: dialect "{value}" is parsed with sqlglot, which is not installed: '
            "pip install 'migcheck[dialects]'"
        ) from None
    if name not in known:
        raise ConfigError(f'{where}: unknown dialect "{value}" (valid: {", ".join(known)})')
    return name


def restrict(chosen: set[str], dialect: str, select: tuple[str, ...] | None) -> set[str]:
    """The enabled rules for ``dialect``: the neutral ones only; the dialect's off-by-default
    rules only when ``select`` names them."""
    if dialect == POSTGRES:
        return chosen
    out = chosen & NEUTRAL
    if dialect not in FORMS:
        out -= _IDEMPOTENCY
    named = set(select or ())
    out -= OFF_BY_DEFAULT.get(dialect, frozenset()) - named
    return out


def note(dialect: str) -> str:
    """The one stderr line a run on another dialect prints (``check``, unless ``--quiet``)."""
    from .. import registry

    skipped = len(set(registry.load()) - NEUTRAL)
    extra = ""
    if dialect == "mysql":
        extra = (
            "; MySQL commits implicitly around each DDL statement, so BEGIN/COMMIT does not make "
            "DDL atomic (missing-transaction is off unless selected)"
        )
    return (
        f"migcheck: dialect {dialect} (parsed with sqlglot): {skipped} PostgreSQL-only rules skipped"
        f"{extra}; see docs/dialects.md"
    )


def parse(text: str, positions, dialect: str):
    """Parse a file of ``dialect`` into ``source.Parsed`` (with its comments)."""
    from .sqlglot_parse import parse as _parse

    return _parse(text, positions, dialect)
