"""Journey rollups against raw reads: a journey (pages before and after, common paths, entry ->
exit pairs) read from the rollups of the closed days plus today's raw events is the one a raw
read of every day gives, for a busy page (whose paths rank from the rows' commonest keys), a
rare one (every key summed), a page nobody viewed, a late event, and a busy page under one
filter on a visit value (its rows per value) or other filters (raw); and the Worker's copy of
the statements is this module's."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from seeding import ROOT, apply_schema, insert_site, insert_visit, rows_hidden

from analytics_941 import SqliteStore
from analytics_941.journey_report import Journey, run_journey
from analytics_941.query import Query, make_query
from analytics_941.rollups.jobs import refresh_rollups
from analytics_941.rollups.journeys import (
    STATEMENTS_FILE,
    VALUE_MIN_VIEWS,
    refresh_journey_rollups,
    statements_json,
)
from analytics_941.sql.journey_rollup import ranked
from analytics_941.sql.journeys import flow_sql, journey_sql

TZ = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 3, 12)
DAYS = 5
NOW = datetime(2026, 3, 12, 22, tzinfo=TZ)
# The flow's top pairs compared: the commonest, which rank from the days' rows alone.
FLOW_TOP = 10
# A long tail too: more (entry, exit) pairs a day than the day's row holds.
PAGES = ["/", "/pricing", "/docs", "/blog/a", "/blog/b", "/about", "/signup", "/rare",
         *(f"/tail/{i}" for i in range(80))]
WEIGHTS = [40, 12, 10, 6, 6, 4, 3, 0.2, *([0.5] * 80)]
# Most visits take a common path from "/" or to it, so its commonest paths stand out of the
# rest (each side then ranks from the rows' commonest keys alone).
OTHERS = ["/pricing", "/docs", "/blog/a", "/blog/b", "/about", "/signup"]
SCRIPTS = [["/", a, b] for a in OTHERS[:4] for b in OTHERS[4:]] + [
    [a, b, "/"] for a in OTHERS[4:] for b in OTHERS[:4]]


def _seed(path: Path) -> None:
    """Visits of one to nine pages (reloads included) over DAYS days, some across midnight."""
    rng = random.Random(15)  # noqa: S311 - reproducible test data
    with sqlite3.connect(path) as conn:
        insert_site(conn, timezone="Europe/Berlin")
        n = 0
        for offset in range(DAYS):
            day = TODAY - timedelta(days=DAYS - 1 - offset)
            midnight = datetime(day.year, day.month, day.day, tzinfo=TZ)
            for v in range(600):
                late = v % 50 == 0  # starts at 23:57: runs past midnight
                start = midnight + (timedelta(hours=23, minutes=57) if late
                                    else timedelta(seconds=rng.randrange(20 * 3600)))
                length = min(1 + int(rng.expovariate(0.6)), 9)
                pages = [rng.choices(PAGES, WEIGHTS)[0]]
                for _ in range(length - 1):
                    pages.append(pages[-1] if rng.random() < 0.1
                                 else rng.choices(PAGES, WEIGHTS)[0])
                if rng.random() < 0.5:
                    pages = list(rng.choice(SCRIPTS))
                session, country = f"v{n}", "DE" if v % 3 else "US"
                n += 1
                t0 = int(start.timestamp() * 1000)
                insert_visit(conn, session=session, country=country, started_at=t0,
                             ended_at=t0 + 60_000 * (len(pages) - 1),
                             events=[(str(i), t0 + i * 60_000, "pageview", page)
                                     for i, page in enumerate(pages)])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = apply_schema(tmp_path / "j.sqlite")
    _seed(path)
    return path


def _query(filters: list[object] | None = None) -> Query:
    return make_query(site_id="s1", date_range=[(TODAY - timedelta(days=DAYS - 1)).isoformat(),
                                                 TODAY.isoformat()],
                      metrics=["visitors"], filters=filters or [], timezone="Europe/Berlin",
                      now=NOW.astimezone(UTC))


def _listed(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM journey_rollup_days").fetchone()[0])


def _held(db: Path) -> list[tuple[str, int]]:
    """The pages holding rows per visit value, with their days."""
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT p.pathname, COUNT(*) FROM journey_values AS v JOIN "
                            "journey_pages AS p ON p.site_id = v.site_id AND p.id = v.page "
                            "WHERE v.dim = '' GROUP BY 1").fetchall()


async def _redo(store: SqliteStore, *, min_day_views: int) -> None:
    """Every journey day redone, holding busy pages on days of ``min_day_views``."""
    await store.execute("DELETE FROM journey_rollup_days")
    while await refresh_journey_rollups(store, min_day_views=min_day_views):
        pass


async def _raw(db: Path, page: str, filters: list[object] | None = None) -> Journey:
    """The journey with the rollups' listing hidden: every day read raw."""
    with rows_hidden(db, "journey_rollup_days"):
        return await run_journey(SqliteStore(path=db), _query(filters), page)


