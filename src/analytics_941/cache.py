"""Small in-process caches, so a dashboard view costs few D1 requests.

Cloudflare allows 1,200 REST requests per 5 minutes per API token, so only a store that declares
itself ``rate_limited`` (D1 over HTTP) gets caches; a local SQLite file costs nothing to read.

- ``ResultCache``: query results. A result is kept for a short time when its period reaches today
  (its numbers still move) and for long when the period is closed (they change only through late
  events, which are rare). Keys are the whole ``Query`` value, which pins "today".
- lookup caches (``lookup_cache``): what every request looks up before its query — the session
  behind a cookie and the site behind a domain — for ``LOOKUP_TTL_S``. Writes made in this
  process evict their entries at once; writes made elsewhere show within the TTL (see
  docs/security.md).

Both are ``TtlCache`` (``ttl_cache.py``), the one time-limited cache.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .ttl_cache import TtlCache

if TYPE_CHECKING:
    from .query import Query

__all__ = [
    "CLOSED_TTL_S",
    "LOOKUP_TTL_S",
    "OPEN_TTL_S",
    "ResultCache",
    "cache_for",
    "lookup_cache_for",
]

OPEN_TTL_S = 30.0
CLOSED_TTL_S = 3600.0
LOOKUP_TTL_S = 30.0
LOOKUP_MAX_ENTRIES = 1024


class ResultCache:
    """Query → result shape: ``OPEN_TTL_S`` when its period reaches today, else ``CLOSED_TTL_S``."""

    def __init__(
        self,
        *,
        max_entries: int = 512,
        open_ttl_s: float = OPEN_TTL_S,
        closed_ttl_s: float = CLOSED_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: TtlCache[str, dict[str, Any]] = TtlCache(
            ttl_s=closed_ttl_s, max_entries=max_entries, clock=clock
        )
        self._open_ttl = open_ttl_s

    @staticmethod
    def key(query: Query) -> str:
        """The cache key of ``query``: its canonical JSON."""
        return query.model_dump_json()

    def get(self, query: Query) -> dict[str, Any] | None:
        """The cached result of ``query``, or None when absent or expired."""
        return self._entries.get(self.key(query))

    def put(self, query: Query, result: dict[str, Any]) -> None:
        """Keep ``result`` for ``query``, for a short time if its period reaches today."""
        ttl = self._open_ttl if query.includes_today() else None
        self._entries.put(self.key(query), result, ttl_s=ttl)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()


def lookup_cache() -> TtlCache[str, Any]:
    """A fresh lookup cache: ``LOOKUP_TTL_S``, at most ``LOOKUP_MAX_ENTRIES`` entries."""
    return TtlCache(ttl_s=LOOKUP_TTL_S, max_entries=LOOKUP_MAX_ENTRIES)


_CACHES: weakref.WeakKeyDictionary[Any, ResultCache] = weakref.WeakKeyDictionary()
_LOOKUPS: weakref.WeakKeyDictionary[Any, dict[str, TtlCache[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


def _rate_limited(store: object) -> bool:
    return bool(getattr(store, "rate_limited", False))


def cache_for(store: object) -> ResultCache | None:
    """The one result cache shared by every route reading ``store`` (created on first use).

    Only a store that declares itself ``rate_limited`` (D1 over HTTP) gets one: a local SQLite
    file costs nothing to read, and a cache there would only hide fresh events for its TTL.
    """
    if not _rate_limited(store):
        return None
    cache = _CACHES.get(store)
    if cache is None:
        cache = _CACHES[store] = ResultCache()
    return cache


def lookup_cache_for(store: object, name: str) -> TtlCache[str, Any] | None:
    """The lookup cache ``name`` (``"sessions"``, ``"sites"``) of ``store``; None unless the store
    is ``rate_limited`` (a SQLite file answers fresh, and its revocations act at once)."""
    if not _rate_limited(store):
        return None
    caches = _LOOKUPS.setdefault(store, {})
    cache = caches.get(name)
    if cache is None:
        cache = caches[name] = lookup_cache()
    return cache
