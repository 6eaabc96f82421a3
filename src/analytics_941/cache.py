"""The in-process caches in front of a store, so a dashboard view costs few D1 requests.

Cloudflare allows 1,200 REST requests per 5 minutes per API token, so only the D1 HTTP store
carries caches (``StoreCaches``, one set per store, as ``store.caches``); a local SQLite file
costs nothing to read.

- ``results``: query results. A result is kept for a short time when its period reaches today
  (its numbers still move) and for long when the period is closed (they change only through late
  events, which are rare). Keys are the whole ``Query`` value, which pins "today".
- ``sessions``, ``tokens``, ``sites``, ``site_list``, ``ingest_drops``: what requests look up
  besides their query — the session behind a cookie, the token behind a bearer secret, the site
  behind a domain, every site (the dashboard's site switcher) — for ``LOOKUP_TTL_S``. Writes
  made in this process evict their entries at once; writes made elsewhere show within the TTL
  (see docs/security.md).

Each is a ``TtlCache`` (``ttl_cache.py``), the one time-limited cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .ttl_cache import TtlCache

__all__ = [
    "CLOSED_TTL_S",
    "LOOKUP_MAX_ENTRIES",
    "LOOKUP_TTL_S",
    "OPEN_TTL_S",
    "ResultCache",
    "StoreCaches",
    "cache_for",
    "caches_of",
]

OPEN_TTL_S = 30.0
CLOSED_TTL_S = 3600.0
LOOKUP_TTL_S = 30.0
LOOKUP_MAX_ENTRIES = 1024


class _Query(Protocol):
    """What a result is kept under: a ``query.Query`` (not imported: the stores' modules, which
    the query's own imports reach, import this one)."""

    def model_dump_json(self) -> str: ...

    def includes_today(self) -> bool: ...


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
    def key(query: _Query) -> str:
        """The cache key of ``query``: its canonical JSON."""
        return query.model_dump_json()

    def get(self, query: _Query) -> dict[str, Any] | None:
        """The cached result of ``query``, or None when absent or expired."""
        return self._entries.get(self.key(query))

    def put(self, query: _Query, result: dict[str, Any]) -> None:
        """Keep ``result`` for ``query``, for a short time if its period reaches today."""
        ttl = self._open_ttl if query.includes_today() else None
        self._entries.put(self.key(query), result, ttl_s=ttl)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()


def _lookup() -> TtlCache[str, Any]:
    return TtlCache(ttl_s=LOOKUP_TTL_S, max_entries=LOOKUP_MAX_ENTRIES)


@dataclass(frozen=True, eq=False)
class StoreCaches:
    """The caches in front of one store, created with it and owned by it (``D1HttpStore.caches``):
    they live and die with the store, and two stores never share one.

    The lookups keep an answer for ``LOOKUP_TTL_S``; the ``forget_*`` methods are what a write in
    this process calls so that it shows on the very next request. Their entries are typed where
    they are put and read (auth, sites), which this module does not import.
    """

    results: ResultCache = field(default_factory=ResultCache)
    #: cookie hash → (auth.sessions.AuthSession, its user's roles)
    sessions: TtlCache[str, Any] = field(default_factory=_lookup)
    #: bearer secret hash → (auth.api_tokens.ApiToken, the roles it opens)
    tokens: TtlCache[str, Any] = field(default_factory=_lookup)
    #: domain → sites.Site; misses are never kept, so a site added elsewhere shows at once
    sites: TtlCache[str, Any] = field(default_factory=_lookup)
    site_list: TtlCache[str, Any] = field(default_factory=_lookup)
    #: site and period → the collector's drop counts (``web.dashboard.Rejections``)
    ingest_drops: TtlCache[str, Any] = field(default_factory=_lookup)

    def forget_sessions(self, *, token_hash: str | None = None, session_id: str | None = None,
                        user_id: str | None = None) -> None:
        """Evict one cookie hash, one session id, or every session of one user."""
        self.sessions.discard(lambda key, entry: key == token_hash or entry[0].id == session_id
                              or entry[0].user.id == user_id)

    def forget_tokens(self, *, token_id: str | None = None, user_id: str | None = None) -> None:
        """Evict one token, or every token of one user."""
        self.tokens.discard(lambda _key, entry: entry[0].id == token_id
                            or (user_id is not None and entry[0].user_id == user_id))

    def forget_user(self, user_id: str) -> None:
        """Evict whatever carries ``user_id``'s roles: their sessions and their tokens."""
        self.forget_sessions(user_id=user_id)
        self.forget_tokens(user_id=user_id)

    def forget_site(self, site_id: str) -> None:
        """Evict the site ``site_id`` under whatever domain it was kept, and the list of sites."""
        self.sites.discard(lambda _domain, site: site.id == site_id)
        self.site_list.clear()


def caches_of(store: object) -> StoreCaches | None:
    """The caches ``store`` carries, or None.

    Only the D1 HTTP store carries any (Cloudflare counts its REST requests): a local SQLite file
    costs nothing to read, answers fresh, and its revocations act at once in every process.
    """
    caches = getattr(store, "caches", None)
    return caches if isinstance(caches, StoreCaches) else None


def cache_for(store: object) -> ResultCache | None:
    """The result cache shared by every route reading ``store``, or None (see ``caches_of``)."""
    caches = caches_of(store)
    return caches.results if caches is not None else None
