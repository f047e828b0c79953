from ..analysis import relations as rel
from ..model import Record
from ..registry import Deferred, rule


class Change(Record):
    """One group of related tables the migration changes."""

    __slots__ = ("first", "tables", "kinds", "lines", "sigs", "words", "__dict__")
    first: object  # its first statement
    tables: list[str]
    kinds: set[str]
    lines: list[int]
    sigs: set
    words: set[str]

    def __init__(
        self,
        first: object,
        tables: list[str] | None = None,
        kinds: set[str] | None = None,
        lines: list[int] | None = None,
        sigs: set | None = None,
        words: set[str] | None = None,
    ):
        self.first = first
        self.tables = [] if tables is None else tables
        self.kinds = set() if kinds is None else kinds
        self.lines = [] if lines is None else lines
        self.sigs = set() if sigs is None else sigs
        self.words = set() if words is None else words

    def describe(self) -> str:
        names = ", ".join(f"`{t}`" for t in self.tables[:3])
        if len(self.tables) > 3:
            names += f" and {len(self.tables) - 3} more"
        what = "the data of " if self.kinds == {"data"} else ""
        return f"{what}{names} ({_lines(self.lines)})"

    def absorb(self, other: "Change") -> None:
        for t in other.tables:
            if t not in self.tables:
                self.tables.append(t)
        self.kinds |= other.kinds
        self.lines += other.lines
        self.sigs |= other.sigs
        self.words |= other.words


def _lines(lines: list[int]) -> str:
    lines = sorted(set(lines))
    if len(lines) == 1:
        return f"line {lines[0]}"
    if len(lines) <= 3:
        return "lines " + ", ".join(map(str, lines))
    return f"lines {lines[0]}-{lines[-1]}"


def changes(f, ctx) -> list[Change]:
    """The migration's changes, grouped by relatedness, in the order they first appear.

    Tables are related when one statement names them both (a foreign key, a view's query, an
    UPDATE ... FROM), through a trigger and the function it runs, through a type or function
    the file defines, or by a foreign key another migration of the directory declared between them. Two
    groups are then still one change when they make the same change (the same signatures: an
    index on each, the same column added to each) or share a word in the names they give or
    change (`site.require_email_verification` and `email_verification`)."""
    stmts = _statements(f)
    if ctx.partial:  # a pool worker: decide from the file alone when the directory cannot matter
        return _without_directory(stmts)
    schema = rel.project_schema(ctx.project, f.mdir)
    return _grouped(stmts, rel.file_objects(stmts, schema.indexes), schema.fks)


def _statements(f) -> list:
    return [st for st in f.all_statements if st.kind != "DoStmt"]


class _Misses(dict):
    """The file's own indexes; remembers a lookup of an index the file does not define."""

    missed = False

    def get(self, key, default=None):
        if key and key not in self:
            self.missed = True
        return super().get(key, default)


def _own_objects(stmts) -> rel.FileObjects:
    """What the file defines, its index lookups watched (``_Misses``)."""
    fo = rel.file_objects(stmts)
    fo.indexes = _Misses(fo.indexes)
    return fo


def _without_directory(stmts) -> list[Change]:
    """The changes as the file alone shows them, when that is the answer: the directory's
    indexes only name the table of an index the file does not define, and its foreign keys only
    join groups, so fewer than two groups (or no schema change) stay so. Otherwise the rule is
    deferred to the main process, which has every migration's summary (``registry.Deferred``)."""
    fo = _own_objects(stmts)
    found = _grouped(stmts, fo, ())
    if fo.indexes.missed or (len(found) >= 2 and any("schema" in g.kinds for g in found)):
        raise Deferred("mixed-changes needs the indexes and foreign keys of the whole directory")
    return found


def _one_table(stmts) -> bool:
    """Do the statements that change something all change one and the same table (so there is
    at most one change, whatever ties the others)? Decided without walking the trees or reading
    the directory: an index the file does not define could belong to another table, so a lookup
    of one means "not known"."""
    fo = _own_objects(stmts)
    table = None
    for st in stmts:
        t = rel.touch(st, fo, deep=False)
        if fo.indexes.missed:
            return False
        if t.kind is None:
            continue
        for name in t.changed:
            if table is None:
                table = name
            elif name != table:
                return False
    return True


def _grouped(stmts, fo, fks) -> list[Change]:
    uf = rel.UnionFind()
    touches = []
    for st in stmts:
        t = rel.touch(st, fo)
        nodes = sorted(t.nodes)
        for other in nodes[1:]:
            uf.union(nodes[0], other)
        touches.append((st, t))
    changed = {name for _, t in touches if t.kind for name in t.changed}
    for pair in fks:  # a foreign key declared by a migration of the directory links the two
        if pair <= changed:
            a, b = sorted(pair)
            uf.union((rel.REL, a), (rel.REL, b))
    groups: dict = {}
    words: dict = {}
    for st, t in touches:
        if not t.nodes:
            continue
        root = uf.find(next(iter(t.nodes)))
        words.setdefault(root, set()).update(t.words)
        if t.kind is None or not t.changed:
            continue
        g = groups.get(root)
        if g is None:
            g = groups[root] = Change(st)
        for name in t.changed:
            if name not in g.tables:
                g.tables.append(name)
        g.kinds.add(t.kind)
        g.lines.append(st.line)
        g.sigs |= t.sigs
    for root, g in groups.items():
        g.words = words.get(root, set())
    # the same change on several tables, or changes that share a word: one change
    return _merged(list(groups.values()), _link_related)


