"""Goal rollups: the Goal conversions panel's breakdown gives the same numbers from the goal
rollups as from raw events, before and after a goal is edited (the edit sends the days back to
raw reads until the job redoes them), and after a late conversion.

Data: the bench generator at a small scale (40 days, Berlin time) plus a few purchases with
revenue in two currencies; the same goals in a raw copy (never rolled up) and a rolled one.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from analytics_941 import SqliteStore, parse_query, run_query
from analytics_941.goals import Goal, list_goals
from analytics_941.rollups.goals import GOAL_DAY_STATEMENTS, GOAL_TODO, goals_param
from analytics_941.rollups.jobs import refresh_rollups
from analytics_941.sql.plan import plan_query
from bench.datagen import SITE_ID, TIMEZONE, generate

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
DAY_MS = 86_400_000
# (id, name, kind, target, prop_key, prop_value, currency): every kind and wildcard (also
# test_goal_panel_reads').
GOALS = [
    ("g1", "Signup", "event", "Signup", "", "", None),
    ("g2", "Pro signup", "event", "Signup", "plan", "pro", None),
    ("g3", "Pricing", "page", "/pricing/*", "", "", None),
    ("g4", "Docs", "page", "/docs/**", "", "", None),
    ("g5", "Home", "page", "/", "", "", None),
    # Sums its EUR amounts only: the USD ones and those without a currency are left out.
    ("g6", "Purchase", "event", "Purchase", "", "", "EUR"),
]


@pytest.fixture(scope="module")
def raw_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("goal_rollups") / "raw.sqlite"
    generate(path, events=6000, days=40, today=TODAY, rollups=False)
    with sqlite3.connect(path) as conn:
        # Purchases: one every 9th visit's first event, amounts in EUR, USD or none.
        rows = conn.execute(
            "SELECT id, ts, visitor_id, session_id FROM events WHERE name = 'pageview' "
            "ORDER BY ts"
        ).fetchall()
        for n, (event_id, ts, visitor, session) in enumerate(rows[::9]):
            currency = ("EUR", "USD", None)[n % 3]
            conn.execute(
                "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
                "pathname, revenue, revenue_currency) VALUES (?, ?, ?, 'Purchase', ?, ?, "
                "'x.test', '/checkout', ?, ?)",
                [f"{event_id}-p", SITE_ID, ts + 1, visitor, session, 10.25 + n % 7, currency],
            )
        conn.executemany(
            "INSERT INTO goals (id, site_id, name, kind, target, prop_key, prop_value, "
            "created_at, currency) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
            [(g[0], SITE_ID, *g[1:]) for g in GOALS],
        )
    conn.close()
    return path


@pytest.fixture
def paths(raw_path: Path, tmp_path: Path) -> tuple[Path, Path]:
    raw, rolled = tmp_path / "raw.sqlite", tmp_path / "rolled.sqlite"
    shutil.copy(raw_path, raw)
    shutil.copy(raw_path, rolled)
    return raw, rolled


def execute(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(sql, params).fetchall()
    conn.close()
    return rows


async def goals_of(path: Path) -> list[Goal]:
    return await list_goals(SqliteStore(path=path), site_id=SITE_ID)


# The panel's breakdown and the shapes the goal rollups also answer.
SHAPES: list[dict[str, Any]] = [
    {"metrics": ["visitors", "events", "conversion_rate", "total_revenue", "average_revenue"],
     "dimensions": ["event:goal"]},
    {"metrics": ["visitors", "events", "conversion_rate"], "dimensions": ["event:goal"],
     "date_range": "7d"},
    {"metrics": ["visitors", "events"], "dimensions": ["event:goal", "time:week"],
     "date_range": "month"},
    {"metrics": ["visitors", "events", "conversion_rate"], "dimensions": ["event:goal"],
     "filters": [["is", "event:goal", ["Pricing", "Home"]]]},
    {"metrics": ["visitors", "events", "group_conversion_rate"], "dimensions": ["event:goal"],
     "filters": [["contains", "event:goal", ["ign"]]], "comparison": "previous_period"},
    # Panels filtered by one goal (each row with its conversion rate).
    *({"metrics": ["visitors", "group_conversion_rate"], "dimensions": [dim],
       "filters": [["is", "event:goal", [goal]]], "limit": 9}
      for dim in ("page", "channel", "source", "country", "device", "browser", "os")
      for goal in ("Signup", "Pricing")),
    {"metrics": ["visitors", "events", "conversion_rate", "total_revenue"],
     "dimensions": ["channel", "time:day"], "filters": [["is", "event:goal", ["Purchase"]]]},
    {"metrics": ["visitors", "events"], "dimensions": ["page"],
     "filters": [["contains", "event:goal", ["Home"]]], "comparison": "previous_period"},
]


async def answers(path: Path, spec: dict[str, Any]) -> list[Any]:
    query = parse_query({"site_id": SITE_ID, "date_range": "30d", **spec},
                        timezone=TIMEZONE, now=NOW, goals=await goals_of(path))
    result = await run_query(SqliteStore(path=path), query)
    return result["results"]


def listed_days(path: Path) -> int:
    """Listed days of the data (2026-01-30 on; the empty days before it are listed too)."""
    return execute(path, "SELECT COUNT(*) FROM goal_rollup_days WHERE day >= '2026-01-30'")[0][0]


@pytest.fixture(scope="module")
def rolled_path(raw_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data with every closed day rolled up (read only by the tests taking it)."""
    import asyncio

    path = tmp_path_factory.mktemp("goal_rollups") / "rolled.sqlite"
    shutil.copy(raw_path, path)
    asyncio.run(refresh_rollups(SqliteStore(path=path), now_ms=NOW_MS, max_days=64))
    return path


