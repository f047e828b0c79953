"""The result cache of ``migcheck check``: per-file findings keyed on the file's bytes.

One pack file per (migcheck code, configuration, enabled rules) under ``.migcheck_cache/`` in
the configuration's root directory (or ``$MIGCHECK_CACHE_DIR``; ``$XDG_CACHE_HOME/migcheck``
when the root is not writable). It maps each file's absolute path to the key of the bytes it
was checked with and what the engine found (``engine.FileResult`` as plain lists). A result
that depended on other files (a rule read the project) is kept with the fingerprint of every
file of the project and used only while that fingerprint holds. The cacheable project rules
(``engine.CACHEABLE_PROJECT_RULES``) are kept under the project's fingerprint too. The pack also
keeps the cross-file rules' per-file summaries (``migcheck.summaries``), keyed on each file's
bytes (the rollback rules' effects in a side file, ``<pack>.side``, read only when needed):
checking one changed file of a large directory reads its siblings but does not parse them.
Every file's digest is kept with its stat (the stat memo, below): an untouched file is not read.

The key of the code is the migcheck version plus the size and modification time of every
module of the package, so an edited rule never serves stale results. Writes go to a temporary
file in the same directory and take the name with ``os.replace``: a reader sees the old pack or
the new one. A pack that cannot be read or parsed, or that has the wrong shape, is ignored (and
replaced on the next write), never an error. JSON, not pickle: a pack planted in a repository
cannot run code. ``--no-cache`` bypasses all of this.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from . import __version__, fsutil, summaries, suppress
from ._digest import blake2b
from .model import Record

# The pack's format: 2 since the ``words`` summary leaves comments out (issue 22). A pack of
# another format has another name and is never read; the pruning below removes it in time.
FORMAT = 2
SIDE_SUFFIX = ".side"  # beside a pack: the summaries of ``summaries.SIDE_KINDS``, read only when needed
KEEP_PACKS = 8  # packs of other configurations / rule sets kept beside the current one


def _code_fingerprint() -> str:
    h = blake2b(digest_size=16)
    h.update(f"{FORMAT}\0{__version__}\0{sys.version_info[:2]}".encode())
    root = Path(__file__).parent
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                try:
                    st = os.stat(os.path.join(dirpath, name))
                except OSError:
                    continue
                h.update(
                    f"{os.path.relpath(os.path.join(dirpath, name), root)}\0{st.st_size}\0{st.st_mtime_ns}\0".encode()
                )
    return h.hexdigest()


def _library_fingerprint(names: tuple[str, ...]) -> str:
    """The installed parsers' files (name, size, mtime), found without importing them (a warm run
    must not pay for importing pglast): upgrading a parser invalidates what it parsed."""
    import importlib.util

    h = blake2b(digest_size=16)
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        h.update(f"{name}\0".encode())
        for where in (spec.submodule_search_locations or ()) if spec else ():
            try:
                entries = sorted(os.scandir(where), key=lambda e: e.name)
            except OSError:
                continue
            for e in entries:
                if e.is_file():
                    st = e.stat()
                    h.update(f"{e.name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


def _rows(value, width: int) -> bool:
    """Is ``value`` a list of lists of ``width`` items (a result's hits, as JSON keeps them)?"""
    return type(value) is list and all(type(r) is list and len(r) == width for r in value)


def _int(v) -> bool:
    return type(v) is int  # (not a bool, not a string of digits)


def _hits(value, rules, path: str | None = None) -> bool:
    """Is ``value`` a list of hits (``engine.FileResult``: rule, path, line, column, message, help,
    end line, end column) of the rules ``rules``, on ``path`` when given? A hit of another type
    (a line number as a string) would crash the report, and one of an unknown rule or another
    file would be dropped silently: the entry is damaged."""
    if not _rows(value, 8):
        return False
    for rid, where, line, col, msg, hlp, end_line, end_col in value:
        if not (
            type(rid) is str
            and rid in rules
            and type(where) is str
            and (path is None or where == path)
            and _int(line)
            and _int(col)
            and type(msg) is str
            and type(hlp) is str
            and (end_line is None or _int(end_line))
            and (end_col is None or _int(end_col))
        ):
            return False
    return True


def _sups(value) -> bool:
    """Is ``value`` a list of suppressions as ``suppress.records`` makes them?"""
    if not _rows(value, suppress.WIDTH):
        return False
    for s in value:
        file_wide, rules, reason, *where, c_line, c_col, c_end, names = s
        if not (
            type(file_wide) is bool
            and type(rules) is list
            and all(type(r) is str for r in rules)
            and type(reason) is str
            and all(w is None or _int(w) for w in where)
            and _int(c_line)
            and _int(c_col)
            and _int(c_end)
            and type(names) is list
            and all(
                type(n) is list
                and len(n) == 2
                and type(n[0]) is str
                and type(n[1]) is list
                and all(type(r) is str for r in n[1])
                for n in names
            )
        ):
            return False
    return True


_SUPPRESSION_PROBLEMS = frozenset({"unknown-rule", "suppression-missing-reason"})


def _inputs(f) -> list:
    from .analysis import txn

    return txn.inputs(f, f.config)


def _plain(value):
    """A configuration value as plain JSON data, whole (a regex by its full pattern and flags:
    ``repr`` of a pattern stops at 200 characters)."""
    import dataclasses
    import re

    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, re.Pattern):
        return {"pattern": value.pattern, "flags": value.flags}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Record):  # its shown fields (config.py: the others apply after the cache)
        return {name: _plain(getattr(value, name)) for name in value._fields()}
    if dataclasses.is_dataclass(value):  # (a field with repr=False is applied after the cache)
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.repr}
    raise TypeError(f"cache: no key for a configuration value of type {type(value).__name__}")