def _fast(db: Path, page: str) -> list[int]:
    """Whether each side's paths of ``page``, and the flow, ranked from the rows' commonest
    keys alone, and whether the flow's rows held keys past the day rows' cut."""
    sql, params = journey_sql(_query(), page, period=_query().period)
    head = sql[: sql.rindex("\nSELECT * FROM (SELECT kind")]
    flow, flow_params = flow_sql(_query(), period=_query().period, limit=FLOW_TOP)
    flow_head = flow[: flow.rindex("\nSELECT substr")]
    with sqlite3.connect(db) as conn:
        return [*(int(conn.execute(f"{head}\nSELECT fast FROM {name}m", params).fetchone()[0])
                  for name in ("jpf", "jpt")),
                int(conn.execute(f"{flow_head}\nSELECT fast AND bound > 0 FROM jflm",
                                 flow_params).fetchone()[0])]


async def test_rolled_up_days_answer_as_raw_reads(db: Path) -> None:
    store = SqliteStore(path=db)
    now_ms = int(NOW.timestamp() * 1000)
    await refresh_rollups(store, now_ms=now_ms, max_days=64)
    assert _listed(db) == DAYS - 1  # today is read raw
    assert _fast(db, "/") == [1, 1, 1]
    assert _fast(db, "/rare")[:2] == [0, 0]
    for page in ("/", "/pricing", "/signup", "/rare", "/nowhere"):
        rolled = await run_journey(store, _query(), page)
        assert rolled == await _raw(db, page), page
    flow, params = flow_sql(_query(), period=_query().period, limit=FLOW_TOP)
    rows = await store.execute(flow, params)
    with rows_hidden(db, "journey_rollup_days"):
        assert rows == await store.execute(flow, params)
    home = await run_journey(store, _query(), "/")
    assert len(home.paths_from) >= 5 and len(home.flow) == 40 and home.came_from


async def test_a_busy_page_under_one_visit_value_reads_its_rows_as_raw_reads(db: Path) -> None:
    """"/" has over VALUE_MIN_VIEWS views each closed day, so on days as busy as a site's of
    10 M events a year (here: of 1,000 pageviews) those days hold its rows per visit value:
    under one such filter they answer (a value with no visit there included) as a raw read of
    every day does; other pages, and other filters, read raw."""
    store = SqliteStore(path=db)
    await refresh_rollups(store, now_ms=int(NOW.timestamp() * 1000), max_days=64)
    assert _held(db) == []  # days of about 2,000 pageviews: below VALUE_MIN_DAY_VIEWS
    await _redo(store, min_day_views=1000)
    with sqlite3.connect(db) as conn:
        assert VALUE_MIN_VIEWS == 500 and _held(db) == [("/", DAYS - 1)]
        # Each view of "/" counts once per dimension, under its visit's value.
        views = conn.execute("SELECT COUNT(*) FROM events WHERE pathname = '/' AND ts < ?",
                             (int(datetime(TODAY.year, TODAY.month, TODAY.day,
                                           tzinfo=TZ).timestamp() * 1000),)).fetchone()[0]
        for dim in ("country", "source", "os"):
            counted = conn.execute(
                "SELECT SUM(n.value) FROM journey_values AS v, json_each(v.ahead) AS n "
                "WHERE v.dim = ?", (dim,)).fetchone()[0]
            assert counted == views, dim
    filters: list[list[object]] = [
        [["is", "visit:country", ["US"]]], [["is", "visit:country", ["DE"]]],
        [["is", "visit:source", ["Direct / None"]]], [["is", "visit:country", ["FR"]]],
        [["is", "visit:country", ["US", "DE"]]], [["is_not", "visit:country", ["US"]]]]
    for page in ("/", "/pricing"):
        for f in filters:
            assert await run_journey(store, _query(f), page) == await _raw(db, page, f), (page, f)
    us = await run_journey(store, _query(filters[0]), "/")
    assert us.came_from and us.paths_from and us.paths_to


async def test_a_late_event_sends_its_day_back_to_raw_reads(db: Path) -> None:
    store = SqliteStore(path=db)
    now_ms = int(NOW.timestamp() * 1000)
    await refresh_rollups(store, now_ms=now_ms, max_days=64)
    day = TODAY - timedelta(days=2)
    ts = int(datetime(day.year, day.month, day.day, 12, tzinfo=TZ).timestamp() * 1000)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, "
                     "hostname, pathname) VALUES ('late', 's1', ?, 'pageview', 'uv0', 'v1', "
                     "'example.com', '/late')", (ts,))
    late = await run_journey(store, _query(), "/")
    assert late == await _raw(db, "/")
    await refresh_rollups(store, now_ms=now_ms + 60_000, max_days=64)
    assert _listed(db) == DAYS - 1
    assert await run_journey(store, _query(), "/") == late


