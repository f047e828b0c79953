"""Where the PostgreSQL server comes from.

- ``TempCluster``: a private cluster: ``initdb`` into a temporary directory (``--auth=trust
  --no-sync``), ``postgres`` started on a Unix socket in that directory only
  (``listen_addresses=''``, ``fsync=off``), stopped and deleted at the end, whatever the end is
  (normal return, exception, Ctrl-C, SIGTERM/SIGHUP; see ``_Cleanup``). PostgreSQL refuses to
  run as root: when the effective uid is 0, the server runs as the ``postgres`` user and the
  temporary directory is owned by it.
- ``DsnServer``: an existing server given as a connection string. migcheck creates a fresh
  database with a random name there, works only in it, and drops it at the end.

Both hand out databases through ``Server.database()``, a context manager that creates a database
with a random name and drops it on exit, so one cluster can serve many runs (the tests share one).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ..config import ConfigError
from ..dsnutil import redact

SERVER_USER = "postgres"  # the unprivileged user the server runs as when migcheck runs as root
_SOCKET_NAME = ".s.PGSQL.5432"
_SUN_PATH_MAX = 107  # sizeof(sockaddr_un.sun_path) - 1 on Linux; macOS has 103


class VerifyError(ConfigError):
    """A set-up problem of ``migcheck verify`` (no server binaries, no driver, cannot connect):
    exit 2 with this message, like any usage or configuration error."""


# --- finding the server binaries ---------------------------------------------------------


def _version_key(path: Path) -> tuple:
    nums = re.findall(r"\d+", str(path))
    return tuple(int(n) for n in nums) if nums else (0,)


def find_bindir() -> Path:
    """The directory holding ``initdb`` and ``postgres``: ``MIGCHECK_PG_BINDIR``, then
    ``pg_config --bindir``, then ``initdb`` on ``PATH``, then the newest of the usual
    distribution directories (``/usr/lib/postgresql/*/bin`` and friends)."""
    tried: list[str] = []

    def ok(d: Path) -> bool:
        return (d / "initdb").is_file() and (d / "postgres").is_file()

    env = os.environ.get("MIGCHECK_PG_BINDIR")
    if env:
        if ok(Path(env)):
            return Path(env)
        raise VerifyError(f"MIGCHECK_PG_BINDIR={env} does not hold initdb and postgres")
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out:
            tried.append(out)
            if ok(Path(out)):
                return Path(out)
    initdb = shutil.which("initdb")
    if initdb:
        d = Path(os.path.realpath(initdb)).parent
        tried.append(str(d))
        if ok(d):
            return d
    patterns = [
        "/usr/lib/postgresql/*/bin",
        "/usr/pgsql-*/bin",
        "/usr/local/pgsql/bin",
        "/opt/homebrew/opt/postgresql@*/bin",
        "/usr/local/opt/postgresql@*/bin",
        "/opt/homebrew/opt/postgresql/bin",
        "/usr/local/opt/postgresql/bin",
        "/Applications/Postgres.app/Contents/Versions/*/bin",
    ]
    import glob

    found = sorted((Path(p) for pat in patterns for p in glob.glob(pat)), key=_version_key, reverse=True)
    for d in found:
        if ok(d):
            return d
    raise VerifyError(
        "no PostgreSQL server binaries found (looked for initdb and postgres via pg_config, PATH and "
        "/usr/lib/postgresql/*/bin): install the server (Debian/Ubuntu: `apt-get install postgresql`, "
        "macOS: `brew install postgresql`), set MIGCHECK_PG_BINDIR, or use an existing server with --dsn URL"
    )


def binaries_available() -> bool:
    try:
        find_bindir()
        return True
    except VerifyError:
        return False


# --- clean-up whatever happens ------------------------------------------------------------


class _Cleanup:
    """Stops every live cluster at interpreter exit, and, while a cluster or a scratch database
    is in use, turns SIGTERM and SIGHUP into SystemExit so that ``finally`` blocks run and clean
    up (SIGINT already raises KeyboardInterrupt). Handlers someone else installed are left alone."""

    live: set = set()
    _depth = 0
    _atexit = False
    _previous: dict = {}

    @classmethod
    def enter(cls, cluster: TempCluster | None = None) -> None:
        if not cls._atexit:
            atexit.register(cls.stop_all)
            cls._atexit = True
        if cls._depth == 0 and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
                if sig is None:
                    continue
                with contextlib.suppress(ValueError, OSError):
                    if signal.getsignal(sig) in (signal.SIG_DFL, None):
                        cls._previous[sig] = signal.signal(sig, cls._on_signal)
        cls._depth += 1
        if cluster is not None:
            cls.live.add(cluster)

    @classmethod
    def leave(cls, cluster: TempCluster | None = None) -> None:
        if cluster is not None:
            cls.live.discard(cluster)
        cls._depth = max(cls._depth - 1, 0)
        if cls._depth == 0 and threading.current_thread() is threading.main_thread():
            for sig, prev in list(cls._previous.items()):
                with contextlib.suppress(ValueError, OSError, TypeError):
                    if signal.getsignal(sig) == cls._on_signal:
                        signal.signal(sig, prev)
                del cls._previous[sig]

    @staticmethod
    def _on_signal(signum, frame):
        raise SystemExit(128 + signum)

    @classmethod
    def stop_all(cls) -> None:
        for c in list(cls.live):
            c.stop()


