"""Materialise fixture text (tests/fixtures/README.md) into a temporary project and check it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from migcheck import config as config_mod
from migcheck import engine

DEFAULT_FILE = "migrations/20250101_001_fixture.sql"
_FILE = re.compile(rb"^--[ \t]*file:[ \t]*(\S+)(?:[ \t]*\((empty|latin-1|utf-16|bom|crlf)\))?[ \t]*\r?$", re.M)
_EXPECT = re.compile(rb"--[ \t]*expect(-suppressed)?(?:@(\d+))?:[ \t]*([a-z0-9, \t-]+?)[ \t]*(?=\r?$)", re.M)
_CONFIG = re.compile(rb"^--[ \t]*config:[ \t]*(.*?)\r?$", re.M)
_CHECK = re.compile(rb"^--[ \t]*check:[ \t]*(.*?)\r?$", re.M)


@dataclass
class Case:
    files: dict[str, bytes] = field(default_factory=dict)
    expected: set[tuple[str, int, str, bool]] = field(default_factory=set)
    config_lines: list[str] = field(default_factory=list)
    paths: list[str] | None = None  # ``-- check:``: the paths given to ``migcheck check``


def parse_case(data: bytes) -> Case:
    case = Case()
    case.config_lines = [m.group(1).decode() for m in _CONFIG.finditer(data)]
    first_file = _FILE.search(data)
    checks = [m for m in _CHECK.finditer(data) if first_file is None or m.start() < first_file.start()]
    if checks:
        case.paths = [p for m in checks for p in m.group(1).decode().split()]
    data = _CONFIG.sub(lambda m: b"", data) if not _FILE.search(data) else data
    sections: list[tuple[str, bytes, str | None]] = []
    matches = list(_FILE.finditer(data))
    if not matches:
        sections.append((DEFAULT_FILE, data.lstrip(b"\r\n") if case.config_lines else data, None))
    else:
        for i, m in enumerate(matches):
            start = m.end() + 1 if data[m.end() : m.end() + 1] == b"\n" else m.end()
            end = matches[i + 1].start() if i + 1 < len(matches) else len(data)
            mode = m.group(2).decode() if m.group(2) else None
            body = b"" if mode == "empty" else data[start:end]
            sections.append((m.group(1).decode(), body, mode))
    for path, body, mode in sections:
        lines = body.split(b"\n")
        for i, line in enumerate(lines):
            for m in _EXPECT.finditer(line):
                target = int(m.group(2)) if m.group(2) else i + 1
                for rid in re.split(r"[\s,]+", m.group(3).decode().strip()):
                    if rid:
                        case.expected.add((path, target, rid, bool(m.group(1))))
            lines[i] = _EXPECT.sub(lambda m: b" " * len(m.group(0)), line)
        body = b"\n".join(lines)
        if mode == "crlf":
            body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        elif mode == "bom":
            body = b"\xef\xbb\xbf" + body
        elif mode == "latin-1":
            body = body.decode("utf-8").encode("latin-1")
        elif mode == "utf-16":
            body = body.decode("utf-8").encode("utf-16")
        case.files[path] = body
    return case


def materialise(case: Case, root: Path, default_select: list[str] | None) -> None:
    for rel, body in case.files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body)
    lines = list(case.config_lines)
    if default_select is not None and not any(l.strip().startswith("select") for l in lines):
        lines.append("select = [" + ", ".join(f'"{r}"' for r in default_select) + "]")
    if not any(l.strip().startswith("changelog") for l in lines):
        lines.append("changelog = false")
    (root / "migcheck.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_case(case: Case, root: Path, default_select: list[str] | None, paths: list[str] | None = None):
    materialise(case, root, default_select)
    cfg = config_mod.load(root / "migcheck.toml", cwd=root)
    # every top-level directory, and top-level .sql files (a root CHANGELOG.md is not a migration);
    # ``-- check:`` names the files instead (as pre-commit passes the staged ones)
    targets = (
        paths
        if paths is not None
        else case.paths
        if case.paths is not None
        else sorted({rel.split("/")[0] for rel in case.files if "/" in rel or rel.endswith(".sql")})
    )
    return engine.check(targets, cfg, cwd=root)


def actual(result) -> set[tuple[str, int, str, bool]]:
    return {(f.path, f.line, f.rule, f.suppressed) for f in result.findings}
