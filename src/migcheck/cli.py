"""Command-line interface: parse arguments, call the engine, pick a reporter, set the exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

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
        "stats": "migcheck.stats_cli:stats",  # psycopg too
        "calibrate": "migcheck.stats_cli:calibrate",
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
@click.pass_context
def cli(ctx) -> None:
    """migcheck: lint PostgreSQL migration files before they reach production."""
    if ctx.invoked_subcommand != "check":  # (the entry point turned the collector off for the imports: _entry.py)
        import gc

        gc.enable()


class Choice(click.Choice):
    """click's Choice, with "did you mean" for a misspelled value (click suggests only for options
    and commands)."""

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            import difflib

            close = difflib.get_close_matches(str(value), [str(c) for c in self.choices], n=1, cutoff=0.6)
            if close:
                exc.message = f"{exc.message} Did you mean {close[0]!r}?"
            raise


class _OptionalValue(click.Option):
    """An option that takes a value or none (``--write-baseline [FILE]``). Its value must look
    like what it names (``.json``): click would otherwise take the path to check that follows
    the option (``--write-baseline migrations``) as the file to write."""

    def type_cast_value(self, ctx, value):
        value = super().type_cast_value(ctx, value)
        if value and not value.endswith(".json"):
            raise click.BadParameter(
                f"{value!r} is not a .json file; to check a path and write the configured baseline, put the path "
                f"first (`migcheck check {value} --write-baseline`), or name the file: --write-baseline=FILE.json",
                ctx,
                self,
            )
        return value


def _use_color(choice: str | None, no_color: bool, stream) -> bool:
    """``--color always|never|auto`` (``--no-color`` is ``never``); ``auto``: never with
    ``NO_COLOR`` set, always with ``FORCE_COLOR`` set (not empty), else when ``stream`` is a terminal."""
    if no_color and choice == "always":
        _fail("--no-color and --color always contradict each other")
    if no_color or choice == "never":
        return False
    if choice == "always" or os.environ.get("FORCE_COLOR"):
        return True
    return "NO_COLOR" not in os.environ and stream.isatty()


class _Progress:
    """``checking 1200/6635 files`` on stderr, one line that updates, while a large batch runs."""

    shown = False

    def __call__(self, done: int, total: int) -> None:
        sys.stderr.write(f"\r\x1b[Kchecking {done}/{total} files")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


FORMATS = ["text", "json", "sarif", "github", "gitlab", "markdown"]


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=Choice(FORMATS),
    default=None,
    help="Output format (default: text; github when GITHUB_ACTIONS=true). gitlab: a Code Quality report; "
    "markdown: a report for a pull request comment.",
)
@click.option(
    "--output-file",
    "-o",
    "output_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write the report to FILE instead of stdout.",
)
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to use instead of searching.")
@click.option("--select", help="Comma-separated rule ids or groups to run (replaces the default set).")
@click.option("--ignore", help="Comma-separated rule ids or groups to skip.")
@click.option(
    "--fail-on",
    type=Choice(["error", "warning", "info"]),
    default=None,
    help="Lowest severity that makes the exit code 1 (default: error).",
)
@click.option(
    "--exit-zero",
    "exit_zero",
    is_flag=True,
    help="Exit 0 even when there are findings (2 still means a usage or internal error).",
)
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings.")
@click.option(
    "--show-source",
    "show_source",
    is_flag=True,
    help="Text format: print the lines of the statement under each finding.",
)
@click.option(
    "--color",
    "color_choice",
    type=Choice(["always", "never", "auto"]),
    default=None,
    help="Colour the text output: auto (default: on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), "
    "always or never.",
)
@click.option("--no-color", is_flag=True, help="Never colour the output (--color never).")
@click.option(
    "--quiet", "-q", is_flag=True, help="Print only findings at or above --fail-on, no help lines or summary."
)
@click.option(
    "--diff",
    "diff_ref",
    metavar="REF",
    help="Check only the files added or modified since the merge base with git ref REF "
    "(committed, uncommitted and untracked), and report migrations of REF that were edited or deleted.",
)
@click.option(
    "--stdin-filename",
    "stdin_filename",
    metavar="PATH",
    help="With `-` as the path: the name of the file read from stdin, which places it in the layout "
    "(its migration directory, its rollback, its neighbours).",
)
@click.option(
    "--write-baseline",
    "write_baseline",
    cls=_OptionalValue,
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[FILE]",
    help="Record every finding of this run in the baseline (FILE, else the `baseline` config key, else "
    "migcheck-baseline.json beside the configuration), then report none of them (exit 0).",
)
@click.option(
    "--no-baseline", "no_baseline", is_flag=True, help="Report every finding, including those the baseline accepts."
)
@click.option("--fix", "fix", is_flag=True, help="Apply the safe fixes (docs/fixes.md), then check the result.")
@click.option("--unsafe-fixes", "unsafe_fixes", is_flag=True, help="With --fix: also rename misnamed migrations.")
@click.option(
    "--dry-run",
    "dry_run",
    is_flag=True,
    help="With --fix: print the changes as a unified diff, write nothing (exit 1 if there are any).",
)
@click.option(
    "--preset",
    type=Choice(PRESET_NAMES),
    help="The migration runner's layout (docs/presets.md); default: the `preset` config key, else detected.",
)
@click.option(
    "--jobs",
    "-j",
    "jobs",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Check with up to N processes when there are many files (default: one per CPU; capped at the CPU count; 1: this process only).",
)
@click.option(
    "--no-cache",
    "no_cache",
    is_flag=True,
    help="Neither read nor update the result cache (.migcheck_cache/ beside the configuration).",
)
def check(
    paths,
    fmt,
    output_file,
    config_path,
    select,
    ignore,
    fail_on,
    exit_zero,
    statistics,
    show_source,
    color_choice,
    no_color,
    quiet,
    diff_ref,
    stdin_filename,
    write_baseline,
    no_baseline,
    fix,
    unsafe_fixes,
    dry_run,
    preset,
    jobs,
    no_cache,
) -> int:
    """Lint migration files and directories (directories recursively, *.sql); `-` reads stdin."""
    if (unsafe_fixes or dry_run) and not fix:
        _fail("--unsafe-fixes and --dry-run go with --fix")
    overlay = None
    if stdin_filename is not None or "-" in paths:
        if tuple(paths) not in ((), ("-",)):
            _fail("`-` (stdin) is checked alone: give no other path with it or with --stdin-filename")
        if fix or write_baseline is not None or diff_ref is not None:
            _fail("--fix, --write-baseline and --diff work on files, not on stdin")
        name = Path(stdin_filename if stdin_filename else "-")
        paths = (str(name),)
        overlay = {Path(os.path.abspath(name)): sys.stdin.buffer.read()}
        if not stdin_filename:  # no name, so no layout: the rules that read the name or the other files do not run
            from . import registry

            ignore = ",".join(
                filter(None, [ignore, "file-naming", *(r.id for r in registry.load().values() if r.scope == "project")])
            )
    if statistics and (fmt or "text") not in ("text", "json"):
        _fail("--statistics prints text or JSON: use it with --format text or --format json")
    # (the one request, as _check_command takes it; the recorder of the run's answer comes last)
    request = (
        paths,
        fmt,
        output_file,
        config_path,
        select,
        ignore,
        fail_on,
        exit_zero,
        statistics,
        show_source,
        color_choice,
        no_color,
        quiet,
        diff_ref,
        overlay,
        write_baseline,
        no_baseline,
        fix,
        unsafe_fixes,
        dry_run,
        preset,
        jobs,
        no_cache,
    )
    if no_cache or fix or write_baseline is not None or diff_ref is not None or overlay is not None or output_file:
        return _check_command(*request, None)
    # the same request with the same inputs as a run before: its answer (migcheck.runcache)
    from . import runcache

    key = runcache.key(
        {
            "paths": list(paths),
            "format": fmt,
            "config": config_path and os.path.abspath(config_path),
            "select": select,
            "ignore": ignore,
            "fail_on": fail_on,
            "exit_zero": exit_zero,
            "statistics": statistics,
            "show_source": show_source,
            "color": _use_color(color_choice, no_color, sys.stdout),
            "quiet": quiet,
            "preset": preset,
            "no_baseline": no_baseline,
        }
    )
    answer = runcache.lookup(key, config_path)
    if answer is not None:
        sys.stdout.write(answer.out)
        sys.stdout.flush()
        if answer.err:
            sys.stderr.write(answer.err)
        return answer.code
    with runcache.Recorder() as rec:
        code = _check_command(*request, rec)
    rec.store(key, code, config_path)
    return code


def _note(rec, line: str) -> None:
    """A line on stderr (kept with the run's answer when ``rec`` records it)."""
    click.echo(line, err=True)
    if rec is not None:
        rec.note(line)


def _check_command(
    paths,
    fmt,
    output_file,
    config_path,
    select,
    ignore,
    fail_on,
    exit_zero,
    statistics,
    show_source,
    color_choice,
    no_color,
    quiet,
    diff_ref,
    overlay,
    write_baseline,
    no_baseline,
    fix,
    unsafe_fixes,
    dry_run,
    preset,
    jobs,
    no_cache,
    rec,
) -> int:
    from .config import for_paths

    echo = (lambda line: None) if quiet else (lambda line: _note(rec, line))
    # each path with the configuration found up from it (ruff's way): one run per configuration
    runs = []
    for base, group in for_paths(paths, Path.cwd(), Path(config_path) if config_path else None):
        cfg = base.with_cli(select=select, ignore=ignore, fail_on=fail_on, preset=preset)
        if cfg.preset is None:  # not pinned: recognise a runner's layout from the files (detect.py)
            from . import detect

            cfg = detect.apply(cfg, group, Path.cwd(), echo)
        runs.append((cfg, list(group)))
    if write_baseline is not None and len(runs) > 1:
        _fail(
            "the paths are under different configurations: write the baseline of each one on its own "
            "(`migcheck check --write-baseline` in each project)"
        )
    changes = None
    if diff_ref is not None:
        from . import gitdiff

        changes = gitdiff.changes(diff_ref, Path.cwd())
    if fix:  # fix.py: safe text fixes (and renames with --unsafe-fixes), then the usual check
        from . import fix as fixer

        would = False
        for i, (cfg, group) in enumerate(runs):
            group, changed = fixer.run_cli(group, cfg, Path.cwd(), changes, dry_run=dry_run, unsafe=unsafe_fixes)
            runs[i], would = (cfg, group), would or changed
        if dry_run:
            return EXIT_FINDINGS if would else EXIT_OK
    out = sys.stdout
    if output_file is not None:
        try:
            out = open(output_file, "w", encoding="utf-8", newline="")
        except OSError as exc:
            _fail(f"cannot write the report to {output_file}: {exc.strerror or exc}")
    try:
        return _check(
            runs,
            fmt,
            out if rec is None else rec.tee(out),
            overlay,
            changes,
            quiet,
            statistics,
            show_source,
            _use_color(color_choice, no_color, out),
            exit_zero,
            write_baseline,
            no_baseline,
            jobs,
            no_cache,
            rec,
        )
    finally:
        if out is not sys.stdout:
            out.close()


def _check(
    runs,
    fmt,
    out,
    overlay,
    changes,
    quiet,
    statistics,
    show_source,
    color,
    exit_zero,
    write_baseline,
    no_baseline,
    jobs,
    no_cache,
    rec=None,
) -> int:
    from . import engine
    from .report import write

    cpus = engine.cpu_count()
    results = []
    for cfg, paths in runs:
        cache = None
        if not no_cache:
            from .cache import Cache

            cache = Cache()
        progress = _Progress() if not quiet and sys.stderr.isatty() else None
        try:
            result = engine.check(
                paths,
                cfg,
                changes=changes,
                overlay=overlay,
                cache=cache,
                jobs=min(jobs or cpus, cpus),
                progress=progress,
            )
        except engine.EngineFailure as exc:
            _fail(f"internal error: {exc}")
        finally:
            if progress is not None:
                progress.clear()
        if result.project is not None and result.project.excluded and not quiet:
            excluded = {str(p) for p in result.project.excluded}
            for p in paths:  # a file named on the command line (a directory's excluded files go unsaid)
                if os.path.abspath(p) in excluded:
                    _note(
                        rec, f"migcheck: {p}: excluded by `exclude`/`extend-exclude` in the configuration, not checked"
                    )
        results.append((cfg, _baseline(result, cfg, write_baseline, no_baseline, quiet, rec)))
        if rec is not None and cache is not None and result.project is not None:
            rec.kept(cache.directory, [f.path for f in result.project.files])
    cfg, result = results[0][0], engine.merge([r for _, r in results])
    if len(results) > 1 and any(hasattr(r, "baselined") for _, r in results):
        from .baseline import Baselined

        result = Baselined(
            result.findings,
            result.files,
            result.errors,
            None,
            result.risk,
            result.skipped,
            baselined=sum(getattr(r, "baselined", 0) for _, r in results),
            stale=sum(getattr(r, "stale", 0) for _, r in results),
        )
    if not quiet:
        note = result.skipped_note()
        if note:  # other databases' files (pop's `.mysql.`, ...): never a silent skip
            _note(rec, note)
        for dialect in dict.fromkeys(c.dialect for c, _ in results if c.dialect != "postgres"):
            from .dialects import note as dialect_note  # one note per run: which rules did not run

            _note(rec, dialect_note(dialect))
        for risky in dict.fromkeys(r.risk for _, r in results if r.risk is not None):
            click.echo(f"migcheck: {risky.note()}", err=True)  # the production snapshot's age (docs/stats.md)
    if fmt is None:
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    options = {
        "color": color and fmt == "text",
        "quiet": quiet,
        "fail_on": cfg.fail_on,
        "config": cfg,
        "show_source": show_source,
    }
    if statistics:
        from .fix import FIXABLE

        options.update(fmt=fmt, fixable=set(FIXABLE))
        fmt = "statistics"
    write(fmt, result, options, out)
    out.flush()
    for err in result.errors:
        click.echo(
            f"migcheck: internal error in rule {err.rule} on {err.path}: {err.detail} "
            "(please report this; the other findings above are complete)",
            err=True,
        )
    if result.errors:
        return EXIT_ERROR
    if rec is not None and all(r.risk is None for _, r in results):
        rec.answered()  # (with a production snapshot, the note tells its age: such a run is not kept)
    if exit_zero:
        return EXIT_OK
    return EXIT_FINDINGS if any(r.failed(c.fail_on) for c, r in results) else EXIT_OK


def _baseline(result, cfg, write_to, off: bool, quiet: bool, rec=None):
    """Write the baseline (``--write-baseline``), or take the findings it has out of ``result``."""
    if write_to is None and off:
        return result
    path = Path(write_to) if write_to else cfg.baseline_path()
    if path is None:
        if write_to is not None:
            _fail("`baseline = false` in the configuration: name the file to write, --write-baseline=FILE.json")
        return result
    if write_to is None and not path.exists():  # (the usual case: nothing to import or read)
        return result
    from . import baseline

    shown = _display(path)
    try:
        if write_to is not None:
            written, kept = baseline.write(path, result, cfg.enabled_rules())
            more = f" (and kept {kept} of files or rules this run did not check)" if kept else ""
            _note(rec, f"migcheck: wrote {written} finding{'' if written == 1 else 's'} to {shown}{more}")
        entries = baseline.load(path)
    except baseline.BaselineError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write the baseline {shown}: {exc.strerror or exc}")
    if entries is None:
        return result
    result = baseline.apply(result, path, entries, cfg.enabled_rules())
    if result.stale and not quiet:
        _note(
            rec,
            f"migcheck: {result.stale} {'entry' if result.stale == 1 else 'entries'} of {shown} "
            f"{'matches' if result.stale == 1 else 'match'} no finding any more (fixed, or the statement changed): `migcheck check --write-baseline` drops them",
        )
    return result


def _display(path: Path) -> str:
    from .layout import display

    return display(Path(os.path.abspath(path)), Path.cwd())


@cli.command("rules")
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to use instead of searching.")
@click.option("--format", "fmt", type=Choice(["text", "json"]), default="text")
@click.option(
    "--preset",
    type=Choice(PRESET_NAMES),
    help="Show what is enabled under this runner's layout (docs/presets.md); default: the `preset` "
    "config key, else detected from the migrations as `check` detects it.",
)
def rules_cmd(config_path, fmt, preset) -> int:
    """List every rule: id, default severity, group, enabled (for the project's preset), summary."""
    import json

    from . import registry

    cfg = _load_config(config_path).with_cli(preset=preset)
    if cfg.preset is None:  # what `check` would run here: the layout detected from the migrations
        from . import detect, presets

        cfg = detect.apply(cfg, [], Path.cwd(), lambda line: click.echo(line, err=True))
        if cfg.preset == presets.UNRECOGNISED:
            click.echo(
                "migcheck: no migration layout recognised: the rules that depend on it are held back "
                "(unknown-layout; set `preset` or `naming` in the configuration)",
                err=True,
            )
    enabled = cfg.enabled_rules()
    rules = sorted(registry.load().values(), key=lambda r: (r.group, r.id))
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "severity": cfg.severity_of(r),
                        "default_severity": r.severity,
                        "group": r.group,
                        "enabled": r.id in enabled,
                        "summary": r.summary,
                    }
                    for r in rules
                ],
                indent=2,
            )
        )
        return EXIT_OK
    width = max(len(r.id) for r in rules)
    click.echo(f"{'id':<{width}}  severity  group       enabled  summary")
    for r in rules:
        click.echo(
            f"{r.id:<{width}}  {cfg.severity_of(r):<8}  {r.group:<10}  {'yes' if r.id in enabled else 'no':<7}  {r.summary}"
        )
    return EXIT_OK


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to use instead of searching.")
@click.option("--format", "fmt", type=Choice(["text", "json"]), default="text")
def locks(paths, config_path, fmt) -> int:
    """Show, per statement, the lock it takes, on which tables, and whether it rewrites or scans."""
    from . import engine
    from .analysis import risk
    from .config import for_paths
    from .report import fit, render
    from .report.locks_report import rows

    cfg = for_paths(paths[:1], Path.cwd(), Path(config_path) if config_path else None)[0][0]
    risky = risk.for_config(cfg)  # figures and estimates with a production snapshot (docs/stats.md)
    if cfg.dialect != "postgres":
        _fail(f"`migcheck locks` models PostgreSQL's locks; the configured dialect is {cfg.dialect} (docs/dialects.md)")
    project = engine.collect(paths, cfg, Path.cwd())
    entries = []
    for f in project.files:
        if not project.is_reported(f):
            continue
        if f.read_problem:
            _fail(f"{f.display}: {f.read_problem[1]}")
        entries.append((f.display, rows(f, cfg.postgres_version)))
    sys.stdout.write(fit(render("locks", entries, {"fmt": fmt, "risk": risky}), sys.stdout, fmt == "json"))
    return EXIT_OK


