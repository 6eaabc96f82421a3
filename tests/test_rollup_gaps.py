"""Days without a single event still complete their month: the first, partial month of a site
and a quiet day inside a month get month rows, equal to a raw read.

Data: the bench generator at a small scale (2026-01-30 … 2026-03-10, Berlin time), with every
row of 10 February deleted, so January has two days of data and February a hole.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from analytics_941 import SqliteStore, parse_query, run_query
from analytics_941.rollups.jobs import GAP_DAYS_PER_RUN, refresh_rollups
from bench.datagen import SITE_ID, TIMEZONE, generate

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
# 10 February in Berlin (UTC+1), in ms.
QUIET = (int(datetime(2026, 2, 9, 23, tzinfo=UTC).timestamp() * 1000),
         int(datetime(2026, 2, 10, 23, tzinfo=UTC).timestamp() * 1000))
SPECS: list[dict[str, Any]] = [
    {"date_range": ["2026-01-01", "2026-02-28"], "metrics": ["visitors", "visits", "pageviews",
     "bounce_rate", "visit_duration"], "dimensions": ["time:month"]},
    {"date_range": ["2026-01-01", "2026-01-31"], "metrics": ["visitors", "visits"],
     "dimensions": ["page"], "limit": 50},
    {"date_range": ["2026-02-01", "2026-02-28"], "metrics": ["visitors", "visits"],
     "dimensions": ["country"], "filters": [["is", "page", ["/"]]]},
]


def execute(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(sql, params).fetchall()
    conn.close()
    return rows


async def results(path: Path) -> list[dict[str, Any]]:
    store = SqliteStore(path=path)
    return [await run_query(store, parse_query({"site_id": SITE_ID, **spec}, timezone=TIMEZONE,
                                               now=NOW)) for spec in SPECS]


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    raw, rolled = tmp_path / "raw.sqlite", tmp_path / "rolled.sqlite"
    generate(raw, events=4000, days=40, today=TODAY, rollups=False)
    execute(raw, "DELETE FROM events WHERE ts >= ? AND ts < ?", *QUIET)
    execute(raw, "DELETE FROM sessions WHERE started_at >= ? AND started_at < ?", *QUIET)
    # As if nothing had ever been written that day.
    execute(raw, "DELETE FROM rollup_dirty WHERE slot >= ? / 900000 AND slot < ? / 900000",
            *QUIET)
    shutil.copy(raw, rolled)
    return raw, rolled


async def test_empty_days_are_listed_so_their_months_get_rows(paths: tuple[Path, Path]) -> None:
    raw, rolled = paths
    store = SqliteStore(path=rolled)
    first = await refresh_rollups(store, now_ms=NOW_MS, max_days=64)
    # The first run takes the days with rows: no month is complete yet.
    assert date(2026, 2, 10) not in {day for _site, day in first}
    assert execute(rolled, "SELECT month FROM rollup_months") == []
    runs = 0
    while done := await refresh_rollups(store, now_ms=NOW_MS, max_days=64):
        # Only empty days are left after the first run: a few a run, oldest first.
        assert len(done) <= GAP_DAYS_PER_RUN
        runs += 1
        assert runs < 40
    assert execute(rolled, "SELECT month, tz FROM rollup_months ORDER BY 1") == [
        ("2026-01", TIMEZONE), ("2026-02", TIMEZONE)]
    assert execute(rolled, "SELECT month FROM rollup_filtered_months ORDER BY 1") == [
        ("2026-01",), ("2026-02",)]
    # Every day of both months is listed; the empty ones hold no rows.
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_days WHERE day < '2026-03-01'") == [
        (31 + 28,)]
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_daily WHERE day = '2026-02-10' "
                   "OR day < '2026-01-30'") == [(0,)]
    # March is not over: its days after today are never marked.
    assert execute(rolled, "SELECT MAX(day) FROM rollup_days") == [("2026-03-09",)]
    # January's month rows are its two days summed, and every answer equals the raw read, with
    # the months' days' rows gone too (so the months answered).
    january = execute(rolled, "SELECT dim, value, visitors, pageviews, visits FROM rollup_monthly "
                      "WHERE month = '2026-01' ORDER BY 1, 2")
    assert january == execute(
        rolled, "SELECT dim, value, SUM(visitors), SUM(pageviews), SUM(visits) FROM rollup_daily "
        "WHERE day LIKE '2026-01-%' GROUP BY 1, 2 ORDER BY 1, 2") and january
    expected = await results(raw)
    assert await results(rolled) == expected
    execute(rolled, "DELETE FROM rollup_daily WHERE day < '2026-03-01'")
    assert (await results(rolled))[:2] == expected[:2]


async def test_a_late_event_on_an_empty_listed_day_sends_it_back(
    paths: tuple[Path, Path],
) -> None:
    _raw, rolled = paths
    store = SqliteStore(path=rolled)
    while await refresh_rollups(store, now_ms=NOW_MS, max_days=64):
        pass
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_days WHERE day = '2026-01-05'") == [(1,)]
    columns = [r[1] for r in execute(rolled, "PRAGMA table_info(events)")]
    row = dict(zip(columns, execute(rolled, "SELECT * FROM events LIMIT 1")[0], strict=True))
    row.update(id="late-1", ts=int(datetime(2026, 1, 5, 12, tzinfo=UTC).timestamp() * 1000))
    execute(rolled, f"INSERT INTO events ({', '.join(row)}) VALUES "
            f"({', '.join('?' * len(row))})", *row.values())
    assert execute(rolled, "SELECT day FROM rollup_days WHERE day = '2026-01-05'") == []
    assert execute(rolled, "SELECT month FROM rollup_months WHERE month = '2026-01'") == []
    while await refresh_rollups(store, now_ms=NOW_MS, max_days=64):
        pass
    assert execute(rolled, "SELECT month FROM rollup_months ORDER BY 1") == [
        ("2026-01",), ("2026-02",)]
    assert execute(rolled, "SELECT SUM(pageviews) FROM rollup_daily WHERE day = '2026-01-05' "
                   "AND dim = 'page'") == [(1,)]