@pytest.mark.parametrize("spec", SHAPES)
async def test_goal_rollups_answer_as_raw_events(raw_path: Path, rolled_path: Path,
                                                spec: dict[str, Any]) -> None:
    raw, rolled = raw_path, rolled_path
    assert listed_days(rolled) == 39  # every closed day (today is not)
    query = parse_query({"site_id": SITE_ID, "date_range": "30d", **spec},
                        timezone=TIMEZONE, now=NOW, goals=await goals_of(rolled))
    assert plan_query(query).goal_rollup is not None
    expected = await answers(raw, spec)
    assert expected and any(row["metrics"][1] for row in expected)
    assert await answers(rolled, spec) == expected


async def test_the_panel_reads_rows_not_events(paths: tuple[Path, Path]) -> None:
    """With every closed day rolled up, the rows answer: raw events of those days are no
    longer read (deleting them changes nothing but today)."""
    raw, rolled = paths
    await refresh_rollups(SqliteStore(path=rolled), now_ms=NOW_MS, max_days=64)
    spec = {"metrics": ["visitors", "events", "total_revenue"], "dimensions": ["event:goal"],
            "date_range": "7d"}
    before = await answers(rolled, spec)
    start = int(datetime(2026, 3, 3, tzinfo=UTC).timestamp() * 1000) - 3_600_000
    with sqlite3.connect(rolled) as conn:
        conn.execute("DELETE FROM events WHERE ts >= ? AND ts < ?", [start, start + 3 * DAY_MS])
    conn.close()
    assert await answers(rolled, spec) == before
    # Exact numbers: the Purchase goal's revenue is its EUR amounts only.
    eur = execute(raw, "SELECT ROUND(SUM(revenue), 2) FROM events WHERE name = 'Purchase' "
                  "AND revenue_currency = 'EUR' AND ts >= ? AND ts < ?",
                  int(datetime(2026, 3, 3, 23, tzinfo=UTC).timestamp() * 1000),
                  int(datetime(2026, 3, 10, 23, tzinfo=UTC).timestamp() * 1000))[0][0]
    purchase = next(r for r in before if r["dimensions"] == ["Purchase"])
    assert (purchase["metrics"][2]["value"], purchase["metrics"][2]["currency"]) == (eur, "EUR")


