"""``migcheck verify [PATH]...``: the click command. Register it with
``cli.add_command(verify)`` (``from migcheck.verify.command import verify``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import RULES

PRESETS = {"supabase": Path(__file__).resolve().parent / "preludes" / "supabase.sql"}
INSTALL_HINT = "pip install 'migcheck[verify]'  (or: pip install 'psycopg[binary]>=3.1')"


def _rule_set(value: str | None, where: str) -> list[str]:
    """Rule ids (or the group ``rollback``) named on the command line, all of them verify rules."""
    from .. import registry
    from .cluster import VerifyError

    out: list[str] = []
    for item in (v.strip() for v in (value or "").split(",")):
        if not item:
            continue
        if item == "rollback":
            out.extend(RULES)
            continue
        canon = registry.resolve(item)
        if canon is None:
            raise VerifyError(f"{where}: unknown rule id '{item}' (see `migcheck rules`)")
        if canon not in RULES:
            raise VerifyError(f"{where}: '{item}' is not a verify rule (verify reports {', '.join(RULES)}; "
                              "the other rules run with `migcheck check`)")
        out.append(canon)
    return out


def enabled_rules(cfg, select: str | None, ignore: str | None) -> set[str]:
    """The verify rules to report. The configuration's ``select`` and ``ignore`` count when they
    name verify rules (a ``select`` written for ``check`` does not turn verify off); ``--select``
    replaces the set, ``--ignore`` removes from it."""
    from .. import registry

    enabled = set(RULES)
    cfg_select = [registry.resolve(r) for r in (cfg.select or ()) if registry.resolve(r) in RULES]
    if cfg_select:
        enabled = set(cfg_select)
    enabled -= {registry.resolve(r) for r in cfg.ignore}
    if select is not None:
        enabled = set(_rule_set(select, "--select"))
    enabled -= set(_rule_set(ignore, "--ignore"))
    return enabled


class _Progress:
    """``[12/140] 20251023_002_add_email_validation_trigger.sql`` on stderr, one updating line,
    only when stderr is a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.shown = False

    def message(self, text: str) -> None:
        if self.enabled:
            sys.stderr.write(f"\r\x1b[K{text}")
            sys.stderr.flush()
            self.shown = True

    def __call__(self, i: int, n: int, f) -> None:
        self.message(f"[{i}/{n}] {f.name}")

    def clear(self) -> None:
        if self.enabled and self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


@click.command("verify")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--dsn", metavar="URL",
              help="Use this existing server: migcheck creates a scratch database there, works only in it, "
                   "and drops it at the end (default: a private temporary cluster).")
@click.option("--prelude", "preludes", multiple=True, type=click.Path(), metavar="FILE",
              help="SQL to run before the first migration (roles, schemas, tables the migrations expect). Repeatable.")
@click.option("--preset", type=click.Choice(sorted(PRESETS)),
              help="Run a shipped prelude first: 'supabase' creates stand-ins for auth.users, auth.uid(), "
                   "the anon/authenticated/service_role roles, the extensions schema, storage and realtime.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default=None,
              help="Output format (default: text; github when GITHUB_ACTIONS=true).")
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to use instead of searching.")
@click.option("--select", help="Comma-separated verify rule ids to report (replaces the default: all four).")
@click.option("--ignore", help="Comma-separated verify rule ids not to report.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Lowest severity that makes the exit code 1 (default: error).")
@click.option("--no-color", is_flag=True, help="Never colour the output.")
@click.option("--quiet", "-q", is_flag=True,
              help="Print only findings at or above --fail-on: no help lines, no summary, no progress.")
def verify(paths, dsn, preludes, preset, fmt, config_path, select, ignore, fail_on, no_color, quiet) -> int:
    """Apply each migration, twice, then its rollback, on a throwaway PostgreSQL; report what fails
    to apply, what cannot run twice, and what the rollback fails to undo."""
    from .. import config as config_mod
    from .. import engine
    from ..report import render
    from .cluster import DsnServer, TempCluster, VerifyError

    cfg = config_mod.load(Path(config_path) if config_path else None)
    cfg = cfg.with_cli(fail_on=fail_on)
    enabled = enabled_rules(cfg, select, ignore)
    cwd = Path.cwd()
    project = engine.collect(paths, cfg, cwd)

    prelude_files = []
    for label, path in ([(f"--preset {preset}", PRESETS[preset])] if preset else []) + \
            [(p, Path(p)) for p in preludes]:
        full = path if path.is_absolute() else cwd / path
        if not full.is_file():
            raise VerifyError(f"prelude not found: {label}")
        pf = engine.MigrationFile(full, label if label.startswith("--") else engine._display(full, cwd),
                                  "other", full.parent, cfg)
        if pf.read_problem:
            raise VerifyError(f"cannot read the prelude {label}: {pf.read_problem[1]}")
        prelude_files.append((label, pf))

    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise VerifyError(f"migcheck verify needs the PostgreSQL driver psycopg 3: {INSTALL_HINT}") from None

    progress = _Progress(enabled=not quiet and sys.stderr.isatty())
    try:
        if dsn:
            server = DsnServer(dsn)
            result = _run(server, project, cfg, enabled, prelude_files, progress, quiet)
        else:
            progress.message("starting a temporary PostgreSQL cluster...")
            with TempCluster() as server:
                result = _run(server, project, cfg, enabled, prelude_files, progress, quiet)
    finally:
        progress.clear()

    if fmt is None:
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    color = fmt == "text" and not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()
    sys.stdout.write(render(fmt, result, {"color": color, "quiet": quiet, "fail_on": cfg.fail_on}))
    sys.stdout.flush()
    return 1 if result.failed(cfg.fail_on) else 0


def _run(server, project, cfg, enabled, prelude_files, progress, quiet):
    from . import procedure

    version = server.server_version()
    if not quiet and version // 10000 != cfg.postgres_version:
        progress.clear()
        click.echo(f"migcheck: note: verifying on PostgreSQL {version // 10000}, the configuration says "
                   f"postgres-version = {cfg.postgres_version}", err=True)
    with server.database() as conninfo:
        return procedure.verify_project(project, cfg, conninfo, enabled=enabled, preludes=prelude_files,
                                        progress=progress)
