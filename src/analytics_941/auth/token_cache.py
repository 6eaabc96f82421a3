"""The short-lived cache of bearer secret hash → (token, roles) that spares a polling API client
three D1 requests a call (the token, its use stamp, its owner's roles), leaving its rate-limit
count and the query; the twin of ``session_cache`` for cookies.

Only the rate-limited D1 HTTP store gets one (``cache.lookup_cache_for``); entries live
``cache.LOOKUP_TTL_S``, so ``last_used_at`` is stamped once per lookup, at most that often per
process. Revoking a token or changing its owner's roles in this process calls ``forget``, so
here it takes effect at once; a change made by another process takes effect within the TTL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from ..cache import lookup_cache_for

if TYPE_CHECKING:
    from .api_tokens import ApiToken
    from .roles import Role

__all__ = ["Entry", "cached", "forget", "remember"]

Entry: TypeAlias = "tuple[ApiToken, dict[str, Role]]"
_NAME = "tokens"


def cached(store: object, *, secret_hash: str) -> Entry | None:
    """The kept token and roles behind bearer secret hash ``secret_hash``, or None."""
    cache = lookup_cache_for(store, _NAME)
    entry: Entry | None = cache.get(secret_hash) if cache is not None else None
    return entry


def remember(store: object, *, secret_hash: str, entry: Entry) -> None:
    """Keep ``entry`` for ``secret_hash`` (a no-op unless the store is rate limited)."""
    cache = lookup_cache_for(store, _NAME)
    if cache is not None:
        cache.put(secret_hash, entry)


def forget(store: object, *, token_id: str | None = None, user_id: str | None = None) -> None:
    """Evict the entry of one token, or of every token of one user."""
    cache = lookup_cache_for(store, _NAME)
    if cache is None:
        return

    def matches(_key: str, entry: Entry) -> bool:
        token = entry[0]
        return token.id == token_id or (user_id is not None and token.user_id == user_id)

    cache.discard(matches)
