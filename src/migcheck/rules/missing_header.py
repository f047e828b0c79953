from ..analysis import header as hdr
from ..registry import rule


@rule(
    "missing-header",
    severity="error",
    group="convention",
    kinds=("migration",),
    summary="The header block or one of its fields (MIGRATION, Purpose, Impact, Rollback, Testing) is missing.",
)
def check(f, ctx):
    required = ctx.config.header
    if not required:
        return
    h = f.header
    missing = [name for name in required if hdr.find(h, name) is None]
    if not missing:
        return
    if len(missing) == len(required):
        late = hdr.late_header(f, required)
        if late:
            message = (
                f"the header block must come before the first statement (line {f.statements[0].line}); "
                f"the one at line {late} is not read as the header"
            )
            help = "Move the header comment block to the top of the file, above the first statement (and above BEGIN)."
        else:
            where = " before its first statement" if f.statements else ""
            message = f"the file has no header block ({', '.join(required)}){where}"
            help = "Start the file with the guidelines' header and fill in every field:\n" + hdr.skeleton(
                required, indent="    "
            )
        yield f.hit(message, help, line=1, column=1)
        return
    fields = ", ".join(missing)
    noun = "field" if len(missing) == 1 else "fields"
    lines = "\n".join(f"    -- {name}: {hdr.placeholder(name)}" for name in missing)
    yield f.hit(
        f"the header block lacks the {fields} {noun}",
        f"Add the missing {noun} to the header, before the first statement, and fill {'it' if len(missing) == 1 else 'them'} in:\n{lines}",
        line=1,
        column=1,
    )
