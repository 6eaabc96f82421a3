"""The site's imported days as the dashboard's note reads them (docs/imports.md): the ranges of
its finished imports, kept for ``LOOKUP_TTL_S`` in front of a store that carries caches (D1's
REST API counts requests), like its goals. An import or removal in this process forgets them
and the kept results, so the next view shows the change.
"""

from __future__ import annotations

from datetime import date
from weakref import WeakKeyDictionary

from ...cache import LOOKUP_TTL_S, StoreCaches, caches_of
from ...store import Row, Statement, Store
from ...ttl_cache import TtlCache

__all__ = [
    "forget_imports",
    "imported_in",
    "imports_statement",
    "kept_imports",
    "remember_imports",
]

Ranges = tuple[tuple[str, str], ...]
_KEPT: WeakKeyDictionary[StoreCaches, TtlCache[str, Ranges]] = WeakKeyDictionary()


def _kept(store: Store) -> TtlCache[str, Ranges] | None:
    caches = caches_of(store)
    if caches is None:
        return None
    if caches not in _KEPT:
        _KEPT[caches] = TtlCache(ttl_s=LOOKUP_TTL_S, max_entries=1024)
    return _KEPT[caches]


def kept_imports(store: Store, site_id: str) -> Ranges | None:
    """The site's import ranges if kept (None: not kept, or a store without caches)."""
    kept = _kept(store)
    return kept.get(site_id) if kept is not None else None


def imports_statement(site_id: str) -> Statement:
    """The statement reading the site's finished imports' ranges (``ranges_of`` its rows)."""
    return ("SELECT first_day, last_day FROM imports WHERE site_id = ?1 AND status = 'done' "
            "ORDER BY first_day", [site_id])


def remember_imports(store: Store, site_id: str, rows: list[Row]) -> Ranges:
    """The ranges in ``rows`` (of ``imports_statement``), kept for the next views."""
    ranges = tuple((str(r["first_day"]), str(r["last_day"])) for r in rows)
    kept = _kept(store)
    if kept is not None:
        kept.put(site_id, ranges)
    return ranges


def forget_imports(store: Store, site_id: str) -> None:
    """After an import or a removal: drop the kept ranges and the kept results."""
    kept = _kept(store)
    if kept is not None:
        kept.discard(lambda key, _ranges: key == site_id)
    caches = caches_of(store)
    if caches is not None:
        caches.results.clear()


def imported_in(ranges: Ranges, first: date, last: date) -> tuple[str, str] | None:
    """The first and last imported day within ``first`` .. ``last``, or None."""
    met = [(max(a, first.isoformat()), min(b, last.isoformat())) for a, b in ranges
           if a <= last.isoformat() and b >= first.isoformat()]
    if not met:
        return None
    return min(a for a, _ in met), max(b for _, b in met)