@contextlib.contextmanager
def _no_interrupts() -> Iterator[None]:
    """Ignore SIGINT/SIGTERM while cleaning up, so a second Ctrl-C cannot leave a server behind."""
    saved = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError, OSError):
                saved[sig] = signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        for sig, prev in saved.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, prev)


def _server_preexec(ids: tuple[int, int] | None):
    """Linux, single-threaded callers: a child set-up that switches to the server user itself and
    then asks for SIGQUIT (immediate shutdown) when its parent, migcheck, dies, even by ``kill -9``.
    The death signal must be set after the switch (changing credentials clears it), which is why
    the switch is done here rather than with Popen's ``user``/``group`` (applied after preexec_fn).
    None when that is not possible: the caller then uses ``user``/``group`` and lives without it.
    """
    if not sys.platform.startswith("linux") or threading.active_count() != 1:
        return None  # preexec_fn is not safe with other threads around
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here, not in the child
    except (OSError, AttributeError):
        return None

    def setup() -> None:  # pragma: no cover - runs in the child, between fork and exec
        if ids is not None:
            os.setgroups([])
            os.setgid(ids[1])
            os.setuid(ids[0])
        prctl(1, int(signal.SIGQUIT))  # PR_SET_PDEATHSIG

    return setup


# --- servers -----------------------------------------------------------------------------


class Server:
    """Something that can create and drop databases."""

    description = "PostgreSQL"
    created_roles_note: str | None = None

    def admin_conninfo(self) -> str:
        raise NotImplementedError

    def _said(self, exc: BaseException) -> str:
        """The server's or the driver's message, on one line, without the connection's password."""
        return redact(exc, self.admin_conninfo())

    def conninfo(self, dbname: str) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(self.admin_conninfo(), dbname=dbname)

    def server_version(self) -> int:
        import psycopg

        try:
            with psycopg.connect(self.admin_conninfo(), autocommit=True, connect_timeout=10) as conn:
                return conn.info.server_version
        except psycopg.Error as exc:
            raise VerifyError(f"cannot connect to {self.description}: {self._said(exc)}") from None

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """Create a database with a random name, yield its connection string, drop it at the end."""
        import psycopg
        from psycopg import sql

        name = "migcheck_verify_" + secrets.token_hex(6)
        try:
            admin = psycopg.connect(self.admin_conninfo(), autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise VerifyError(f"cannot connect to {self.description}: {self._said(exc)}") from None
        _Cleanup.enter()
        try:
            version = admin.info.server_version
            strategy = sql.SQL(" STRATEGY = FILE_COPY") if version >= 150000 else sql.SQL("")
            roles_before = {r for (r,) in admin.execute("SELECT rolname FROM pg_roles")}
            members_before = _memberships(admin)
            try:
                admin.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'{}").format(
                        sql.Identifier(name), strategy
                    )
                )
            except psycopg.Error as exc:
                raise VerifyError(
                    f"cannot create a scratch database on {self.description}: {self._said(exc)} "
                    "(the user needs the CREATEDB privilege)"
                ) from None
        except BaseException:
            admin.close()
            _Cleanup.leave()
            raise
        try:
            yield self.conninfo(name)
        finally:
            with _no_interrupts():
                try:
                    force = sql.SQL(" WITH (FORCE)") if version >= 130000 else sql.SQL("")
                    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}{}").format(sql.Identifier(name), force))
                    self._revoke_new_memberships(admin, members_before)
                    self._drop_new_roles(admin, roles_before)
                except psycopg.Error:
                    pass
                finally:
                    admin.close()
                    _Cleanup.leave()

    # Roles and memberships are cluster-wide. On a cluster migcheck owns, the ones a run created
    # (preludes, migrations) are dropped again once the database that used them is gone. On a
    # shared server (``DsnServer``), only those the preludes create (``owned``): roles and
    # memberships others create meanwhile are theirs (migrations that would create some are
    # refused there before anything runs: ``guard``).
    owned = None  # guard.Owned, or None: every new role and membership is the run's

    def _mine(self, new: set, names) -> list:
        return sorted(new if self.owned is None else {x for x in new if x in names})

    def _revoke_new_memberships(self, admin, before: set[tuple[str, str]]) -> None:
        import psycopg
        from psycopg import sql

        new = _memberships(admin) - before
        for role, member in self._mine(new, self.owned.grants if self.owned is not None else ()):
            try:
                admin.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(role), sql.Identifier(member)))
            except psycopg.Error:
                pass

    def _drop_new_roles(self, admin, before: set[str]) -> None:
        import psycopg
        from psycopg import sql

        after = {r for (r,) in admin.execute("SELECT rolname FROM pg_roles")}
        for role in self._mine(after - before, self.owned.roles if self.owned is not None else ()):
            try:
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
            except psycopg.Error:
                pass  # it owns objects in another database now: not ours to clean


