"""Page titles and the browser's language through the one query path: ``event:page_title``
reads each path's latest title (page_titles, migration 0026), ``visit:language`` the visit's
language (sessions), as breakdowns and filters, equal to a computation over the same rows, with
typed and all-string parameters; rollups never hold titles."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, TZ
from fastapi.testclient import TestClient

from analytics_941 import parse_query, run_query
from analytics_941.rollups.kinds import ROLLUP_DIMENSIONS
from analytics_941.sql.plan import plan_query
from analytics_941.store import Store

BASE = "/admin/analytics/example.com"


@pytest.fixture
def titled_path(seeded_path: Path) -> Path:
    with sqlite3.connect(seeded_path) as conn:
        paths = [r[0] for r in conn.execute(
            "SELECT DISTINCT pathname FROM events WHERE site_id = 's1' ORDER BY pathname")]
        assert len(paths) > 3
        # Every path but the last gets a title; two paths share one (it groups them).
        for i, path in enumerate(paths[:-1]):
            conn.execute("INSERT INTO page_titles (site, path, title, ts) VALUES ('s1', ?, ?, 1)",
                         (path, "Shared <b>title</b>" if i < 2 else f"Title {i}"))
        conn.execute("UPDATE sessions SET language = CASE rowid % 3 WHEN 0 THEN 'en-US' "
                     "WHEN 1 THEN 'de' END WHERE site_id = 's1'")
    conn.close()
    return seeded_path


def _titles(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT path, title FROM page_titles WHERE site = 's1'"))


async def _run(store: Store, **spec: Any) -> list[dict[str, Any]]:
    query = parse_query({"site_id": "s1", "date_range": "7d", **spec}, timezone=TZ, now=NOW)
    return list((await run_query(store, query))["results"])


async def test_page_title_breakdown_groups_pages_by_their_latest_title(
    titled_path: Path, any_store: Store
) -> None:
    pages = await _run(any_store, metrics=["pageviews"], dimensions=["event:page"],
                       filters=[["is", "event:name", ["pageview"]]])
    titles = _titles(titled_path)
    expected: Counter[str] = Counter()
    for row in pages:
        expected[titles.get(row["dimensions"][0], "(none)")] += row["metrics"][0]
    rows = await _run(any_store, metrics=["pageviews"], dimensions=["event:page_title"])
    assert {r["dimensions"][0]: r["metrics"][0] for r in rows if r["metrics"][0]} == {
        k: v for k, v in expected.items() if v}
    assert "Shared <b>title</b>" in expected and "(none)" in expected


async def test_page_title_filter_keeps_the_pages_with_that_title(
    titled_path: Path, any_store: Store
) -> None:
    titles = _titles(titled_path)
    shared = sorted(p for p, t in titles.items() if t == "Shared <b>title</b>")
    rows = await _run(any_store, metrics=["pageviews"], dimensions=["event:page"],
                      filters=[["contains", "event:page_title", ["Shared"]]])
    assert sorted(r["dimensions"][0] for r in rows) == shared
    # Visit metrics under a title filter: the visits that viewed such a page.
    (total,) = await _run(any_store, metrics=["visitors", "visits"],
                          filters=[["is", "event:page_title", ["Shared <b>title</b>"]]])
    (page_total,) = await _run(any_store, metrics=["visitors", "visits"],
                               filters=[["is", "event:page", shared]])
    assert total["metrics"] == page_total["metrics"] and total["metrics"][0] > 0


async def test_language_breakdown_and_filter_equal_the_sessions(
    titled_path: Path, any_store: Store
) -> None:
    rows = await _run(any_store, metrics=["visits"], dimensions=["visit:language"])
    got = {r["dimensions"][0]: r["metrics"][0] for r in rows}
    (total,) = await _run(any_store, metrics=["visits"])
    assert set(got) == {"en-US", "de", "Unknown"}
    assert sum(got.values()) == total["metrics"][0]
    (german,) = await _run(any_store, metrics=["visits"],
                           filters=[["is", "visit:language", ["de"]]])
    assert german["metrics"][0] == got["de"]


def test_titles_are_never_rolled_up() -> None:
    assert "page_title" not in ROLLUP_DIMENSIONS and "language" in ROLLUP_DIMENSIONS
    query = parse_query({"site_id": "s1", "date_range": "30d", "metrics": ["pageviews"],
                         "dimensions": ["event:page_title"]}, timezone=TZ, now=NOW)
    assert plan_query(query).rollup_dim is None


def test_the_pages_details_view_shows_each_path_latest_title_escaped(
    client: TestClient, db: Path
) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO page_titles (site, path, title, ts) VALUES ('s1', '/pricing', "
                     "'Pricing <script>alert(1)</script>', 1)")
    conn.close()
    html = client.get(f"{BASE}/details/pages?period=7d").text
    assert '<small class="muted">Pricing &lt;script&gt;alert(1)&lt;/script&gt;</small>' in html
    assert "<script>alert(1)" not in html
    assert html.count('<small class="muted">') == 1, "a path without a title gets no line"
    # The overview does not carry titles: its first load has no bytes to spare.
    assert "Pricing &lt;script" not in client.get(f"{BASE}?period=7d").text
