"""Small in-process caches, so a dashboard view costs few D1 requests.

Cloudflare allows 1,200 REST requests per 5 minutes per API token, so only a store that declares
itself ``rate_limited`` (D1 over HTTP) gets caches; a local SQLite file costs nothing to read.

- ``ResultCache``: query results. A result is kept for a short time when its period reaches today
  (its numbers still move) and for long when the period is closed (they change only through late
  events, which are rare). Keys are the whole ``Query`` value, which pins "today".
- ``LookupCache``: what every request looks up before its query — the session behind a cookie and
  the site behind a domain — for ``LOOKUP_TTL_S``. Writes made in this process evict their entries
  at once; writes made elsewhere show within the TTL (see docs/security.md).
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .query import Query

__all__ = [
    "CLOSED_TTL_S",
    "LOOKUP_TTL_S",
    "OPEN_TTL_S",
    "LookupCache",
    "ResultCache",
    "cache_for",
    "lookup_cache_for",
]

OPEN_TTL_S = 30.0
CLOSED_TTL_S = 3600.0
LOOKUP_TTL_S = 30.0
_V = TypeVar("_V")


class ResultCache:
    """Query → result shape, least recently used first out, with a TTL per entry."""

    def __init__(
        self,
        *,
        max_entries: int = 512,
        open_ttl_s: float = OPEN_TTL_S,
        closed_ttl_s: float = CLOSED_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._max = max_entries
        self._open_ttl = open_ttl_s
        self._closed_ttl = closed_ttl_s
        self._clock = clock

    @staticmethod
    def key(query: Query) -> str:
        """The cache key of ``query``: its canonical JSON."""
        return query.model_dump_json()

    def get(self, query: Query) -> dict[str, Any] | None:
        """The cached result of ``query``, or None when absent or expired."""
        key = self.key(query)
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, query: Query, result: dict[str, Any]) -> None:
        """Keep ``result`` for ``query``, for a short time if its period reaches today."""
        ttl = self._open_ttl if query.includes_today() else self._closed_ttl
        self._entries[self.key(query)] = (self._clock() + ttl, result)
        self._entries.move_to_end(self.key(query))
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()


class LookupCache(Generic[_V]):
    """key → value for ``ttl_s`` seconds, least recently used first out."""

    def __init__(
        self,
        *,
        max_entries: int = 1024,
        ttl_s: float = LOOKUP_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, tuple[float, _V]] = OrderedDict()
        self._max = max_entries
        self._ttl = ttl_s
        self._clock = clock

    def get(self, key: str) -> _V | None:
        """The value kept for ``key``, or None when absent or expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: str, value: _V) -> None:
        """Keep ``value`` for ``key`` for the TTL."""
        self._entries[key] = (self._clock() + self._ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def discard(self, matches: Callable[[str, _V], bool]) -> None:
        """Forget every entry for which ``matches(key, value)`` is true."""
        for key in [k for k, (_, v) in self._entries.items() if matches(k, v)]:
            del self._entries[key]

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()


_CACHES: weakref.WeakKeyDictionary[Any, ResultCache] = weakref.WeakKeyDictionary()
_LOOKUPS: weakref.WeakKeyDictionary[Any, dict[str, LookupCache[Any]]] = (
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


def lookup_cache_for(store: object, name: str) -> LookupCache[Any] | None:
    """The lookup cache ``name`` (``"sessions"``, ``"sites"``) of ``store``; None unless the store
    is ``rate_limited`` (a SQLite file answers fresh, and its revocations act at once)."""
    if not _rate_limited(store):
        return None
    caches = _LOOKUPS.setdefault(store, {})
    cache = caches.get(name)
    if cache is None:
        cache = caches[name] = LookupCache()
    return cache
