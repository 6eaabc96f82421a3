"""Journeys on known visits: the pages before and after a page within a visit (reloads as one
step), the common paths from and to it, entry → exit pairs, and filters keeping whole visits."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from seeding import apply_schema, insert_site, insert_visit

from analytics_941 import SqliteStore
from analytics_941.journey_report import run_journey
from analytics_941.query import make_query

TODAY = date(2026, 3, 10)
# (session, country, day offset, pages in order)
VISITS = [
    ("v1", "US", 0, ["/", "/pricing", "/signup"]),
    ("v2", "US", 0, ["/blog", "/pricing", "/pricing", "/"]),
    ("v3", "US", 0, ["/pricing"]),
    ("v4", "US", -9, ["/", "/pricing"]),  # before the period
    ("v5", "DE", 0, ["/", "/pricing", "/docs"]),
    ("v6", "US", 0, ["/", "/about"]),  # never on /pricing
]


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    db = apply_schema(tmp_path / "j.sqlite")
    with sqlite3.connect(db) as conn:
        insert_site(conn)
        for session, country, offset, pages in VISITS:
            day = datetime(TODAY.year, TODAY.month, TODAY.day + offset, 12, tzinfo=UTC)
            start = int(day.timestamp() * 1000)
            insert_visit(conn, session=session, country=country, started_at=start,
                         ended_at=start + 1000 * len(pages),
                         events=[(str(i), start + i * 1000, "pageview", page)
                                 for i, page in enumerate(pages)])
    return SqliteStore(path=db)


def query(filters: list[object] | None = None) -> object:
    return make_query(site_id="s1", date_range="7d", metrics=["visitors"], filters=filters or [],
                      now=datetime(TODAY.year, TODAY.month, TODAY.day, 23, tzinfo=UTC))


async def test_before_and_after_a_page(store: SqliteStore) -> None:
    journey = await run_journey(store, query(), "/pricing")  # type: ignore[arg-type]
    assert sorted(journey.came_from) == [("(entrance)", 1), ("/", 2), ("/blog", 1)]
    assert sorted(journey.went_to) == [("(exit)", 1), ("/", 1), ("/docs", 1), ("/signup", 1)]


async def test_paths_from_and_to(store: SqliteStore) -> None:
    journey = await run_journey(store, query(), "/pricing")  # type: ignore[arg-type]
    assert sorted(journey.paths_from) == [
        (["/pricing"], 1), (["/pricing", "/"], 1), (["/pricing", "/docs"], 1),
        (["/pricing", "/signup"], 1)]
    assert journey.paths_to[0] == (["/", "/pricing"], 2)
    assert sorted(journey.paths_to[1:]) == [(["/blog", "/pricing"], 1), (["/pricing"], 1)]


async def test_entry_exit_flow(store: SqliteStore) -> None:
    journey = await run_journey(store, query(), "/pricing")  # type: ignore[arg-type]
    assert sorted(journey.flow) == [("/", "/about", 1), ("/", "/docs", 1), ("/", "/signup", 1),
                                    ("/blog", "/", 1), ("/pricing", "/pricing", 1)]


async def test_filters_keep_whole_visits(store: SqliteStore) -> None:
    germany = [["is", "visit:country", ["DE"]]]
    journey = await run_journey(store, query(germany), "/pricing")  # type: ignore[arg-type]
    assert journey.came_from == [("/", 1)]
    assert journey.went_to == [("/docs", 1)]
    assert journey.flow == [("/", "/docs", 1)]


async def test_a_page_nobody_viewed(store: SqliteStore) -> None:
    journey = await run_journey(store, query(), "/nowhere")  # type: ignore[arg-type]
    assert (journey.came_from, journey.went_to, journey.paths_from) == ([], [], [])


def test_the_page_defaults_to_the_top_page_and_escapes_paths(client: object) -> None:
    from fastapi.testclient import TestClient
    from seeding import HOSTILE_PATH

    assert isinstance(client, TestClient)
    url = "/admin/analytics/example.com/journeys"
    response = client.get(url, params={"period": "7d"})
    assert response.status_code == 200, response.text
    page = response.context["page"]  # type: ignore[attr-defined]
    assert page.journey.page == page.top_pages[0] == "/"
    assert HOSTILE_PATH in page.top_pages
    assert "<script>alert(1)" not in response.text
    chosen = client.get(url, params={"period": "7d", "page": HOSTILE_PATH})
    assert chosen.context["page"].journey.came_from == [  # type: ignore[attr-defined]
        ("(entrance)", 1)]
    assert "<script>alert(1)" not in chosen.text
    assert client.get(url, params={"period": "nope"}).status_code == 400
    dashboard = client.get("/admin/analytics/example.com")
    assert url in dashboard.text