class TempCluster(Server):
    """A private, throwaway PostgreSQL cluster (see the module doc)."""

    description = "the temporary PostgreSQL cluster"

    def __init__(self, bindir: Path | None = None, log=None):
        self.bindir = bindir
        self.tmp: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.timings: dict[str, float] = {}
        self._log = log  # callable(str) for progress messages, or None
        self._ids: tuple[int, int] | None = None  # (uid, gid) the server runs as, when root
        self._entered = False

    # context manager: start on enter, stop on exit
    def __enter__(self) -> TempCluster:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def socket_dir(self) -> Path:
        assert self.tmp is not None
        return self.tmp

    @property
    def data_dir(self) -> Path:
        assert self.tmp is not None
        return self.tmp / "data"

    def admin_conninfo(self) -> str:
        return f"host={self.socket_dir} port=5432 user=postgres dbname=postgres"

    def conninfo(self, dbname: str) -> str:
        return f"host={self.socket_dir} port=5432 user=postgres dbname={dbname}"

    def _run_as(self) -> tuple[int, int] | None:
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return None
        import pwd

        try:
            pw = pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise VerifyError(
                f"PostgreSQL refuses to run as root and there is no '{SERVER_USER}' user to run it as: "
                f"create one (`useradd --system --user-group {SERVER_USER}`), run migcheck as a normal user, "
                "or use an existing server with --dsn URL"
            ) from None
        if pw.pw_uid == 0:
            raise VerifyError(f"the '{SERVER_USER}' user has uid 0; PostgreSQL refuses to run as root")
        return pw.pw_uid, pw.pw_gid

    def _base_dir(self) -> str:
        """Where to create the temporary directory: the system temp dir, or /tmp when the server
        user cannot reach it or the socket path would be too long."""
        base = tempfile.gettempdir()
        if len(os.path.join(base, "migcheck-pg-xxxxxxxx", _SOCKET_NAME)) > _SUN_PATH_MAX - 4:
            base = "/tmp"
        if self._ids is not None and not _reachable_by_others(Path(base)):
            base = "/tmp"
        return base

    def _spawn_kw(self, server: bool = False) -> dict:
        kw: dict = {"cwd": str(self.tmp), "env": _server_env()}
        setup = _server_preexec(self._ids) if server else None
        if setup is not None:
            kw["preexec_fn"] = setup
        elif self._ids is not None:
            uid, gid = self._ids
            kw.update(user=uid, group=gid, extra_groups=[])
        return kw

    def start(self) -> None:
        if self.proc is not None:
            return
        bindir = self.bindir or find_bindir()
        self.bindir = bindir
        self._ids = self._run_as()
        _Cleanup.enter(self)
        self._entered = True
        try:
            self.tmp = Path(tempfile.mkdtemp(prefix="migcheck-pg-", dir=self._base_dir()))
            if self._ids is not None:
                os.chown(self.tmp, *self._ids)
            t0 = time.perf_counter()
            self._initdb(bindir)
            t1 = time.perf_counter()
            self._start_server(bindir)
            t2 = time.perf_counter()
            self.timings = {"initdb": t1 - t0, "start": t2 - t1}
        except BaseException:
            self.stop()
            raise

    def _initdb(self, bindir: Path) -> None:
        cmd = [
            str(bindir / "initdb"),
            "-D",
            str(self.data_dir),
            "--auth=trust",
            "--no-sync",
            "--username=postgres",
            "--encoding=UTF8",
            "--no-locale",
        ]
        try:
            r = subprocess.run(
                cmd, capture_output=True, text=True, timeout=300, start_new_session=True, **self._spawn_kw()
            )
        except OSError as exc:
            raise VerifyError(f"cannot run {cmd[0]}: {exc}") from None
        except subprocess.TimeoutExpired:
            raise VerifyError("initdb did not finish within 300 seconds") from None
        if r.returncode != 0:
            detail = (r.stderr or r.stdout).strip().splitlines()[-5:]
            raise VerifyError(f"initdb failed (exit {r.returncode}): " + " / ".join(detail))

    def _start_server(self, bindir: Path) -> None:
        log_path = self.tmp / "server.log"
        settings = {
            "listen_addresses": "",
            "unix_socket_directories": str(self.socket_dir),
            "port": "5432",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "autovacuum": "off",
            "max_connections": "40",
            "shared_buffers": "32MB",
            "max_wal_size": "1GB",
            "checkpoint_timeout": "1h",
            "wal_level": "minimal",
            "max_wal_senders": "0",
            "timezone": "UTC",
            "log_min_messages": "warning",
            "log_min_error_statement": "panic",
            "logging_collector": "off",
        }
        cmd = [str(bindir / "postgres"), "-D", str(self.data_dir)]
        for k, v in settings.items():
            cmd += ["-c", f"{k}={v}"]
        log = open(log_path, "wb")
        try:
            kw = self._spawn_kw(server=True)
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kw
            )
        except OSError as exc:
            raise VerifyError(f"cannot run {cmd[0]}: {exc}") from None
        finally:
            log.close()
        pidfile = self.data_dir / "postmaster.pid"
        deadline = time.monotonic() + 60
        delay = 0.005
        while True:
            if self.proc.poll() is not None:
                raise VerifyError(f"PostgreSQL did not start (exit {self.proc.returncode}): {self._log_tail()}")
            try:
                lines = pidfile.read_text().splitlines()
            except OSError:
                lines = []
            # line 8 of postmaster.pid is the status; "ready" once connections are accepted
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return
            if time.monotonic() > deadline:
                raise VerifyError(f"PostgreSQL did not become ready within 60 seconds: {self._log_tail()}")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.05)

    def _log_tail(self, n: int = 5) -> str:
        try:
            lines = (self.tmp / "server.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no server log)"
        return " / ".join(lines[-n:]) or "(empty server log)"

    def stop(self) -> None:
        """Stop the server (fast shutdown, then immediate, then kill) and delete the directory.
        Safe to call twice, and from atexit."""
        with _no_interrupts():
            proc, self.proc = self.proc, None
            if proc is not None and proc.poll() is None:
                for sig, wait in ((signal.SIGINT, 15), (signal.SIGQUIT, 5), (signal.SIGKILL, 5)):
                    try:
                        proc.send_signal(sig)
                        proc.wait(wait)
                        break
                    except subprocess.TimeoutExpired:
                        continue
                    except OSError:
                        break
            tmp, self.tmp = self.tmp, None
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            if self._entered:
                self._entered = False
                _Cleanup.leave(self)


class DsnServer(Server):
    """An existing server: migcheck only creates, uses and drops its own database there (and the
    roles and memberships its preludes create: ``owned``, set by the caller)."""

    def __init__(self, dsn: str):
        self.dsn = dsn
        from .guard import Owned

        self.owned = Owned()
        try:
            from psycopg.conninfo import conninfo_to_dict

            params = conninfo_to_dict(dsn)
        except ImportError:
            params = {}
        except Exception as exc:  # psycopg.ProgrammingError: a malformed connection string
            raise VerifyError(f"--dsn: not a valid connection string: {redact(exc, dsn)}") from None
        where = params.get("host") or "the local socket"
        self.description = f"the server at {where}" + (f":{params['port']}" if params.get("port") else "")

    def admin_conninfo(self) -> str:
        return self.dsn


# What initdb and the server need from the environment; nothing else of migcheck's (a CI job's
# tokens and secrets) reaches them, nor a program a migration might make the server run.
_ENV_KEEP = frozenset({"PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH"})


def _server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP or k.startswith("LC_")}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LC_ALL", "C")
    return env


def _memberships(admin) -> set[tuple[str, str]]:
    """(role, member) of every role membership of the server."""
    return {
        (r, m)
        for r, m in admin.execute(
            "SELECT g.rolname, u.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
            "JOIN pg_roles u ON u.oid = a.member"
        )
    }


def _reachable_by_others(path: Path) -> bool:
    """Can an unprivileged user traverse every directory down to ``path``?"""
    p = path.resolve()
    for d in (p, *p.parents):
        try:
            if not os.stat(d).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
