"""``SqliteStore``: the ``Store`` over a SQLite file, typically the one ``wrangler dev`` persists.

workerd writes that file concurrently (WAL journal), so the store opens a short-lived connection
per call in a worker thread and never holds a lock between calls.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, ClassVar

from .exceptions import QueryTimeout, StoreError, StoreUnavailable
from .sql.compound import D1_COMPOUND_TERMS
from .sql.glob import GLOB_BYTES
from .store import Param, Row, Statement

__all__ = ["D1_LIMITS", "D1Connection", "SqliteStore"]

# How long to wait for workerd's write lock before giving up, in seconds.
_BUSY_TIMEOUT_S = 5.0
# SQLite calls the progress handler every this many virtual-machine steps (well under 1 ms).
_PROGRESS_STEPS = 10_000


# D1's limits (its documented ones, and five terms per compound SELECT, which workerd shows):
# 100 bound parameters, 100 KB statements, 32 arguments per function, 50-byte GLOB patterns,
# 2 MB values.
D1_LIMITS = ((sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, D1_COMPOUND_TERMS),
             (sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100),
             (sqlite3.SQLITE_LIMIT_SQL_LENGTH, 100_000),
             (sqlite3.SQLITE_LIMIT_FUNCTION_ARG, 32),
             (sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, GLOB_BYTES),
             (sqlite3.SQLITE_LIMIT_LENGTH, 2_000_000))


class D1Connection(sqlite3.Connection):
    """A SQLite connection holding ``D1_LIMITS``, so a statement D1 would refuse fails here too
    (locally, and on every connection the tests open)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for limit, value in D1_LIMITS:
            self.setlimit(limit, value)


def _decode_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


class SqliteStore:
    """Read (and, for the CLI, write) a SQLite file.

    ``path`` may be a callable returning the path, so locating wrangler's local file (which may
    not exist yet at startup) is deferred to the first query. ``query_timeout_s`` bounds one
    call (a statement or a batch): past it SQLite interrupts the work and ``QueryTimeout`` is
    raised; ``None`` means no bound (the CLI's long jobs).
    """

    #: Reading a local file is free and answers fresh: nothing is cached (see ``cache.caches_of``).
    caches: ClassVar[None] = None

    def __init__(
        self, *, path: Path | Callable[[], Path], query_timeout_s: float | None = None
    ) -> None:
        self._path = path
        self._timeout_s = query_timeout_s

    def _connect(self) -> sqlite3.Connection:
        path = self._path() if callable(self._path) else self._path
        try:
            # mode=rw: never create an empty database by accident (a typo would read as "no data").
            conn = sqlite3.connect(
                f"file:{path}?mode=rw", uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None,
                factory=D1Connection,
            )
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite database {path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        # One stored value that is not valid UTF-8 (e.g. a lone surrogate workerd wrote) must
        # never fail a whole report: decode it with U+FFFD instead of raising.
        conn.text_factory = _decode_text
        return conn

    def _run(self, statements: Sequence[Statement]) -> list[list[Row]]:
        with closing(self._connect()) as conn:
            if self._timeout_s is not None:
                deadline = time.monotonic() + self._timeout_s
                # A true return value makes SQLite abandon the statement ("interrupted").
                conn.set_progress_handler(lambda: time.monotonic() > deadline, _PROGRESS_STEPS)
            try:
                # One transaction per batch, like D1: a consistent snapshot and atomic writes.
                conn.execute("BEGIN")
                results = [
                    [dict(row) for row in conn.execute(sql, tuple(params)).fetchall()]
                    for sql, params in statements
                ]
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.set_progress_handler(None, 0)
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_INTERRUPT:
                    raise QueryTimeout(f"query stopped after {self._timeout_s} s") from exc
                raise StoreError(f"SQLite error: {exc}") from exc
        return results

    async def execute(self, sql: str, params: Sequence[Param] = ()) -> list[Row]:
        """Run one statement and return its rows as dicts."""
        (rows,) = await asyncio.to_thread(self._run, [(sql, params)])
        return rows

    async def batch(self, statements: Sequence[Statement]) -> list[list[Row]]:
        """Run several statements in one transaction; return the rows of each."""
        if not statements:
            return []
        return await asyncio.to_thread(self._run, list(statements))

    async def aclose(self) -> None:
        """Nothing to release: connections live only for the duration of a call."""
