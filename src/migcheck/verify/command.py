"""``migcheck verify [PATH]...``: the click command. Register it with
``cli.add_command(verify)`` (``from migcheck.verify.command import verify``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..presets import NAMES as PRESET_NAMES
from . import ROLLBACK_RULES, RULES, TRACE_RULES

# shipped preludes: stand-ins for what a hosted platform has and a bare PostgreSQL lacks. `--prelude
# supabase` loads one by name; the runner preset `supabase` (--preset, the `preset` key, or
# detected) loads it too, since a Supabase CLI project's migrations expect it.
_HERE = Path(__file__).resolve().parent / "preludes"
PRELUDES = {"supabase": _HERE / "supabase.sql"}
PRESETS = PRELUDES  # the name benchmarks/verify_bench.py (and older code) imports
# what a runner preset loads first: its platform's stand-ins, or what the runner itself creates
# before the first migration (diesel's tracking table, which migrations may refer to)
PRESET_PRELUDES = {"supabase": PRELUDES["supabase"], "diesel": _HERE / "diesel.sql"}
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
            out.extend(ROLLBACK_RULES)
            continue
        if item == "safety":
            out.extend(TRACE_RULES)
            continue
        canon = registry.resolve(item)
        if canon is None:
            if not registry.expand(item):
                raise VerifyError(f"{where}: {registry.unknown(item, ('rollback', 'safety'))}")
            canon = item  # another tool's id for several rules, none of them a verify rule
        if canon not in RULES:
            raise VerifyError(
                f"{where}: '{item}' is not a verify rule (verify reports {', '.join(RULES)}; "
                "the other rules run with `migcheck check`)"
            )
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
    if getattr(cfg, "preset", None) not in (None, "guidelines"):
        # the runner's rules off (not-idempotent: a runner never applies a migration twice), unless
        # named by id (a group does not bring one back, as for `check`)
        from .. import presets

        named = {registry.resolve(r) for r in (*(cfg.select or ()), *cfg.severity)}
        named |= {registry.resolve(r.strip()) for r in (select or "").split(",") if r.strip()}
        enabled -= presets.get(cfg.preset).off - named
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
@click.option(
    "--dsn",
    metavar="URL",
    help="Use this existing server: migcheck creates a scratch database there, works only in it, "
    "and drops it at the end (default: a private temporary cluster).",
)
@click.option(
    "--prelude",
    "preludes",
    multiple=True,
    type=click.Path(),
    metavar="FILE",
    help="SQL to run before the first migration (roles, schemas, tables the migrations expect), or "
    "'supabase': the shipped stand-ins for auth.users, auth.uid(), the anon/authenticated/"
    "service_role roles, the extensions schema, storage and realtime. Repeatable.",
)
@click.option(
    "--preset",
    type=click.Choice(PRESET_NAMES),
    help="The migration runner's layout and transaction handling, as for `check` (docs/presets.md); "
    "default: the `preset` config key, else detected. 'supabase' also runs the Supabase prelude.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "github"]),
    default=None,
    help="Output format (default: text; github when GITHUB_ACTIONS=true).",
)
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to use instead of searching.")
@click.option(
    "--select",
    help="Comma-separated verify rule ids to report (replaces the default: all of them; "
    "the trace rules report only with --trace, the data rules only with --data).",
)
@click.option("--ignore", help="Comma-separated verify rule ids not to report.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    default=None,
    help="Lowest severity that makes the exit code 1 (default: error).",
)
@click.option("--no-color", is_flag=True, help="Never colour the output.")
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Print only findings at or above --fail-on: no help lines, no summary, no progress.",
)
@click.option(
    "--trace",
    "trace",
    is_flag=True,
    help="Run each migration's first apply statement by statement and report the locks, rewrites, "
    "scans and duration each statement really takes, held to the static lock model "
    "(see docs/trace.md).",
)
@click.option(
    "--data/--no-data",
    "data",
    default=None,
    help="Run each rollback again with rows in the tables: generated rows before the migration, more "
    "after it, then compare (rollback-fails-with-data, rollback-loses-rows, rollback-discards-new-data; "
    "see docs/verify-data.md). Default: the `verify-data` config key, else off.",
)
def verify(
    paths, dsn, preludes, preset, fmt, config_path, select, ignore, fail_on, no_color, quiet, trace, data
) -> int:
    """Apply each migration, twice, then its rollback, on a throwaway PostgreSQL; report what fails
    to apply, what cannot run twice, and what the rollback fails to undo."""
    from .. import config as config_mod
    from .. import engine, files, layout
    from ..report import fit, render
    from . import guard
    from .cluster import DsnServer, TempCluster, VerifyError

    # the configuration found up from the (first) path, as `check` finds it (config.for_paths)
    cfg = config_mod.for_paths(paths[:1], Path.cwd(), Path(config_path) if config_path else None)[0][0]
    if cfg.dialect != "postgres":
        raise VerifyError(
            f"`migcheck verify` runs the migrations on PostgreSQL; the configured dialect is "
            f"{cfg.dialect} (docs/dialects.md): use `migcheck check` for {cfg.dialect} migrations"
        )
    cfg = cfg.with_cli(fail_on=fail_on, preset=preset)
    cwd = Path.cwd()
    if cfg.preset is None:  # not pinned: recognise a runner's layout from the files, as `check` does
        from .. import detect

        cfg = detect.apply(cfg, paths, cwd, lambda line: None if quiet else click.echo(line, err=True))
    enabled = enabled_rules(cfg, select, ignore)
    if data is None:
        data = cfg.verify_data
    project = engine.collect(paths, cfg, cwd)

    prelude_files = []
    wanted: list[tuple[str, Path]] = []
    if cfg.preset in PRESET_PRELUDES:  # the runner's platform or own tables first
        wanted.append(
            (f"--preset {cfg.preset}" if preset else f"the {cfg.preset} preset's prelude", PRESET_PRELUDES[cfg.preset])
        )
    for p in preludes:
        path = Path(p)
        full = path if path.is_absolute() else cwd / path
        if p in PRELUDES and not full.is_file():  # a shipped prelude by name (a file of that name wins)
            wanted.append((f"--prelude {p}", PRELUDES[p]))
        else:
            wanted.append((p, path))
    seen: set[Path] = set()
    for label, path in wanted:
        full = path if path.is_absolute() else cwd / path
        if full.resolve() in seen:  # `--prelude supabase` with the supabase preset: once
            continue
        seen.add(full.resolve())
        if not full.is_file():
            raise VerifyError(f"prelude not found: {label}")
        pf = files.MigrationFile(
            full, label if label.startswith(("--", "the ")) else layout.display(full, cwd), "other", full.parent, cfg
        )
        if pf.read_problem:
            raise VerifyError(f"cannot read the prelude {label}: {pf.read_problem[1]}")
        prelude_files.append((label, pf))

    result = _refused(project, cfg, prelude_files, shared_server=bool(dsn))  # before any server is touched
    if result is None:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise VerifyError(f"migcheck verify needs the PostgreSQL driver psycopg 3: {INSTALL_HINT}") from None

        progress = _Progress(enabled=not quiet and sys.stderr.isatty())
        try:
            if dsn:
                server = DsnServer(dsn)
                server.owned = guard.owned(prelude_files)
                result = _run(server, project, cfg, enabled, prelude_files, progress, quiet, trace, data)
            else:
                progress.message("starting a temporary PostgreSQL cluster...")
                with TempCluster() as server:
                    result = _run(server, project, cfg, enabled, prelude_files, progress, quiet, trace, data)
        finally:
            progress.clear()

    if fmt is None:
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    color = fmt == "text" and not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()
    text = render(fmt, result, {"color": color, "quiet": quiet, "fail_on": cfg.fail_on})
    traces = getattr(result, "traces", None)
    data_files = getattr(result, "data", None)
    if (traces is not None or data_files is not None) and fmt == "json":
        import json

        from .trace import add_to_json

        doc = json.loads(text)
        if traces is not None:
            doc = add_to_json(doc, traces)
        if data_files is not None:
            from .data import add_to_json as add_data

            doc = add_data(doc, data_files)
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    elif traces is not None and fmt == "text" and not quiet:
        from .trace import render_text

        text = render_text(traces) + text
    sys.stdout.write(fit(text, sys.stdout, fmt in ("json", "sarif")))
    sys.stdout.flush()
    if data_files is not None and not quiet:
        from .data import coverage_note

        note = coverage_note(data_files, json_hint=fmt != "json")
        if note:
            click.echo(f"migcheck: note: {note}", err=True)
    return 1 if result.failed(cfg.fail_on) else 0


def _refused(project, cfg, prelude_files, shared_server: bool):
    """A result holding only ``verify-refused`` findings when a file verify would run holds a
    statement it must not run (``guard``); None when there is none."""
    from .. import engine
    from . import guard

    files = guard.files_to_run(project)
    refused = guard.refusals(files, cfg, shared_server=shared_server, preludes=prelude_files)
    return engine.Result(refused, files, []) if refused else None


def _run(server, project, cfg, enabled, prelude_files, progress, quiet, trace=False, data=False):
    from . import procedure
    from .cluster import DsnServer

    shared = isinstance(server, DsnServer)

    version = server.server_version()
    if not quiet and version // 10000 != cfg.postgres_version:
        progress.clear()
        click.echo(
            f"migcheck: note: verifying on PostgreSQL {version // 10000}, the configuration says "
            f"postgres-version = {cfg.postgres_version}",
            err=True,
        )
    dirs = procedure.directories(project)
    if len(dirs) <= 1:
        with server.database() as conninfo:
            return procedure.verify_project(
                project,
                cfg,
                conninfo,
                enabled=enabled,
                preludes=prelude_files,
                progress=progress,
                trace=trace,
                server_version=version // 10000,
                shared_server=shared,
                data=data,
            )
    results = []
    for d in dirs:  # one history per migration directory: a scratch database each
        with server.database() as conninfo:
            results.append(
                procedure.verify_project(
                    project,
                    cfg,
                    conninfo,
                    enabled=enabled,
                    preludes=prelude_files,
                    progress=progress,
                    trace=trace,
                    server_version=version // 10000,
                    directory=d,
                    shared_server=shared,
                    data=data,
                )
            )
    return procedure.merge(results)
