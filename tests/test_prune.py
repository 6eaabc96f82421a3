"""Old days' rows per filter value are pruned once their month holds them (rollups/prune.py),
and every filtered view still gives the raw numbers: whole months from the monthly rows, the
pruned days of a partial month read raw."""

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
from bench.datagen import SITE_ID, TIMEZONE, generate

TODAY = date(2026, 3, 10)
NOW = datetime.combine(TODAY, time(18, 0), tzinfo=ZoneInfo(TIMEZONE))
NOW_MS = int(NOW.timestamp() * 1000)
SPECS: list[dict[str, Any]] = [
    {"metrics": metrics, "dimensions": dims, "date_range": date_range, "filters": [filter_]}
    for date_range in ("12mo", ["2025-11-10", "2025-12-20"], "30d", ["2025-12-01", "2026-01-31"])
    for filter_ in (["is", "page", ["/"]], ["is", "country", ["DE"]])
    for metrics, dims in ((["visitors", "visits", "pageviews"], []),
                          (["visitors", "pageviews"], ["page"]),
                          (["visitors", "visits"], ["country"]),
                          (["visitors"], ["browser"]))
]


def _rows(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(sql, params).fetchall()
    conn.close()
    return rows


async def _results(path: Path) -> list[Any]:
    queries = [parse_query({"site_id": SITE_ID, **spec}, timezone=TIMEZONE, now=NOW)
               for spec in SPECS]
    return [r["results"] for r in await run_queries(SqliteStore(path=path), queries)]


async def _roll_all(path: Path, now_ms: int) -> None:
    store = SqliteStore(path=path)
    while await refresh_rollups(store, now_ms=now_ms, max_days=400, max_months=0):
        pass
    while await refresh_frequent_months(store, now_ms=now_ms):
        pass
    for _ in range(10):  # bounded: 64 days a call
        await prune_days(store, now_ms=now_ms)


@pytest.fixture(scope="module")
def raw_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prune") / "raw.sqlite"
    generate(path, events=12_000, days=130, today=TODAY, rollups=False)
    return path


async def test_pruned_days_read_raw_and_every_number_holds(raw_path: Path, tmp_path: Path) -> None:
    rolled = tmp_path / "rolled.sqlite"
    shutil.copy(raw_path, rolled)
    await _roll_all(rolled, NOW_MS)
    # Days before the kept 62 whose month is listed lost their rows and listing; the rest kept.
    pruned = _rows(rolled, "SELECT COUNT(*) FROM rollup_filtered_daily WHERE day < '2026-01-07'")
    kept = _rows(rolled, "SELECT COUNT(DISTINCT day) FROM rollup_filtered_daily "
                 "WHERE day >= '2026-01-07'")
    assert pruned == [(0,)] and kept[0][0] > 50
    assert _rows(rolled, "SELECT COUNT(*) FROM rollup_filtered_days WHERE day < '2026-01-07'") \
        == [(0,)]
    assert _rows(rolled, "SELECT COUNT(*) FROM rollup_filtered_months WHERE month = '2025-12'") \
        == [(1,)]
    expected = await _results(raw_path)
    assert any(rows for rows in expected)
    assert await _results(rolled) == expected


async def test_a_late_row_in_a_pruned_month_keeps_the_numbers(
    raw_path: Path, tmp_path: Path
) -> None:
    raw, rolled = tmp_path / "raw.sqlite", tmp_path / "rolled.sqlite"
    shutil.copy(raw_path, raw)
    shutil.copy(raw_path, rolled)
    await _roll_all(rolled, NOW_MS)
    ts = int(datetime(2025, 12, 5, 12, tzinfo=ZoneInfo(TIMEZONE)).timestamp() * 1000)
    for path in (raw, rolled):
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, "
                         "hostname, pathname, country) VALUES ('late', ?, ?, 'pageview', 'lv', "
                         "'ls', 'bench.example', '/', 'DE')", (SITE_ID, ts))
        conn.close()
    # The month is no longer listed: its days read raw, the late row included...
    assert _rows(rolled, "SELECT COUNT(*) FROM rollup_filtered_months WHERE month = '2025-12'") \
        == [(0,)]
    expected = await _results(raw)
    assert await _results(rolled) == expected
    # ...and after the cron redid the day, still.
    await _roll_all(rolled, NOW_MS + 1)
    assert await _results(rolled) == expected
