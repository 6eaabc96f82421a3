"""Old months of rollups per filter value lose their rare pages' rows (rollups/thin.py), and every
view filtered to a page still gives the raw numbers: a kept page from the month's rows, a thinned
one from raw rows; a site with a retention keeps them all."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from analytics_941 import SqliteStore, parse_query, run_queries
from analytics_941.rollups.frequent import refresh_frequent_months
from analytics_941.rollups.jobs import refresh_rollups
from analytics_941.rollups.prune import prune_days
from analytics_941.rollups.thin import THIN_BELOW
from analytics_941.sql.plan import plan_query
from bench.datagen import SITE_ID, TIMEZONE, generate

TODAY = date(2026, 3, 10)
NOW = datetime.combine(TODAY, time(18, 0), tzinfo=ZoneInfo(TIMEZONE))
NOW_MS = int(NOW.timestamp() * 1000)
MONTH = "2025-12"
RANGES: tuple[Any, ...] = (
    "12mo", ["2025-11-10", "2025-12-20"], "30d", ["2025-12-01", "2026-01-31"])
BREAKDOWNS: tuple[tuple[list[str], list[str]], ...] = (
    (["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"], []),
    (["visitors", "pageviews"], ["page"]),
    (["visitors", "visits"], ["country"]),
    (["visitors"], ["browser"]),
    (["visitors"], ["channel"]),
)


def _rows(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(sql, params).fetchall()
    conn.close()
    return rows


def _queries(pages: list[str]) -> list[Any]:
    specs = [
        {"site_id": SITE_ID, "metrics": metrics, "dimensions": dims, "date_range": date_range,
         "filters": [["is", "page", [page]]]}
        for page in pages for date_range in RANGES for metrics, dims in BREAKDOWNS
    ]
    return [parse_query(spec, timezone=TIMEZONE, now=NOW) for spec in specs]


async def _results(path: Path, queries: list[Any]) -> list[Any]:
    return [r["results"] for r in await run_queries(SqliteStore(path=path), queries)]


async def _roll_all(path: Path, now_ms: int) -> None:
    store = SqliteStore(path=path)
    while await refresh_rollups(store, now_ms=now_ms, max_days=400, max_months=0):
        pass
    while await refresh_frequent_months(store, now_ms=now_ms):
        pass
    for _ in range(10):  # bounded: 64 days and 4 months a call
        await prune_days(store, now_ms=now_ms)


@pytest.fixture(scope="module")
def raw_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("thin") / "raw.sqlite"
    generate(path, events=12_000, days=130, today=TODAY, rollups=False)
    return path


def _pages(path: Path) -> tuple[str, str]:
    """A page with THIN_BELOW events or more in MONTH, and one with a few."""
    counts = _rows(path, "SELECT pathname, COUNT(*) FROM events WHERE ts >= ? AND ts < ? "
                   "GROUP BY pathname ORDER BY 2 DESC, 1", *_month_ms())
    frequent = counts[0]
    rare = next(row for row in counts if 3 <= row[1] < 20)
    assert frequent[1] >= THIN_BELOW
    return frequent[0], rare[0]


def _month_ms() -> tuple[int, int]:
    tz = ZoneInfo(TIMEZONE)
    return (int(datetime(2025, 12, 1, tzinfo=tz).timestamp() * 1000),
            int(datetime(2026, 1, 1, tzinfo=tz).timestamp() * 1000))


async def test_thinned_months_keep_every_number(raw_path: Path, tmp_path: Path) -> None:
    rolled = tmp_path / "rolled.sqlite"
    shutil.copy(raw_path, rolled)
    await _roll_all(rolled, NOW_MS)
    frequent, rare = _pages(raw_path)
    assert _rows(rolled, "SELECT below FROM rollup_filtered_thinned WHERE month = ?", MONTH) \
        == [(THIN_BELOW,)]
    # The rare page lost its rows, the frequent one and every country kept theirs.
    held = ("SELECT COUNT(*) FROM rollup_filtered_monthly WHERE month = ? AND fdim = ? "
            "AND fvalue = ?")
    assert _rows(rolled, held, MONTH, "page", rare) == [(0,)]
    assert _rows(rolled, held, MONTH, "page", frequent)[0][0] > 3
    assert _rows(rolled, held, MONTH, "country", "DE")[0][0] > 3
    assert _rows(rolled, "SELECT COUNT(*) FROM rollup_filtered_monthly WHERE fdim = 'page' "
                 "AND dim = '' AND events < ? AND visits < ? AND month <= ?",
                 THIN_BELOW, THIN_BELOW, MONTH) == [(0,)]
    queries = _queries([frequent, rare])
    assert all(plan_query(q).rollup_kind is not None for q in queries)
    expected = await _results(raw_path, queries)
    assert sum(bool(rows) for rows in expected) > len(expected) // 2
    assert await _results(rolled, queries) == expected


async def test_a_late_row_for_a_thinned_page_is_counted(raw_path: Path, tmp_path: Path) -> None:
    raw, rolled = tmp_path / "raw.sqlite", tmp_path / "rolled.sqlite"
    shutil.copy(raw_path, raw)
    shutil.copy(raw_path, rolled)
    await _roll_all(rolled, NOW_MS)
    frequent, rare = _pages(raw_path)
    ts = int(datetime(2025, 12, 5, 12, tzinfo=ZoneInfo(TIMEZONE)).timestamp() * 1000)
    for path in (raw, rolled):
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, "
                         "hostname, pathname, country) VALUES ('late', ?, ?, 'pageview', 'lv', "
                         "'ls', 'bench.example', ?, 'DE')", (SITE_ID, ts, rare))
        conn.close()
    # The month is no longer listed, nor thinned: its days read raw, the late row included.
    assert _rows(rolled, "SELECT COUNT(*) FROM rollup_filtered_thinned WHERE month = ?", MONTH) \
        == [(0,)]
    queries = _queries([frequent, rare])
    expected = await _results(raw, queries)
    assert await _results(rolled, queries) == expected
    await _roll_all(rolled, NOW_MS + 1)
    assert await _results(rolled, queries) == expected


async def test_a_site_with_a_retention_keeps_its_rows(raw_path: Path, tmp_path: Path) -> None:
    rolled = tmp_path / "rolled.sqlite"
    shutil.copy(raw_path, rolled)
    with sqlite3.connect(rolled) as conn:
        conn.execute("UPDATE sites SET retention_days = 400")
    conn.close()
    await _roll_all(rolled, NOW_MS)
    _frequent, rare = _pages(raw_path)
    assert _rows(rolled, "SELECT COUNT(*) FROM rollup_filtered_thinned") == [(0,)]
    assert _rows(rolled, "SELECT COUNT(*) FROM rollup_filtered_monthly WHERE month = ? "
                 "AND fdim = 'page' AND fvalue = ?", MONTH, rare)[0][0] > 0
