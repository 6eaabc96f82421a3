"""Funnel rollups against raw reads: a funnel read from the rollups of the closed days plus
today's raw events is the one a raw read of every day gives (visitors, visits and medians), for
saved funnels of page, wildcard and goal steps, unfiltered, under filters the rollups keep and
one they do not; the rows really answer (the raw events of rolled-up days can go); an edited
goal, a removed funnel and a late event send days back to raw; an API funnel with a saved
funnel's steps reads its rows."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, TODAY, TZ
from funnel_seeding import seed_funnel_data, seed_random_visits
from seeding import rows_hidden

from analytics_941 import SqliteStore, parse_query
from analytics_941.funnel_report import run_funnel
from analytics_941.funnels import add_funnel, check_steps, remove_funnel
from analytics_941.goals import add_goal, list_goals
from analytics_941.periods import bounds_ms
from analytics_941.rollups import funnels as funnel_rollups
from analytics_941.rollups.funnels import refresh_funnel_rollups
from analytics_941.rollups.jobs import refresh_rollups

FUNNELS = {
    "Shop": ["page:/shop", "page:/cart", "page:/checkout/*", "goal:Purchase"],
    "Docs": ["page:/", "page:/docs/**", "goal:Pro signup"],
    "Loop": ["page:/cart", "page:/shop", "page:/cart", "page:/shop"],
}
FILTERS: list[list[Any]] = [
    [],
    [["is", "visit:source", ["Google"]]],
    [["is", "visit:source", ["Google", "Twitter"]]],
    [["is", "visit:device", ["Desktop"]]],
    # Not kept by the rollups: every day raw, the same answer.
    [["is_not", "visit:source", ["Google"]]],
    [["is", "event:page", ["/about"]]],
]
DAYS = 7


def _query(filters: list[Any]) -> Any:
    return parse_query({"site_id": "s1", "date_range": "7d", "metrics": ["visitors"],
                        "filters": filters}, timezone=TZ, now=NOW, goals=[])


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = seed_funnel_data(tmp_path_factory.mktemp("frollup") / "d1.sqlite", today=TODAY,
                            timezone=TZ)
    seed_random_visits(path, bounds_ms(TODAY - timedelta(days=DAYS - 1), TODAY,
                                       tz=_query([]).zone))
    # A Google visit from yesterday evening into today (read raw): its piece of today goes
    # through the shop, and a filter must still find the visit, which started yesterday.
    today, _ = bounds_ms(TODAY, TODAY, tz=_query([]).zone)
    hits = [(-300_000, "/about"), (300_000, "/shop"), (360_000, "/cart")]
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
            "pathname, source) VALUES (?, 's1', ?, 'pageview', 'night-v', 'night', "
            "'example.com', ?, 'Google')",
            [(f"night-{i}", today + offset, page) for i, (offset, page) in enumerate(hits)])
        conn.execute(
            "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, "
            "entry_page, exit_page, source) VALUES ('night', 's1', 'night-v', ?, ?, "
            "'example.com', '/about', '/cart', 'Google')", (today - 300_000, today + 360_000))
    return path


@pytest.fixture
async def db(seeded: Path, tmp_path: Path) -> Path:
    path = tmp_path / "d1.sqlite"
    path.write_bytes(seeded.read_bytes())
    store = SqliteStore(path=path)
    await add_goal(store, site_id="s1", event="Purchase")
    await add_goal(store, site_id="s1", event="Signup", prop=("plan", "pro"), name="Pro signup")
    for name, steps in FUNNELS.items():
        await add_funnel(store, site_id="s1", name=name, steps=steps)
    return path


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def _report(db: Path, steps: list[str], filters: list[Any]) -> list[dict[str, Any]]:
    store = SqliteStore(path=db)
    goals = await list_goals(store, site_id="s1")
    query = _query(filters)
    return (await run_funnel(store, query, check_steps(steps), goals=goals))["results"]


async def _raw(db: Path, steps: list[str], filters: list[Any]) -> list[dict[str, Any]]:
    """The funnel with the rollups' listing hidden: every day read raw."""
    with rows_hidden(db, "funnel_rollup_days"):
        return await _report(db, steps, filters)


async def _roll(db: Path, *, later_ms: int = 0) -> None:
    """The cron's run at NOW (plus ``later_ms``: a later run stamps the days it redoes anew)."""
    await refresh_rollups(SqliteStore(path=db), now_ms=int(NOW.timestamp() * 1000) + later_ms,
                          max_days=64)


async def test_rolled_up_days_answer_as_raw_reads(db: Path) -> None:
    await _roll(db)
    # Every closed day of the seeded range, per funnel (today is read raw).
    listed = _count(db, "SELECT COUNT(*) FROM funnel_rollup_days")
    assert listed >= len(FUNNELS) * (DAYS - 1)
    for name, steps in FUNNELS.items():
        for filters in FILTERS:
            rolled = await _report(db, steps, filters)
            assert rolled == await _raw(db, steps, filters), (name, filters)
            if not filters:
                assert rolled[1]["visitors"] > 0 and rolled[0]["median_seconds_to_next"]


