"""Upgrading keeps every number: a database made by the migrations up to a baseline, seeded and
rolled up, answers every report the same after the newer migrations are applied to it (and after
the cron has run again). The baseline is the schema issue #14 started from; a migration that
rewrites stored rows (a leaner row, moved columns) must pass this too."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from seeding import ROOT, seed

from analytics_941 import SqliteStore, parse_query, run_queries
from analytics_941.rollups.jobs import refresh_rollups
from analytics_941.web.dashboard.reports import REPORTS

BASELINE = "0013"
TZ = "Europe/Berlin"
TODAY = date(2026, 3, 10)
NOW = datetime.combine(TODAY, time(18, 0), tzinfo=ZoneInfo(TZ))
NOW_MS = int(NOW.timestamp() * 1000)


def _migrations(*, after: bool) -> list[Path]:
    every = sorted((ROOT / "migrations").glob("*.sql"))
    return [m for m in every if (m.name[:4] > BASELINE) == after]


def _apply(path: Path, migrations: list[Path]) -> Path:
    with sqlite3.connect(path) as conn:
        for migration in migrations:
            conn.executescript(migration.read_text())
    conn.close()
    return path


async def _every_report(path: Path) -> list[Any]:
    specs: list[dict[str, Any]] = []
    for date_range in ("7d", "30d", "12mo"):
        specs.append({"metrics": ["visitors", "visits", "pageviews", "bounce_rate",
                                  "visit_duration", "views_per_visit"], "date_range": date_range})
        specs.append({"metrics": ["visitors", "pageviews"], "dimensions": ["time:day"],
                      "date_range": date_range})
        for report in REPORTS.values():
            specs.append({"metrics": list(report.metrics), "dimensions": [report.dimension],
                          "date_range": date_range})
            specs.append({"metrics": list(report.metrics), "dimensions": [report.dimension],
                          "date_range": date_range, "filters": [["is", "country", ["DE"]]]})
    queries = [parse_query({"site_id": "s1", **spec}, timezone=TZ, now=NOW) for spec in specs]
    return [result["results"] for result in await run_queries(SqliteStore(path=path), queries)]


async def test_newer_migrations_keep_every_number(tmp_path: Path) -> None:
    assert _migrations(after=True), "no migration after the baseline: nothing to check"
    path = seed(tmp_path / "old.sqlite", today=TODAY, timezone=TZ,
                schema=lambda p: _apply(p, _migrations(after=False)))
    await refresh_rollups(SqliteStore(path=path), now_ms=NOW_MS, max_days=400)
    before = await _every_report(path)
    assert any(rows for rows in before), "the seed shows up in the reports"
    _apply(path, _migrations(after=True))
    assert await _every_report(path) == before
    await refresh_rollups(SqliteStore(path=path), now_ms=NOW_MS + 1, max_days=400)
    assert await _every_report(path) == before
