from ..analysis import naming as nm
from ..registry import rule


@rule(
    "sequence-gap",
    severity="warning",
    group="project",
    scope="project",
    kinds=("migration",),
    summary="A sequence number is skipped.",
)
def check(project, ctx):
    config = ctx.config
    for group in project.groups.values():
        ordered = nm.versioned(group, config)
        if not ordered:
            continue
        last = ordered[-1]
        if config.sequence == "global":
            yield from _gaps(ordered, last, config, None)
        else:
            days: dict[str, list] = {}
            for m in ordered:
                days.setdefault(nm.date_key(m), []).append(m)
            start = 0 if any(ms[0].seq == 0 for ms in days.values()) else 1
            for i, (_day, ms) in enumerate(days.items()):
                yield from _gaps(ms, last, config, None if i == 0 else start, day=ms[0].date)


def _first_with(ms, seq):
    return next(m for m in ms if m.seq == seq)


def _gaps(ms, last, config, start, day=None):
    """Skipped numbers among ``ms`` (by number); ``start``: the number the first one should have
    (None: any, the first migration of the directory may start anywhere)."""
    nums = sorted({m.seq for m in ms})
    width = len(ms[0].version.rsplit("_", 1)[-1])
    fmt = lambda n: f"{n:0{width}d}"  # noqa: E731
    if start is not None and nums[0] > 1:
        m = _first_with(ms, nums[0])
        yield m.hit(
            f"`{m.name}` is the first migration of {day} but has the number {fmt(nums[0])}: "
            f"each day's numbers start at {fmt(0)} or {fmt(1)}",
            _help(m, last, config, start),
        )
    for a, b in zip(nums, nums[1:]):
        if b > a + 1:
            m = _first_with(ms, b)
            prev = _first_with(ms, a)
            where = f"of {day}" if day else "in the directory"
            yield m.hit(
                f"{_range(fmt, a + 1, b - 1)} skipped: `{m.name}` follows `{prev.name}`, the previous number {where}",
                _help(m, last, config, a + 1),
            )


def _range(fmt, lo, hi):
    if lo == hi:
        return f"sequence number {fmt(lo)} is"
    if hi == lo + 1:
        return f"sequence numbers {fmt(lo)} and {fmt(hi)} are"
    return f"sequence numbers {fmt(lo)} to {fmt(hi)} are"


def _help(m, last, config, want):
    text = "Look for a migration file that was lost or not merged yet."
    new = (
        nm.render(config, nm.date_digits(m.date) or "", want, m.description or "", like=m)
        if m is last and nm.date_digits(m.date)
        else None
    )
    if new:
        text += f" If `{m.name}` is new and nothing is missing, rename it to `{new}`."
    return text + " If the numbers were skipped on purpose: `-- migcheck: ignore-file sequence-gap -- <why>`."
