"""Shared by file-naming, duplicate-version, sequence-order and sequence-gap: reading a file name
leniently (to say what is wrong with it), real dates, and the next free version of a directory."""

from __future__ import annotations

import datetime
import re
import unicodedata
import weakref
from pathlib import Path

from .. import config as config_mod
from .. import layout
from ..model import Record

SHAPE = "YYYYMMDD_NNN_description.sql"
SEPS = "-_. "
_SEP_NAMES = {"-": "`-`", ".": "`.`", " ": "a space", "_": "`_`"}
# Descriptions that say nothing about the change (the guidelines' "fix_bug.sql: ambiguous").
VAGUE = frozenset(
    {
        "migration",
        "migrations",
        "fix",
        "fixes",
        "fix_bug",
        "bug_fix",
        "bugfix",
        "hotfix",
        "patch",
        "update",
        "updates",
        "change",
        "changes",
        "misc",
        "temp",
        "tmp",
        "test",
        "new",
        "wip",
        "stuff",
        "schema",
        "db",
        "sql",
        "script",
        "init",
        "up",
        "down",
    }
)


# --- dates -----------------------------------------------------------------------------


def date_problem(d: str) -> str | None:
    """Why the 8 ASCII digits ``d`` (YYYYMMDD) are not a real date, or None."""
    y, m, dd = int(d[:4]), int(d[4:6]), int(d[6:8])
    if y < 1:
        return "year 0000 does not exist"
    if not 1 <= m <= 12:
        return f"there is no month {d[4:6]}"
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    last = 29 if m == 2 and leap else _MONTH_DAYS[m - 1]
    if not 1 <= dd <= last:
        return f"{_MONTH_NAMES[m - 1]} {y} has no day {d[6:8]}"
    return None


# (calendar's monthrange and month_name, without importing calendar: a one-file check imports it
# for these alone, issue 22; month_name is the C locale's, which migcheck never changes)
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def swapped(d: str) -> str | None:
    """YYYYDDMM read the other way round, when that is a real date."""
    alt = d[:4] + d[6:8] + d[4:6]
    return alt if alt != d and date_problem(alt) is None else None


def date_digits(raw: str | None) -> str | None:
    """The 8-digit YYYYMMDD of a configured ``date`` group (separators dropped), when it has one."""
    if raw is None:
        return None
    digits = "".join(c for c in raw if c.isdigit())
    return digits[:8] if len(digits) >= 8 and digits.isascii() else None


def well_named(m) -> bool:
    """A migration whose name gave a version in ASCII digits with a real date (when the configured
    date has the 8 digits of one)."""
    if m.version is None or not m.version.isascii():
        return False
    d = date_digits(m.date)
    return d is None or date_problem(d) is None


def today() -> str:
    return datetime.date.today().strftime("%Y%m%d")


# --- reading a name leniently ----------------------------------------------------------


class Reading(Record):
    """What a file name holds, read the forgiving way, and what is wrong with it."""

    __slots__ = ("date", "seq", "seq_raw", "desc_raw", "desc", "ext_problem", "problems", "desc_problems", "__dict__")

    def __init__(
        self,
        date: str | None = None,
        seq: int | None = None,
        seq_raw: str | None = None,
        desc_raw: str = "",
        desc: str = "",
        ext_problem: str | None = None,
        problems: list[str] | None = None,
        desc_problems: list[str] | None = None,
    ):
        self.date = date  # 8 ASCII digits that are a real date
        self.seq = seq
        self.seq_raw = seq_raw
        self.desc_raw = desc_raw  # what follows the sequence number (or date), separators trimmed
        self.desc = desc  # desc_raw made valid: lowercase a-z0-9_
        self.ext_problem = ext_problem
        self.problems = [] if problems is None else problems  # about date, sequence, separators
        self.desc_problems = [] if desc_problems is None else desc_problems


_DATE_SEP = re.compile(r"^(\d{4})([-./_ ])(\d{1,2})\2(\d{1,2})(?!\d)", re.A)
_DATE_INSIDE = re.compile(r"(?<!\d)(\d{8}|\d{4}-\d{2}-\d{2})(?!\d)", re.A)


