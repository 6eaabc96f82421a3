"""Per-request limits the route class enforces, so one member cannot slow every tenant:
a request body's size, and how many requests one caller runs at once.

Both are checked before any query runs: an oversized body is refused before it is read in full,
and a caller past their concurrency limit waits briefly for a free slot, then gets a 429.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request

from ..auth.principal import Principal

__all__ = ["BodyTooLarge", "ConcurrencyLimiter", "TooManyQueries", "caller_key", "read_body"]


class BodyTooLarge(Exception):
    """The request body is larger than ``limit`` bytes (an HTTP 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than {limit} bytes")
        self.limit = limit


class TooManyQueries(Exception):
    """The caller already runs as many requests as allowed (an HTTP 429)."""


async def read_body(request: Request, *, limit: int) -> None:
    """Read the body into ``request`` (where ``request.body()`` and forms find it) or raise
    ``BodyTooLarge`` as soon as it exceeds ``limit`` bytes.

    A declared ``Content-Length`` is checked first, so nothing of an announced 7 MB body is read;
    the streamed bytes are counted too, for chunked bodies and lying headers.
    """
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    # Starlette's own cache of the body: ``body()``, ``json()`` and ``form()`` read it from here.
    request._body = b"".join(chunks)


def caller_key(principal: Principal | None, request: Request) -> str | None:
    """Whose budget a request spends: a user (with all their sessions and API tokens), a
    token without a user, or a share link. ``None``: not limited (e.g. the login page)."""
    if principal is not None and principal.user is not None:
        return f"user:{principal.user.id}"
    if principal is not None and principal.token is not None:
        owner = principal.token.user_id
        return f"user:{owner}" if owner else f"token:{principal.token.id}"
    slug = request.path_params.get("slug")
    if isinstance(slug, str) and slug:
        return f"share:{slug}"
    return None


class ConcurrencyLimiter:
    """At most ``per_key`` requests at once per caller key; a request past that waits up to
    ``wait_s`` seconds for a slot, then ``TooManyQueries``.

    In-process: each dashboard process keeps its own count (like the result cache).
    """

    def __init__(self, *, per_key: int, wait_s: float) -> None:
        self.per_key = per_key
        self.wait_s = wait_s
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        """Hold one of ``key``'s slots for the duration of the block."""
        semaphore = self._slots.setdefault(key, asyncio.Semaphore(self.per_key))
        self._users[key] = self._users.get(key, 0) + 1
        try:
            if not semaphore.locked():
                await semaphore.acquire()
            else:
                try:
                    await asyncio.wait_for(semaphore.acquire(), timeout=self.wait_s)
                except TimeoutError:
                    raise TooManyQueries from None
            try:
                yield
            finally:
                semaphore.release()
        finally:
            # Forget idle callers, so the table holds only who is querying right now.
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._slots[key]
