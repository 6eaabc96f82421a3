"""Fixed-window request counters kept in the store, so every app process shares them.

One upsert per request: the row for ``key`` counts requests in the window that started at
``window_start``; a new window resets it. Past ``limit``, ``RateLimited`` says when the window ends.
About one hit in a hundred also deletes counters of windows over a day old, in the same round
trip, so the table holds only recent clients and tokens.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..store import Statement, Store
from .crypto import now_ms
from .errors import RateLimited

__all__ = ["PURGE_CHANCE", "hit", "purge_rate_limits"]

_UPSERT = """
INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN rate_limits.window_start = excluded.window_start
               THEN rate_limits.count + 1 ELSE 1 END,
  window_start = excluded.window_start
RETURNING count
"""


PURGE_CHANCE = 0.01
_PURGE_AFTER_S = 86400


def _purge_statement(now: int, older_than_s: int) -> Statement:
    return ("DELETE FROM rate_limits WHERE window_start < ?", [now - older_than_s * 1000])


async def hit(
    store: Store, *, key: str, limit: int, window_s: int, now: int | None = None,
    purge_chance: float = PURGE_CHANCE, extra: Sequence[Statement] = (),
) -> None:
    """Count one request for ``key``; raise ``RateLimited`` once ``limit`` is exceeded.

    ``extra`` statements (the audit log's token counter) ride in the same round trip.
    """
    now = now_ms() if now is None else now
    window_ms = window_s * 1000
    start = now - now % window_ms
    upsert: Statement = (_UPSERT, [key, start])
    # Old counters are cleared on the way, batched with the upsert: no extra D1 request.
    statements = [upsert, *extra]
    if random.random() < purge_chance:  # noqa: S311 - sampling, not a secret
        statements.append(_purge_statement(now, _PURGE_AFTER_S))
    if len(statements) > 1:
        rows = (await store.batch(statements))[0]
    else:
        rows = await store.execute(*upsert)
    count = int(rows[0]["count"]) if rows else 1
    if count > limit:
        # Seconds until the window ends, rounded up: what Retry-After promises.
        raise RateLimited(retry_after=-(-(start + window_ms - now) // 1000))


async def purge_rate_limits(store: Store, *, older_than_s: int = _PURGE_AFTER_S) -> None:
    """Delete counters whose window started long ago (they can never limit again)."""
    await store.execute(*_purge_statement(now_ms(), older_than_s))