def config_key(config) -> str:
    """Every field of the configuration, by value: a result depends on any of them (but those
    declared ``repr=False``, which config.py applies when the findings are assembled, after the
    cache: the production snapshot and the risk thresholds)."""
    return json.dumps(_plain(config), sort_keys=True, separators=(",", ":"))


def default_dir(config) -> Path:
    env = os.environ.get("MIGCHECK_CACHE_DIR")
    if env:
        return Path(env)
    return Path(config.root) / ".migcheck_cache"


# Where the packs go. migcheck prunes old packs, so it must never do that among files it did
# not write: a directory it creates gets its marker (CACHEDIR.TAG, with migcheck's line); a
# directory that exists without it (MIGCHECK_CACHE_DIR pointing at one of the user's) gets the
# packs in a `migcheck` subdirectory of its own. Only names of the pack shape are pruned.
MARKER = "CACHEDIR.TAG"
MARKER_TEXT = "Signature: 8a477f597d28d172789f06886806bc55\n# migcheck result cache\n"
_PACK = re.compile(r"^v[0-9]+-[0-9a-f]{32}\.json$")  # (any format's: an old one is pruned too)


def _marked(directory: Path) -> bool:
    try:
        return "# migcheck result cache" in (directory / MARKER).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def own_dir(directory: Path) -> Path:
    """The directory migcheck keeps its packs in for ``directory``: itself when migcheck made it
    (or it does not exist yet), else its ``migcheck`` subdirectory."""
    if not directory.exists() or _marked(directory):
        return directory
    return directory / "migcheck"


def _fallback_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "migcheck"


