"""The CSV export: one CSV per report in a zip, honouring period and filters, and cells that a
spreadsheet would run as formulas neutralised."""

from __future__ import annotations

import csv
import io
import sqlite3
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from auth_support import signed_in_client
from fastapi import FastAPI
from fastapi.testclient import TestClient
from goal_seeding import seed_goal_data
from seeding import seed

from analytics_941 import Settings, SqliteStore, setup_analytics
from analytics_941.goals import add_goal
from analytics_941.web.dashboard.csv_export import safe_cell
from analytics_941.web.dashboard.reports import CSV_REPORTS, PANELS

TZ = "Europe/Berlin"
BASE = "/admin/analytics/example.com"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    db = seed(tmp_path / "d1.sqlite", today=datetime.now(ZoneInfo(TZ)).date(), timezone=TZ)
    with sqlite3.connect(db) as conn:
        # A hostile visitor-controlled value: a page path that is a spreadsheet formula.
        conn.execute("UPDATE events SET pathname = '=HYPERLINK(\"http://evil\")' "
                     "WHERE pathname = '/pricing'")
        conn.execute("UPDATE events SET source = '@SUM(A1)' WHERE source = 'news.ycombinator.com'")
    conn.close()
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path))
    return signed_in_client(app, db)


def read(response_bytes: bytes) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(response_bytes)) as archive:
        return {
            name.removesuffix(".csv"): list(csv.reader(io.StringIO(archive.read(name).decode())))
            for name in archive.namelist()
        }


def test_a_zip_with_one_csv_per_report(client: TestClient) -> None:
    response = client.get(f"{BASE}/export?period=7d")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    files = read(response.content)
    assert set(files) == {"timeseries", "goals", *CSV_REPORTS}
    assert files["goals"] == [["goal", "visitors", "events", "conversion_rate"]]  # no goals yet
    assert files["timeseries"][0][:3] == ["date", "visitors", "visits"]
    assert len(files["timeseries"]) == 8  # header + 7 days
    assert files["pages"][0] == ["page", "visitors", "pageviews", "bounce_rate", "time_on_page",
                                 "scroll_depth"]
    assert files["pages"][1][:3] == ["/", "4", "5"]
    assert files["events"][1:] == [["pageview", "5", "8"], ["signup", "1", "1"]]
    assert files["utm_terms"][0] == ["utm_term", "visitors", "visits", "bounce_rate",
                                     "visit_duration"]
    assert [row[0] for row in files["utm_terms"][1:]] == ["(none)", "privacy analytics"]


def test_formula_cells_are_neutralised(client: TestClient) -> None:
    files = read(client.get(f"{BASE}/export?period=7d").content)
    pages = [row[0] for row in files["pages"][1:]]
    assert "'=HYPERLINK(\"http://evil\")" in pages
    assert "'@SUM(A1)" in [row[0] for row in files["sources"][1:]]
    assert all(not cell.startswith(("=", "+", "-", "@")) for f in files.values()
               for row in f for cell in row)


def test_filters_and_range_are_honoured(client: TestClient) -> None:
    files = read(client.get(f"{BASE}/export?period=day&f=is,country,US").content)
    assert len(files["timeseries"]) in (24, 25, 26)  # an hourly series for one day (+ header)
    assert [row[0] for row in files["countries"][1:]] == ["US"]


async def test_goals_csv_is_the_goal_panels_rows(tmp_path: Path) -> None:
    db = seed_goal_data(tmp_path / "d1.sqlite", today=datetime.now(ZoneInfo(TZ)).date(),
                        timezone=TZ)
    store = SqliteStore(path=db)
    await add_goal(store, site_id="s1", event="Signup")
    await add_goal(store, site_id="s1", page="/pricing", name="=Pricing")
    await add_goal(store, site_id="s1", page="/nowhere")
    await store.aclose()
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path))
    client = signed_in_client(app, db)
    files = read(client.get(f"{BASE}/export?period=7d").content)
    # 8 visitors; a goal without conversions reads 0; a name is a cell like any value.
    assert files["goals"] == [
        ["goal", "visitors", "events", "conversion_rate"], ["'=Pricing", "2", "2", "25.0"],
        ["Signup", "2", "2", "25.0"], ["Visit /nowhere", "0", "0", "0.0"],
    ]
    # Filtered by a goal: that goal's row, and the other files hold its converting visits.
    files = read(client.get(f"{BASE}/export?period=7d&f=is,event:goal,Signup").content)
    assert files["goals"][1:] == [["Signup", "2", "2", "25.0"]]
    assert sorted(row[0] for row in files["sources"][1:]) == ["Google", "Twitter"]


@pytest.mark.parametrize(
    ("value", "safe"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"),
     ("\rx", "'\rx"), ("/ok", "/ok"), (-5, -5), (3.5, 3.5)],
)
def test_safe_cell(value: object, safe: object) -> None:
    assert safe_cell(value) == safe


def test_every_report_a_panel_shows_is_exported() -> None:
    shown = {panel.report_of(key) for panel in PANELS for key, _label, _report in panel.tabs}
    assert shown <= set(CSV_REPORTS)
    assert {"utm_sources", "utm_mediums", "utm_campaigns", "utm_terms", "utm_contents"} <= shown
