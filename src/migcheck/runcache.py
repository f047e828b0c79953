"""One answer per unchanged run: the whole output of a ``migcheck check`` kept for the next run
with the same request whose inputs are all as they were.

A run records what it read from the file system while it ran (``Recorder``): every file it
opened and every directory it listed (Python's audit events ``open``, ``os.listdir``,
``os.scandir``), and every path whose status it asked for (``os.stat``/``os.lstat``: a config file
looked for and not found, a runner's marker file, a ``.git`` directory). The answer (the report,
the stderr notes, the exit code) is kept with the status of each of those paths (size, times,
inode, device; or "absent"), under a key of the request: the command's options and paths, the
working directory, the environment variables migcheck reads, whether the streams are terminals,
the date (a misnamed migration's suggested name can be dated today), migcheck's code and the
parsers' files (``cache._code_fingerprint``, ``cache._library_fingerprint``). The next run with
that key stats those paths and, when every one is as it was, prints the answer without reading a
migration, loading the configuration or importing the engine.

What makes an answer not kept: a rule failed, the exit code was not 0 or 1, the run used the
production snapshot (its note tells the snapshot's age), a process was started (a pool's workers
read files this process did not see; ``git`` reads what the audit events do not show), or a path
it read changed less than ``RACY_NS`` before the run ended (a write in the same clock tick could
leave its status as it was: git's "racily clean" rule, as for ``migcheck.cache``'s stat memo).
The cache's own files, migcheck's and Python's installations are not inputs (the code and the
parsers are in the key). ``--no-cache`` neither reads nor writes answers.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from ._digest import blake2b

FORMAT = 1
PREFIX = "run-"
KEEP = 4  # answers kept per cache directory, the most recent (a large project's is its whole report)
RACY_NS = 2_000_000_000
DIR_NAME = ".migcheck_cache"
_PLAIN = re.compile(r"(?:/(?!\.\.?(?:/|\Z))[^/]+)+\Z")  # ("/a/b.sql": an absolute path abspath leaves as it is)
_ANSWER = re.compile(rf"^{PREFIX}[0-9a-f]{{32}}$")  # (only files of this shape are ever pruned)

# The environment variables migcheck reads (tests/test_runcache.py greps the sources for any other).
ENV = (
    "MIGCHECK_CACHE_DIR",
    "XDG_CACHE_HOME",
    "HOME",
    "NO_COLOR",
    "FORCE_COLOR",
    "GITHUB_ACTIONS",
    "GITHUB_WORKSPACE",
    "CI_PROJECT_DIR",
)


def key(request: dict) -> str:
    """The key of a request (``request``: the command's options as plain JSON data)."""
    import datetime

    from .cache import _code_fingerprint, _library_fingerprint

    h = blake2b(digest_size=16)
    h.update(
        json.dumps(
            {
                "format": FORMAT,
                "request": request,
                "cwd": os.getcwd(),
                "env": {name: os.environ.get(name) for name in ENV},
                "tty": [s.isatty() for s in (sys.stdout, sys.stderr)],
                "date": datetime.date.today().isoformat(),
            },
            sort_keys=True,
            default=str,
        ).encode()
    )
    h.update(_code_fingerprint().encode())
    h.update(_library_fingerprint(("pglast", "sqlglot")).encode())
    return h.hexdigest()


# How a run used a path, which says what of its status the answer depends on: the bytes of a file
# it read, the entries of a directory it listed (its mtime), the size and times of a file whose
# status it asked (the stat memo trusts them), only the type and identity of a directory whose
# status it asked or of anything whose link status it asked (``os.path.realpath`` asks for every
# component of a path: ``/tmp`` changing does not change what ``/tmp/x/y`` resolves to).
READ, LIST, STAT, LSTAT = 1, 2, 4, 8


def _status(path: str, how: int) -> list | None:
    try:
        st = os.stat(path) if how & (READ | LIST | STAT) else os.lstat(path)
    except OSError:
        return None
    kind = st.st_mode >> 12
    if how & (READ | LIST) or (how & STAT and kind != 4):  # (4: a directory)
        return [kind, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
    return [kind, st.st_ino, st.st_dev]


def _places(start: Path, config_path: str | None) -> list[Path]:
    """Where an answer may be kept: ``$MIGCHECK_CACHE_DIR``, else the cache directory of the
    configuration's root (found walking up from the working directory, or beside ``--config``),
    and the per-user fallback."""
    from .cache import _fallback_dir, own_dir

    env = os.environ.get("MIGCHECK_CACHE_DIR")
    if env:
        places = [own_dir(Path(env))]
    else:
        base = Path(os.path.abspath(config_path)).parent if config_path else start
        places = [d / DIR_NAME for d in (base, *base.parents)]
    places.append(_fallback_dir())
    return places


class Answer:
    __slots__ = ("out", "err", "code")

    def __init__(self, out: str, err: str, code: int):
        self.out, self.err, self.code = out, err, code


def lookup(request_key: str, config_path: str | None = None) -> Answer | None:
    """The kept answer of the request, when every input it read is as it was; else None."""
    name = PREFIX + request_key
    for place in _places(Path.cwd(), config_path):
        try:
            with open(place / name, "rb") as fh:
                head = json.loads(fh.readline())
                body = fh.read()
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            continue
        try:
            if head.get("format") != FORMAT:
                return None
            for path, how, status in head["inputs"]:
                if _status(path, how) != status:
                    return None
            n_out = head["out"]
            text = body.decode("utf-8")
            if len(text) != n_out + head["err"]:
                return None
            return Answer(text[:n_out], text[n_out:], int(head["code"]))
        except (TypeError, ValueError, KeyError, AttributeError):
            return None  # damaged: the run goes on as if there were none (and writes a new one)
    return None


# --- recording what a run reads ------------------------------------------------------------------

_ACTIVE: Recorder | None = None
_HOOKED = False


def _audit(event: str, args: tuple) -> None:
    rec = _ACTIVE
    if rec is None:
        return
    if event == "open":
        rec.add(args[0], READ)
    elif event in ("os.listdir", "os.scandir"):
        rec.add("." if args[0] is None else args[0], LIST)
    elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork"):
        rec.complete = False


def _forked() -> None:
    if _ACTIVE is not None:  # a pool's workers read files this process does not see
        _ACTIVE.complete = False


class _Stat:
    """``os.stat``/``os.lstat`` while a run records: the path whose status was asked is an input."""

    def __init__(self, real, how: int):
        self.real, self.how = real, how

    def __call__(self, path, *args, **kwargs):
        rec = _ACTIVE
        if rec is not None:
            rec.add(path, self.how if kwargs.get("follow_symlinks", True) else LSTAT)
        return self.real(path, *args, **kwargs)


class Recorder:
    """The inputs of one run (a context manager) and what it printed."""

    def __init__(self):
        self.seen: dict[str, int] = {}  # path -> how the run used it (READ | LIST | STAT | LSTAT)
        self.complete = True
        self.out: list[str] = []
        self.err: list[str] = []
        self.start_ns = 0
        self._saved = None
        self.dirs: list[Path] = []  # the result caches of the run's configurations
        self.files: list = []  # their projects' files (a pool's workers read them: inputs too)
        self.done = False  # the run reached an answer that may be kept (``answered``)

    def __enter__(self) -> Recorder:
        global _ACTIVE, _HOOKED
        import time

        if not _HOOKED:
            sys.addaudithook(_audit)
            os.register_at_fork(before=_forked)
            _HOOKED = True
        self.start_ns = time.time_ns()
        self._saved = (os.stat, os.lstat)
        os.stat, os.lstat = _Stat(os.stat, STAT), _Stat(os.lstat, LSTAT)
        _ACTIVE = self
        return self

    def __exit__(self, *exc) -> None:
        global _ACTIVE
        _ACTIVE = None
        if self._saved is not None:
            os.stat, os.lstat = self._saved
            self._saved = None

    def add(self, path, how: int) -> None:
        if isinstance(path, (str, bytes, os.PathLike)):  # (not a file descriptor)
            name = os.fsdecode(path)
            # (an absolute path with no ".", ".." or empty part is its own abspath: the engine's
            # thousands of stats of the migrations skip the normalisation)
            if not (name[:1] == os.sep and _PLAIN.match(name)):
                name = os.path.abspath(name)
            self.seen[name] = self.seen.get(name, 0) | how

    def kept(self, directory: Path | None, files) -> None:
        """One configuration's part of the run: its result cache's directory and its files."""
        if directory is not None:
            self.dirs.append(directory)
        self.files.extend(files)

    def answered(self) -> None:
        self.done = True

    def note(self, line: str) -> None:
        """A line printed on stderr."""
        self.err.append(line + "\n")

    def tee(self, stream):
        """``stream``, keeping a copy of what is written to it."""
        return _Tee(stream, self.out)

    def store(self, request_key: str, code: int, config_path: str | None = None) -> bool:
        """Keep the answer where ``lookup`` looks first among the run's cache directories (else in
        the per-user fallback), with the status of every input and of every project file. False
        when the answer cannot be kept (see the module's docstring)."""
        import time

        if not (self.done and self.complete) or code not in (0, 1):
            return False
        places = _places(Path.cwd(), config_path)
        own = [p for p in places if p in self.dirs]
        where = own[0] if own else places[-1]
        ignored = _ignored([*self.dirs, *places])
        inputs: dict[str, int] = {str(f): READ for f in self.files}
        for path, how in self.seen.items():
            if not os.path.join(path, "").startswith(ignored):
                inputs[path] = inputs.get(path, 0) | how
        recent = time.time_ns() - RACY_NS
        # the files this run opened first (a changed file is among them: the others' digests came
        # from the stat memo): one just written makes the answer untrusted, found before the
        # status of thousands of others is asked
        for path, how in self.seen.items():
            if how & READ and path in inputs:
                status = _status(path, inputs[path])
                if status is not None and len(status) == 6 and max(status[2], status[3]) >= min(recent, self.start_ns):
                    return False
        rows = []
        for path in sorted(inputs):
            how = inputs[path]
            status = _status(path, how)
            if status is not None and len(status) == 6 and max(status[2], status[3]) >= min(recent, self.start_ns):
                return False  # changed while the run read it, or just before: not trusted
            rows.append([path, how, status])
        head = json.dumps(
            {
                "format": FORMAT,
                "code": code,
                "out": sum(map(len, self.out)),
                "err": sum(map(len, self.err)),
                "inputs": rows,
            },
            separators=(",", ":"),
        )
        from .cache import Cache

        def data():  # (the report a piece at a time, as it was printed: never a second copy of it whole)
            yield head.encode() + b"\n"
            for part in (*self.out, *self.err):
                yield part.encode("utf-8", "surrogateescape")

        for d in dict.fromkeys((where, places[-1])):
            try:
                Cache._write(d, PREFIX + request_key, data(), prune=_ANSWER, keep=KEEP)
                return True
            except OSError:
                continue
        return False


def _ignored(cache_dirs: list[Path]) -> tuple[str, ...]:
    """Path prefixes that are not inputs: the cache's own directories, migcheck's package and the
    Python installation's (its code and the parsers' are in the key)."""
    import sysconfig

    roots = {
        os.path.dirname(os.path.abspath(__file__)),
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        *(p for p in (sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")) if p),
        *(str(d) for d in cache_dirs),
    }
    return tuple(os.path.join(os.path.abspath(r), "") for r in roots)


class _Tee:
    """A text stream that also keeps what is written to it."""

    def __init__(self, stream, parts: list[str]):
        self._stream, self._parts = stream, parts

    def write(self, s: str) -> int:
        self._parts.append(s)
        return self._stream.write(s)

    def __getattr__(self, name):
        return getattr(self._stream, name)
