"""changelog-missing: every migration is mentioned in CHANGELOG.md (guidelines: "Always document in
CHANGELOG.md")."""

import os
import re
from pathlib import Path

from .. import fsutil
from ..analysis.changelog import NAME, changelog_in, walk_up
from ..registry import rule

_LOOSE_VERSION = re.compile(r"^(\d{8})_(\d{3})")
_MENTION = re.compile(r"(?<![0-9])(\d{8})[_-](\d+)(?![0-9])")


def _version(f) -> str | None:
    """The migration's version; for a file the naming pattern rejects, a leading YYYYMMDD_NNN."""
    if f.version is not None:
        return f.version
    m = _LOOSE_VERSION.match(f.name)
    return f"{m.group(1)}_{m.group(2)}" if m else None


class _Changelog:
    """The text of a changelog, read once, with the versions it mentions."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.text = fsutil.read_regular(path, 64 << 20)[0].decode("utf-8", errors="replace")
        except OSError:
            self.text = ""
        self.versions = {f"{m.group(1)}_{m.group(2)}" for m in _MENTION.finditer(self.text)}

    def mentions(self, f) -> bool:
        version = _version(f)
        if version is not None and version in self.versions:
            return True
        stem = f.name.removesuffix(".sql")
        return re.search(r"(?<![\w.-])" + re.escape(stem) + r"(?![\w-])", self.text) is not None


def _display(path: Path, f) -> str:
    """``path`` the way the user sees paths: relative to the directory f.display is relative to."""
    disp = f.display
    full = f.path.as_posix()
    if not os.path.isabs(disp) and full.endswith("/" + disp):
        base = full[: -len(disp) - 1] or "/"
        rel = os.path.relpath(path, base)
        if not rel.startswith(".."):
            return Path(rel).as_posix()
    return path.as_posix()


def _looked(dirs: list[Path], f) -> str:
    shown = ["/" if d.parent == d else _display(d, f).rstrip("/") + "/" for d in dirs]
    if len(shown) == 1:
        return shown[0]
    if len(shown) <= 4:
        return ", ".join(shown[:-1]) + " and " + shown[-1]
    return f"{shown[0]}, {shown[1]} and every directory above them up to {shown[-1]}"


@rule(
    "changelog-missing",
    severity="warning",
    group="project",
    scope="project",
    kinds=("migration",),
    summary="The migration's version is not mentioned in CHANGELOG.md.",
)
def check(project, ctx):
    setting = ctx.config.changelog
    if setting is False:
        return
    migrations = [
        f for f in project.files if f.kind == "migration" and project.is_reported(f) and f.name.endswith(".sql")
    ]
    if not migrations:
        return
    walks: dict[Path, tuple[Path | None, list[Path], str]] = {}
    texts: dict[Path, _Changelog] = {}
    not_found: list = []  # (migration, directories looked in, where the walk stopped)
    configured: Path | None = None
    if setting is not True:
        configured = Path(setting)
        if not configured.is_absolute():
            configured = ctx.config.root / configured
        if configured.is_dir():
            configured = changelog_in(configured) or configured / NAME
    for f in migrations:
        if configured is not None:
            path = configured if configured.is_file() else None
            if path is None:
                not_found.append((f, None, None))
                continue
        else:
            path, looked, stop = walk_up(f.mdir, walks)
            if path is None:
                not_found.append((f, looked, stop))
                continue
        log = texts.get(path)
        if log is None:
            log = texts[path] = _Changelog(path)
        if not log.mentions(f):
            what = f.version or f.name
            entry = _version(f) or f.name.removesuffix(".sql")
            yield f.hit(
                f"{what} is not mentioned in {_display(path, f)}",
                f"Add an entry for this migration to {_display(path, f)}, e.g. `- {entry}: <what it changes>` "
                "(the guidelines: always document in CHANGELOG.md).",
                line=1,
                column=1,
            )
    if not_found:
        f, looked, stop = not_found[0]
        if looked is None:
            where = _display(configured, f)
            message = f"the configured changelog {where} does not exist"
            help = (
                f"Create {where} and list every migration in it, or fix `changelog` in the configuration "
                "(`changelog = false` turns this rule off)."
            )
        else:
            message = f"no {NAME} found: looked in {_looked(looked, f)} (stopped at {stop})"
            help = (
                f"Create {NAME} at the repository root and list every migration in it, or point "
                '`changelog = "path/to/CHANGELOG.md"` at yours (`changelog = false` turns this rule off).'
            )
        yield f.hit(message, help, line=1, column=1)