async def test_a_goal_edit_reads_raw_until_the_job_redoes_the_days(
        paths: tuple[Path, Path]) -> None:
    raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, now_ms=NOW_MS, max_days=64)
    spec = SHAPES[0]
    old = await answers(rolled, spec)
    for path in paths:
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE goals SET target = '/pricing/**' WHERE id = 'g3'")
            conn.execute("UPDATE goals SET prop_value = 'team' WHERE id = 'g2'")
        conn.close()
    expected = await answers(raw, spec)
    assert expected != old
    # The listings name the old goals: raw reads, the same numbers.
    assert await answers(rolled, spec) == expected
    goals = goals_param(await goals_of(rolled))
    assert len(execute(rolled, GOAL_TODO, SITE_ID, goals)) == 39
    await refresh_rollups(store, now_ms=NOW_MS + 60_000, max_days=64)
    assert execute(rolled, GOAL_TODO, SITE_ID, goals) == []
    assert execute(rolled, "SELECT DISTINCT goals FROM goal_rollup_days") == [
        (json.dumps(json.loads(goals), separators=(",", ":")),)]
    assert await answers(rolled, spec) == expected


async def test_a_late_conversion_is_counted_at_once_and_rolled_up_again(
        paths: tuple[Path, Path]) -> None:
    raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, now_ms=NOW_MS, max_days=64)
    late = int(datetime(2026, 3, 5, 12, tzinfo=UTC).timestamp() * 1000)
    for path in paths:
        with sqlite3.connect(path) as conn:
            conn.execute(
                "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
                "pathname, props) VALUES ('late', ?, ?, 'Signup', 'late-v', 'late-s', 'x.test', "
                "'/', '{\"plan\":\"pro\"}')", [SITE_ID, late])
        conn.close()
    spec = SHAPES[0]
    expected = await answers(raw, spec)
    assert await answers(rolled, spec) == expected
    await refresh_rollups(store, now_ms=NOW_MS + 60_000, max_days=64)
    assert listed_days(rolled) == 39
    assert await answers(rolled, spec) == expected


def test_a_day_statement_lists_only_a_rolled_up_day(tmp_path: Path, raw_path: Path) -> None:
    """The batch of a day rollup_days does not list (a late row took it out) writes nothing."""
    path = tmp_path / "t.sqlite"
    shutil.copy(raw_path, path)
    values = {"site_id": SITE_ID, "day": "2026-03-01", "tz": TIMEZONE, "goals": "[]",
              "computed_at": NOW_MS}
    with sqlite3.connect(path) as conn:
        for statement in GOAL_DAY_STATEMENTS:
            conn.execute(statement.sql, [values[name] for name in statement.params])
        assert conn.execute("SELECT COUNT(*) FROM goal_rollup_days").fetchone() == (0,)
    conn.close()


async def test_other_currencies_come_from_the_rows_per_currency(raw_path: Path,
                                                               rolled_path: Path) -> None:
    """The panel's line of what revenue goals carried in other currencies (or none): the same
    rows from the goal rollups' rows per currency as from raw events, per goal and currency."""
    from analytics_941.sql.goal_currencies import other_currencies_statement
    from analytics_941.sql.revenue import other_currencies_sql

    query = parse_query({"site_id": SITE_ID, "date_range": "30d",
                         "metrics": ["visitors", "events", "total_revenue"],
                         "dimensions": ["event:goal"]},
                        timezone=TIMEZONE, now=NOW, goals=await goals_of(rolled_path))
    goals = await goals_of(rolled_path)
    sql, params = other_currencies_statement(query, goals, period=query.period)
    assert "goal_rollup_daily" in sql
    expected = execute(raw_path, *other_currencies_sql(query, goals, period=query.period)[:1],
                       *other_currencies_sql(query, goals, period=query.period)[1])
    assert sorted(row[1] or "" for row in expected) == ["", "USD"]
    assert all(row[0] == "Purchase" and row[3] > 0 for row in expected)
    assert execute(rolled_path, sql, *params) == expected
    # The raw data answers the same through the statement (no day is listed there).
    assert execute(raw_path, sql, *params) == expected
    # The rows hold the days: the rolled file's raw Purchases of closed days go unread.
    copy = rolled_path.with_name("no-purchases.sqlite")
    shutil.copy(rolled_path, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("DELETE FROM events WHERE name = 'Purchase' AND ts < ?",
                     [int(datetime(2026, 3, 9, 23, tzinfo=UTC).timestamp() * 1000)])
    conn.close()
    assert execute(copy, sql, *params) == expected
