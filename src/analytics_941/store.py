"""The ``Store`` protocol every reader of the data goes through, and the factory picking one.

Everything above the store (query, builder, runner, web) is identical for the local SQLite file
and for Cloudflare D1: both speak SQLite's dialect and return rows as dicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["HOME", "Param", "Row", "Statement", "Store", "open_store"]

# What a bound parameter may be. D1's HTTP API types them as strings, so SQL must not depend on
# the Python type (see sql_builder's module docstring).
Param: TypeAlias = str | int | float | None
Row: TypeAlias = dict[str, Any]
Statement: TypeAlias = tuple[str, Sequence[Param]]


class Store(Protocol):
    """An async SQL endpoint speaking SQLite's dialect.

    A store may also carry its own in-process caches as ``caches`` (``cache.StoreCaches``, read
    through ``cache.caches_of``); of the two here only ``D1HttpStore`` does.
    """

    async def execute(self, sql: str, params: Sequence[Param] = ()) -> list[Row]:
        """Run one statement and return its rows as dicts."""
        ...

    async def batch(self, statements: Sequence[Statement]) -> list[list[Row]]:
        """Run several statements in one round trip (and one transaction); rows per statement."""
        ...

    async def aclose(self) -> None:
        """Release connections; the store must not be used afterwards."""
        ...


# The home database's binding: sites, accounts, audit, drops, and the data of the sites in it.
HOME = "DB"


def open_store(settings: Settings, binding: str = HOME) -> Store:
    """Build the store of ``binding`` (``DB``, the home database, or a data database ``DB_<n>``)
    that ``settings`` describe: ``D1HttpStore`` by the binding's database id, or ``SqliteStore``
    on its local file. Raises ``DatabaseUnknown`` for a binding the settings do not name.

    The SQLite file is located lazily, on first use, so an app can start before ``wrangler dev``
    has created it; the dashboard then shows a clear error instead of refusing to boot.
    """
    from .exceptions import ConfigError, DatabaseUnknown

    if settings.store == "d1":
        from .d1_http_store import D1HttpStore

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
    from .sqlite_store import SqliteStore

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