async def test_the_migration_has_recent_days_redone_and_keeps_purged_ones(db: Path) -> None:
    """Migration 0035 unlists a site's last 35 days listed that still have raw events, so the
    job redoes them with rows per value; a day whose events are gone keeps its rows."""
    store = SqliteStore(path=db)
    now_ms = int(NOW.timestamp() * 1000)
    await refresh_rollups(store, now_ms=now_ms, max_days=64)
    migration = (ROOT / "migrations" / "0035_journey_values.sql").read_text()
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM journey_values")  # as before the migration: none
        purged = (TODAY - timedelta(days=3)).isoformat()
        bounds = conn.execute("SELECT start_ms, end_ms FROM rollup_days WHERE day = ?",
                              (purged,)).fetchone()
        conn.execute("DELETE FROM events WHERE ts >= ? AND ts < ?", bounds)
        conn.executescript(migration[migration.index("DELETE FROM journey_rollup_days"):])
        assert [d for (d,) in conn.execute("SELECT day FROM journey_rollup_days")] == [purged]
    while await refresh_journey_rollups(store, min_day_views=1000):
        pass
    assert _listed(db) == DAYS - 1
    with sqlite3.connect(db) as conn:
        held = [d for (d,) in conn.execute("SELECT day FROM journey_values WHERE dim = '' "
                                           "ORDER BY day")]
        assert purged not in held and len(held) == DAYS - 2
        # The purged day kept its rows: the unfiltered journey still counts its views.
        assert conn.execute("SELECT COUNT(*) FROM journey_daily WHERE day = ?",
                            (purged,)).fetchone()[0] > 0


def test_the_workers_statements_are_this_modules() -> None:
    assert STATEMENTS_FILE.read_text() == statements_json(), (
        "run: python -c 'from analytics_941.rollups.journeys import *; "
        "STATEMENTS_FILE.write_text(statements_json())'")


def _ranked_rows(rows: list[dict[str, int]], cuts: list[int], raw: dict[str, int],
                 top: int) -> list[tuple[str, int]]:
    """``ranked`` run on rows of keys (each with its cut) and raw counts, keys as values."""
    entries = ", ".join(f"({i}, '{k}', {n})" for i, row in enumerate(rows) for k, n in row.items())
    cut_rows = ", ".join(f"({i}, {c})" for i, c in enumerate(cuts))
    raw_sql = (" UNION ALL ".join(f"SELECT '{v}' AS value, {n} AS n" for v, n in raw.items())
               or "SELECT '' AS value, 0 AS n WHERE 0")
    ctes, select = ranked(
        "t", heads="SELECT k, n FROM ent WHERE n > cut",
        tails="SELECT k, n FROM ent WHERE n <= cut AND k IN (SELECT k FROM {cands})",
        everything="SELECT k, n FROM ent", bound="SELECT SUM(column2) FROM c", decode="k",
        raw=raw_sql, top="?1")
    sql = (f"WITH e AS (VALUES {entries}), c AS (VALUES {cut_rows}), ent AS (SELECT "
           "e.column2 AS k, e.column3 AS n, c.column2 AS cut FROM e JOIN c ON c.column1 = "
           f"e.column1), {', '.join(ctes)} {select}")
    with sqlite3.connect(":memory:") as conn:
        return [(str(v), int(n)) for v, n in conn.execute(sql, [top])]


def test_ranking_from_the_commonest_keys_is_exact() -> None:
    """Against summing every key: random rows, each cut at its (K+1)-th count as the writer
    cuts, with raw counts on top (values some key has and values none has)."""
    rng = random.Random(941)  # noqa: S311 - reproducible test data
    keys = [chr(ord("a") + i) for i in range(12)]
    for _trial in range(400):
        rows, cuts = [], []
        for _row in range(rng.randint(1, 6)):
            row = {k: rng.choice([1, 1, 2, 2, 3, 5, 8, 30, 60]) for k in rng.sample(keys, 8)}
            counts = sorted(row.values(), reverse=True)
            head = rng.randint(1, 5)
            rows.append(row)
            cuts.append(counts[head] if len(counts) > head else 0)
        raw = {v: rng.randint(1, 9) for v in rng.sample([*keys, "x", "y"], rng.randint(0, 4))}
        top = rng.randint(1, 5)
        total: dict[str, int] = dict(raw)
        for row in rows:
            for k, n in row.items():
                total[k] = total.get(k, 0) + n
        expected = sorted(total.items(), key=lambda item: (-item[1], item[0]))[:top]
        assert _ranked_rows(rows, cuts, raw, top) == expected, (rows, cuts, raw, top)
