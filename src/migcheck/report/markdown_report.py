"""``--format markdown``: one report a reviewer reads in a pull request comment (or a CI job summary).

Per migration: its statements with the lock each takes on which tables and whether it rewrites or
scans them (the static lock model, as ``migcheck locks`` prints it), the tables it touches,
whether its rollback is there and complete, and its findings (and its rollback's) grouped by
severity, each with its fix. Long tables and lists fold into ``<details>``. The report never
exceeds GitHub's comment limit (``LIMIT`` characters): what does not fit is counted in a closing
note. It starts with a hidden marker (``MARKER``) by which the GitHub Action finds its comment.

Duration estimates have their place here: ``estimate`` (an option, a callable of a statement and
its locks returning a short text or None) adds a column when it has something to say.

Rule metadata comes from the catalog only (severity, group); no rule is imported.
"""

from __future__ import annotations

import re

from ..model import SEVERITY_RANK

MARKER = "<!-- migcheck:report -->"
LIMIT = 65536  # GitHub: "body is too long (maximum is 65536 characters)"
FOLD = 10  # more rows or items than this fold into <details>
_NOTE_ROOM = 600  # kept free for the closing note when the report is cut
_ICON = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}
_TITLE = {"error": "Errors", "warning": "Warnings", "info": "Infos"}
# what would read as Markdown or HTML in a message: emphasis (``_`` only at a word's edge: GitHub
# never emphasises inside a word, so ``lock_timeout`` stays readable), links, tags, table cells
_SPECIAL = re.compile(r"([\\*\[\]<|~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def text(s: str) -> str:
    """Inline Markdown for a message: white space collapsed, `code spans` kept as they are,
    everything else escaped (an unpaired backtick too)."""
    parts = " ".join(s.split()).split("`")
    tail = parts.pop() if len(parts) % 2 == 0 else None  # an odd number of backticks: the last is literal
    out = "".join(f"`{p}`" if i % 2 else _SPECIAL.sub(r"\\\1", p) for i, p in enumerate(parts))
    return out if tail is None else out + "\\`" + _SPECIAL.sub(r"\\\1", tail)


def code(s: str) -> str:
    """A code span of ``s`` (one line) that is also safe in a table cell."""
    s = " ".join(s.split()).replace("|", "\\|")
    fence = "``" if "`" in s else "`"
    return f"{fence} {s} {fence}" if fence == "``" else f"`{s}`"


def _help(s: str) -> list[str]:
    """A finding's help as the lines of a list item's body: prose joined, the lines indented by
    four spaces (an example the text report indents) as a fenced block."""
    out: list[str] = []
    prose: list[str] = []
    block: list[str] = []

    def flush_prose():
        if prose:
            out.append(text(" ".join(prose)))
            prose.clear()

    def flush_block():
        if block:
            out.extend(["```sql", *block, "```"])
            block.clear()

    for line in s.splitlines():
        if line.startswith("    ") and line.strip():
            flush_prose()
            block.append(line[4:])
        else:
            flush_block()
            if line.strip():
                prose.append(line.strip())
    flush_prose()
    flush_block()
    if out:
        out[0] = f"**Fix:** {out[0]}"
    return out


def _details(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>"]


class _Section:
    """A migration (with its rollback's findings), or the files that belong to none."""

    def __init__(self, title: str, migration=None):
        self.title = title
        self.migration = migration
        self.rollback = None
        self.findings: list = []
        self.rows: list = []  # (statement, locks, new tables)

    def worst(self) -> str | None:
        return max((f.severity for f in self.findings), key=SEVERITY_RANK.__getitem__, default=None)

    def counts(self) -> str:
        by = {s: sum(f.severity == s for f in self.findings) for s in _TITLE}
        return ", ".join(_plural(n, s) for s, n in by.items() if n) or "none"


def _sections(result, config) -> tuple[list[_Section], _Section]:
    project = getattr(result, "project", None)
    sections: list[_Section] = []
    owner: dict[str, _Section] = {}
    for f in result.files:
        if f.kind != "migration" or f.display in owner:
            continue
        sec = _Section(f.display, f)
        owner[f.display] = sec
        sections.append(sec)
        if project is not None:
            r = project.rollback_of(f)
            if r is not None:
                sec.rollback = r
                owner.setdefault(r.display, sec)
        if config is None or getattr(config, "dialect", "postgres") == "postgres":
            if f.read_problem is None:
                from .locks_report import rows

                sec.rows = rows(f, getattr(config, "postgres_version", 15))
    other = _Section("Other files")
    for x in result.findings:
        if not x.suppressed:
            owner.get(x.path, other).findings.append(x)
    return sections, other


def _rollback(sec: _Section, config) -> str:
    mine = [f for f in sec.findings if not f.suppressed]
    if any(f.rule == "missing-rollback-file" for f in mine):
        return "**missing**"
    if sec.rollback is None:
        return "none found"
    from .. import registry

    catalog = registry.load()
    where = code(sec.rollback.display) if sec.rollback.display != sec.migration.display else "its down section"
    wrong = sorted(
        {
            f.rule
            for f in mine
            if f.rule in catalog
            and catalog[f.rule].group == "rollback"
            and SEVERITY_RANK[f.severity] >= SEVERITY_RANK["warning"]
        }
    )
    if wrong:
        return f"{where}, **incomplete** ({', '.join(code(r) for r in wrong)})"
    enabled = config.enabled_rules() if config is not None else {}
    if "rollback-incomplete" in enabled:
        return f"{where}, complete"
    return f"{where} (completeness not checked: `rollback-incomplete` is off)"


def _tables(sec: _Section) -> list[str]:
    from ..analysis import pg

    names: list[str] = []
    for st, locks, _ in sec.rows:
        key = pg.create_key(st)
        found = [lk.relation for lk in locks] + ([key[1]] if key and key[0] == "table" and key[1] else [])
        for name in found:
            if name not in names:
                names.append(name)
    return names


def _statements(sec: _Section, estimate) -> list[str]:
    durations = [estimate(st, locks) if estimate else None for st, locks, _ in sec.rows]
    timed = any(durations)
    out = [
        "| line | statement | lock | rewrite / scan |" + (" estimate |" if timed else ""),
        "| ---: | --- | --- | --- |" + (" --- |" if timed else ""),
    ]
    for (st, locks, new), took in zip(sec.rows, durations):
        cells = []
        marks = set()
        for lk in locks:
            if lk.relation.rsplit(".", 1)[-1] in new:
                cells.append(f"{code(lk.relation)} (new table: nothing waits)")
                continue
            cells.append(f"**{lk.mode}** on {code(lk.relation)}: blocks {text(lk.blocks)}")
            marks.update(m for m, on in (("rewrite", lk.rewrite), ("scan", lk.scan)) if on)
        lock = "<br>".join(cells) or "no lock on an existing table"
        row = f"| {st.line} | {code(st.first_line(60))} | {lock} | {', '.join(sorted(marks))} |"
        if timed:
            row += f" {text(took or '')} |"
        out.append(row)
    return out


def _item(f, sec: _Section) -> list[str]:
    where = (
        f"line {f.line}"
        if sec.migration is not None and f.path == sec.migration.display
        else f"{code(f.path)} line {f.line}"
    )
    lines = [f"- {code(f.rule)} {where}: {text(f.message)}"]
    lines.extend("  " + ln for ln in _help(f.help))
    return lines


def _findings(sec: _Section) -> list[str]:
    out: list[str] = []
    for sev in _TITLE:
        items = [f for f in sec.findings if f.severity == sev]
        if not items:
            continue
        body = [ln for f in items for ln in _item(f, sec)]
        title = f"{_ICON[sev]} {_plural(len(items), sev)}"
        out.extend(_details(title, body) if len(items) > FOLD else [f"**{title}**", "", *body])
        out.append("")
    return out


def _heading(sec: _Section) -> str:
    icon = _ICON.get(sec.worst() or "", "✅")
    return f"### {icon} {code(sec.title) if sec.migration is not None else sec.title}"


def _render_section(sec: _Section, config, estimate) -> list[str]:
    out = [_heading(sec), ""]
    if sec.migration is not None:
        tables = _tables(sec)
        out.append(f"**Rollback:** {_rollback(sec, config)}  ")
        out.append(f"**Tables:** {', '.join(code(t) for t in tables) if tables else 'none'}")
        out.append("")
        if sec.rows:
            table = _statements(sec, estimate)
            out.extend(_details(_plural(len(sec.rows), "statement"), table) if len(sec.rows) > FOLD else table)
            out.append("")
    out.extend(_findings(sec) or ["No findings.", ""])
    return out


def _title(result, sections: list[_Section]) -> list[str]:
    s = result.summary()
    head = (
        f"## migcheck: {_plural(s['errors'], 'error')}, {_plural(s['warnings'], 'warning')} in "
        f"{_plural(len(sections), 'migration')}"
    )
    extra = [
        x
        for x in (
            s["infos"] and _plural(s["infos"], "info"),
            s["suppressed"] and f"{s['suppressed']} suppressed",
            s.get("baselined") and f"{s['baselined']} baselined",
        )
        if x
    ]
    lines = [MARKER, head + (f" ({', '.join(extra)})" if extra else ""), ""]
    if not result.files:
        lines += ["No migration file was checked.", ""]
    return lines


def _size(lines: list[str]) -> int:
    return sum(len(x) + 1 for x in lines)


def _overview(sections: list[_Section], config, room: int) -> list[str]:
    """A row per migration, in report order, as many as ``room`` characters hold."""
    rows = ["| | migration | statements | rollback | findings |", "| --- | --- | ---: | --- | --- |"]
    used = _size(rows) + 100  # (and the <details> around it)
    for n, sec in enumerate(sections):
        row = (
            f"| {_ICON.get(sec.worst() or '', '✅')} | {code(sec.title)} | {len(sec.rows)} | "
            f"{_rollback(sec, config)} | {sec.counts()} |"
        )
        if used + len(row) + 1 > room:
            rows.append(f"| | and {_plural(len(sections) - n, 'more migration')} | | | |")
            break
        rows.append(row)
        used += len(row) + 1
    return (_details(f"{len(sections)} migrations", rows) if len(sections) > FOLD else rows) + [""]


def _production(result):
    """With a production snapshot (docs/stats.md): the ``estimate`` of each statement's locks, and
    the line that says which snapshot and rates were used."""
    risk = getattr(result, "risk", None)
    if risk is None:
        return None, []
    from ..analysis.risk import lock_context

    def estimate(st, locks) -> str | None:
        views = [risk.view(*lock_context(st, lk, False)) for lk in locks]
        return "; ".join(f"{v.lock_text} ({v.rates_label})" for v in views if v.lock_text) or None

    return estimate, [f"_{text(risk.note())}_", ""]


def render(result, config=None, estimate=None, limit: int = LIMIT, **_) -> str:
    sections, other = _sections(result, config)
    out: list[str] = _title(result, sections)
    production, note = _production(result)
    estimate = estimate or production
    out += note
    size = sum(len(x) + 1 for x in out)
    shown_findings = 0
    cut_at = None
    # what a reviewer must see first: the migrations with errors, then warnings, then infos, then
    # the clean ones (each group in path order); the files that belong to none with their peers
    parts = sections + ([other] if other.findings else [])
    parts.sort(key=lambda sec: -SEVERITY_RANK[sec.worst()] if sec.worst() else 1)
    if len(sections) > 1:  # (a quarter of the room at most: the findings come below it)
        out += _overview([sec for sec in parts if sec.migration is not None], config, limit // 4)
        size = _size(out)
    for i, sec in enumerate(parts):
        lines = _render_section(sec, config, estimate)
        need = sum(len(x) + 1 for x in lines)
        if size + need <= limit - _NOTE_ROOM:
            out += lines
            size += need
            shown_findings += len(sec.findings)
            continue
        # what fits of this one: its heading and as many findings as there is room for
        part = [_heading(sec), ""]
        size += sum(len(x) + 1 for x in part)
        out += part
        for f in sorted(sec.findings, key=lambda f: -SEVERITY_RANK[f.severity]):
            item = _item(f, sec)
            need = sum(len(x) + 1 for x in item)
            if size + need > limit - _NOTE_ROOM:
                break
            out += item
            size += need
            shown_findings += 1
        out.append("")
        cut_at = i
        break
    if cut_at is not None:
        total = sum(len(sec.findings) for sec in parts)
        out += [
            "---",
            "",
            f"**The report is cut here**, at GitHub's limit of {limit:,} characters for a comment: "
            f"{total - shown_findings} of {_plural(total, 'finding')} and {len(parts) - cut_at} of "
            f"{_plural(len(parts), 'file')} are left out or shown in part. Run `migcheck check` for all of them.",
            "",
        ]
    body = "\n".join(out).rstrip("\n") + "\n"
    return body
