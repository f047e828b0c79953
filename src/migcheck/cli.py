"""Command-line interface: parse arguments, call the engine, pick a reporter, set the exit code."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Sequence

import click

from . import __version__
from .presets import NAMES as PRESET_NAMES

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageFailure(Exception):
    pass


def _fail(message: str) -> None:
    raise UsageFailure(message)


def _load_config(config_path: str | None):
    from .config import load

    return load(Path(config_path) if config_path else None)


class LazyGroup(click.Group):
    """Subcommands defined in other modules are imported when they run (or when --help lists
    them), not on every ``migcheck check``: the one-file check is import time (issue 14)."""

    lazy = {
        "new": "migcheck.authoring_cli:new",
        "init": "migcheck.authoring_cli:init",
        "verify": "migcheck.verify.command:verify",  # psycopg is imported only when it runs
        "lock": "migcheck.tracking_cli:lock",
        "status": "migcheck.tracking_cli:status",
        "lsp": "migcheck.lsp:lsp",  # pygls is imported only when it runs
    }

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx, name):
        if name in self.lazy and name not in self.commands:
            import importlib

            module, attr = self.lazy[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="migcheck", message="%(prog)s %(version)s")
def cli() -> None:
    """migcheck: lint PostgreSQL migration files before they reach production."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default=None,
              help="Output format (default: text; github when GITHUB_ACTIONS=true).")
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to use instead of searching.")
@click.option("--select", help="Comma-separated rule ids or groups to run (replaces the default set).")
@click.option("--ignore", help="Comma-separated rule ids or groups to skip.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Lowest severity that makes the exit code 1 (default: error).")
@click.option("--no-color", is_flag=True, help="Never colour the output.")
@click.option("--quiet", "-q", is_flag=True, help="Print only findings at or above --fail-on, no help lines or summary.")
@click.option("--diff", "diff_ref", metavar="REF",
              help="Check only the files added or modified since the merge base with git ref REF "
                   "(committed, uncommitted and untracked), and report migrations of REF that were edited or deleted.")
@click.option("--fix", "fix", is_flag=True, help="Apply the safe fixes (docs/fixes.md), then check the result.")
@click.option("--unsafe-fixes", "unsafe_fixes", is_flag=True, help="With --fix: also rename misnamed migrations.")
@click.option("--dry-run", "dry_run", is_flag=True,
              help="With --fix: print the changes as a unified diff, write nothing (exit 1 if there are any).")
@click.option("--preset", type=click.Choice(PRESET_NAMES),
              help="The migration runner's layout (docs/presets.md); default: the `preset` config key, else detected.")
@click.option("--jobs", "-j", "jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Check with up to N processes when there are many files (default: one per CPU; capped at the CPU count; 1: this process only).")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Neither read nor update the result cache (.migcheck_cache/ beside the configuration).")
def check(paths, fmt, config_path, select, ignore, fail_on, no_color, quiet, diff_ref, fix, unsafe_fixes, dry_run,
          preset, jobs, no_cache) -> int:
    """Lint migration files and directories (directories recursively, *.sql)."""
    from . import engine
    from .report import write

    cfg = _load_config(config_path).with_cli(select=select, ignore=ignore, fail_on=fail_on, preset=preset)
    if cfg.preset is None:  # not pinned: recognise a runner's layout from the files (detect.py)
        from . import detect

        cfg = detect.apply(cfg, paths, Path.cwd(), lambda line: None if quiet else click.echo(line, err=True))
    changes = None
    if diff_ref is not None:
        from . import gitdiff

        changes = gitdiff.changes(diff_ref, Path.cwd())
    if (unsafe_fixes or dry_run) and not fix:
        _fail("--unsafe-fixes and --dry-run go with --fix")
    if fix:  # fix.py: safe text fixes (and renames with --unsafe-fixes), then the usual check
        from . import fix as fixer

        paths, would = fixer.run_cli(paths, cfg, Path.cwd(), changes, dry_run=dry_run, unsafe=unsafe_fixes)
        if dry_run:
            return EXIT_FINDINGS if would else EXIT_OK
    cpus = engine.cpu_count()
    cache = None
    if not no_cache:
        from .cache import Cache

        cache = Cache()
    try:
        result = engine.check(paths, cfg, changes=changes, cache=cache, jobs=min(jobs or cpus, cpus))
    except engine.EngineFailure as exc:
        _fail(f"internal error: {exc}")
    if cfg.dialect != "postgres" and not quiet:  # one note per run: which rules did not run
        from .dialects import note

        click.echo(note(cfg.dialect), err=True)
    if fmt is None:
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    color = (fmt == "text" and not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty())
    write(fmt, result, {"color": color, "quiet": quiet, "fail_on": cfg.fail_on, "config": cfg}, sys.stdout)
    sys.stdout.flush()
    for err in result.errors:
        click.echo(f"migcheck: internal error in rule {err.rule} on {err.path}: {err.detail} "
                   "(please report this; the other findings above are complete)", err=True)
    if result.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if result.failed(cfg.fail_on) else EXIT_OK