def _merged(found: list[Change], link) -> list[Change]:
    """The changes ``link(found, union_find)`` joins, merged into one each, in file order."""
    uf = rel.UnionFind()
    for i in range(len(found)):
        uf.find(i)
    link(found, uf)
    merged: dict = {}
    for i, g in enumerate(found):
        root = uf.find(i)
        if root in merged:
            merged[root].absorb(g)
        else:
            merged[root] = g
    return sorted(merged.values(), key=lambda g: g.first.start)


def _link_related(found: list[Change], uf) -> None:
    """Union every pair of changes ``_related`` accepts, through indexes instead of a test of
    every pair (a 1 MB migration holds thousands of changes: millions of pairs)."""
    by_word: dict = {}
    by_sigs: dict = {}
    removals = []
    for i, g in enumerate(found):
        for w in g.words:
            by_word.setdefault(w, []).append(i)
        by_sigs.setdefault(frozenset(g.sigs), []).append(i)
        if g.sigs and all(rel.is_removal(s) for s in g.sigs):
            removals.append(i)
    for members in (*by_word.values(), *by_sigs.values(), removals):  # shared word, same sigs, both removals
        for j in members[1:]:
            uf.union(members[0], j)
    # a schema-only change whose sigs the other's include: only the distinct sig sets that hold
    # the rarest sig of the smaller one can include it
    by_sig: dict = {}
    for sb in by_sigs:
        for sig in sb:
            by_sig.setdefault(sig, []).append(sb)
    schema = {frozenset(g.sigs) for g in found if g.kinds == {"schema"}}
    for sa in schema:
        cands = by_sigs if not sa else by_sig[min(sa, key=lambda sig: len(by_sig[sig]))]
        for sb in cands:
            if sa <= sb:
                uf.union(by_sigs[sa][0], by_sigs[sb][0])


def _related(a: Change, b: Change) -> bool:
    """Is ``a`` the same change as ``b`` made to other tables, or about the same thing? The
    definition ``_link_related`` implements through indexes; tests/test_mixed_changes_grouping.py
    holds the two equal."""
    if a.words & b.words or a.sigs == b.sigs:
        return True
    # a clean-up that only removes things, on both sides: one removal of an obsolete feature
    if a.sigs and b.sigs and all(rel.is_removal(s) for s in a.sigs | b.sigs):
        return True
    # a schema change that only does what the other group also does (`DROP CONSTRAINT` on one
    # table beside a larger rework of another that drops one too)
    return (a.kinds == {"schema"} and a.sigs <= b.sigs) or (b.kinds == {"schema"} and b.sigs <= a.sigs)


def _comment_words(text: str) -> set[str]:
    """The words of a comment as ``relations.name_words`` reads names (camelCase split)."""
    import re

    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    return rel.name_words("_".join(re.findall(r"[A-Za-z0-9]+", spaced)))


def _tied_by_comments(f, found: list[Change]) -> list[Change]:
    """Changes a comment among the statements ties together are one change: a comment that names
    words of two changes ("-- Enable signed fetch, necessary to fetch content in private
    communities" between a change of `community_follower` and one of `local_site`), or a comment
    that heads statements of two changes (up to the next comment). Comments before the first
    statement (the guidelines' header, a file's preamble) describe the file, not a step of it."""
    if len(found) < 2:
        return found
    first = f.statements[0].line if f.statements else 0
    notes = [c for c in f.comments if c.line > first]
    if not notes:
        return found

    def link(found, uf):
        owner = {line: i for i, g in enumerate(found) for line in g.lines}
        lines = sorted(owner)
        for k, c in enumerate(notes):
            ws = _comment_words(c.text)
            named = [i for i, g in enumerate(found) if ws & g.words]
            end = notes[k + 1].line if k + 1 < len(notes) else None
            headed = [owner[line] for line in lines if line > c.line and (end is None or line < end)]
            tied = named + headed if len(named) > 1 else headed
            for j in tied[1:]:
                uf.union(tied[0], j)

    return _merged(found, link)


@rule(
    "mixed-changes",
    severity="warning",
    group="convention",
    kinds=("migration",),
    needs=("schema",),
    summary="One migration changes unrelated tables (the guidelines: one change at a time).",
)
def check(f, ctx):
    if _one_table(_statements(f)):
        return
    found = _tied_by_comments(f, changes(f, ctx))
    if len(found) < 2 or not any("schema" in g.kinds for g in found):
        return
    first, second = found[0], found[1]
    others = ", ".join(g.describe() for g in found[1:])
    move = ", ".join(f"`{t}`" for g in found[1:] for t in g.tables[:3])
    yield f.hit(
        f"this migration mixes unrelated changes: {first.describe()} and {others}; no foreign key, view, "
        "trigger, function, shared name or comment ties them together, and the guidelines say to keep a migration "
        "to one change",
        f"Move the statements on {move} to a migration of their own. If the changes do belong together, "
        "record why: `-- migcheck: ignore-file mixed-changes -- <why they must ship together>`.",
        second.first,
    )
