import re

from ..analysis import header as hdr
from ..registry import rule


def _late_header(f, required):
    """The line of a header written after the first statement: the first of its comments naming
    a required field (``-- Purpose: ...``), when at least two of the fields (or the only one) are
    there; else None."""
    if not f.statements:
        return None
    start = f.statements[0].start
    # each pattern needs its field name in the text after the first statement: without enough of
    # them there, skip reading the comments (the scan of the whole file)
    rest = f.text[start:].lower()
    if all(n.isascii() for n in required) and sum(n.lower() in rest for n in required) < min(2, len(required)):
        return None
    patterns = [re.compile(r"^\s*(?:--+|/\*+)?[^\w\n]*" + re.escape(n) + r"\b[^:\n]{0,30}:", re.I | re.M)
                for n in required]
    seen: dict[int, int] = {}  # field index -> line
    for c in f.comments:
        if c.start <= start:
            continue
        for i, p in enumerate(patterns):
            m = p.search(c.text) if i not in seen else None
            if m:
                seen[i] = c.line + c.text.count("\n", 0, m.start())
    if len(seen) >= min(2, len(required)):
        return min(seen.values())
    return None


@rule("missing-header", severity="error", group="convention", kinds=("migration",),
      summary="The header block or one of its fields (MIGRATION, Purpose, Impact, Rollback, Testing) is missing.")
def check(f, ctx):
    required = ctx.config.header
    if not required:
        return
    h = f.header
    missing = [name for name in required if hdr.find(h, name) is None]
    if not missing:
        return
    if len(missing) == len(required):
        late = _late_header(f, required)
        if late:
            message = (f"the header block must come before the first statement (line {f.statements[0].line}); "
                       f"the one at line {late} is not read as the header")
            help = "Move the header comment block to the top of the file, above the first statement (and above BEGIN)."
        else:
            where = " before its first statement" if f.statements else ""
            message = f"the file has no header block ({', '.join(required)}){where}"
            help = ("Start the file with the guidelines' header and fill in every field:\n"
                    + hdr.skeleton(required, indent="    "))
        yield f.hit(message, help, line=1, column=1)
        return
    fields = ", ".join(missing)
    noun = "field" if len(missing) == 1 else "fields"
    lines = "\n".join(f"    -- {name}: {hdr.placeholder(name)}" for name in missing)
    yield f.hit(f"the header block lacks the {fields} {noun}",
                f"Add the missing {noun} to the header, before the first statement, and fill {'it' if len(missing) == 1 else 'them'} in:\n{lines}",
                line=1, column=1)
