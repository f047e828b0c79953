"""A process-level memo of what the cross-file rules derive from each sibling migration.

``mixed-changes`` needs the indexes and foreign keys every migration of the directory declares
(``analysis.relations.project_schema``); ``rollback-incomplete`` and ``rollback-data-change`` need
the CREATE/DROP/RENAME effects of every earlier migration (``analysis.rollback.History``).
Without a memo each run parses the whole directory, and a long-running process (``migcheck lsp``,
which runs ``engine.check`` on every change) does so on every keystroke.

Each summary is keyed on what it is (``kind``), the dialect, and the digest of the file's bytes
(``MigrationFile.digest``: the editor's buffer when the file is open, else the disk's, read again
on every run unless ``migcheck.cache``'s stat memo shows the file untouched, ctime included), so an
edit on disk, an unsaved buffer or a file put back as it was is always followed. The memo is an LRU
bounded in entries (``MAX_ENTRIES``); the summaries hold no parse tree, only small values.
A file that cannot be read or is too large is never memoised (its summary is recomputed: cheap).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

MAX_ENTRIES = 50_000  # about 7 directories of the 6,635-file benchmark corpus, two kinds each

_MEMO: OrderedDict[tuple, object] = OrderedDict()
_held = 0  # entries a run needs kept, beyond MAX_ENTRIES (``hold``)
stats = {"hits": 0, "misses": 0, "disk": 0}


def key(f, kind: str) -> tuple | None:
    """The memo key of ``f``'s summary ``kind``, or None when the bytes are not available."""
    digest = f.digest
    if digest is None:
        return None
    return (kind, getattr(f.config, "dialect", "postgres"), *digest)


def memoised(f, kind: str) -> bool:
    """Is ``f``'s summary ``kind`` in this process's memo already (no read, no parse to get it)?"""
    k = key(f, kind)
    return k is not None and k in _MEMO


def summary(f, kind: str, compute: Callable[[object], object]):
    """``compute(f)``, memoised on ``f``'s bytes. ``compute`` must depend only on the bytes and
    the dialect, and return a value nobody mutates."""
    k = key(f, kind)
    if k is None:
        return compute(f)
    try:
        value = _MEMO[k]
    except KeyError:
        value = _from_disk(k)
        if value is None:
            stats["misses"] += 1
            parsed = "_parsed" in getattr(f, "__dict__", ())  # its trees were there before: not ours to free
            value = compute(f)
            _to_disk(k, value)
            if _JOURNAL is not None and kind in SHARED_KINDS:
                _JOURNAL.append((k, value))
            if after_miss is not None:
                after_miss(f, parsed)
        else:
            stats["disk"] += 1
        _MEMO[k] = value
        _trim()
        return value
    stats["hits"] += 1
    _MEMO.move_to_end(k)
    _used(k)
    return value


# --- handed from pool workers to the main process (``migcheck.parallel``) -----------------
# A worker parses its share of the files; the summaries it computes on the way (the kinds below:
# plain values without parse trees) go back with its results, so the main process runs the
# cross-file rules without parsing the files again.

SHARED_KINDS = frozenset({"effects", "history", "parses", "schema", "words"})

# Called with the file, and whether it held its parse trees before, after a summary of it was
# computed (``parallel.sibling_hook``: the engine sets it for the length of a run so that
# siblings, and checked files parsed again for a later file's history, do not keep their trees).
after_miss = None
_JOURNAL: list | None = None


def record() -> None:
    """Start keeping the summaries of ``SHARED_KINDS`` this process computes."""
    global _JOURNAL
    _JOURNAL = []


def recorded() -> list:
    """The ``(key, value)`` pairs computed since ``record()`` (or the last call), then forgets them."""
    global _JOURNAL
    out, _JOURNAL = (_JOURNAL or []), ([] if _JOURNAL is not None else None)
    return out


def absorb(entries) -> None:
    """Memoise summaries another process computed (``recorded()`` there)."""
    for k, value in entries:
        if k not in _MEMO:
            _MEMO[k] = value
            _to_disk(k, value)
    _trim()


def hold(entries: int) -> None:
    """Keep at least ``entries`` summaries while a run lasts (every file of a large run has
    several: evicting one mid-run means parsing its file again, in the main process); ``hold(0)``
    at the end trims the memo back to ``MAX_ENTRIES``, least recently used first."""
    global _held
    _held = entries
    _trim()


def _trim() -> None:
    while len(_MEMO) > max(MAX_ENTRIES, _held):
        _MEMO.popitem(last=False)


def clear() -> None:
    _MEMO.clear()
    detach()
    stats["hits"] = stats["misses"] = stats["disk"] = 0


# --- persisted in the result cache's pack (``migcheck.cache``), for a new process ------------
# Only the kinds with a JSON form (``_CODECS``) are kept: a one-file ``check`` in a directory of
# thousands then reads and hashes the siblings instead of parsing them (``history`` is derived
# from ``effects`` without a parse). The pack is keyed on the code and the configuration, so a
# summary never outlives the code that computed it; an entry of the wrong shape is ignored
# (recomputed), never an error.

