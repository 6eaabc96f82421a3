"""``TtlCache``: the one in-process, time-limited, size-bounded map every cache here is built on.

It knows nothing of stores, queries or sessions: what to keep, for how long and when to evict is
decided by its owner (``cache.StoreCaches``). Not thread-safe; the dashboard runs on one event
loop, and every method is synchronous, so no ``await`` can interleave inside one.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["TtlCache"]

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class TtlCache(Generic[_K, _V]):
    """key → value for ``ttl_s`` seconds (or a TTL per entry), least recently used first out.

    ``max_entries`` bounds memory; ``clock`` (monotonic seconds) is injectable so tests need no
    waiting. An entry expires when the clock reaches its deadline, not after it.
    """

    def __init__(
        self,
        *,
        ttl_s: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[_K, tuple[float, _V]] = OrderedDict()
        self._ttl = ttl_s
        self._max = max_entries
        self._clock = clock

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: _K) -> _V | None:
        """The value kept for ``key``, or None when absent or expired (then it is dropped)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        deadline, value = entry
        if deadline <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: _K, value: _V, *, ttl_s: float | None = None) -> None:
        """Keep ``value`` for ``key`` for ``ttl_s`` seconds (the cache's TTL when None)."""
        self._entries[key] = (self._clock() + (self._ttl if ttl_s is None else ttl_s), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def discard(self, matches: Callable[[_K, _V], bool]) -> int:
        """Forget every entry for which ``matches(key, value)`` is true; return how many."""
        doomed = [key for key, (_, value) in self._entries.items() if matches(key, value)]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
