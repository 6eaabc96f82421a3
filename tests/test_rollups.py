"""Rollups: the rollup path and the raw path give identical numbers, and late rows are not lost.

Data: the bench generator at a small scale (40 days, a few thousand events, Berlin time).
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from analytics_941 import SqliteStore, parse_query, run_query
from analytics_941.rollups.days import day_params, rollup_steps
from analytics_941.rollups.frequent import frequent_day_statements
from analytics_941.rollups.jobs import refresh_rollups
from analytics_941.rollups.kinds import FILTERED_ROLLUP_SET, ROLLUP_DIMENSIONS
from analytics_941.sql.columns import on_table
from analytics_941.sql.plan import plan_query
from bench.datagen import SITE_ID, TIMEZONE, generate

TODAY = date(2026, 3, 10)
# More than the fixture's days: one run rolls them all up (the job's default is a cron run's).
ALL_DAYS = 64
NOW = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
# Rolled-up dimensions that visits can be broken down by (not event:name, not page_title).
SESSION_OK = [d for d in ROLLUP_DIMENSIONS if on_table(d, "sessions")]


@pytest.fixture(scope="module")
def raw_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rollups") / "raw.sqlite"
    generate(path, events=6000, days=40, today=TODAY, rollups=False)
    return path


@pytest.fixture
def paths(raw_path: Path, tmp_path: Path) -> tuple[Path, Path]:
    raw, rolled = tmp_path / "raw.sqlite", tmp_path / "rolled.sqlite"
    shutil.copy(raw_path, raw)
    shutil.copy(raw_path, rolled)
    return raw, rolled


def query(**spec: Any):  # type: ignore[no-untyped-def]
    return parse_query(
        {"site_id": SITE_ID, "date_range": "30d", **spec}, timezone=TIMEZONE, now=NOW
    )


def data_days(done: list[tuple[str, date]]) -> list[tuple[str, date]]:
    """The days of ``done`` holding data: a run after the first also lists the empty days of
    January before it (test_rollup_gaps)."""
    return [d for d in done if d[1] >= date(2026, 1, 30)]


def execute(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(sql, params).fetchall()
    conn.close()
    return rows


# Every query shape the rollups can answer: totals, each dimension, time buckets, filters on the
# broken-down dimension, a totals filter on one value, comparisons.
ELIGIBLE: list[dict[str, Any]] = [
    {"metrics": ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate",
                 "visit_duration", "time_on_page", "scroll_depth", "events"]},
    {"metrics": ["visitors", "visits", "bounce_rate"], "dimensions": ["time:day"],
     "comparison": "previous_period"},
    {"date_range": "month", "metrics": ["visitors", "pageviews"], "dimensions": ["time:week"]},
    {"date_range": "12mo", "metrics": ["visitors", "visit_duration"],
     "dimensions": ["time:month"]},
    *({"metrics": ["visitors", "visits", "bounce_rate", "visit_duration", "pageviews"],
       "dimensions": [d], "limit": 20} for d in SESSION_OK),
    {"metrics": ["visitors", "events"], "dimensions": ["event:name"]},
    {"metrics": ["visitors", "percentage", "time_on_page"], "dimensions": ["page"],
     "comparison": "year_over_year"},
    {"metrics": ["visitors", "scroll_depth"], "dimensions": ["page"],
     "filters": [["contains", "page", ["/blog"]]]},
    {"metrics": ["visitors", "visits"], "dimensions": ["country"],
     "filters": [["not", ["is", "country", ["US", "DE"]]]]},
    {"metrics": ["visitors", "visits", "bounce_rate"], "filters": [["is", "source", ["Google"]]]},
    # Page rows with visit metrics and a page filter without negation: the rows are the pages
    # matching the filter (from events), and every visit that entered on such a page viewed it,
    # so the entry-page rollup rows hold exactly the visits the raw path keeps...
    {"metrics": ["visitors", "visits", "bounce_rate"], "dimensions": ["page"],
     "filters": [["contains", "page", ["/blog"]]]},
    {"metrics": ["visitors", "visits"], "dimensions": ["time:week", "page"],
     "filters": [["is_not", "page", ["/"]]]},
    # ...and negated page filters do too when only event metrics are asked (page = pathname).
    {"metrics": ["visitors", "pageviews"], "dimensions": ["page"],
     "filters": [["not", ["is", "page", ["/"]]]]},
    {"metrics": ["visitors", "visits"], "dimensions": ["time:day", "device"]},
    # The rollups per filter value: one page or one country, on the totals and the first view's
    # breakdowns — a page filter keeping the visits that viewed the page, as the raw path does.
    {"metrics": ["visitors", "visits"], "dimensions": ["page"],
     "filters": [["is", "country", ["US"]]]},
    {"metrics": ["visitors", "visits"], "filters": [["is", "page", ["/"]]]},
    {"metrics": ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate",
                 "visit_duration", "time_on_page", "scroll_depth", "events"],
     "filters": [["is", "page", ["/about/0bd15a-1"]]], "comparison": "previous_period"},
    {"date_range": "12mo", "metrics": ["visitors", "visits", "bounce_rate"],
     "dimensions": ["time:month"], "filters": [["is", "page", ["/"]]]},
    {"metrics": ["visitors", "pageviews", "visits"], "dimensions": ["time:day"],
     "filters": [["is", "page", ["/"]]]},
    *({"metrics": ["visitors", "percentage", "visits", "bounce_rate"], "dimensions": [d],
       "filters": [["is", "page", ["/"]]]} for d in ("channel", "country", "browser")),
    *({"metrics": ["visitors", "visits", "visit_duration"], "dimensions": [d],
       "filters": [["is", "country", ["DE"]]], "limit": 30}
      for d in ("page", "channel", "browser")),
    {"metrics": ["visitors"], "dimensions": ["country"], "filters": [["is", "page", ["/nope"]]]},
]
# And some it cannot (checked to take the raw path, and to agree anyway).
RAW_ONLY: list[dict[str, Any]] = [
    # Filters the rollups per filter value do not hold: another breakdown, another dimension,
    # several values, another operator, a second filter, any case.
    {"metrics": ["visitors", "visits"], "dimensions": ["referrer"],
     "filters": [["is", "country", ["US"]]]},
    {"metrics": ["visitors", "visits"], "dimensions": ["page"],
     "filters": [["is", "source", ["Google"]]]},
    {"metrics": ["visitors", "visits"], "filters": [["is", "page", ["/", "/pricing"]]]},
    {"metrics": ["visitors", "visits"], "filters": [["contains", "page", ["/blog"]]]},
    {"metrics": ["visitors", "visits"], "dimensions": ["country"],
     "filters": [["is", "page", ["/"]], ["is", "device", ["mobile"]]]},
    {"metrics": ["visitors", "visits"], "dimensions": ["country"],
     "filters": [["is", "page", ["/PRICING"], {"case_sensitive": False}]]},
    {"date_range": "7d", "metrics": ["visitors"], "dimensions": ["time:hour"]},
    {"metrics": ["events"], "dimensions": ["event:props:plan"]},
    # Page filters on visit metrics where "viewed a matching page" (the raw path's meaning on
    # sessions) and "entered on a matching page" (the rollup rows) differ: under a negation
    # ("never viewed /" is not "did not enter on /")...
    {"metrics": ["visitors", "visits", "bounce_rate"], "dimensions": ["page"],
     "filters": [["not", ["is", "page", ["/"]]]]},
    {"metrics": ["visitors", "visits"], "dimensions": ["page"],
     "filters": [["or", [["not", ["contains", "page", ["/blog"]]], ["is", "page", ["/"]]]]]},
    # ...and whenever visits alone make the rows (entry pages of visits that viewed /blog).
    {"metrics": ["visits", "bounce_rate"], "dimensions": ["page"],
     "filters": [["contains", "page", ["/blog"]]]},
    {"metrics": ["visits"], "dimensions": ["page"], "filters": [["is_not", "page", ["/"]]]},
]


async def results(path: Path, specs: list[dict[str, Any]]) -> list[Any]:
    store = SqliteStore(path=path)
    return [(await run_query(store, query(**spec)))["results"] for spec in specs]


async def test_rollup_and_raw_paths_agree(paths: tuple[Path, Path]) -> None:
    raw, rolled = paths
    done = await refresh_rollups(SqliteStore(path=rolled), max_days=ALL_DAYS, now_ms=NOW_MS)
    assert len(done) == 39 and date(2026, 3, 10) not in {day for _, day in done}
    for spec in ELIGIBLE:
        assert plan_query(query(**spec)).rollup_dim is not None, spec
    for spec in RAW_ONLY:
        assert plan_query(query(**spec)).rollup_dim is None, spec
    expected = await results(raw, ELIGIBLE + RAW_ONLY)
    assert await results(rolled, ELIGIBLE + RAW_ONLY) == expected
    assert any(r for r in expected)
    # The filtered ones have rows to compare, with visitors (but the page nobody viewed).
    filtered = [(spec, rows) for spec, rows in zip(ELIGIBLE, expected, strict=False)
                if plan_query(query(**spec)).rollup_filter is not None]
    assert len(filtered) == 12
    assert all(any(row["metrics"][0] > 0 for row in rows) for _spec, rows in filtered[:-1])
    assert filtered[-1][1] == []
    # Proof the rolled-up file really answered from rollups: without the raw rows of closed days
    # (as after a retention purge) the eligible queries still give the same numbers.
    start = execute(rolled, "SELECT MIN(start_ms) FROM rollup_days")[0][0]
    end = execute(rolled, "SELECT MAX(end_ms) FROM rollup_days")[0][0]
    execute(rolled, "DELETE FROM events WHERE ts >= ? AND ts < ?", start, end)
    execute(rolled, "DELETE FROM sessions WHERE started_at >= ? AND started_at < ?", start, end)
    assert await results(rolled, ELIGIBLE) == expected[: len(ELIGIBLE)]


async def test_rollups_with_string_parameters(paths: tuple[Path, Path]) -> None:
    _raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS, min_visits=40)
    tables = ["SELECT * FROM rollup_daily ORDER BY 1, 2, 3, 4",
              "SELECT * FROM rollup_filtered_daily ORDER BY 1, 2, 3, 4, 5, 6",
              "SELECT * FROM rollup_filtered_days ORDER BY 1, 2",
              "SELECT * FROM rollup_frequent_daily ORDER BY 1, 2, 3, 4, 5, 6",
              "SELECT * FROM rollup_frequent_days ORDER BY 1, 2"]
    before = [execute(rolled, sql) for sql in tables]
    assert before[3]
    # D1's HTTP API may deliver every parameter as a string: recompute a day that way.
    values = {"site_id": SITE_ID, "day": "2026-03-05", "tz": TIMEZONE,
              "computed_at": str(NOW_MS), "min_visits": "40"}
    start, end = execute(rolled, "SELECT start_ms, end_ms FROM rollup_days WHERE day = ?",
                         "2026-03-05")[0]
    values |= {"start_ms": str(start), "end_ms": str(end),
               "units": f'[[{start},{end},0,"2026-03-05"]]'}
    for step in rollup_steps():
        await store.batch([(s.sql, [values[n] for n in s.params]) for s in step])
    for statement in frequent_day_statements():
        await store.execute(statement.sql, [values[n] for n in statement.params])
    assert [execute(rolled, sql) for sql in tables] == before


async def test_a_late_event_for_a_closed_day_is_not_lost(paths: tuple[Path, Path]) -> None:
    raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS)
    spec = {"metrics": ["visitors", "pageviews", "visits"], "dimensions": ["page"]}
    day = "2026-03-05"
    start, _end = execute(rolled, "SELECT start_ms, end_ms FROM rollup_days WHERE day = ?", day)[0]
    late = ("late-1", SITE_ID, start + 3_600_000, "pageview", "late-visitor", "late-session",
            "bench.example", "/late-page")
    for path in (raw, rolled):
        execute(path, "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, "
                "hostname, pathname) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", *late)
        execute(path, "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, "
                "hostname, entry_page, exit_page, pageviews, events) "
                "VALUES ('late-session', ?, 'late-visitor', ?, ?, 'bench.example', "
                "'/late-page', '/late-page', 1, 1)", SITE_ID, late[2], late[2])
    # The trigger took the day out of the rollups: it is read raw until recomputed...
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_days WHERE day = ?", day) == [(0,)]
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_dirty") != [(0,)]
    expected = await results(raw, [spec, {**spec, "filters": [["is", "page", ["/late-page"]]]}])
    assert expected[1] == [{"dimensions": ["/late-page"], "metrics": [1, 1, 1]}]
    assert await results(rolled, [spec, expected and {**spec, "filters": [
        ["is", "page", ["/late-page"]]]}]) == expected
    # ...and the next run recomputes exactly that day, after which the numbers still agree.
    done = await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS)
    assert data_days(done) == [(SITE_ID, date(2026, 3, 5))]
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_days WHERE day = ?", day) == [(1,)]
    assert execute(rolled, "SELECT visitors FROM rollup_daily WHERE dim = 'page' AND day = ? "
                   "AND value = '/late-page'", day) == [(1,)]
    assert await results(rolled, [spec]) == expected[:1]


async def test_a_late_event_between_the_steps_leaves_the_day_to_the_next_run(
    paths: tuple[Path, Path],
) -> None:
    """The cron recomputes a day a step a call (rollup_steps): an event landing between two
    steps must not be lost by a listing of rows computed without it."""
    raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS)
    day = date(2026, 3, 6)
    start, _end = execute(rolled, "SELECT start_ms, end_ms FROM rollup_days WHERE day = ?",
                          day.isoformat())[0]
    execute(rolled, "INSERT INTO rollup_dirty (site_id, slot) VALUES (?, ?)",
            SITE_ID, start // 900_000)
    values = day_params(site_id=SITE_ID, day=day, tz=ZoneInfo(TIMEZONE), now_ms=NOW_MS + 1)
    steps = rollup_steps()
    for number, step in enumerate(steps):
        if number == len(steps) // 2:  # half the rows rewritten: the late event lands
            for path in (raw, rolled):
                execute(path, "INSERT INTO events (id, site_id, ts, name, visitor_id, "
                        "session_id, hostname, pathname) VALUES ('late-2', ?, ?, 'pageview', "
                        "'late-v', 'late-s', 'bench.example', '/between')", SITE_ID, start + 60_000)
        await store.batch([(s.sql, [values[n] for n in s.params]) for s in step])
    # Not listed (readers read it raw, the late event included), and still marked dirty...
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_days WHERE day = ? AND tz = ?",
                   day.isoformat(), TIMEZONE) == [(0,)]
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_dirty WHERE site_id = ? AND slot = ?",
                   SITE_ID, start // 900_000) == [(1,)]
    spec = {"metrics": ["visitors", "pageviews"], "dimensions": ["page"],
            "filters": [["is", "page", ["/between"]]]}
    expected = await results(raw, [spec])
    assert expected == [[{"dimensions": ["/between"], "metrics": [1, 1]}]]
    assert await results(rolled, [spec]) == expected
    # ...so the next run redoes it, with the event.
    assert (SITE_ID, day) in await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS + 2)
    assert execute(rolled, "SELECT visitors FROM rollup_daily WHERE dim = 'page' AND day = ? "
                   "AND value = '/between'", day.isoformat()) == [(1,)]
    assert await results(rolled, [spec]) == expected


async def test_a_day_past_retention_rolled_up_first_gets_every_dimension(
    paths: tuple[Path, Path],
) -> None:
    """A day older than the retention horizon that has no rollups yet (its raw rows not purged
    yet) is rolled up whole: its first rows must not make it count as kept-as-is (FROZEN)."""
    _raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS)
    day = "2026-02-12"
    before = execute(rolled, "SELECT dim, value, visitors, pageviews, visits FROM rollup_daily "
                     "WHERE day = ? ORDER BY dim, value", day)
    assert len({row[0] for row in before}) > 10
    execute(rolled, "UPDATE sites SET retention_days = 7 WHERE id = ?", SITE_ID)
    for table in ("rollup_daily", "rollup_filtered_daily", "rollup_days"):
        execute(rolled, f"DELETE FROM {table} WHERE day = ?", day)
    start = int(datetime(2026, 2, 12, tzinfo=ZoneInfo(TIMEZONE)).timestamp() * 1000)
    execute(rolled, "INSERT OR IGNORE INTO rollup_dirty (site_id, slot) VALUES (?, ?)",
            SITE_ID, start // 900_000)
    assert (SITE_ID, date(2026, 2, 12)) in await refresh_rollups(
        store, max_days=ALL_DAYS, now_ms=NOW_MS + 1
    )
    assert execute(rolled, "SELECT dim, value, visitors, pageviews, visits FROM rollup_daily "
                   "WHERE day = ? ORDER BY dim, value", day) == before


async def test_a_timezone_change_retires_old_rollups(paths: tuple[Path, Path]) -> None:
    raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS)
    for path in (raw, rolled):
        execute(path, "UPDATE sites SET timezone = 'America/New_York' WHERE id = ?", SITE_ID)

    async def in_new_york(path: Path) -> Any:
        q = parse_query({"site_id": SITE_ID, "date_range": "30d", "metrics": ["visitors"],
                         "dimensions": ["time:day"]}, timezone="America/New_York", now=NOW)
        return (await run_query(SqliteStore(path=path), q))["results"]

    expected = await in_new_york(raw)
    assert await in_new_york(rolled) == expected  # old rollups ignored: tz does not match
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS)
    assert execute(rolled, "SELECT DISTINCT tz FROM rollup_days") == [("America/New_York",)]
    assert await in_new_york(rolled) == expected


async def test_a_timezone_change_never_zeroes_days_whose_raw_rows_are_purged(
    paths: tuple[Path, Path],
) -> None:
    raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS)
    # Retention 20 days, purged as the Worker's purge does: whole Berlin days before local
    # midnight of the day holding now - 20 days (2026-02-18 in Berlin).
    cutoff = execute(rolled, "SELECT start_ms FROM rollup_days WHERE day = '2026-02-18'")[0][0]
    execute(rolled, "UPDATE sites SET retention_days = 20")
    execute(rolled, "DELETE FROM events WHERE ts < ?", cutoff)
    execute(rolled, "DELETE FROM sessions WHERE started_at < ?", cutoff)
    kept = ("SELECT day, dim, value, visitors, visits FROM rollup_daily WHERE day < ? "
            "ORDER BY 1, 2, 3")
    before = execute(rolled, kept, "2026-02-19")
    assert before and all(row[3] > 0 for row in before if row[1] == "")
    for path in (raw, rolled):
        execute(path, "UPDATE sites SET timezone = 'America/New_York' WHERE id = ?", SITE_ID)
    while await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS):
        pass
    # The days that began before the horizon (now - 20 days) kept their rollups instead of
    # being recomputed from nothing, and are listed for the new timezone...
    assert execute(rolled, kept, "2026-02-19") == before
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_dirty WHERE slot < ?",
                   NOW_MS // 900_000 - 96) == [(0,)]
    assert execute(rolled, "SELECT DISTINCT tz FROM rollup_days") == [("America/New_York",)]

    async def in_new_york(path: Path, date_range: Any) -> Any:
        q = parse_query({"site_id": SITE_ID, "date_range": date_range,
                         "metrics": ["visitors", "visits"], "dimensions": ["time:day"]},
                        timezone="America/New_York", now=NOW)
        return (await run_query(SqliteStore(path=path), q))["results"]

    # ...so no day of the dashboard drops to zero...
    month = await in_new_york(rolled, "30d")
    assert len(month) == 30 and all(row["metrics"][0] > 0 for row in month)
    # ...and the days wholly inside retention were recomputed in the new timezone exactly.
    inside = ["2026-02-21", "2026-03-09"]
    assert await in_new_york(rolled, inside) == await in_new_york(raw, inside)


async def test_whole_closed_months_come_from_the_monthly_rollups(paths: tuple[Path, Path]) -> None:
    raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS)
    # February is the one whole closed month of the data (2026-01-30 … today, 2026-03-10).
    assert execute(rolled, "SELECT month, tz FROM rollup_months") == [("2026-02", TIMEZONE)]
    february = execute(rolled, "SELECT dim, value, visitors, pageviews, visits, bounces "
                       "FROM rollup_monthly ORDER BY 1, 2")
    summed = execute(rolled, "SELECT dim, value, SUM(visitors), SUM(pageviews), SUM(visits), "
                     "SUM(bounces) FROM rollup_daily WHERE day LIKE '2026-02-%' "
                     "GROUP BY 1, 2 ORDER BY 1, 2")
    assert february == summed and february
    specs: list[dict[str, Any]] = [
        {"date_range": "12mo", "metrics": ["visitors", "visits", "bounce_rate", "pageviews"],
         "dimensions": ["page"], "limit": 50},
        {"date_range": "12mo", "metrics": ["visitors", "visit_duration", "time_on_page"],
         "dimensions": ["time:month"]},
        {"date_range": ["2026-02-01", "2026-02-28"], "metrics": ["visitors", "visits"],
         "dimensions": ["country"], "filters": [["is_not", "country", ["US"]]]},
        {"date_range": ["2026-01-31", "2026-03-01"], "metrics": ["visitors", "scroll_depth"],
         "filters": [["is", "source", ["Google"]]]},
        {"date_range": "12mo", "metrics": ["visitors", "visits", "bounce_rate"],
         "dimensions": ["country"], "filters": [["is", "page", ["/"]]]},
        {"date_range": ["2026-02-01", "2026-02-28"], "metrics": ["visitors"],
         "dimensions": ["time:week"]},
    ]
    expected = await results(raw, specs)
    assert await results(rolled, specs) == expected
    assert execute(rolled, "SELECT fdim, dim, value, visitors, visits "
                   "FROM rollup_filtered_monthly ORDER BY 1, 2, 3") == execute(
        rolled, "SELECT fdim, dim, value, SUM(visitors), SUM(visits) FROM rollup_filtered_daily "
        "WHERE day LIKE '2026-02-%' GROUP BY fdim, fvalue, dim, value ORDER BY 1, 2, 3")
    # Proof the month rows answered: without February's daily rows the numbers stay (the
    # week-bucketed query, which cannot use months, is left out).
    execute(rolled, "DELETE FROM rollup_daily WHERE day LIKE '2026-02-%'")
    execute(rolled, "DELETE FROM rollup_filtered_daily WHERE day LIKE '2026-02-%'")
    assert await results(rolled, specs[:5]) == expected[:5]


async def test_a_late_event_takes_its_month_out_until_recomputed(paths: tuple[Path, Path]) -> None:
    raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS)
    start = execute(rolled, "SELECT start_ms FROM rollup_days WHERE day = '2026-02-14'")[0][0]
    for path in (raw, rolled):
        execute(path, "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, "
                "hostname, pathname) VALUES ('late-f', ?, ?, 'pageview', 'late-v', 'late-s', "
                "'bench.example', '/late-feb')", SITE_ID, start + 3_600_000)
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_months") == [(0,)]
    spec = {"date_range": "12mo", "metrics": ["visitors", "pageviews"], "dimensions": ["page"],
            "filters": [["contains", "page", ["/late"]]]}
    # The same event through the rollups per filter value (it has no country).
    filtered = {"date_range": "12mo", "metrics": ["visitors", "pageviews"],
                "dimensions": ["country"], "filters": [["is", "page", ["/late-feb"]]]}
    expected = await results(raw, [spec, filtered])
    assert expected == [[{"dimensions": ["/late-feb"], "metrics": [1, 1]}],
                        [{"dimensions": ["Unknown"], "metrics": [1, 1]}]]
    assert await results(rolled, [spec, filtered]) == expected
    done = await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS)
    assert data_days(done) == [(SITE_ID, date(2026, 2, 14))]
    assert execute(rolled, "SELECT visitors FROM rollup_monthly WHERE dim = 'page' "
                   "AND value = '/late-feb'") == [(1,)]
    assert execute(rolled, "SELECT dim, value, visitors FROM rollup_filtered_monthly "
                   "WHERE fdim = 'page' AND fvalue = '/late-feb' ORDER BY 1") == [
        ("", "", 1), ("browser", "Unknown", 1), ("channel", "Direct", 1),
        ("country", "Unknown", 1)]
    assert await results(rolled, [spec, filtered]) == expected


@pytest.mark.parametrize(("migration", "span"), [("0005_rollup_monthly", "month"),
                                                  ("0009_rollup_weekly", "week")])
async def test_the_span_migrations_backfill_closed_spans(
    paths: tuple[Path, Path], migration: str, span: str
) -> None:
    _raw, rolled = paths
    await refresh_rollups(SqliteStore(path=rolled), max_days=ALL_DAYS, now_ms=NOW_MS)
    tables = f"SELECT * FROM rollup_{span}ly ORDER BY 1, 2, 3, 4"
    listed = f"SELECT site_id, {span}, tz FROM rollup_{span}s ORDER BY 2"
    before = execute(rolled, tables), execute(rolled, listed)
    script = Path(__file__).resolve().parent.parent / f"migrations/{migration}.sql"
    with sqlite3.connect(rolled) as conn:
        conn.executescript(f"DROP TRIGGER rollup_days_{span}_delete; DROP TABLE rollup_{span}ly; "
                           f"DROP TABLE rollup_{span}s;")
        conn.executescript(script.read_text())
    conn.close()
    assert (execute(rolled, tables), execute(rolled, listed)) == before
    assert before[1]


async def test_the_filtered_rollups_migration_queues_rolled_up_days_for_the_cron(
    paths: tuple[Path, Path],
) -> None:
    raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS)
    tables = [f"SELECT * FROM rollup_filtered_{span} ORDER BY 1, 2, 3, 4, 5, 6"
              for span in ("daily", "monthly")]
    # (The empty days before the data are listed by later runs: test_rollup_gaps.)
    listed = ["SELECT * FROM rollup_filtered_days WHERE day >= '2026-01-30' ORDER BY 1, 2",
              "SELECT * FROM rollup_filtered_months ORDER BY 1, 2"]
    before = [execute(rolled, sql) for sql in tables + listed]
    assert all(before) and len(before[2]) == 39
    assert before[3] == [(SITE_ID, "2026-02", TIMEZONE, FILTERED_ROLLUP_SET)]
    # A database rolled up before migration 0010 (its tables gone), then migrated.
    script = Path(__file__).resolve().parent.parent / "migrations/0010_rollup_filtered.sql"
    with sqlite3.connect(rolled) as conn:
        conn.executescript(
            "DROP TRIGGER rollup_days_filtered_delete; DROP TABLE rollup_filtered_daily; "
            "DROP TABLE rollup_filtered_monthly; DROP TABLE rollup_filtered_days; "
            "DROP TABLE rollup_filtered_months;")
        conn.executescript(script.read_text())
    conn.close()
    # Filtered views read raw rows meanwhile, with the same numbers; the other rollups stay.
    spec = {"date_range": "12mo", "metrics": ["visitors", "visits", "bounce_rate"],
            "dimensions": ["country"], "filters": [["is", "page", ["/"]]]}
    expected = await results(raw, [spec])
    assert await results(rolled, [spec]) == expected and expected[0]
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_days") == [(39,)]
    # The next cron runs recompute every queued day and list it: the same rows as before.
    assert len(data_days(await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS))) == 39
    assert [execute(rolled, sql) for sql in tables + listed] == before
    assert await results(rolled, [spec]) == expected


async def test_days_rolled_up_for_another_set_of_pairs_read_raw_until_redone(
    paths: tuple[Path, Path],
) -> None:
    raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS)
    # As after an upgrade that changed FILTERED_ROLLUP_*: the listed days hold another set, and
    # their rows say nothing of the new pairs (here: wrong numbers that must never show).
    execute(rolled, "UPDATE rollup_filtered_days SET pairs = 'page|,page'")
    execute(rolled, "UPDATE rollup_filtered_months SET pairs = 'page|,page'")
    execute(rolled, "UPDATE rollup_filtered_daily SET visitors = visitors + 1000")
    execute(rolled, "UPDATE rollup_filtered_monthly SET visitors = visitors + 1000")
    spec = {"date_range": "12mo", "metrics": ["visitors", "visits"], "dimensions": ["browser"],
            "filters": [["is", "country", ["DE"]]]}
    expected = await results(raw, [spec])
    assert await results(rolled, [spec]) == expected and expected[0]
    # The cron queues them again and redoes them for the current set.
    assert len(data_days(await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS))) == 39
    assert execute(rolled, "SELECT DISTINCT pairs FROM rollup_filtered_days") == [
        (FILTERED_ROLLUP_SET,)]
    assert execute(rolled, "SELECT pairs FROM rollup_filtered_months") == [(FILTERED_ROLLUP_SET,)]
    assert await results(rolled, [spec]) == expected
    # From the rollups again: without raw rows of the closed days the numbers stay.
    start, end = execute(rolled, "SELECT MIN(start_ms), MAX(end_ms) FROM rollup_days")[0]
    execute(rolled, "DELETE FROM events WHERE ts >= ? AND ts < ?", start, end)
    execute(rolled, "DELETE FROM sessions WHERE started_at >= ? AND started_at < ?", start, end)
    assert await results(rolled, [spec]) == expected


async def test_whole_weeks_come_from_the_weekly_rollups(paths: tuple[Path, Path]) -> None:
    raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS)
    # The whole closed ISO weeks of the data (2026-01-30 … 2026-03-09 closed; Mondays).
    assert execute(rolled, "SELECT week FROM rollup_weeks ORDER BY 1") == [
        ("2026-02-02",), ("2026-02-09",), ("2026-02-16",), ("2026-02-23",), ("2026-03-02",)]
    week = execute(rolled, "SELECT dim, value, visitors, visits FROM rollup_weekly "
                   "WHERE week = '2026-03-02' ORDER BY 1, 2")
    summed = execute(rolled, "SELECT dim, value, SUM(visitors), SUM(visits) FROM rollup_daily "
                     "WHERE day BETWEEN '2026-03-02' AND '2026-03-08' GROUP BY 1, 2 ORDER BY 1, 2")
    assert week == summed and week
    specs: list[dict[str, Any]] = [
        {"metrics": ["visitors", "visits", "bounce_rate", "pageviews"], "dimensions": ["page"],
         "limit": 50},
        {"metrics": ["visitors", "visit_duration"], "filters": [["is", "device", ["mobile"]]]},
        {"date_range": "month", "metrics": ["visitors"], "dimensions": ["time:month"]},
        {"date_range": ["2026-02-25", "2026-03-09"], "metrics": ["visitors", "visits"],
         "dimensions": ["source"], "filters": [["contains", "source", ["o"]]]},
    ]
    expected = await results(raw, specs)
    assert await results(rolled, specs) == expected
    # Proof the week rows answered: without that week's daily rows the numbers stay.
    execute(rolled, "DELETE FROM rollup_daily WHERE day BETWEEN '2026-03-02' AND '2026-03-08'")
    assert await results(rolled, specs) == expected
    # A late event takes its week out (trigger) until the day, and with it the week, is redone.
    start = execute(rolled, "SELECT start_ms FROM rollup_days WHERE day = '2026-02-25'")[0][0]
    execute(rolled, "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, "
            "hostname, pathname) VALUES ('late-w', ?, ?, 'pageview', 'late-v', 'late-s', "
            "'bench.example', '/late-week')", SITE_ID, start + 3_600_000)
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_weeks WHERE week = '2026-02-23'") == [(0,)]
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS)
    assert execute(rolled, "SELECT visitors FROM rollup_weekly WHERE dim = 'page' "
                   "AND value = '/late-week'") == [(1,)]


# The other tabs under one page or one country, for ranges holding whole months: the monthly
# rollups per frequent value (with a threshold the small data set reaches: 40 visits a month).
FREQUENT: list[dict[str, Any]] = [
    *({"date_range": "12mo", "metrics": ["visitors", "visits", "bounce_rate", "visit_duration"],
       "dimensions": [d], "filters": [f], "limit": 40}
      for d in ("entry_page", "exit_page", "source", "utm_campaign", "region", "city", "os",
                "screen", "device")
      for f in (["is", "page", ["/"]], ["is", "country", ["DE"]])),
    {"date_range": "12mo", "metrics": ["visitors", "pageviews", "percentage"],
     "dimensions": ["utm_source"], "filters": [["is", "country", ["US"]]]},
    {"date_range": ["2026-01-31", "2026-03-01"], "metrics": ["visitors", "visits"],
     "dimensions": ["region"], "filters": [["is", "page", ["/"]]],
     "comparison": "previous_period"},
    # 30 days: the recent days' rows (and raw rows for today and the days before them).
    *({"metrics": ["visitors", "visits", "bounce_rate", "visit_duration"], "dimensions": [d],
       "filters": [f], "limit": 40}
      for d in ("entry_page", "source", "city", "os")
      for f in (["is", "page", ["/"]], ["is", "country", ["US"]])),
    {"metrics": ["visitors", "pageviews"], "dimensions": ["time:day", "device"],
     "filters": [["is", "country", ["DE"]]]},
    # A page under the threshold: planned for the rollups, answered from raw rows.
    {"date_range": "12mo", "metrics": ["visitors", "visits"], "dimensions": ["source"],
     "filters": [["is", "page", ["/nope"]]]},
]
MIN_VISITS = 40


async def test_other_tabs_under_a_filter_come_from_monthly_rollups_of_frequent_values(
    paths: tuple[Path, Path],
) -> None:
    raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS, min_visits=MIN_VISITS)
    assert execute(rolled, "SELECT month, tz FROM rollup_frequent_months") == [
        ("2026-02", TIMEZONE)]
    # Held: the values with 40 visits in February, each with its totals row, and no other.
    held = execute(rolled, "SELECT fdim, fvalue, visits FROM rollup_frequent_monthly "
                   "WHERE dim = '' ORDER BY 1, 2")
    assert held == execute(rolled, "SELECT fdim, fvalue, visits FROM rollup_filtered_monthly "
                           "WHERE dim = '' AND visits >= 40 ORDER BY 1, 2")
    assert {"/", "DE", "US"} <= {value for _fdim, value, _visits in held}
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_frequent_monthly AS r WHERE NOT EXISTS "
                   "(SELECT 1 FROM rollup_frequent_monthly AS h WHERE h.dim = '' "
                   "AND h.fdim = r.fdim AND h.fvalue = r.fvalue)") == [(0,)]
    # The days that began in the last 32 days hold the values with a thirtieth of that a day.
    days = execute(rolled, "SELECT MIN(day), MAX(day), COUNT(*) FROM rollup_frequent_days")
    assert days == [("2026-02-07", "2026-03-09", 31)]
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_frequent_daily WHERE dim = '' "
                   "AND visits * 30 < 40") == [(0,)]
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_frequent_daily WHERE dim = 'os'") != [
        (0,)]
    for spec in FREQUENT:
        assert plan_query(query(**spec)).rollup_filter is not None, spec
    expected = await results(raw, FREQUENT)
    assert await results(rolled, FREQUENT) == expected
    assert all(rows for rows in expected[:-1]) and expected[-1] == []
    # Proof the month rows answered: without February's raw rows the held values keep their
    # numbers, while a value the month does not hold loses February (it reads raw rows).
    rare = {"date_range": "12mo", "metrics": ["visits"], "dimensions": ["os"],
            "filters": [["is", "page", [_rare_page(rolled)]]]}
    (rare_before,) = await results(rolled, [rare])
    assert rare_before
    start, end = execute(rolled, "SELECT MIN(start_ms), MAX(end_ms) FROM rollup_days "
                         "WHERE day LIKE '2026-02-%'")[0]
    execute(rolled, "DELETE FROM events WHERE ts >= ? AND ts < ?", start, end)
    execute(rolled, "DELETE FROM sessions WHERE started_at >= ? AND started_at < ?", start, end)
    assert await results(rolled, FREQUENT[:19]) == expected[:19]
    assert await results(rolled, [rare]) != [rare_before]
    # And the recent days' rows answered for March: without its raw rows (today's apart), the
    # 30-day views lose only what the days that do not hold the value had.
    start, end = execute(rolled, "SELECT MIN(start_ms), MAX(end_ms) FROM rollup_days "
                         "WHERE day LIKE '2026-03-%'")[0]
    held = execute(rolled, "SELECT COUNT(DISTINCT day) FROM rollup_frequent_daily WHERE "
                   "fdim = 'country' AND fvalue = 'US' AND dim = '' AND day LIKE '2026-03-%'")
    assert held == [(9,)]
    execute(rolled, "DELETE FROM events WHERE ts >= ? AND ts < ?", start, end)
    execute(rolled, "DELETE FROM sessions WHERE started_at >= ? AND started_at < ?", start, end)
    us = [i for i, spec in enumerate(FREQUENT) if spec.get("filters") == [["is", "country", ["US"]]]
          and "date_range" not in spec]
    assert await results(rolled, [FREQUENT[i] for i in us]) == [expected[i] for i in us]


def _rare_page(path: Path) -> str:
    """A page viewed in February by fewer visits than the threshold, and by some."""
    return str(execute(path, "SELECT fvalue FROM rollup_filtered_monthly WHERE fdim = 'page' "
                       "AND dim = '' AND visits BETWEEN 5 AND 39 ORDER BY visits DESC")[0][0])


async def test_a_late_event_takes_its_frequent_month_out_until_recomputed(
    paths: tuple[Path, Path],
) -> None:
    raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS, min_visits=MIN_VISITS)
    start = execute(rolled, "SELECT start_ms FROM rollup_days WHERE day = '2026-02-14'")[0][0]
    for path in (raw, rolled):
        execute(path, "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, "
                "hostname, entry_page, exit_page, pageviews, events, duration_ms, is_bounce, "
                "country, os) VALUES ('late-s', ?, 'late-v', ?, ?, 'bench.example', '/', '/', "
                "1, 1, 0, 1, 'DE', 'LateOS')", SITE_ID, start + 3_600_000, start + 3_600_000)
        execute(path, "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, "
                "hostname, pathname, country, os) VALUES ('late-e', ?, ?, 'pageview', 'late-v', "
                "'late-s', 'bench.example', '/', 'DE', 'LateOS')", SITE_ID, start + 3_600_000)
    # Out of the list at once (its day left the rollups), so the late visit shows at once.
    assert execute(rolled, "SELECT COUNT(*) FROM rollup_frequent_months") == [(0,)]
    specs = [{"date_range": "12mo", "metrics": ["visitors", "visits"], "dimensions": ["os"],
              "filters": [f]} for f in (["is", "page", ["/"]], ["is", "country", ["DE"]])]
    expected = await results(raw, specs)
    assert all({"dimensions": ["LateOS"], "metrics": [1, 1]} in rows for rows in expected)
    assert await results(rolled, specs) == expected
    # The next run redoes the day, then the month, from the rows as they are now.
    done = await refresh_rollups(
        store, max_days=ALL_DAYS, now_ms=NOW_MS, min_visits=MIN_VISITS
    )
    assert data_days(done) == [(SITE_ID, date(2026, 2, 14))]
    assert execute(rolled, "SELECT fdim, visitors FROM rollup_frequent_monthly "
                   "WHERE dim = 'os' AND value = 'LateOS' ORDER BY 1") == [
        ("country", 1), ("page", 1)]
    assert await results(rolled, specs) == expected


async def test_a_late_event_during_the_day_job_keeps_the_day_unlisted(
    paths: tuple[Path, Path],
) -> None:
    """The Worker runs a recent day's rows per frequent value a statement a call after the day's
    batch: a late row landing in between must leave the day to raw reads, not list stale rows."""
    _raw, rolled = paths
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS, min_visits=MIN_VISITS)
    start, end = execute(rolled, "SELECT start_ms, end_ms FROM rollup_days WHERE day = ?",
                         "2026-03-05")[0]
    values = {"site_id": SITE_ID, "units": f'[[{start},{end},0,"2026-03-05"]]',
              "day": "2026-03-05", "tz": TIMEZONE, "computed_at": NOW_MS + 1,
              "start_ms": start, "end_ms": end, "min_visits": MIN_VISITS}
    for step in rollup_steps():
        await store.batch([(s.sql, [values[n] for n in s.params]) for s in step])
    listed = "SELECT COUNT(*) FROM rollup_frequent_days WHERE day = '2026-03-05'"
    assert execute(rolled, listed) == [(0,)]  # out while its rows are redone
    statements = frequent_day_statements()
    for statement in statements[:-1]:
        await store.execute(statement.sql, [values[n] for n in statement.params])
    execute(rolled, "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, "
            "hostname, pathname, country) VALUES ('late-j', ?, ?, 'pageview', 'late-v', "
            "'late-s', 'bench.example', '/', 'DE')", SITE_ID, start + 3_600_000)
    last = statements[-1]
    await store.execute(last.sql, [values[n] for n in last.params])
    assert execute(rolled, listed) == [(0,)]
    # The next run redoes the day and lists it.
    await refresh_rollups(store, max_days=ALL_DAYS, now_ms=NOW_MS + 2, min_visits=MIN_VISITS)
    assert execute(rolled, listed) == [(1,)]
