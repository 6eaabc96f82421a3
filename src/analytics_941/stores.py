"""Opening stores: ``open_store`` for one database, ``Stores`` for the home database and the data
databases a deployment binds (docs/databases.md).

The home store (binding ``DB``) holds sites, accounts, the audit log and drops, and the analytics
data of the sites placed in it; each data database (``DB_2``, ``DB_3``…) holds the analytics data
of its own sites. Every read of a site's events, sessions or rollups goes to ``for_site(site)``;
everything else to ``home``. Data stores are opened on first use, one per binding, each owning
its caches as the home store does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .d1_http_store import D1HttpStore
from .exceptions import ConfigError, DatabaseUnknown
from .sqlite_store import SqliteStore
from .store import HOME, Store

if TYPE_CHECKING:
    from .settings import Settings
    from .sites import Site

__all__ = ["HOME", "Stores", "open_store", "open_stores"]


def open_store(settings: Settings, binding: str = HOME) -> Store:
    """Build the store of ``binding`` (``DB``, the home database, or a data database ``DB_<n>``)
    that ``settings`` describe: ``D1HttpStore`` by the binding's database id, or ``SqliteStore``
    on its local file. Raises ``DatabaseUnknown`` for a binding the settings do not name.

    The SQLite file is located lazily, on first use, so an app can start before ``wrangler dev``
    has created it; the dashboard then shows a clear error instead of refusing to boot.
    """
    if settings.store == "d1":
        # The settings validator guarantees all three are set when store == "d1".
        assert settings.cf_account_id and settings.cf_api_token and settings.d1_database_id
        database_id = (
            settings.d1_database_id if binding == HOME else settings.d1_databases.get(binding)
        )
        if database_id is None:
            raise DatabaseUnknown(binding, "add it to ANALYTICS_941_D1_DATABASES "
                                  '(e.g. {"DB_2": "<database id>"})')
        return D1HttpStore(
            account_id=settings.cf_account_id,
            database_id=database_id,
            api_token=settings.cf_api_token.get_secret_value(),
            timeout=settings.query_timeout_s,
        )
    if binding == HOME:
        return SqliteStore(
            path=settings.resolved_sqlite_path, query_timeout_s=settings.query_timeout_s
        )
    try:
        settings.local_d1_path(binding, must_exist=False)
    except ConfigError as exc:
        raise DatabaseUnknown(binding, str(exc)) from None
    # Located on each use, like DB's: wrangler dev may create the file after start-up.
    return SqliteStore(
        path=lambda: settings.local_d1_path(binding), query_timeout_s=settings.query_timeout_s
    )


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
    each binding's local file, found from wrangler.toml as ``DB``'s is (``open_store``)."""
    return Stores(
        home=open_store(settings), open_data=lambda binding: open_store(settings, binding)
    )
