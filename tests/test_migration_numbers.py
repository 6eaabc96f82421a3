"""Upgrading keeps every number: a database made by the migrations up to a baseline, seeded and
rolled up, answers every report the same after the newer migrations are applied to it (and after
the cron has run again). The baseline is the schema issue #14 started from; a migration that
rewrites stored rows (a leaner row, moved columns) must pass this too."""

from __future__ import annotations

import re
import sqlite3
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from seeding import ROOT, seed

from analytics_941 import SqliteStore, parse_query, run_queries
from analytics_941.dimensions import DIMENSIONS as DESCRIBED
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


# Columns newer migrations add to `sessions` (never rebuilt since 0002), which today's rollups
# read (a visit dimension, e.g. 0026's language): the baseline gets them up front, since this
# test rolls the baseline up with today's code, and the newer migrations then skip them.
_SESSION_COLUMN = re.compile(r"ALTER TABLE sessions ADD COLUMN [^;]*;")


def _apply(path: Path, migrations: list[Path], *, early: bool = False) -> Path:
    with sqlite3.connect(path) as conn:
        for migration in migrations:
            text = migration.read_text()
            conn.executescript(text if early else _SESSION_COLUMN.sub("", text))
        if early:
            for migration in _migrations(after=True):
                for statement in _SESSION_COLUMN.findall(migration.read_text()):
                    conn.executescript(statement)
    conn.close()
    return path


def _baseline_columns(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM pragma_table_info('events') UNION "
                            "SELECT name FROM pragma_table_info('sessions')").fetchall()
    conn.close()
    return {str(r[0]) for r in rows}


async def _every_report(path: Path, columns: set[str]) -> list[Any]:
    # Reports of a dimension a newer migration adds (its column is not there yet) are left out.
    described = {d.name: d for d in DESCRIBED}
    reports = [r for r in REPORTS.values()
               if {c for c in (described[r.dimension].events, described[r.dimension].sessions)
                   if c} <= columns]
    specs: list[dict[str, Any]] = []
    for date_range in ("7d", "30d", "12mo"):
        specs.append({"metrics": ["visitors", "visits", "pageviews", "bounce_rate",
                                  "visit_duration", "views_per_visit"], "date_range": date_range})
        specs.append({"metrics": ["visitors", "pageviews"], "dimensions": ["time:day"],
                      "date_range": date_range})
        for report in reports:
            specs.append({"metrics": list(report.metrics), "dimensions": [report.dimension],
                          "date_range": date_range})
            specs.append({"metrics": list(report.metrics), "dimensions": [report.dimension],
                          "date_range": date_range, "filters": [["is", "country", ["DE"]]]})
    queries = [parse_query({"site_id": "s1", **spec}, timezone=TZ, now=NOW) for spec in specs]
    return [result["results"] for result in await run_queries(SqliteStore(path=path), queries)]


async def test_newer_migrations_keep_every_number(tmp_path: Path) -> None:
    assert _migrations(after=True), "no migration after the baseline: nothing to check"
    path = seed(tmp_path / "old.sqlite", today=TODAY, timezone=TZ,
                schema=lambda p: _apply(p, _migrations(after=False), early=True))
    await refresh_rollups(SqliteStore(path=path), now_ms=NOW_MS, max_days=400)
    columns = _baseline_columns(path)
    before = await _every_report(path, columns)
    assert any(rows for rows in before), "the seed shows up in the reports"
    _apply(path, _migrations(after=True))
    assert await _every_report(path, columns) == before
    await refresh_rollups(SqliteStore(path=path), now_ms=NOW_MS + 1, max_days=400)
    assert await _every_report(path, columns) == before