_DISK: dict | None = None  # loaded entries, or None: not attached to a pack
_DISK_USED: set = set()
# The entries this run computed, by disk key, each as its JSON text: encoded once, when it is
# computed (its hash is of that text), and written as it is (``chunks``): a run that fills the
# cache does not hold every summary a second time as JSON values, nor the pack's whole text.
_DISK_NEW: dict[str, str] = {}
# The kinds kept beside the pack, in a file read only when one of them is asked for: the effects
# are twice the size of everything else, and a warm run over a directory needs none of them.
SIDE_KINDS = frozenset({"effects", "words"})
_SIDE: dict | None = None
_SIDE_LOAD = None  # () -> dict: reads the side file (``attach``)
_SIDE_NEW: dict[str, str] = {}  # (JSON texts, as _DISK_NEW)
# A hash of each persisted summary's encoded value, by its disk key (kept in the pack): a result
# that read only other files' summaries depends on these, not on their bytes (``value_hashes``,
# ``migcheck.cache``'s semantic fingerprint): a comment added to a migration changes its bytes,
# not its effects.
_HASHES: dict = {}
_HASHES_NEW: dict = {}


def _disk_key(k: tuple) -> str:
    kind, dialect, _, digest = k
    return f"{kind}:{dialect}:{digest.hex()}"


def _schema_decode(v):
    indexes, fks = v
    return (tuple((str(a), str(b)) for a, b in indexes), frozenset(frozenset(map(str, pair)) for pair in fks))


def _schema_encode(v):
    indexes, fks = v
    return [[list(p) for p in indexes], sorted(sorted(pair) for pair in fks)]


def _words_decode(v):
    if type(v) is not str:
        raise TypeError("not a str")
    return v


def _parses_decode(v):
    if type(v) is not bool:
        raise TypeError("not a bool")
    return v


class _Lazy:
    """A codec whose functions live in a module imported only when an entry of its kind is read
    or written (``effects``: a warm run that needs none does not import migcheck.analysis.effects)."""

    def __init__(self, module: str, encode: str, decode: str):
        self.names = (module, encode, decode)

    def __getitem__(self, i: int):
        import importlib

        module, *funcs = self.names
        return getattr(importlib.import_module(module, __package__), funcs[i])


_CODECS = {
    "schema": (_schema_encode, _schema_decode),
    "parses": (bool, _parses_decode),
    # the rollback rules' per-file effects: with them on disk, a run that reports other files
    # than the last (pre-commit on one file after a run over the directory) does not parse
    # every sibling again (5.3 s on 6,635 files)
    "effects": _Lazy(".analysis.effects", "encode_effects", "decode_effects"),
    # the words of each file's text (``analysis.perfile.mentions``): which earlier migrations name
    # a table is answered without reading them
    "words": (str, _words_decode),
    # whether a migration may have a Depends-On header field (``unknown-dependency``, a project
    # rule run again whenever a file changes): the others' text is not read then
    "may-depend": (bool, _parses_decode),
}


def attach(entries, side=None, hashes=None) -> None:
    """Use the summaries a cache pack holds (``entries``: its ``summaries`` member, any shape);
    ``side()`` reads the entries of ``SIDE_KINDS`` when one is first needed; ``hashes``: the
    pack's ``hashes`` member (``value_hashes``)."""
    global _DISK, _SIDE, _SIDE_LOAD, _HASHES
    _DISK = entries if isinstance(entries, dict) else {}
    _SIDE, _SIDE_LOAD = None, side
    _HASHES = hashes if isinstance(hashes, dict) else {}
    _DISK_USED.clear()
    _DISK_NEW.clear()
    _SIDE_NEW.clear()
    _HASHES_NEW.clear()


def detach() -> None:
    global _DISK, _SIDE, _SIDE_LOAD, _HASHES
    _DISK = _SIDE = _SIDE_LOAD = None
    _HASHES = {}
    _DISK_USED.clear()
    _DISK_NEW.clear()
    _SIDE_NEW.clear()
    _HASHES_NEW.clear()


def _text(encoded) -> str:
    import json

    return json.dumps(encoded, separators=(",", ":"))


def _hash(text: str) -> str:
    """The hash of an entry's JSON text (``_text``)."""
    from ._digest import blake2b

    return blake2b(text.encode(), digest_size=8).hexdigest()


def value_hashes(f, kinds) -> list[str | None]:
    """A hash of each of ``f``'s summaries ``kinds`` (kinds with a JSON form, ``_CODECS``); None
    for one not computed (nor kept in the pack) for the file's bytes: then it is not known."""
    digest = f.digest
    if digest is None:
        return [None for _ in kinds]
    dialect, hexed = getattr(f.config, "dialect", "postgres"), digest[1].hex()
    out: list[str | None] = []
    for kind in kinds:
        name = f"{kind}:{dialect}:{hexed}"
        h = _HASHES_NEW.get(name) or _HASHES.get(name)
        if h is None and kind in _CODECS:
            k = (kind, dialect, *digest)
            if k in _MEMO:
                h = _HASHES_NEW[name] = _hash(_text(_CODECS[kind][0](_MEMO[k])))
        if h is not None:
            _DISK_USED.add(name)
        out.append(h)
    return out


