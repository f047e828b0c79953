"""Runner presets: what a migration runner's layout means for migcheck (docs/presets.md).

A preset says which files are migrations and which are rollbacks (``layout.py`` reads the
``layout`` field), what a version is, which of the guidelines' rules do not apply to that
ecosystem (``off``; a user turns one back on by naming it in ``select`` or ``severity``), and how
the runner runs a file with respect to transactions (``txn``, read by ``txn.runner``):

- ``"none"``: the runner sends the file as it is; the file manages its own transaction
  (the guidelines, sqitch). ``missing-transaction`` applies.
- ``"wrap"``: the runner wraps each migration in a transaction of its own unless the file carries
  the runner's opt-out marker (``no_tx_marker``): goose, dbmate, diesel, sqlx, postgres-migrations,
  refinery.
- ``"solo"``: the runner makes each file atomic, but a statement that cannot run in a transaction
  works only alone in its file (flyway runs such a file without a transaction and refuses a mix;
  golang-migrate and Prisma send a file as one multi-statement query, which PostgreSQL runs as one
  implicit transaction; the Supabase CLI runs each file in a transaction and, since 2.109, sends
  those statements on their own).

``downs`` says whether the runner has down migrations and whether it requires one per migration:
``"required"`` (a migration without one is reported on its own), ``"optional"`` (the runner runs
without them: ``missing-rollback-file`` says so once per directory unless ``require-rollback``
is set), ``"none"`` (no down migrations at all).
"""

from __future__ import annotations

from .model import FrozenRecord

# Guideline rules that only make sense with the guidelines' own naming, header and changelog, and
# the idempotency rules: the guidelines make every migration re-runnable by hand, while a runner
# records what it applied and never runs a migration twice ("Your migrations don't need to be
# idempotent, as Diesel will ensure no migration is run twice", diesel_migrations' docs); so is
# `migcheck verify`'s second apply (not-idempotent).
GUIDELINE_ONLY = frozenset(
    {
        "missing-header",
        "header-placeholder",
        "changelog-missing",
        "sequence-gap",
        "sequence-order",
        "unknown-dependency",
        "missing-verification",
        "missing-if-exists",
        "missing-if-not-exists",
        "not-idempotent",
        # "keep migrations focused (one change at a time)": the guidelines' review convention, not a
        # runner's; a runner project's migrations are what its ORM generates or its team reviewed
        "mixed-changes",
    }
)

# No layout recognised (detect.py): the rules that read a name, a header or the guidelines'
# re-runnability are held back there; safety, destructive and syntax rules keep running.
UNRECOGNISED_OFF = GUIDELINE_ONLY | {
    "file-naming",
    "duplicate-version",
    "missing-rollback-file",
    "orphan-rollback",
    "rls-disabled",
    "missing-transaction",
}


