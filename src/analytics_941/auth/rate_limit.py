"""Fixed-window request counters kept in the store, so every app process shares them.

One upsert per request: the row for ``key`` counts requests in the window that started at
``window_start``; a new window resets it. Past ``limit``, ``RateLimited`` says when the window ends.
"""

from __future__ import annotations

from ..store import Store
from .crypto import now_ms
from .errors import RateLimited

__all__ = ["hit", "purge_rate_limits"]

_UPSERT = """
INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN rate_limits.window_start = excluded.window_start
               THEN rate_limits.count + 1 ELSE 1 END,
  window_start = excluded.window_start
RETURNING count
"""


async def hit(
    store: Store, *, key: str, limit: int, window_s: int, now: int | None = None
) -> None:
    """Count one request for ``key``; raise ``RateLimited`` once ``limit`` is exceeded."""
    now = now_ms() if now is None else now
    window_ms = window_s * 1000
    start = now - now % window_ms
    rows = await store.execute(_UPSERT, [key, start])
    count = int(rows[0]["count"]) if rows else 1
    if count > limit:
        # Seconds until the window ends, rounded up: what Retry-After promises.
        raise RateLimited(retry_after=-(-(start + window_ms - now) // 1000))


async def purge_rate_limits(store: Store, *, older_than_s: int = 86400) -> None:
    """Delete counters whose window started long ago (they can never limit again)."""
    await store.execute(
        "DELETE FROM rate_limits WHERE window_start < ?", [now_ms() - older_than_s * 1000]
    )
