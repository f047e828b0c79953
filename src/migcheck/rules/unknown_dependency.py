import re

from .. import summaries
from ..analysis import header as hdr
from ..registry import rule

# Field names read as the dependency list (compared without case, spaces, '-' and '_').
FIELDS = ("Depends-On", "Depends")
_VERSION = re.compile(r"(?<![0-9A-Za-z])(\d{8})[_-](\d{3,})(?![0-9])")
_NOTHING = re.compile(r"^(n/?a|none|nothing|-+)\.?$", re.I)


def _may_declare(f) -> bool:
    """Can the file have a dependency field? Decided on the text, before the header is read
    (reading it needs the parse): a field name compares without case, spaces, '-' and '_'
    (``header.normalize``), so it holds "depends" once those are dropped."""
    return "depends" in f.text.lower() or "depends" in hdr.normalize(f.text)


def _may_depend(f) -> bool:
    return not f.read_problem and _may_declare(f)


def _order(version: str) -> tuple[str, int]:
    date, seq = version.split("_")
    return date, int(seq)


def _column(f, line: int, token: str) -> int:
    i = f.positions.line_text(line).find(token)
    return i + 1 if i >= 0 else 1


def _token_line(f, line: int, token: str) -> int:
    """The line of ``token`` in a field that starts at ``line`` and may go on for a few lines."""
    for ln in range(line, min(line + 20, f.positions.line_count()) + 1):
        if token in f.positions.line_text(ln):
            return ln
    return line


@rule(
    "unknown-dependency",
    severity="error",
    group="project",
    scope="project",
    kinds=("migration",),
    summary="A -- Depends-On: header names a version that does not exist or comes later.",
)
def check(project, ctx):
    for group in project.groups.values():
        versions: dict[str, object] = {}
        for m in group.migrations:
            if m.version is not None:
                versions.setdefault(m.version, m)
        for f in group.migrations:
            # (whether it may declare one is memoised on its bytes and kept in the cache's pack: a
            # run after one edit reads the text of none of the other files that do not)
            if not project.is_reported(f) or not summaries.summary(f, "may-depend", _may_depend) or f.read_problem:
                continue
            found = next((x for x in (hdr.find(f.header, n) for n in FIELDS) if x), None)
            if found is None:
                continue
            key, value, line = found
            deps = [(f"{m.group(1)}_{m.group(2)}", m.group(0)) for m in _VERSION.finditer(value)]
            if not deps:
                if value.strip() and not _NOTHING.match(value.strip()):
                    yield f.hit(
                        f"the {key.title()} header field names no migration version: `{value}`",
                        "List the versions this migration needs, e.g. `-- Depends-On: 20251022_001, 20251023_002` "
                        "(or `none`).",
                        line=line,
                        column=hdr.name_column(f.positions, line, key),
                    )
                continue
            seen = set()
            for version, token in deps:
                if version in seen:
                    continue
                seen.add(version)
                ln = _token_line(f, line, token)
                col = _column(f, ln, token)
                where = f.mdir.name + "/"
                if f.version is not None and version == f.version:
                    yield f.hit(
                        f"this migration lists its own version {version} in Depends-On",
                        "Remove it: Depends-On names the earlier migrations this one needs.",
                        line=ln,
                        column=col,
                    )
                elif version not in versions:
                    yield f.hit(
                        f"Depends-On names {version}, but no migration with that version exists in {where}",
                        "Fix the version (check the file name of the migration this one needs), "
                        "or add that migration first.",
                        line=ln,
                        column=col,
                    )
                elif f.version is not None and _order(version) > _order(f.version):
                    dep = versions[version]
                    yield f.hit(
                        f"Depends-On names {version} ({dep.name}), which comes after this migration ({f.version}) "
                        "and so runs later",
                        "A migration can only depend on earlier ones: give this migration a later version "
                        "(rename the file with a later date and sequence number), or remove the dependency.",
                        line=ln,
                        column=col,
                    )