def _ascii_digits(s: str) -> tuple[str, bool]:
    out, changed = [], False
    for c in s:
        if c.isdigit() and not c.isascii():
            try:
                out.append(str(unicodedata.digit(c)))
                changed = True
                continue
            except (TypeError, ValueError):
                pass
        out.append(c)
    return "".join(out), changed


def normalise_description(raw: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", raw)  # camelCase -> camel_Case
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = re.sub(r"[^a-z0-9]+", "_", s)
    return re.sub(r"_+", "_", s).strip("_")


def split_extension(name: str) -> tuple[str, str | None]:
    """(stem, problem with the extension or None)."""
    if name.endswith(".sql"):
        return name[:-4], None
    if name.lower().endswith(".sql"):
        return name[:-4], f"the extension `{name[-4:]}` is not lowercase `.sql`"
    i = name.rfind(".")
    if i > 0:
        stem, ext = name[:i], name[i:]
        if stem.lower().endswith(".sql"):
            stem = stem[:-4]
        return stem, f"the extension is `{ext}`, not `.sql`"
    return name, "there is no `.sql` extension"


_LEAD = re.compile(rf"[{SEPS}]*")


def _lead(rest: str) -> str:
    """The separators ``rest`` starts with (maybe none)."""
    m = _LEAD.match(rest)
    return m.group(0) if m else ""


def _sep_problem(sep: str, between: str) -> str | None:
    if sep == "_":
        return None
    if sep == "":
        return f"no `_` between {between}"
    if sep in _SEP_NAMES:
        return f"{_SEP_NAMES[sep]} instead of `_` between {between}"
    return f"`{sep}` instead of a single `_` between {between}"


def read_stem(stem: str) -> Reading:
    """Read ``YYYYMMDD_NNN_description`` (without extension) as well as it can be read."""
    r = Reading()
    stem, non_ascii = _ascii_digits(stem)
    if non_ascii:
        r.problems.append("it uses digits that are not ASCII 0-9")
    rest = stem
    m = _DATE_SEP.match(stem)
    digits = re.match(r"[0-9]+", stem)
    have_date = False
    if m:
        y, mo, d = m.group(1), m.group(3), m.group(4)
        cand = f"{y}{int(mo):02d}{int(d):02d}"
        why = date_problem(cand)
        if why is None:
            r.date = cand
            r.problems.append(f"the date `{m.group(0)}` is not in YYYYMMDD form (write `{cand}`)")
        else:
            r.problems.append(f"the date `{m.group(0)}` is not in YYYYMMDD form and not a real date ({why})")
        rest, have_date = stem[m.end() :], True
    elif digits:
        run = digits.group(0)
        rest = stem[len(run) :]
        head_ok = len(run) >= 8 and date_problem(run[:8]) is None
        if len(run) == 8:
            have_date = True
            why = date_problem(run)
            if why is None:
                r.date = run
            else:
                alt = swapped(run)
                hint = f"; did you mean `{alt}`?" if alt else ""
                r.problems.append(f"`{run}` is not a real date ({why}{hint})")
                r.date = alt
        elif head_ok and len(run) in (12, 14):
            have_date = True
            r.date = run[:8]
            r.problems.append(
                f"`{run}` is a timestamp: the name needs the date `{run[:8]}`, then `_` and a 3-digit sequence number"
            )
            r.seq_raw = ""  # reported here already
        elif head_ok:
            have_date = True
            r.date = run[:8]
            r.seq_raw = run[8:]
            r.seq = int(r.seq_raw)
            r.problems.append(f"no `_` between the date `{run[:8]}` and the sequence number `{r.seq_raw}`")
        elif len(run) < 8:
            r.problems.append(f"there is no date: the name starts with the number `{run}`, not with a YYYYMMDD date")
            r.seq_raw = run
            r.seq = int(run)
        else:
            have_date = True
            r.problems.append(f"`{run}` is not a YYYYMMDD date")
    else:
        inside = _DATE_INSIDE.search(stem)
        found = None
        if inside:
            cand = inside.group(1).replace("-", "")
            if date_problem(cand) is None:
                found = cand
        if found and inside:
            r.date = found
            r.problems.append(f"the date `{inside.group(1)}` must come first, and there is no sequence number")
            rest = stem[: inside.start()] + "_" + stem[inside.end() :]
        else:
            r.problems.append("there is no date and no sequence number")
        r.seq_raw = ""
    # sequence number after the date
    if r.seq_raw is None:
        sm = re.match(rf"([{SEPS}]*)([0-9]+)(?=[{SEPS}]|$)", rest)
        if sm:
            sep_p = _sep_problem(sm.group(1), "the date and the sequence number")
            if sep_p:
                r.problems.append(sep_p)
            r.seq_raw, r.seq = sm.group(2), int(sm.group(2))
            rest = rest[sm.end() :]
        else:
            r.problems.append("the sequence number is missing: the date must be followed by `_NNN` (3 digits)")
            lead = _lead(rest)
            if have_date and lead != "_" and rest[len(lead) :]:
                p = _sep_problem(lead, "the date and the description")
                if p:
                    r.problems.append(p)
            rest = rest[len(lead) :]
            r.seq_raw = ""
    if r.seq_raw and r.seq is not None:
        if len(r.seq_raw) != 3:
            if r.seq < 1000:
                r.problems.append(
                    f"the sequence number `{r.seq_raw}` has {len(r.seq_raw)} digit{'s' if len(r.seq_raw) != 1 else ''}, not 3 (write `{r.seq:03d}`)"
                )
            else:
                r.problems.append(f"the sequence number `{r.seq_raw}` does not fit in 3 digits")
        lead = _lead(rest)
        if rest[len(lead) :]:
            p = _sep_problem(lead, "the sequence number and the description")
            if p:
                r.problems.append(p)
        rest = rest[len(lead) :]
    # description
    r.desc_raw = rest
    r.desc = normalise_description(rest)
    if not rest.strip(SEPS):
        r.desc_problems.append("there is no description")
    else:
        bad = []
        if any(c.isupper() for c in rest):
            bad.append("uppercase letters")
        if "-" in rest:
            bad.append("dashes")
        if any(c.isspace() for c in rest):
            bad.append("spaces")
        others = sorted(
            {
                c
                for c in rest
                if not (c.isascii() and (c.islower() or c.isdigit()))
                and c not in "_-"
                and not c.isspace()
                and not c.isupper()
            }
        )
        if others:
            bad.append("the character" + ("s " if len(others) > 1 else " ") + " ".join(f"`{c}`" for c in others))
        if bad:
            r.desc_problems.append(f"the description `{rest}` has {_and(bad)} (only lowercase a-z, 0-9 and `_`)")
    return r


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def is_default(config) -> bool:
    return config.naming.pattern == config_mod.DEFAULT_NAMING


# --- versions of a directory -----------------------------------------------------------


class Versioned:
    """A migration with the version its name gives: the engine's (a name that matches `naming`),
    or, for a name whose only fault is its description or extension (`20251027_006_Add-Score.sql`),
    the clear version it starts with. Stands in for the file in the project rules."""

    def __init__(self, f, date: str, seq_text: str, description: str):
        self.file, self.path, self.name = f, f.path, f.name
        self.date, self.seq, self.description = date, int(seq_text), description
        self.version = f"{date}_{seq_text}"

    @classmethod
    def runner(cls, f):
        """A migration of a runner preset: its version as the runner reads it (``seq`` its number,
        None when it is not one: a sqitch change name, a dotted Flyway version)."""
        v = cls.__new__(cls)
        v.file, v.path, v.name = f, f.path, f.name
        v.date, v.seq, v.description, v.version = None, f.seq, f.description or "", f.version
        return v

    def hit(self, *args, **kw):
        return self.file.hit(*args, **kw)


def entries(group, config) -> list[Versioned]:
    """The group's migrations that have a clear version, in path order."""
    if layout.is_preset(config):
        return [Versioned.runner(m) for m in group.migrations if m.version is not None]
    out = []
    for m in group.migrations:
        if well_named(m):
            out.append(Versioned(m, m.date, m.version.rsplit("_", 1)[-1], m.description or ""))
        elif m.version is None and is_default(config):
            stem, _ = split_extension(m.name)
            r = read_stem(stem)
            if not r.problems and r.date and r.seq_raw and len(r.seq_raw) == 3:
                out.append(Versioned(m, r.date, r.seq_raw, r.desc))
    return out


def date_key(f) -> str:
    """What orders a migration's date: its 8 digits when it has them, else the raw text."""
    return date_digits(f.date) or (f.date or "")


def versioned(group, config) -> list[Versioned]:
    """``entries`` in version order. A name without a clear version (no date, an impossible date,
    a malformed number) is file-naming's business and orders nothing."""
    found = [m for m in entries(group, config) if m.seq is not None]
    return sorted(found, key=lambda m: (date_key(m), m.seq, m.name))


def fmt_seq(n: int, width: int = 3) -> str:
    return f"{n:0{width}d}"


def render(config, date: str, seq: int, desc: str, like=None) -> str | None:
    """A name for (date, seq, desc) that matches the configured naming, or None."""
    desc = desc or "describe_the_change"
    widths = [3, 4, 2, 5, 6, 1]
    if like is not None and like.seq is not None and like.version:
        raw_seq = like.version.rsplit("_", 1)[-1]
        widths.insert(0, len(raw_seq))
    dates = [date, f"{date[:4]}-{date[4:6]}-{date[6:]}", f"{date[:4]}_{date[4:6]}_{date[6:]}"]
    for w in widths:
        if len(str(seq)) > w:
            continue
        for d in dates:
            for sep in ("_", "-"):
                cand = f"{d}{sep}{seq:0{w}d}{sep}{desc}.sql"
                if config.naming.fullmatch(cand):
                    return cand
    return None


class Numbering:
    """Taken versions of one migration directory and the next free ones."""

    def __init__(self, group, config, exclude=frozenset()):
        self.config = config
        self.per_day = config.sequence == "per-day"
        self.taken: set = set()  # global: seq; per-day: (date, seq)
        self.items: list[tuple[str, int]] = []  # (date8, seq) of every versioned migration
        starts: dict[str, int] = {}
        for m in entries(group, config):
            if m.path in exclude:
                continue
            d = date_digits(m.date) or ""
            self.reserve(d, m.seq)
            if d:
                starts[d] = min(starts.get(d, m.seq), m.seq)
        self.day_start = 0 if 0 in starts.values() else 1

    def reserve(self, date: str, seq: int) -> None:
        self.taken.add((date, seq) if self.per_day else seq)
        self.items.append((date, seq))

    def max_date(self) -> str | None:
        dates = [d for d, _ in self.items if d and date_problem(d) is None]
        return max(dates) if dates else None

    def fits(self, date: str, seq: int) -> bool:
        """Whether (date, seq) is free and, with a global sequence, in date order."""
        if ((date, seq) if self.per_day else seq) in self.taken:
            return False
        if self.per_day:
            return True
        for d, s in self.items:
            if d and ((d < date and s >= seq) or (d > date and s <= seq)):
                return False
        return True

    def next(self, date: str | None) -> tuple[str, int]:
        """The next free (date, seq): with a global sequence, after every migration (the date
        moves up to the newest one when it is older); per-day, the next number of that day."""
        if self.per_day:
            date = date or max(filter(None, [today(), self.max_date()]))
            used = [s for d, s in self.items if d == date]
            return date, (max(used) + 1 if used else self.day_start)
        newest = self.max_date()
        date = max(filter(None, [date or today(), newest]))
        seqs = [s for _, s in self.items]
        return date, (max(seqs) + 1 if seqs else 1)


class Suggestion(Record):
    """The name a misnamed migration should have, and why."""

    __slots__ = ("name", "note", "__dict__")

    def __init__(self, name: str | None, note: str = ""):
        self.name = name
        self.note = note


_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def plan(project, mdir: Path) -> dict[Path, Suggestion]:
    """New names for the misnamed and duplicate migrations of a directory, each with its own free
    version: a name whose version only needs a fix of form keeps it; the others take the next free
    numbers in path order, names with a date before those without one (dated today at the
    earliest). Computed once per project run."""
    per_project = _PLANS.setdefault(project, {})
    if mdir in per_project:
        return per_project[mdir]
    if layout.is_preset(project.config):  # a runner's names are not the guidelines' to suggest
        per_project[mdir] = {}
        return per_project[mdir]
    config = project.config
    group = project.groups[mdir]
    dups = duplicates(group, config)  # their number stays with the first file
    todo = []
    for m in group.migrations:
        if m.path in dups:
            v = dups[m.path][2]
            r = Reading(date=date_digits(v.date), seq=None, desc=v.description)
        elif well_named(m):
            continue
        elif m.version is None or is_default(config):
            r = read_stem(split_extension(m.name)[0])
        else:  # configured naming, a name that matches it, an impossible date
            r = Reading(date=swapped(date_digits(m.date) or "00000000"), seq=m.seq, desc=m.description or "")
        todo.append((m, r))
    num = Numbering(group, config, exclude={m.path for m, _ in todo})
    out: dict[Path, Suggestion] = {}
    rest = []
    # first the names that only need a fix of form and can keep their version
    for m, r in todo:
        if r.date and r.seq is not None and r.seq < 1000 and num.fits(r.date, r.seq):
            num.reserve(r.date, r.seq)
            out[m.path] = Suggestion(render(config, r.date, r.seq, r.desc, like=m if m.version else None))
        else:
            rest.append((m, r))
    # then the numbered names without a date: dated today (or the newest date) with their number
    later = []
    for m, r in rest:
        if r.date is None and r.seq is not None and r.seq < 1000:
            date = max(filter(None, [today(), num.max_date()]))
            if num.fits(date, r.seq):
                num.reserve(date, r.seq)
                out[m.path] = Suggestion(
                    render(config, date, r.seq, r.desc, like=m if m.version else None),
                    f" (dated {date}: use the date the migration was written if it is later)",
                )
                continue
        later.append((m, r))
    # the others take the next free numbers: dated names first, in path order, then the undated
    later.sort(key=lambda mr: mr[1].date is None)
    for m, r in later:
        d, s = num.next(r.date)
        if r.date is None:
            note = f" (dated {d}: use the date the migration was written if it is later)"
        elif d != r.date:
            note = f" (dated {d}, the newest date in the directory, so that the sequence stays in date order)"
        else:
            where = f"of {d}" if num.per_day else "in the directory"
            note = f" ({fmt_seq(s)} is the next free sequence number {where})"
        num.reserve(d, s)
        out[m.path] = Suggestion(render(config, d, s, r.desc, like=m if m.version else None), note)
    per_project[mdir] = out
    return out


def duplicates(group, config) -> dict[Path, tuple[Versioned, str, Versioned]]:
    """Each migration whose version (or, with a global sequence, sequence number) an earlier file
    in path order already has -> (that first one, "version" or "sequence", this one)."""
    first_version: dict = {}
    first_seq: dict = {}
    out = {}
    preset = layout.is_preset(config)  # a runner: the version is the key, there is no separate sequence
    for m in entries(group, config):  # path order within a directory
        vkey = (date_key(m), m.seq) if not preset else (m.seq if m.seq is not None else m.version)
        if vkey in first_version:
            out[m.path] = (first_version[vkey], "version", m)
        elif config.sequence == "global" and m.seq in first_seq and not preset:
            out[m.path] = (first_seq[m.seq], "sequence", m)
        first_version.setdefault(vkey, m)
        first_seq.setdefault(m.seq, m)
    return out


def rollback_regex(config):
    return layout.rollback_name_regex(config)
