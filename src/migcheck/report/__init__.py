"""Reporters turn an engine ``Result`` into text. They know nothing about individual rules.

Each reporter module is imported only when its format is asked for, so the check path stays lean.
"""

from __future__ import annotations

import codecs
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
    machine = _machine(fmt, options)
    for piece in _pieces(fmt, result, options):
        buf.append(piece)
        held += len(piece)
        if held >= size:
            stream.write(fit("".join(buf), stream, machine))
            buf.clear()
            held = 0
    stream.write(fit("".join(buf), stream, machine))


# --- what any stream can take ----------------------------------------------------------------
# A file name with a byte that is not UTF-8 reaches the reports as a lone surrogate (Python's
# surrogateescape); a stdout that is not UTF-8 (a Windows console, PYTHONIOENCODING=cp1252)
# cannot encode an emoji in a table name. Neither may crash a report or make its JSON invalid:
# such a byte is shown as `\xNN`, and a character the stream cannot encode as `\uXXXX` (in
# JSON, where that is the character itself) or `\U0001f600` (in text).


def _machine(fmt: str, options: dict) -> bool:
    return fmt in ("json", "sarif", "gitlab") or options.get("fmt") == "json"


def _json_escape(exc: UnicodeEncodeError):
    out = []
    for ch in exc.object[exc.start : exc.end]:
        o = ord(ch)
        if o > 0xFFFF:  # a surrogate pair, as JSON spells a character outside the BMP
            o -= 0x10000
            out.append(f"\\u{0xD800 + (o >> 10):04x}\\u{0xDC00 + (o & 0x3FF):04x}")
        else:
            out.append(f"\\u{o:04x}")
    return "".join(out), exc.end


codecs.register_error("migcheck-json", _json_escape)


def _no_surrogates(text: str, machine: bool) -> str:
    out = []
    for ch in text:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:  # an undecodable byte of a file name
            out.append(("\\\\x" if machine else "\\x") + f"{o - 0xDC00:02x}")
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def fit(text: str, stream, machine: bool) -> str:
    """``text`` as ``stream`` can take it (see above); ``machine``: the text is JSON."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = _no_surrogates(text, machine)
        encoding = getattr(stream, "encoding", None)
        if encoding:
            try:
                name = codecs.lookup(encoding).name
            except LookupError:
                name = "utf-8"
            if name != "utf-8":
                text = text.encode(encoding, "migcheck-json" if machine else "backslashreplace").decode(encoding)
    return text
