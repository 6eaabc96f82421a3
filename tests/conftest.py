"""Shared fixtures: seeded SQLite stores and a string-parameter wrapper (D1's typing)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from auth_support import signed_in_client
from fastapi import FastAPI
from fastapi.testclient import TestClient
from seeding import seed

from analytics_941 import Settings, SqliteStore, setup_analytics
from analytics_941.sqlite_store import D1Connection
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


# The site timezone of the `db` / `client` fixtures, whose "today" is the real today.
LIVE_TZ = "Europe/Berlin"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A seeded database whose "today" is the real today (for pages that default to now)."""
    today = datetime.now(ZoneInfo(LIVE_TZ)).date()
    return seed(tmp_path / "d1.sqlite", today=today, timezone=LIVE_TZ)


@pytest.fixture
def client(db: Path, tmp_path: Path) -> TestClient:
    """A host app with the dashboard mounted over ``db``, signed in as its administrator."""
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path))
    return signed_in_client(app, db)


@pytest.fixture(autouse=True)
def _d1_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every SQLite connection a test opens holds D1's limits, so a statement D1 would refuse
    fails here too, whether a test runs it through SqliteStore or on a connection of its own."""
    real = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", D1Connection)
        return real(*args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