def _side() -> dict:
    """The side file's entries, read on first use (unreadable or corrupt: none, never an error)."""
    global _SIDE
    if _SIDE is None:
        try:
            got = _SIDE_LOAD() if _SIDE_LOAD is not None else None
        except Exception:
            got = None
        _SIDE = got if isinstance(got, dict) else {}
    return _SIDE


def _store(kind: str) -> tuple[dict, dict]:
    """(entries read, entries new) of the store that holds ``kind``."""
    return (_side(), _SIDE_NEW) if kind in SIDE_KINDS else (_DISK, _DISK_NEW)


def _from_disk(k: tuple):
    if _DISK is None or k[0] not in _CODECS:
        return None
    name = _disk_key(k)
    if k[0] in SIDE_KINDS and name not in _HASHES:
        return None  # (every entry kept is hashed: without a hash it is not there, no need to read the side file)
    raw = _store(k[0])[0].get(name)
    if raw is None:
        return None
    try:
        value = _CODECS[k[0]][1](raw)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError):
        return None  # any shape the codec does not take: computed again
    _DISK_USED.add(name)
    return value


def _to_disk(k: tuple, value) -> None:
    if _DISK is not None and k[0] in _CODECS:
        name = _disk_key(k)
        new = _SIDE_NEW if k[0] in SIDE_KINDS else _DISK_NEW  # (no need to read the side file to add to it)
        text = new[name] = _text(_CODECS[k[0]][0](value))
        if name not in _HASHES:
            _HASHES_NEW[name] = _hash(text)


def _used(k: tuple) -> None:
    if _DISK is not None and k[0] in _CODECS:
        name = _disk_key(k)
        old, new = _store(k[0])
        if name in old:
            _DISK_USED.add(name)
        elif name not in new:  # memoised before the pack was attached: persist it too
            text = new[name] = _text(_CODECS[k[0]][0](_MEMO[k]))
            if name not in _HASHES:
                _HASHES_NEW[name] = _hash(text)


def changed() -> bool:
    """Did this run compute summaries the pack (or its side file) does not hold yet?"""
    return bool(_DISK_NEW or _SIDE_NEW or _HASHES_NEW)


def _merge(old: dict, new: dict, limit: int) -> dict:
    if len(old) + len(new) > limit:
        old = {k: v for k, v in old.items() if k in _DISK_USED}
    return {**old, **new}


class Entries:
    """Entries to write: those read (JSON values) that are kept, then those computed (JSON texts)."""

    __slots__ = ("old", "new")

    def __init__(self, old: dict, new: dict[str, str], limit: int):
        if len(old) + len(new) > limit:
            old = {k: v for k, v in old.items() if k in _DISK_USED}
        self.old = {k: v for k, v in old.items() if k not in new} if new else dict(old)
        self.new = dict(new)  # (the store is cleared when the pack is detached, before the write)

    def chunks(self):
        """The JSON text of the object, a piece (a few hundred entries) at a time."""
        import json

        yield "{"
        sep = ""
        for batch in _batches(self.old):  # (one encoder call per batch, not per entry: 0.2 s on 6,635 files)
            yield sep + json.dumps(batch, separators=(",", ":"))[1:-1]
            sep = ","
        for batch in _batches(self.new):
            yield sep + ",".join(f"{json.dumps(name)}:{text}" for name, text in batch.items())
            sep = ","
        yield "}"


BATCH = 256  # entries encoded (and written) at a time


def _batches(entries: dict):
    """``entries`` as dicts of ``BATCH`` entries (none when it is empty)."""
    import itertools

    items = iter(entries.items())
    while batch := dict(itertools.islice(items, BATCH)):
        yield batch


def for_pack(limit: int) -> Entries:
    """The entries to write back: all of them, or when there are more than ``limit``, those this
    run used or computed (files long gone are forgotten)."""
    return Entries(_DISK or {}, _DISK_NEW, limit)


def hashes_for_pack(limit: int) -> dict:
    """The value hashes to write back (as ``for_pack``)."""
    return _merge(_HASHES, _HASHES_NEW, limit)


# New side entries this few are recomputed by the run that needs them (a parse each) rather than
# written: rewriting the side file costs ~0.3 s on 6,635 files, a one-file check computes one or
# two summaries (the lock rules read the checked file's effects).
SIDE_FEW = 32


def for_side(limit: int) -> Entries | None:
    """The side file's entries to write back, or None when it need not be written."""
    if not _SIDE_NEW:
        return None
    # (how many it holds, without reading it: every entry kept beside the pack has a hash in it)
    held = len(_SIDE) if _SIDE is not None else sum(1 for n in _HASHES if n.split(":", 1)[0] in SIDE_KINDS)
    if len(_SIDE_NEW) <= SIDE_FEW and len(_SIDE_NEW) * 100 <= held:
        return None  # (the new entries are a sliver of it)
    return Entries(_side(), _SIDE_NEW, limit)  # (the entries already there are kept)
