"""Reporters turn an engine ``Result`` into text. They know nothing about individual rules.

Each reporter module is imported only when its format is asked for, so the check path stays lean.
"""

from __future__ import annotations

import importlib

FORMATS = ("text", "json", "sarif", "github", "gitlab", "markdown")


def _pieces(fmt: str, result, options: dict):
    """The report in pieces: a reporter defines ``chunks`` (yields the text piece by piece) or
    ``render`` (returns it whole)."""
    module = importlib.import_module(f"{__name__}.{fmt}_report")
    chunks = getattr(module, "chunks", None)
    return chunks(result, **options) if chunks is not None else (module.render(result, **options),)


def render(fmt: str, result, options: dict) -> str:
    return "".join(_pieces(fmt, result, options))


def write(fmt: str, result, options: dict, stream, size: int = 1 << 16) -> None:
    """Write the report to ``stream`` in pieces of about ``size`` characters: a large report is
    never held whole, twice (as a str, then as the bytes the stream encodes it to)."""
    buf: list[str] = []
    held = 0
    for piece in _pieces(fmt, result, options):
        buf.append(piece)
        held += len(piece)
        if held >= size:
            stream.write("".join(buf))
            buf.clear()
            held = 0
    stream.write("".join(buf))
