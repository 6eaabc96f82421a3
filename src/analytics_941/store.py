"""The ``Store`` protocol every reader of the data goes through (``stores.open_store`` picks one).

Everything above the store (query, builder, runner, web) is identical for the local SQLite file
and for Cloudflare D1: both speak SQLite's dialect and return rows as dicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeAlias

__all__ = ["HOME", "Param", "Row", "Statement", "Store"]

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