class Preset(FrozenRecord):
    """A migration runner's conventions: layout, transactions, rollbacks (docs/presets.md).

    ``name``; ``title``: the runner's name as people write it; ``layout``: which layout.py layout
    reads the files; ``dirs``: default migration directories (when the config sets no
    `migrations`); ``txn``: "none", "wrap" or "solo" (see the module doc); ``no_tx_marker``: how a
    file opts out of the runner's transaction; ``off``: rules off by default under this preset;
    ``downs``: "required", "optional" or "none" (see the module doc); ``down_name``: what the
    runner calls a rollback, for messages; ``opens_tx``: with txn "wrap"/"solo", the runner itself
    opens the transaction (a BEGIN in the file nests); ``marker_where``: where the opt-out marker
    goes, for help texts; ``splits``: without a transaction, the runner runs the statements one by
    one (goose), else it sends the file (section) as one multi-statement query, which PostgreSQL
    runs as one implicit transaction; ``early_commit``: the file may end the runner's transaction
    early with COMMIT and open a new one with BEGIN before its end (pop: the file runs in the
    runner's transaction, there is no opt-out marker); ``templated``: the runner renders each file
    as a Go template before it runs it (pop, popx); ``note``: said once when the layout is
    detected."""

    __slots__ = (
        "name",
        "title",
        "layout",
        "dirs",
        "txn",
        "no_tx_marker",
        "off",
        "downs",
        "down_name",
        "opens_tx",
        "marker_where",
        "splits",
        "early_commit",
        "templated",
        "note",
    )
    # (the fields, for type checkers: set by ``_init``, held in ``__slots__``)
    name: str
    title: str
    layout: str
    dirs: tuple[str, ...]
    txn: str
    no_tx_marker: str | None
    off: frozenset
    downs: str
    down_name: str
    opens_tx: bool
    marker_where: str
    splits: bool
    early_commit: bool
    templated: bool
    note: str

    def __init__(
        self,
        name: str,
        title: str,
        layout: str,
        dirs: tuple[str, ...],
        txn: str,
        no_tx_marker: str | None = None,
        off: frozenset = frozenset(),
        downs: str = "optional",
        down_name: str = "rollback",
        opens_tx: bool = True,
        marker_where: str = "",
        splits: bool = False,
        early_commit: bool = False,
        templated: bool = False,
        note: str = "",
    ):
        self._init(
            name,
            title,
            layout,
            dirs,
            txn,
            no_tx_marker,
            off,
            downs,
            down_name,
            opens_tx,
            marker_where,
            splits,
            early_commit,
            templated,
            note,
        )

    @property
    def rollbacks(self) -> bool:
        """Does the runner have rollback (down/undo/revert) scripts?"""
        return self.downs != "none"


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("guidelines", "the team guidelines", "guidelines", ("migrations",), "none", downs="required"),
        Preset(
            "supabase",
            "the Supabase CLI",
            "supabase",
            ("supabase/migrations",),
            "solo",
            off=GUIDELINE_ONLY | {"missing-rollback-file", "orphan-rollback"},
            downs="none",
        ),
        Preset(
            "golang-migrate",
            "golang-migrate",
            "golang-migrate",
            ("migrations",),
            "solo",
            off=GUIDELINE_ONLY | {"rls-disabled"},
            down_name="down file",
            opens_tx=False,
        ),
        Preset(
            "sqlx",
            "sqlx",
            "sqlx",
            ("migrations",),
            "wrap",
            no_tx_marker="-- no-transaction",
            marker_where="as the very first line of the file",
            off=GUIDELINE_ONLY | {"rls-disabled", "missing-rollback-file"},
            down_name="down file",
        ),
        Preset(
            "diesel",
            "diesel",
            "diesel",
            ("migrations",),
            "wrap",
            no_tx_marker="run_in_transaction = false",
            marker_where="in a `metadata.toml` beside the migration's up.sql",
            off=GUIDELINE_ONLY | {"rls-disabled"},
            down_name="down.sql",
            downs="required",
        ),
        Preset(
            "dbmate",
            "dbmate",
            "dbmate",
            ("db/migrations",),
            "wrap",
            no_tx_marker="transaction:false",
            marker_where="on the section's marker line (`-- migrate:up transaction:false`)",
            off=GUIDELINE_ONLY | {"rls-disabled"},
            down_name="migrate:down section",
        ),
        Preset(
            "goose",
            "goose",
            "goose",
            ("migrations",),
            "wrap",
            no_tx_marker="-- +goose NO TRANSACTION",
            marker_where="at the top of the file (it applies to the Up and the Down section)",
            splits=True,
            off=GUIDELINE_ONLY | {"rls-disabled"},
            down_name="+goose Down section",
        ),
        Preset(
            "flyway",
            "Flyway",
            "flyway",
            ("db/migration", "sql"),
            "solo",
            off=GUIDELINE_ONLY | {"rls-disabled", "missing-rollback-file"},
            down_name="undo migration",
        ),
        Preset(
            "postgres-migrations",
            "postgres-migrations",
            "postgres-migrations",
            ("migrations",),
            "wrap",
            no_tx_marker="-- postgres-migrations disable-transaction",
            marker_where="in the file (at the top, by convention)",
            off=(GUIDELINE_ONLY - {"sequence-gap"}) | {"rls-disabled", "missing-rollback-file", "orphan-rollback"},
            downs="none",
        ),
        Preset(
            "refinery",
            "refinery",
            "refinery",
            ("migrations",),
            "wrap",
            no_tx_marker="-- refinery:noTransaction",
            marker_where="on a comment line of its own, anywhere in the file",
            off=GUIDELINE_ONLY | {"rls-disabled", "missing-rollback-file", "orphan-rollback"},
            downs="none",
        ),
        Preset(
            "sqitch",
            "sqitch",
            "sqitch",
            (".",),
            "none",
            off=GUIDELINE_ONLY | {"rls-disabled"},
            down_name="revert script",
            downs="required",
        ),
        # prisma-engines (schema-engine, postgres flavour): `apply_migration_script` sends the whole
        # migration.sql with `client.simple_query(script)`: one multi-statement query, which PostgreSQL
        # runs as one implicit transaction; Prisma Migrate has no down migrations
        Preset(
            "prisma",
            "Prisma Migrate",
            "prisma",
            ("prisma/migrations",),
            "solo",
            opens_tx=False,
            off=GUIDELINE_ONLY | {"rls-disabled", "missing-rollback-file", "orphan-rollback"},
            downs="none",
            note="Prisma Migrate has no down migrations: the rollback rules have nothing to compare",
        ),
        # gobuffalo pop (migrator.go): each file in `c.Transaction`, rendered as a Go template first
        Preset(
            "pop",
            "gobuffalo pop",
            "pop",
            ("migrations",),
            "wrap",
            early_commit=True,
            templated=True,
            off=GUIDELINE_ONLY | {"rls-disabled"},
            down_name="down file",
        ),
        # ory popx (ory/x popx/migrator.go): as pop, `.autocommit.` files outside a transaction, and
        # NewMigrationBox refuses an up migration without a down one ("has no corresponding down migration")
        Preset(
            "popx",
            "ory popx",
            "pop",
            ("persistence/sql/migrations", "migrations"),
            "wrap",
            no_tx_marker=".autocommit.",
            marker_where="in the file name (`<version>_<name>.autocommit.up.sql`, and its down file)",
            early_commit=True,
            templated=True,
            off=GUIDELINE_ONLY | {"rls-disabled"},
            down_name="down file",
            downs="required",
        ),
        # maragudk/migrate (maragu.dev/migrate, migrate.go): each file's content in one transaction
        Preset(
            "maragudk",
            "maragudk/migrate",
            "maragudk",
            ("migrations",),
            "wrap",
            off=GUIDELINE_ONLY | {"rls-disabled"},
            down_name="down file",
        ),
    )
}

# No layout recognised (detect.py): not a preset a user chooses; files are read the guidelines'
# way (no names match, so no versions), with UNRECOGNISED_OFF held back and one unknown-layout
# finding per directory instead.
UNRECOGNISED = "unrecognised"
NAMES = tuple(PRESETS)
PRESETS[UNRECOGNISED] = Preset(
    UNRECOGNISED, "no recognised layout", "guidelines", ("migrations",), "none", off=UNRECOGNISED_OFF, downs="required"
)


def get(name: str | None) -> Preset:
    return PRESETS[name or "guidelines"]
