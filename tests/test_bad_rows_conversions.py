"""One bad stored row never breaks the conversion views: goals, funnels, journeys, properties,
the ecommerce view and the conversions export all answer 200 with hostile paths, names and
props stored (invalid UTF-8, the journeys' own separator, control characters, a huge value),
and nothing of them reaches the page unescaped.
"""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from analytics_941.funnels import add_funnel
from analytics_941.goals import add_goal
from analytics_941.sqlite_store import SqliteStore

MOUNT = "/admin/analytics"
BASE = f"{MOUNT}/example.com"
# "/x", the UTF-8 of the lone surrogate U+D800, "y": what workerd once wrote for "/x\ud800y".
BAD_UTF8 = "CAST(X'2F78EDA08079' AS TEXT)"
# A path holding the journeys' separator (char(1)), a NUL-free control run and markup.
SEPARATED = "/a\x01b\x1b[31m<script>alert(1)</script>"
HUGE = "/" + "p" * 50_000


@pytest.fixture
def hostile(db: Path) -> Path:
    store = SqliteStore(path=db)

    async def setup() -> None:
        await add_goal(store, site_id="s1", page="/**", name="Any page")
        await add_goal(store, site_id="s1", event="Purchase", currency="EUR", name="Buy")
        await add_goal(store, site_id="s1", event="Add to cart", name="Cart")
        await add_goal(store, site_id="s1", event="Purchase", prop=("product", "mug"),
                       name="Mug")
        await add_funnel(store, site_id="s1", name="Through", steps=[
            {"page": "/**"}, {"goal": "Cart"}, {"goal": "Buy"}])

    asyncio.run(setup())
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT id FROM events WHERE site_id = 's1' AND name = 'pageview' "
            "ORDER BY ts DESC LIMIT 9").fetchall()
        (a,), (b,), (c,), (d,), (e,), (f,), (g,), (h,), (i,) = rows
        conn.execute(f"UPDATE events SET pathname = {BAD_UTF8} WHERE id = ?", (a,))
        conn.execute("UPDATE events SET pathname = ? WHERE id = ?", (SEPARATED, b))
        conn.execute("UPDATE events SET pathname = ? WHERE id = ?", (HUGE, c))
        # A purchase with a broken property and a huge amount; two more whose sum overflows
        # (a float's infinity, which JSON cannot carry).
        conn.execute(
            "UPDATE events SET name = 'Purchase', revenue = 1e300, revenue_currency = 'EUR', "
            "props = CAST(X'7B2270726F64756374223A22EDA080227D' AS TEXT) WHERE id = ?", (d,))
        conn.executemany(
            "UPDATE events SET name = 'Purchase', revenue = 1.7e308, revenue_currency = 'USD' "
            "WHERE id = ?", [(e,), (f,)])
        # Props that are not JSON (cut short; a raw control character), which json_extract
        # refuses: each such row reads as having no props.
        conn.executemany("UPDATE events SET name = 'Purchase', props = ? WHERE id = ?",
                         [('{"product":"mug', h), ('{"product":"a\x1bb"}', i)])
        # A custom event whose name and prop would run as spreadsheet formulas.
        conn.execute("UPDATE events SET name = '=HYPERLINK(\"x\")', "
                     "props = '{\"product\":\"@SUM(1)\"}' WHERE id = ?", (g,))
        conn.execute("UPDATE sessions SET entry_page = ?, exit_page = ? WHERE site_id = 's1' "
                     "AND id = (SELECT session_id FROM events WHERE id = ?)",
                     (SEPARATED, HUGE, b))
    conn.close()
    return db


def test_conversion_views_answer_despite_hostile_rows(hostile: Path, client: TestClient) -> None:
    pages = [
        f"{BASE}?period=7d",
        f"{BASE}/goals?period=7d",
        f"{BASE}/funnels?period=7d",
        f"{BASE}/funnels?period=7d&funnel=Through",
        f"{BASE}/journeys?period=7d",
        f"{BASE}/properties?period=7d",
        f"{BASE}/properties?period=7d&key=product",
        f"{BASE}/ecommerce?period=7d",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[:300])
        assert "<script>alert(1)" not in response.text, url
        assert "\x1b" not in response.text, url
    for page in (SEPARATED, HUGE, "/x\ufffd\ufffd\ufffdy"):
        response = client.get(f"{BASE}/journeys", params={"period": "7d", "page": page})
        assert response.status_code == 200, response.text[:300]
        assert "<script>alert(1)" not in response.text
    asked = ((["visitors", "conversion_rate", "total_revenue"], [["is", "event:goal", ["Buy"]]]),
             (["visitors"], [["has_done", ["is", "event:goal", ["Cart"]]]]))
    for metrics, filters in asked:
        api = client.post(f"{MOUNT}/api/v2/query", json={
            "site_id": "example.com", "date_range": "7d", "filters": filters,
            "metrics": metrics, "dimensions": ["event:page"]})
        assert api.status_code == 200, api.text
    funnel = client.post(f"{MOUNT}/api/v2/funnel", json={
        "site_id": "example.com", "date_range": "7d",
        "steps": [{"page": "/**"}, {"goal": "Buy"}]})
    assert funnel.status_code == 200, funnel.text
    export = client.get(f"{BASE}/export", params={"period": "7d"})
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        files = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    assert "goals.csv" in files
    for kind in ("conversions", "events"):
        raw = client.get(f"{BASE}/export/{kind}.csv", params={"period": "7d"})
        assert raw.status_code == 200, raw.text[:300]
        files[f"{kind}.csv"] = raw.text
    assert "Buy" in files["conversions.csv"] and "HYPERLINK" in files["events.csv"]
    for name, text in files.items():
        for row in csv.reader(io.StringIO(text)):
            for cell in row:
                # No cell may start a formula, whatever path, name or prop it holds.
                assert not cell.startswith(("=", "+", "@")), (name, cell[:80])
