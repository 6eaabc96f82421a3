"""The site's goals as the dashboard reads them: kept for ``LOOKUP_TTL_S`` in front of a store that
carries caches (D1's REST API counts requests), like the site lookup.

Views read them only where they need them: the goal panel, and any view whose filters name a
goal. Goals added or removed in settings show within the TTL on a D1 store, at once on SQLite.
"""

from __future__ import annotations

from dataclasses import replace
from weakref import WeakKeyDictionary

from ...cache import LOOKUP_TTL_S, StoreCaches, caches_of
from ...goals import Goal, list_goals
from ...store import Store
from ...ttl_cache import TtlCache
from .state import DashboardState

__all__ = ["cached_goals", "forget_goals", "read_goals", "remember_goals", "with_goals"]

# One goal cache per store's caches: they live and die with the store.
_KEPT: WeakKeyDictionary[StoreCaches, TtlCache[str, tuple[Goal, ...]]] = WeakKeyDictionary()


def _kept(store: Store) -> TtlCache[str, tuple[Goal, ...]] | None:
    caches = caches_of(store)
    if caches is None:
        return None
    if caches not in _KEPT:
        _KEPT[caches] = TtlCache(ttl_s=LOOKUP_TTL_S, max_entries=1024)
    return _KEPT[caches]


def cached_goals(store: Store, site_id: str) -> tuple[Goal, ...] | None:
    """The site's goals if kept (None: not kept, or a store without caches)."""
    kept = _kept(store)
    return kept.get(site_id) if kept is not None else None


def remember_goals(store: Store, site_id: str, goals: tuple[Goal, ...]) -> None:
    """Keep the site's goals just read."""
    kept = _kept(store)
    if kept is not None:
        kept.put(site_id, goals)


def forget_goals(store: Store, site_id: str) -> None:
    """Drop the kept goals of a site: what a goal written in this process should call, so the
    dashboard shows it on the very next request."""
    kept = _kept(store)
    if kept is not None:
        kept.discard(lambda key, _goals: key == site_id)


async def read_goals(store: Store, site_id: str) -> tuple[Goal, ...]:
    """The site's goals, kept or read (and kept)."""
    goals = cached_goals(store, site_id)
    if goals is None:
        goals = tuple(await list_goals(store, site_id=site_id))
        remember_goals(store, site_id, goals)
    return goals


async def with_goals(state: DashboardState, store: Store, site_id: str) -> DashboardState:
    """``state`` carrying the site's goals when its filters name goals (else as it is)."""
    if not state.uses_goals:
        return state
    return replace(state, goals=await read_goals(store, site_id))
