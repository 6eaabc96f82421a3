"""Shared fixtures: seeded SQLite stores and a string-parameter wrapper (D1's typing)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from seeding import seed

from analytics_941 import SqliteStore
from analytics_941.store import Param, Row, Statement

# A fixed "now": 2026-03-10 12:00 in New York. The 7-day range 03-04..03-10 contains the US DST
# switch (03-08 is 23 hours long).
TZ = "America/New_York"
TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


@pytest.fixture
def seeded_path(tmp_path: Path) -> Path:
    return seed(tmp_path / "d1.sqlite", today=TODAY, timezone=TZ)


@pytest.fixture
def store(seeded_path: Path) -> SqliteStore:
    return SqliteStore(path=seeded_path)


class StringParamStore:
    """Wraps a store and turns every parameter into a string, as D1's HTTP API may deliver it."""

    def __init__(self, inner: SqliteStore) -> None:
        self.inner = inner

    @staticmethod
    def _str(params: Sequence[Param]) -> list[Param]:
        return [None if p is None else str(p) for p in params]

    async def execute(self, sql: str, params: Sequence[Param] = ()) -> list[Row]:
        return await self.inner.execute(sql, self._str(params))

    async def batch(self, statements: Sequence[Statement]) -> list[list[Row]]:
        return await self.inner.batch([(sql, self._str(params)) for sql, params in statements])

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(params=["typed", "strings"])
def any_store(request: pytest.FixtureRequest, store: SqliteStore) -> SqliteStore | StringParamStore:
    """The seeded store, once with typed parameters and once with every parameter a string."""
    return store if request.param == "typed" else StringParamStore(store)
