"""Rule documentation: ``rules/<id>.md``, shipped in the wheel as ``migcheck/_docs/<id>.md``."""

from __future__ import annotations

import re
from pathlib import Path

HEADINGS = ("What it does", "Why is this bad?", "Example", "Use instead")


def doc_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent
    return [here / "_docs", here.parent.parent / "rules"]


def doc_path(rule_id: str) -> Path | None:
    for d in doc_dirs():
        p = d / f"{rule_id}.md"
        if p.is_file():
            return p
    return None


def read(rule_id: str) -> str | None:
    p = doc_path(rule_id)
    return p.read_text(encoding="utf-8") if p else None


def sections(text: str) -> dict[str, str]:
    """``## Heading`` -> body text."""
    out: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^##\s+(.*?)\s*$", line)
        if m:
            current = m.group(1)
            out[current] = ""
        elif current is not None:
            out[current] += line + "\n"
    return out


def sql_blocks(body: str) -> list[str]:
    return re.findall(r"```sql\n(.*?)```", body, re.S)


def use_instead(rule_id: str) -> str | None:
    text = read(rule_id)
    if not text:
        return None
    blocks = sql_blocks(sections(text).get("Use instead", ""))
    return blocks[0] if blocks else None
