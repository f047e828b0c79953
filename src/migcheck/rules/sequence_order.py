from itertools import groupby

from ..analysis import naming as nm
from ..registry import rule


@rule(
    "sequence-order",
    severity="error",
    group="project",
    scope="project",
    kinds=("migration",),
    summary="A sequence number is not greater than the one of an earlier-dated migration.",
)
def check(project, ctx):
    config = ctx.config
    if config.sequence != "global":
        return  # per-day numbers restart every day: nothing to order across days
    for mdir, group in project.groups.items():
        dups = nm.duplicates(group, config)
        ordered = nm.versioned(group, config)
        highest = None  # the earlier-dated migration with the highest number so far
        for _, day in groupby(ordered, key=nm.date_key):
            same_day = list(day)
            for m in same_day:
                # a number reused from another date is duplicate-version only
                if highest is not None and m.seq < highest.seq and m.path not in dups:
                    yield m.hit(*_finding(project, mdir, m, highest))
            for m in same_day:
                if highest is None or m.seq > highest.seq:
                    highest = m


def _finding(project, mdir, m, earlier):
    seq = m.version.rsplit("_", 1)[-1]
    eseq = earlier.version.rsplit("_", 1)[-1]
    message = (
        f"`{m.name}` has the sequence number {seq}, lower than {eseq} of the earlier-dated "
        f"`{earlier.name}`: the sequence and the dates disagree on which runs first"
    )
    num = nm.Numbering(project.groups[mdir], project.config)
    date, s = num.next(nm.date_digits(m.date))
    new = nm.render(project.config, date, s, m.description or "", like=m)
    if new:
        help = (
            f"If `{m.name}` is new, rename it to `{new}`; if the number of `{earlier.name}` is the mistake, "
            "renumber that one instead (and the rollback file with it)."
        )
    else:
        help = (
            f"Give `{m.name}` a number above {eseq} if it is new; if the number of `{earlier.name}` is the "
            "mistake, renumber that one instead (and the rollback file with it)."
        )
    return message, help
