"""The rules of ``migcheck verify --trace`` (group ``safety``). ``check`` never emits them: they
need a database. ``migcheck.verify.trace`` runs each migration statement by statement and reads the
locks, rewrites and scans each statement really takes; declaring the ids here gives them a severity,
a doc (``migcheck explain``) and a place in ``migcheck rules``, ``--select``/``--ignore``,
``severity`` and suppression comments."""

from ..registry import declare

declare(
    "lock-model-mismatch",
    by="verify",
    severity="info",
    group="safety",
    kinds=("migration",),
    summary="`migcheck verify --trace`: the static lock model predicts other locks, rewrites or scans than the statement really took.",
)
declare(
    "lock-held-across-statements",
    by="verify",
    severity="warning",
    group="safety",
    kinds=("migration",),
    summary="`migcheck verify --trace`: more statements run in the transaction after one took ACCESS EXCLUSIVE on an existing table.",
)
declare(
    "table-rewritten",
    by="verify",
    severity="warning",
    group="safety",
    kinds=("migration",),
    summary="`migcheck verify --trace`: a statement rewrote an existing table that holds rows (new relfilenode).",
)
declare(
    "lock-without-timeout",
    by="verify",
    severity="warning",
    group="safety",
    kinds=("migration",),
    summary="`migcheck verify --trace`: a lock that blocks writes was taken on an existing table while lock_timeout was 0.",
)
