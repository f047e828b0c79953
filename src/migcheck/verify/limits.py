"""How long ``migcheck verify`` lets a statement, and one run of a file, take.

A migration that sleeps (``SELECT pg_sleep(100000)``), loops or waits on a lock forever would hold
a CI job until it is killed. Each connection that runs a file gets a watchdog thread: when the
statement running has taken longer than ``verify-statement-timeout``, or the file's run longer
than ``verify-timeout`` (configuration keys, in seconds, or strings such as "500ms", "30s",
"5min"; false: no limit), it cancels the query (PostgreSQL's cancel request, as Ctrl-C in psql
sends). The statement then fails with SQLSTATE 57014, and ``explain`` turns that failure into one
that says which limit fired and how to raise it, reported like any other failure of that step.

A watchdog rather than the server's ``statement_timeout``: a migration may set that itself
(``SET statement_timeout = 0`` starts every pg_dump file), and nothing in the file can turn the
watchdog off.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass

DEFAULT_STATEMENT = 60.0  # seconds
DEFAULT_FILE = 300.0


@dataclass(frozen=True)
class Limits:
    statement: float | None = DEFAULT_STATEMENT
    file: float | None = DEFAULT_FILE


def of(config) -> Limits:
    return Limits(
        getattr(config, "verify_statement_timeout", DEFAULT_STATEMENT), getattr(config, "verify_timeout", DEFAULT_FILE)
    )


def shown(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:g} s"


_WATCHED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Watchdog:
    """Cancels what ``conn`` runs when a limit is passed. ``statement()`` before each statement;
    ``close()`` at the end."""

    def __init__(self, conn, limits: Limits):
        self.conn = conn
        self.limits = limits
        self.fired: str | None = None  # "statement" or "file"
        now = time.monotonic()
        self._file_end = now + limits.file if limits.file else None
        self._statement_end: float | None = None
        self._cv = threading.Condition()
        self._closed = False
        self._thread = None
        if limits.file or limits.statement:
            _WATCHED[conn] = self
            self._thread = threading.Thread(target=self._watch, name="migcheck-verify-watchdog", daemon=True)
            self._thread.start()

    def statement(self) -> None:
        if self.limits.statement:
            with self._cv:
                self._statement_end = time.monotonic() + self.limits.statement
                self._cv.notify()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()
        if self._thread is not None:
            self._thread.join()

    def _watch(self) -> None:
        with self._cv:
            while not self._closed:
                ends = [(e, which) for e, which in ((self._statement_end, "statement"), (self._file_end, "file")) if e]
                if not ends:
                    self._cv.wait()
                    continue
                end, which = min(ends)
                left = end - time.monotonic()
                if left > 0:
                    self._cv.wait(left)
                    continue
                self.fired = which
                break
        if self.fired and not self._closed:
            cancel = getattr(self.conn, "cancel_safe", None) or self.conn.cancel
            try:
                cancel()
            except Exception:  # the connection is gone: the statement ended anyway
                pass


def watch(conn, config) -> Watchdog:
    return Watchdog(conn, of(config))


def explain(conn, failure):
    """``failure`` (a ``runner.Failure``) as a timeout when the watchdog of ``conn`` cancelled
    the statement."""
    dog = _WATCHED.get(conn)
    if dog is None or dog.fired is None or failure.sqlstate != "57014":
        return failure
    if dog.fired == "statement":
        failure.message = (
            f"the statement was stopped after {shown(dog.limits.statement)}, verify's limit for one "
            "statement (`verify-statement-timeout`)"
        )
        key = "verify-statement-timeout"
    else:
        failure.message = (
            f"the file was stopped after {shown(dog.limits.file)}, verify's limit for one run of a file "
            "(`verify-timeout`)"
        )
        key = "verify-timeout"
    failure.sqlstate = None
    failure.detail = None
    failure.hint = (
        f"a statement that waits, sleeps or loops would hold every deploy as long; if it really needs "
        f"longer on this data, raise `{key}` in the configuration"
    )
    return failure
