"""The short-lived cache of cookie → (session, roles) that spares most requests a D1 round trip.

Only the rate-limited D1 HTTP store gets one (``cache.lookup_cache_for``); entries live
``cache.LOOKUP_TTL_S`` (30 s). Whatever ends a session or changes a user's roles in this process
calls ``forget``, so here it takes effect at once; a change made by another process, or directly
in D1, takes effect within the TTL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from ..cache import lookup_cache_for

if TYPE_CHECKING:
    from .roles import Role
    from .sessions import AuthSession

__all__ = ["Entry", "cached", "forget", "remember"]

Entry: TypeAlias = "tuple[AuthSession, dict[str, Role]]"
_NAME = "sessions"


def cached(store: object, *, token_hash: str) -> Entry | None:
    """The kept session and roles behind cookie hash ``token_hash``, or None."""
    cache = lookup_cache_for(store, _NAME)
    entry: Entry | None = cache.get(token_hash) if cache is not None else None
    return entry


def remember(store: object, *, token_hash: str, entry: Entry) -> None:
    """Keep ``entry`` for ``token_hash`` (a no-op unless the store is rate limited)."""
    cache = lookup_cache_for(store, _NAME)
    if cache is not None:
        cache.put(token_hash, entry)


def forget(store: object, *, token_hash: str | None = None, session_id: str | None = None,
           user_id: str | None = None) -> None:
    """Evict the entries of one cookie hash, one session id, or every session of a user."""
    cache = lookup_cache_for(store, _NAME)
    if cache is None:
        return

    def matches(key: str, entry: Entry) -> bool:
        session = entry[0]
        return key == token_hash or session.id == session_id or session.user.id == user_id

    cache.discard(matches)
