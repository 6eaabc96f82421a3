"""``Stores``: the home database and the data databases a deployment binds (docs/databases.md).

The home store (binding ``DB``) holds sites, accounts, the audit log and drops, and the analytics
data of the sites placed in it; each data database (``DB_2``, ``DB_3``…) holds the analytics data
of its own sites. Every read of a site's events, sessions or rollups goes to ``for_site(site)``;
everything else to ``home``. Data stores are opened on first use, one per binding, each owning
its caches as the home store does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .exceptions import DatabaseUnknown
from .store import HOME, Store, open_store

if TYPE_CHECKING:
    from .settings import Settings
    from .sites import Site

__all__ = ["HOME", "Stores", "open_stores"]


class Stores:
    """The home store and, opened lazily by ``open_data(binding)``, one store per data binding.

    ``open_data`` raises ``DatabaseUnknown`` for a binding it cannot serve; without it only the
    home database is known.
    """

    def __init__(
        self, *, home: Store, open_data: Callable[[str], Store] | None = None
    ) -> None:
        self.home = home
        self._open_data = open_data
        self._data: dict[str, Store] = {}

    def data(self, binding: str) -> Store:
        """The store of ``binding`` (``DB`` is the home store); ``DatabaseUnknown`` if unknown."""
        if binding == HOME:
            return self.home
        store = self._data.get(binding)
        if store is None:
            if self._open_data is None:
                raise DatabaseUnknown(binding, "only the home database DB is configured")
            store = self._data[binding] = self._open_data(binding)
        return store

    def for_site(self, site: Site) -> Store:
        """The store holding ``site``'s analytics data."""
        return self.data(site.database)

    async def aclose(self) -> None:
        """Close every store opened so far."""
        for store in [self.home, *self._data.values()]:
            await store.aclose()
        self._data.clear()


def open_stores(settings: Settings) -> Stores:
    """The ``Stores`` ``settings`` describe: D1 databases by id with the one account token, or
    each binding's local file, found from wrangler.toml as ``DB``'s is (``store.open_store``)."""
    return Stores(
        home=open_store(settings), open_data=lambda binding: open_store(settings, binding)
    )