async def test_the_rows_answer_without_the_raw_events(db: Path) -> None:
    await _roll(db)
    steps = FUNNELS["Shop"]
    kept = [FILTERS[0], FILTERS[1], FILTERS[3]]  # filters the rollups keep
    before = [await _report(db, steps, filters) for filters in kept]
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM events WHERE ts < (SELECT MAX(end_ms) FROM rollup_days "
                     "WHERE site_id = 's1') AND ts >= (SELECT MIN(start_ms) FROM "
                     "funnel_rollup_days AS f JOIN rollup_days AS r USING (site_id, day))")
    for filters, answer in zip(kept, before, strict=True):
        assert await _report(db, steps, filters) == answer, filters
    # An API funnel with the saved funnel's steps in other spelling reads the same rows.
    spelled = ["/shop", "/cart", "page:/checkout/*", "Purchase"]
    assert await _report(db, spelled, []) == before[0]
    # A stored row that is not valid JSON (hand-written) breaks no read: it counts nothing.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE funnel_daily SET data = '{\"\": [[1, 2' WHERE dim = '' AND day = ?",
                     ((TODAY - timedelta(days=1)).isoformat(),))
        conn.execute("UPDATE funnel_daily SET data = ' [1, [2' WHERE dim = 'source'")
    broken = [await _report(db, steps, filters) for filters in kept[:2]]
    assert 0 < broken[0][0]["visits"] < before[0][0]["visits"]
    assert broken[1][0]["visits"] < before[1][0]["visits"]


async def test_changes_send_days_back_to_raw(db: Path) -> None:
    store = SqliteStore(path=db)
    await _roll(db)
    listed = _count(db, "SELECT COUNT(*) FROM funnel_rollup_days")
    per_funnel = listed // len(FUNNELS)
    assert per_funnel * len(FUNNELS) == listed and per_funnel >= DAYS - 1
    # A goal a step names, edited: its funnel's days no longer match the reader's steps.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE goals SET prop_value = 'free' WHERE name = 'Pro signup'")
    steps = FUNNELS["Docs"]
    assert await _report(db, steps, []) == await _raw(db, steps, [])
    assert await refresh_funnel_rollups(store) == per_funnel  # the Docs funnel's days
    assert await _report(db, steps, []) == await _raw(db, steps, [])
    # A removed funnel's rows go at the next run.
    await remove_funnel(store, site_id="s1", name="Loop")
    await refresh_funnel_rollups(store)
    assert _count(db, "SELECT COUNT(*) FROM funnel_rollup_days") == listed - per_funnel
    assert _count(db, "SELECT COUNT(DISTINCT funnel_id) FROM funnel_daily") == 2
    # A late event in a rolled-up day: the day reads raw until redone, and counts it.
    first = (TODAY - timedelta(days=DAYS - 1))
    start, _ = bounds_ms(first, first, tz=_query([]).zone)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
                     "pathname) VALUES ('late', 's1', ?, 'pageview', 'late-v', 'late-s', "
                     "'example.com', '/shop')", (start + 3_600_000,))
    shop_steps = FUNNELS["Shop"]
    raw = await _raw(db, shop_steps, [])
    assert await _report(db, shop_steps, []) == raw
    await _roll(db, later_ms=900_000)
    assert _count(db, "SELECT COUNT(*) FROM funnel_rollup_days AS f JOIN rollup_days AS r "
                  "USING (site_id, day, tz, computed_at)") == _count(
        db, "SELECT COUNT(*) FROM funnel_rollup_days")
    assert await _report(db, shop_steps, []) == raw
    # The site's last funnels removed: nothing of them is left.
    for name in ("Shop", "Docs"):
        await remove_funnel(store, site_id="s1", name=name)
    await refresh_funnel_rollups(store)
    assert _count(db, "SELECT COUNT(*) FROM funnel_daily") == 0
    assert _count(db, "SELECT COUNT(*) FROM funnel_rollup_days") == 0



async def test_funnels_waiting_share_a_run(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Six funnel-days a run: each of the three funnels gets its latest two first.
    monkeypatch.setattr(funnel_rollups, "MAX_FUNNEL_DAYS_PER_RUN", 6)
    await _roll(db)
    with sqlite3.connect(db) as conn:
        per = conn.execute("SELECT funnel_id, COUNT(*), MAX(day) FROM funnel_rollup_days "
                           "GROUP BY 1").fetchall()
        latest = conn.execute("SELECT MAX(day) FROM rollup_days WHERE site_id = 's1'"
                              ).fetchone()[0]
    assert [(n, day) for _, n, day in per] == [(2, latest)] * 3
    # What one funnel does not need goes to the others: six more days, in order.
    assert await refresh_funnel_rollups(SqliteStore(path=db)) == 6