@cli.command("rules")
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to use instead of searching.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def rules_cmd(config_path, fmt) -> int:
    """List every rule: id, default severity, group, enabled, summary."""
    import json

    from . import registry

    cfg = _load_config(config_path)
    enabled = cfg.enabled_rules()
    rules = sorted(registry.load().values(), key=lambda r: (r.group, r.id))
    if fmt == "json":
        click.echo(json.dumps([{"id": r.id, "severity": cfg.severity_of(r), "default_severity": r.severity,
                                "group": r.group, "enabled": r.id in enabled, "summary": r.summary}
                               for r in rules], indent=2))
        return EXIT_OK
    width = max(len(r.id) for r in rules)
    click.echo(f"{'id':<{width}}  severity  group       enabled  summary")
    for r in rules:
        click.echo(f"{r.id:<{width}}  {cfg.severity_of(r):<8}  {r.group:<10}  {'yes' if r.id in enabled else 'no':<7}  {r.summary}")
    return EXIT_OK


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to use instead of searching.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def locks(paths, config_path, fmt) -> int:
    """Show, per statement, the lock it takes, on which tables, and whether it rewrites or scans."""
    from . import engine
    from .analysis import pg, schema
    from .report import render

    cfg = _load_config(config_path)
    if cfg.dialect != "postgres":
        _fail(f"`migcheck locks` models PostgreSQL's locks; the configured dialect is {cfg.dialect} (docs/dialects.md)")
    project = engine.collect(paths, cfg, Path.cwd())
    entries = []
    for f in project.files:
        if not project.is_reported(f):
            continue
        if f.read_problem:
            _fail(f"{f.display}: {f.read_problem[1]}")
        stmts = []
        for st in f.statements:
            if not pg.is_change(st):
                continue
            stmts.append((st, schema.statement_locks(f, st, cfg.postgres_version)))
        entries.append((f.display, stmts))
    sys.stdout.write(render("locks", entries, {"fmt": fmt}))
    return EXIT_OK


@cli.command()
@click.argument("rule_id")
def explain(rule_id) -> int:
    """Print a rule's documentation."""
    from . import docs, registry

    canon = registry.resolve(rule_id)
    if canon is None:
        _fail(f"unknown rule id '{rule_id}' (see `migcheck rules`)")
    text = docs.read(canon)
    if text is None:
        _fail(f"no documentation found for rule '{canon}' (broken installation?)")
    click.echo(text, nl=not text.endswith("\n"))
    return EXIT_OK




def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the exit code (0 clean, 1 findings, 2 usage/config/internal error)."""
    from .config import ConfigError

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = cli.main(args=args, prog_name="migcheck", standalone_mode=False)
    except click.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError" and exc.ctx is not None:
            click.echo(exc.ctx.get_help(), err=True)
            return EXIT_ERROR
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"migcheck: error: {exc.format_message()}{hint}", err=True)
        return EXIT_ERROR
    except (ConfigError, UsageFailure) as exc:
        click.echo(f"migcheck: error: {exc}", err=True)
        return EXIT_ERROR
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            click.echo("migcheck: interrupted", err=True)
            return 130
        click.echo("migcheck: aborted", err=True)
        return EXIT_ERROR
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"migcheck: error: {exc.format_message()}", err=True)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        click.echo("migcheck: interrupted", err=True)
        return 130
    except Exception as exc:  # last line of defence: never a traceback for the user
        import traceback

        tb = traceback.extract_tb(exc.__traceback__)[-1]
        click.echo(f"migcheck: internal error: {type(exc).__name__}: {exc} "
                   f"({Path(tb.filename).name}:{tb.lineno}); please report this", err=True)
        return EXIT_ERROR
    if rv is None:  # --help, --version or a bare group call
        return EXIT_OK
    return int(rv)