class Cache:
    def __init__(self, directory: Path | None = None):
        self.directory = directory
        self.pack: Path | None = None
        self.files: dict[str, list] = {}
        self.project: dict[str, dict] = {}
        self.dirty = False
        self._project = None
        self._project_fp: str | None = None
        self._content_fp: str | None = None
        self._semantic: dict[bool, str] = {}  # (semantic_fp) reported -> fingerprint
        # the summary kinds the rules that read other files only through summaries read (set by
        # the engine: the ``needs`` of the enabled ones)
        self.semantic_kinds: frozenset = frozenset(("effects", "schema", "parses", "words"))
        self._keys: dict[str, str] = {}
        self._memo: dict[str, list] = {}  # the stat memo read from the pack (_known)
        self._rules: frozenset = frozenset()  # the enabled rules (a cached hit of another is damage)

    # --- opening -------------------------------------------------------------------------
    def start(self, project, config, rules) -> None:
        """Open the pack for this configuration and rule set."""
        self._project = project
        self._rules = frozenset(rules)
        settings = blake2b(digest_size=16)
        settings.update(_code_fingerprint().encode())
        parsers = ("pglast",) if getattr(config, "dialect", "postgres") == "postgres" else ("pglast", "sqlglot")
        settings.update(_library_fingerprint(parsers).encode())
        settings.update(config_key(config).encode())
        settings.update("\0".join(sorted(rules)).encode())
        name = f"v{FORMAT}-{settings.hexdigest()}.json"
        directory = own_dir(self.directory or default_dir(config))
        self.directory = directory
        self.pack = directory / name
        found = hashes = None
        side = directory / (name + SIDE_SUFFIX)
        for d in (directory, _fallback_dir()):
            try:
                data = json.loads((d / name).read_bytes())
            except (OSError, ValueError, UnicodeDecodeError, RecursionError):
                continue  # no pack yet, or a corrupt one: start empty
            if isinstance(data, dict) and isinstance(data.get("files"), dict) and isinstance(data.get("project"), dict):
                self.files = data["files"]
                self.project = data["project"]
                found, hashes = data.get("summaries"), data.get("hashes")
                if isinstance(data.get("stat"), dict):
                    self._known(project, data["stat"])
                side = d / (name + SIDE_SUFFIX)
                break
        # the cross-file rules' per-file summaries (migcheck.summaries); the side file's only if asked
        summaries.attach(found, lambda: json.loads(side.read_bytes()), hashes)

    # --- the stat memo -------------------------------------------------------------------
    # A file's digest is what every key here is made of, and reading and hashing 6,635 files was
    # a third of a warm run. Like git's index, the pack remembers each file's digest with its
    # stat (size, mtime, ctime, inode, device) when the bytes were read, and a later run whose
    # stat of the file is the same takes the digest without reading it. Any write changes the
    # ctime (which no tool can set back), so a changed file is read again. A file whose mtime or
    # ctime was within RACY_NS of the run that read it is not remembered ("racily clean": a
    # write in the same clock tick could leave the stat as it was), nor a file given as bytes
    # (an editor's buffer).
    RACY_NS = 2_000_000_000

    def _known(self, project, memo: dict) -> None:
        self._memo = memo
        for f in project.files:
            entry = memo.get(str(f.path))
            if f.content is not None or not isinstance(entry, list) or len(entry) != 7 or "data" in f.__dict__:
                continue
            try:
                st = os.stat(f.path)
                if [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev] != entry[:5]:
                    continue
                digest = (entry[0], bytes.fromhex(entry[5]))
            except (OSError, TypeError, ValueError):
                continue
            f.digest = digest
            f.from_memo = True
            if entry[6] is True:  # it decoded then: no encoding problem to report (engine.read_problem)
                f.decodes = True

    def _stat_memo(self) -> tuple[dict, bool]:
        """The memo of the files of this run, and whether it differs from the one read."""
        import time

        if self._project is None:
            return {}, False
        memo = {}
        recent = time.time_ns() - self.RACY_NS
        for f in self._project.files:
            d = f.__dict__
            path = str(f.path)
            if d.get("from_memo"):
                memo[path] = self._memo[path]
                continue
            st, digest = d.get("stat"), d.get("digest")
            if st is None or digest is None or f.content is not None or max(st[1], st[2]) >= recent:
                continue
            memo[path] = [*st, digest[1].hex(), f.read_problem is None]  # (bytes already read: decoding is cheap)
        return memo, memo != self._memo

    def _key(self, f) -> str | None:
        """The key of the file's bytes (and identity, and the runner's files beside it that decide
        how it runs: ``txn.inputs``), or None when it cannot be read."""
        k = self._keys.get(str(f.path))
        if k is None:
            digest = f.digest
            if digest is None:
                return None
            h = blake2b(digest[1], digest_size=16)
            h.update(f"\0{digest[0]}\0{f.path}\0{f.kind}\0{f.display}".encode())
            # the schema model: a table an earlier migration of the change set created is new, so a
            # migration's findings depend on those files too (none when directories are checked)
            for m in self._project.changes_before(f) if self._project is not None else ():
                d = m.digest
                h.update(f"\0{m.path}\0{d[1].hex() if d is not None else '-'}".encode())
            _runner_files(f, h)
            k = self._keys[str(f.path)] = h.hexdigest()
        return k

    def _fingerprint(self, reported: bool = True) -> str:
        """Every file of the project (path, kind, bytes) and, with ``reported``, which ones are
        reported. The project rules' results depend on both (a rollback finding is placed on the
        file that is reported); a file rule that read the project depends on the files only, so a
        one-file run (pre-commit) and a whole-directory run share those results."""
        if self._project_fp is None:
            project = self._project
            files = [f"{f.path}\0{self._key(f) or 'unreadable'}" for f in project.files]
            files += [f"deleted\0{f.path}" for f in project.deleted]
            # other databases' files the layout left out: whether a pop file is a placeholder reads them
            files += [f"skipped\0{p}" for p in getattr(project, "skipped_files", ())]
            shown = "".join("1" if project.is_reported(f) else "0" for f in project.files)
            content = blake2b("\n".join(files).encode(), digest_size=16)
            self._content_fp = content.hexdigest()
            content.update(shown.encode())
            self._project_fp = content.hexdigest()
        return self._project_fp if reported else self._content_fp

    # Results that read the other files only through their summaries and the project's shape
    # (engine.SUMMARY_ONLY_RULES) depend on those, not on the files' bytes: the semantic
    # fingerprint is every file's identity and the hashes of its summaries (``summaries.value_hashes``:
    # effects, with statement positions, indexes and foreign keys, whether it parses). A comment
    # added at the end of one migration changes the content fingerprint, not this one; a new
    # column, or a line added above a statement, changes both. A file without its hashes (never
    # summarised) counts by its bytes.
    SEMANTIC_KINDS = {"migration": ("effects", "schema", "parses", "words"), "rollback": ("effects", "parses")}

    def _semantic_kinds(self, kind: str) -> tuple[str, ...]:
        return tuple(k for k in self.SEMANTIC_KINDS.get(kind, ()) if k in self.semantic_kinds)

    def semantic_fp(self, reported: bool = True) -> str:
        fp = self._semantic.get(reported)
        if fp is None:
            project = self._project
            h = blake2b(digest_size=16)
            runner: dict = {}
            for f in project.files:
                kinds = self._semantic_kinds(f.kind)
                hashes = summaries.value_hashes(f, kinds)
                if hashes and None in hashes and not f.__dict__.get("from_memo"):
                    _summarise(f, kinds)  # (read this run, changed or new: its summaries, for its hashes)
                    hashes = summaries.value_hashes(f, kinds)
                token = ",".join(hashes) if hashes and None not in hashes else f"bytes:{self._key(f) or 'unreadable'}"
                where = runner.get(f.path.parent)
                if where is None:  # (txn.inputs: files beside it, the same for its directory)
                    where = runner[f.path.parent] = self._runner_key(f)
                h.update(f"{f.path}\0{f.kind}\0{f.display}\0{where}\0{token}\n".encode())
            for f in project.deleted:
                h.update(f"deleted\0{f.path}\n".encode())
            for p in getattr(project, "skipped_files", ()):
                h.update(f"skipped\0{p}\n".encode())
            self._semantic[False] = h.hexdigest()
            h.update("".join("1" if project.is_reported(f) else "0" for f in project.files).encode())
            self._semantic[True] = h.hexdigest()
            fp = self._semantic[reported]
        return fp

    @staticmethod
    def _runner_key(f) -> str:
        h = blake2b(digest_size=8)
        return h.hexdigest() if _runner_files(f, h) else ""

    # --- files ---------------------------------------------------------------------------
    def get(self, f):
        from .engine import FileResult

        entry = self.files.get(str(f.path))
        key = self._key(f)
        if key is None or not isinstance(entry, list) or len(entry) != 9 or entry[0] != key:
            return None
        try:
            _, hits, sups, sup_hits, statements, contextual, fp, locks, sfp = entry
            if contextual and fp != self._fingerprint(reported=False):
                if sfp is None or sfp != self.semantic_fp(reported=False):
                    return None
                entry[6] = self._fingerprint(reported=False)  # (valid for these files' bytes too, from now on)
                self.dirty = True
            if not (
                _hits(hits, self._rules, str(f.path))
                and _sups(sups)
                and _hits(sup_hits, _SUPPRESSION_PROBLEMS, str(f.path))
                and (statements is None or _int(statements))
                and type(contextual) is bool
                and type(locks) is dict
                and all(type(k) is str and _rows(c, 6) for k, c in locks.items())
            ):
                return None  # a hand-edited or damaged entry: checked again
            # the JSON lists as they are: engine.assemble unpacks a list as it does a tuple
            return FileResult(
                hits, [], sups, sup_hits, statements, bool(contextual), locks=locks, semantic=sfp is not None
            )
        except (TypeError, ValueError, IndexError):
            return None

    def put(self, f, result) -> None:
        key = self._key(f)
        if key is None or result.errors:  # never keep the result of a run where a rule failed
            return
        fp = self._fingerprint(reported=False) if result.contextual else None
        sfp = self.semantic_fp(reported=False) if result.contextual and result.semantic else None
        self.files[str(f.path)] = [
            key,
            result.hits,
            result.sups,
            result.sup_hits,
            result.statements,
            result.contextual,
            fp,
            result.locks,
            sfp,
        ]
        self.dirty = True

    # --- project rules -------------------------------------------------------------------
    # Their results depend on which files are reported, so a pre-commit run of one file and a
    # run over the directory have different ones: the pack keeps those of the last few reported
    # sets (recomputing them means summarising every sibling: 5-10 s on 6,635 files).
    KEEP_RUNS = 4

    def _runs(self) -> list:
        runs = self.project.get("runs")
        if not isinstance(runs, list):
            runs = self.project["runs"] = []
        return runs

    def get_project(self, rule_ids: list[str], semantic: frozenset = frozenset()) -> dict[str, list[tuple]]:
        """The kept hits of the project rules ``rule_ids`` for this project; those of ``semantic``
        (rules that read the files only through their summaries) also from a run whose files
        differ only where their summaries do not (``semantic_fp``)."""
        if not rule_ids:
            return {}
        fp = self._fingerprint()
        runs = [e for e in self._runs() if isinstance(e, dict)]
        entry = next((e for e in runs if e.get("fp") == fp), None)
        wanted = list(rule_ids)
        # (only when a kept run has a semantic fingerprint: computing one summarises every file
        # the cache has no hashes for, before the check, which then holds every file's trees)
        if entry is None and any(rid in semantic for rid in rule_ids) and any(e.get("sfp") for e in runs):
            sfp = self.semantic_fp()
            entry = next((e for e in runs if e.get("sfp") == sfp), None)
            wanted = [rid for rid in rule_ids if rid in semantic]
        hits = entry.get("hits") if entry is not None else None
        if not isinstance(hits, dict):
            return {}
        if not all(_hits(hits[rid], {rid}) for rid in wanted if rid in hits):
            return {}  # a damaged entry: computed again
        return {rid: [tuple(h) for h in hits[rid]] for rid in wanted if rid in hits}

    def put_project(self, hits: dict[str, list[tuple]], semantic: frozenset = frozenset()) -> None:
        if not hits:
            return
        fp = self._fingerprint()
        sfp = self.semantic_fp() if any(rid in semantic for rid in hits) else None
        runs = self._runs()
        entry = next((e for e in runs if isinstance(e, dict) and e.get("fp") == fp), None)
        if entry is None or not isinstance(entry.get("hits"), dict):
            entry = {"fp": fp, "hits": {}}
        else:
            runs.remove(entry)
        if sfp is not None:
            entry["sfp"] = sfp
        runs.insert(0, entry)  # the most recent first
        del runs[self.KEEP_RUNS :]
        entry["hits"].update(hits)
        self.dirty = True

    # --- writing -------------------------------------------------------------------------
    def save(self) -> None:
        """Write the pack atomically; any failure (read-only directory, full disk) is ignored."""
        memo, memo_changed = self._stat_memo()
        if not (self.dirty or memo_changed or summaries.changed()) or self.pack is None:
            summaries.detach()
            return
        limit = 4 * len(self._project.files) + 1000 if self._project is not None else 1 << 30
        if len(self.files) > limit:
            keep = {str(f.path) for f in self._project.files}  # forget files long gone
            self.files = {k: v for k, v in self.files.items() if k in keep}
        pack = {
            "files": self.files,
            "project": self.project,
            "summaries": summaries.for_pack(limit),
            "hashes": summaries.hashes_for_pack(limit),
            "stat": memo,
        }
        side = summaries.for_side(limit)
        summaries.detach()
        # (each JSON text written a piece at a time as it is made: the summaries were encoded
        # when they were computed, and neither file's whole text is ever held)
        for directory in (self.pack.parent, _fallback_dir()):
            try:
                if side is not None:  # (first: a pack never names a side file that is not there yet)
                    self._write(directory, self.pack.name + SIDE_SUFFIX, side.chunks())
                self._write(directory, self.pack.name, _chunks(pack))
                return
            except OSError:
                continue

    @staticmethod
    def _write(
        directory: Path,
        name: str,
        text: str | bytes | Iterable[str | bytes],
        prune: re.Pattern = _PACK,
        keep: int = KEEP_PACKS,
    ) -> None:
        """Write ``text`` (or its pieces) to ``directory/name`` atomically, then remove all but the
        ``keep`` most recent other files whose names match ``prune`` (and their side files)."""
        import tempfile  # only when something changed: a warm run does not pay for it

        directory = own_dir(directory)
        new = not directory.is_dir()
        directory.mkdir(parents=True, exist_ok=True)
        if new:  # never committed by accident, and skipped by backup tools; and marked as migcheck's
            (directory / ".gitignore").write_text("# created by migcheck\n*\n")
            (directory / MARKER).write_text(MARKER_TEXT)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                if isinstance(text, str):  # (encoded a megabyte at a time, not copied whole)
                    for i in range(0, len(text), 1 << 20):
                        fh.write(text[i : i + (1 << 20)].encode("utf-8"))
                elif isinstance(text, bytes):
                    fh.write(text)
                else:
                    for piece in text:
                        fh.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
            os.replace(tmp, directory / name)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        if not _marked(directory):
            return  # not a directory migcheck made: it deletes nothing there
        try:
            packs = sorted(
                (p for p in directory.iterdir() if prune.match(p.name)), key=lambda p: p.stat().st_mtime, reverse=True
            )
        except OSError:  # one removed meanwhile by a concurrent run
            return
        for old in packs[keep + 1 :]:
            for path in (old, old.with_name(old.name + SIDE_SUFFIX)):
                try:
                    path.unlink()
                except OSError:
                    pass