@cli.command()
@click.argument("rule_id")
def explain(rule_id) -> int:
    """Print a rule's documentation."""
    from . import docs, registry

    ids = registry.expand(rule_id)
    if not ids:
        _fail(registry.unknown(rule_id))
    texts = []
    for canon in ids:
        text = docs.read(canon)
        if text is None:
            _fail(f"no documentation found for rule '{canon}' (broken installation?)")
        texts.append(text if text.endswith("\n") else text + "\n")
    if ids != (rule_id,):  # an alias or another tool's id: say which rules it stands for
        rules = ", ".join(f"`{c}`" for c in ids)
        tool = "squawk's " if rule_id in registry.SQUAWK else ""
        click.echo(f"{tool}`{rule_id}` is covered by migcheck's {rules}.\n")
    click.echo("\n".join(texts), nl=False)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the exit code (0 clean, 1 findings, 2 usage/config/internal error)."""
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
    except UsageFailure as exc:
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
        config = sys.modules.get("migcheck.config")  # (not imported by a run the run cache answers)
        if config is not None and isinstance(exc, config.ConfigError):
            click.echo(f"migcheck: error: {exc}", err=True)
            return EXIT_ERROR
        import traceback

        tb = traceback.extract_tb(exc.__traceback__)[-1]
        click.echo(
            f"migcheck: internal error: {type(exc).__name__}: {exc} "
            f"({Path(tb.filename).name}:{tb.lineno}); please report this",
            err=True,
        )
        return EXIT_ERROR
    if rv is None:  # --help, --version or a bare group call
        return EXIT_OK
    return int(rv)
