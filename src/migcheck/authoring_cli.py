"""Click commands ``new`` and ``init``; registered in cli.py with ``cli.add_command``."""

from __future__ import annotations

from pathlib import Path

import click


class _Usage(click.ClickException):
    exit_code = 2  # CONVENTIONS.md: usage errors exit 2


def _config(config_path):
    """The configuration, and the runner's layout detected from the migrations as `check` does
    when it pins no preset (`new` writes the next migration in that layout)."""
    from .config import load

    cfg = load(Path(config_path) if config_path else None)
    if cfg.preset is None:
        from . import detect

        cfg = detect.apply(cfg, [], Path.cwd(), lambda line: click.echo(line, err=True))
    return cfg


def _run(func, *args, **kwargs) -> int:
    from . import authoring

    try:
        paths = func(*args, **kwargs)
    except authoring.AuthoringError as exc:
        raise _Usage(str(exc)) from None
    for p in paths:
        click.echo(authoring.show(p))
    return 0


_DATE_HELP = "Date of the migration, YYYYMMDD (default: today), for back-dating and tests."


@click.command("new")
@click.argument("description", nargs=-1, required=True)
@click.option(
    "--template",
    "template",
    type=click.Path(dir_okay=False),
    help="Your team's migration template instead of the guidelines' one; "
    "{title}, {version} and {description} in it are filled in.",
)
@click.option("--changelog", is_flag=True, help="Also append `- VERSION: title` to CHANGELOG.md.")
@click.option("--date", "date", metavar="YYYYMMDD", help=_DATE_HELP)
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to use instead of searching.")
def new(description, template, changelog, date, config_path) -> int:
    """Scaffold the next migration and its rollback file.

    Writes <migrations>/YYYYMMDD_NNN_description.sql (the guidelines' template, the title filled
    in from DESCRIPTION) and its rollback file, then prints their paths. Under a runner's layout
    (the `preset` key, else detected) it writes the runner's files instead: diesel's
    <version>_<name>/up.sql and down.sql, golang-migrate's .up.sql/.down.sql pair, a goose or dbmate
    file with both sections, Flyway's V and U scripts, Prisma's <timestamp>_<name>/migration.sql,
    ... (docs/presets.md). Never overwrites a file.
    """
    from . import authoring

    return _run(
        authoring.new, _config(config_path), " ".join(description), date=date, template=template, changelog=changelog
    )


@click.command("init")
@click.option("--changelog", is_flag=True, help="Also append `- VERSION: Migration tracking schema` to CHANGELOG.md.")
@click.option("--date", "date", metavar="YYYYMMDD", help=_DATE_HELP)
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to use instead of searching.")
def init(changelog, date, config_path) -> int:
    """Write the migration that creates the _migrations tracking schema, and its rollback.

    Numbered 000 in an empty migrations directory, else the next free number.
    """
    from . import authoring

    return _run(authoring.init, _config(config_path), date=date, changelog=changelog)