def _chunks(pack: dict):
    """The pack's JSON text a piece at a time: a few hundred entries of ``files`` each, the
    summaries as ``summaries.Entries`` writes them."""
    yield "{"
    sep = ""
    for key, value in pack.items():
        yield f"{sep}{json.dumps(key)}:"
        sep = ","
        if isinstance(value, summaries.Entries):
            yield from value.chunks()
        elif key == "files":
            inner = ""
            yield "{"
            for batch in summaries._batches(value):  # (a few hundred files' results a piece)
                yield inner + json.dumps(batch, separators=(",", ":"))[1:-1]
                inner = ","
            yield "}"
        else:
            yield json.dumps(value, separators=(",", ":"))
    yield "}"


def _runner_files(f, h) -> bool:
    """Add to ``h`` the runner's files beside ``f`` that decide how it runs (``txn.inputs``), by
    value; False when there are none."""
    inputs = _inputs(f)
    for side in inputs:
        h.update(f"\0{side}\0".encode())
        try:
            h.update(fsutil.read_regular(side, 1 << 20)[0])
        except OSError as exc:  # absent (or unreadable): that decides too
            h.update(f"\0{type(exc).__name__}".encode())
    return bool(inputs)


def _summarise(f, kinds) -> None:
    """Compute the summaries ``kinds`` of ``f`` (their hashes follow)."""
    from .analysis import perfile, rollback

    if "parses" in kinds:
        rollback.readable(f)
    for compute in perfile.computers(set(kinds)).get(f.kind, ()):
        compute(f)
