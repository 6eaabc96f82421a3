"""The Performance page: p75s, Google's shares, breakdowns and the trend of the web vitals the
add-on reports, through the query path; an empty state that says how to turn the add-on on;
page paths shown escaped; filters and tabs kept in its links."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient
from vitals_seeding import p75, seed_vitals

from analytics_941.sql.vitals import VITALS

PAGE = "/admin/analytics/example.com/performance"
HOSTILE = "/perf/<script>alert(1)</script>"


def _all(db: Path, column: str, where: str = "1") -> list[int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            f"SELECT v.{column} FROM web_vitals AS v JOIN events AS e ON e.site_id = v.site_id "
            f"AND e.ts = v.ts AND e.id = v.event_id WHERE v.{column} IS NOT NULL AND {where}"
        ).fetchall()
    return [r[0] for r in rows]


def test_empty_state_explains_the_add_on(client: TestClient) -> None:
    response = client.get(PAGE, params={"period": "30d"})
    assert response.status_code == 200, response.text
    assert response.context["page"].samples == 0  # type: ignore[attr-defined]
    assert "No Core Web Vitals in this period." in response.text
    assert "script.web-vitals.js" in response.text


def test_figures_breakdowns_and_trend(client: TestClient, db: Path) -> None:
    seed_vitals(db)
    with sqlite3.connect(db) as conn:  # a page view with a hostile path, and its vitals
        ts, = conn.execute("SELECT max(ts) FROM events WHERE site_id = 's1'").fetchone()
        conn.execute("INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, "
                     "hostname, pathname, device) VALUES ('hv', 's1', ?, 'pageview', 'vh', 'sh', "
                     "'example.com', ?, 'Desktop')", (ts, HOSTILE))
        conn.execute("INSERT INTO web_vitals (site_id, ts, event_id, lcp_ms, cls_e4) "
                     "VALUES ('s1', ?, 'hv', 9000, 3000)", (ts,))
    response = client.get(PAGE, params={"period": "all"})
    assert response.status_code == 200, response.text
    page = response.context["page"]  # type: ignore[attr-defined]
    assert page.samples == len(_all(db, "fcp_ms")) + 1
    for figure, vital in zip(page.figures, VITALS, strict=True):
        expected = p75(_all(db, vital.column))
        assert figure.p75 == (expected / vital.scale if vital.scale != 1 else expected)
        assert round(figure.good + figure.needs_improvement + figure.poor) == 100
    assert sum(row.samples for row in page.rows) == page.samples
    assert sum(row.samples for row in page.trend) == page.samples
    # One chart per vital, a point per bucket with a measurement, on its own scale.
    assert [c.vital for c in page.charts] == list(VITALS)
    lcp = page.charts[0]
    assert len(lcp.dots) == sum(1 for row in page.trend if row.values[0] is not None)
    assert all(0 <= y <= 64 for _x, y in lcp.dots) and lcp.poor_y < lcp.good_y
    assert HOSTILE not in response.text and "/perf/&lt;script&gt;" in response.text

    devices = client.get(PAGE, params={"period": "all", "by": "device"})
    rows = devices.context["page"].rows  # type: ignore[attr-defined]
    desktop = next(r for r in rows if r.label == "Desktop")
    assert desktop.values[0] == p75(_all(db, "lcp_ms", "e.device = 'Desktop'"))
    # A row filters the page by its value, keeping the breakdown.
    assert "f=is%2Cvisit%3Adevice%2CDesktop" in devices.text and "by=device" in devices.text

    filtered = client.get(PAGE, params={"period": "all", "f": "is,visit:device,Desktop"})
    assert filtered.context["page"].samples == desktop.samples  # type: ignore[attr-defined]
    assert "Clear all" in filtered.text


def test_an_unknown_breakdown_falls_back_to_pages(client: TestClient) -> None:
    response = client.get(PAGE, params={"by": "<x>"})
    assert response.status_code == 200
    assert response.context["page"].by == "page"  # type: ignore[attr-defined]


def test_the_stats_api_answers_web_vitals(client: TestClient, db: Path) -> None:
    seed_vitals(db)
    url = "/admin/analytics/api/v2/query"
    body = {"site_id": "example.com", "date_range": "all", "dimensions": ["visit:device"],
            "metrics": ["vitals_pageviews", "lcp", "cls", "lcp_good", "inp_poor"]}
    response = client.post(url, json=body)
    assert response.status_code == 200, response.text
    rows = {r["dimensions"][0]: r["metrics"] for r in response.json()["results"]}
    desktop = rows["Desktop"]
    assert desktop[1] == p75(_all(db, "lcp_ms", "e.device = 'Desktop'"))
    cls = p75(_all(db, "cls_e4", "e.device = 'Desktop'"))
    assert cls is not None and desktop[2] == cls / 10_000
    refused = client.post(url, json={**body, "dimensions": ["visit:entry_page"]})
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_metrics"
