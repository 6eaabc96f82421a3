"""The goal panel's reads against a fresh computation from the raw rows: the Goal conversions
panel's breakdown, the panels filtered by one goal (each row's group conversion rate, whose
divisor reads only the rows returned) and the candidate events (custom events only).

Data: the bench generator at a small scale (40 days, Berlin time, ``Signup`` events with a
``plan`` property) plus purchases in EUR, USD and no currency, ``Newsletter`` events that no
goal counts, a visit crossing midnight into today and a ``Retired`` event three days back; every
closed day rolled up (goal rollups included), and today, up to 11:00 UTC, read raw. The
expected numbers are computed here in Python from the events table: visitors are distinct per
local day and summed over days, as everywhere in 941.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from test_goal_rollups import GOALS

from analytics_941 import SqliteStore, parse_query, run_query
from analytics_941.goals import Goal, list_goals
from analytics_941.query import Query
from analytics_941.rollups.jobs import refresh_rollups
from analytics_941.sql.plan import plan_query
from bench.datagen import SITE_ID, TIMEZONE, generate

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
ZONE = ZoneInfo(TIMEZONE)
COLUMNS = ("ts", "name", "visitor_id", "pathname", "props", "revenue", "revenue_currency",
           "country", "source")


@pytest.fixture(scope="module")
def rolled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("goal_panel_reads") / "rolled.sqlite"
    generate(path, events=6000, days=40, today=TODAY, rollups=False)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM events WHERE ts >= ?", [NOW_MS])
        rows = conn.execute(
            "SELECT id, ts, visitor_id, session_id FROM events WHERE name = 'pageview' "
            "ORDER BY ts").fetchall()
        for n, (event_id, ts, visitor, session) in enumerate(rows[::7]):
            name = ("Purchase", "Newsletter")[n % 2]
            currency = ("EUR", "USD", None)[n % 3] if name == "Purchase" else None
            conn.execute(
                "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
                "pathname, revenue, revenue_currency) VALUES (?, ?, ?, ?, ?, ?, 'x.test', "
                "'/checkout', ?, ?)",
                [f"{event_id}-x", SITE_ID, ts + 1, name, visitor, session,
                 10.25 + n % 7 if name == "Purchase" else None, currency])
        # A visit crossing midnight into today (its visitor counts on both days) and an event
        # only an older day holds (tests/test_goal_once.py).
        midnight = int(datetime.combine(TODAY, time(0), tzinfo=ZONE).timestamp() * 1000)
        night = [(-60_000, "pageview", None), (-30_000, "Signup", '{"plan":"pro"}'),
                 (30_000, "pageview", None), (60_000, "Signup", '{"plan":"pro"}')]
        late = [(f"night-{n}", midnight + offset, name, "night-owl", props)
                for n, (offset, name, props) in enumerate(night)]
        late.append(("retired-0", midnight - 3 * 86_400_000 + 36_000_000, "Retired", "old-timer",
                     None))
        conn.executemany(
            "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
            "pathname, props) VALUES (?, ?, ?, ?, ?, 'night', 'x.test', '/pricing/pro', ?)",
            [(event_id, SITE_ID, ts, name, visitor, props)
             for event_id, ts, name, visitor, props in late])
        conn.executemany(
            "INSERT INTO goals (id, site_id, name, kind, target, prop_key, prop_value, "
            "created_at, currency) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
            [(g[0], SITE_ID, *g[1:]) for g in GOALS])
    conn.close()
    asyncio.run(refresh_rollups(SqliteStore(path=path), now_ms=NOW_MS, max_days=64))
    return path


@pytest.fixture(scope="module")
def events(rolled: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(rolled) as conn:
        rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM events WHERE site_id = ?",
                            [SITE_ID]).fetchall()
    conn.close()
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts / 1000, tz=ZONE).date()


def _pattern(target: str) -> re.Pattern[str]:
    """Plausible's wildcards: ``**`` any characters, ``*`` any within one segment."""
    parts = [re.escape(p).replace(r"\*", "[^/]*") for p in target.split("**")]
    return re.compile(".*".join(parts) + r"\Z")


def _converts(goal: Goal) -> Callable[[dict[str, Any]], bool]:
    if goal.kind == "page":
        pattern = _pattern(goal.target)
        return lambda e: e["name"] == "pageview" and bool(pattern.match(e["pathname"]))

    def test(e: dict[str, Any]) -> bool:
        if e["name"] != goal.target:
            return False
        return not goal.prop_key or (
            json.loads(e["props"] or "{}").get(goal.prop_key) == goal.prop_value)

    return test


def _in_period(query: Query, e: dict[str, Any]) -> bool:
    first, last = query.period
    return first <= _day(e["ts"]) <= last


def _visitors(rows: list[dict[str, Any]]) -> int:
    """Distinct visitors per local day, summed over days."""
    return len({(_day(e["ts"]), e["visitor_id"]) for e in rows})


async def _query(path: Path, spec: dict[str, Any]) -> tuple[Query, list[Any]]:
    goals = await list_goals(SqliteStore(path=path), site_id=SITE_ID)
    query = parse_query({"site_id": SITE_ID, "date_range": "30d", **spec}, timezone=TIMEZONE,
                        now=NOW, goals=goals)
    result = await run_query(SqliteStore(path=path), query)
    return query, [(r["dimensions"], r["metrics"]) for r in result["results"]]


def _rate(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


PANEL = ["visitors", "events", "conversion_rate", "total_revenue", "average_revenue"]


@pytest.mark.parametrize("spec", [
    {"metrics": PANEL, "dimensions": ["event:goal"]},
    {"metrics": PANEL, "dimensions": ["event:goal"], "date_range": "7d"},
    {"metrics": PANEL, "dimensions": ["event:goal"],
     "filters": [["is", "event:goal", ["Pricing", "Purchase", "Pro signup"]]]},
    {"metrics": PANEL, "dimensions": ["event:goal"], "filters": [["is", "country", ["DE"]]]},
    {"metrics": PANEL, "dimensions": ["event:goal"], "date_range": "day"},
], ids=["30d", "7d", "goal filter", "country filter", "today"])
async def test_the_goal_breakdown_equals_a_fresh_count(rolled: Path, events: list[dict[str, Any]],
                                                       spec: dict[str, Any]) -> None:
    query, rows = await _query(rolled, spec)
    others = {leaf[1]: leaf[2] for leaf in spec.get("filters", []) if leaf[1] != "event:goal"}
    named = {n for leaf in spec.get("filters", []) if leaf[1] == "event:goal" for n in leaf[2]}
    base = [e for e in events if _in_period(query, e)
            and all(e[column] in values for column, values in others.items())]
    expected = []
    for goal in query.goals:
        if named and goal.name not in named:
            continue
        hits = [e for e in base if _converts(goal)(e)]
        if not hits:
            continue
        paid = [e["revenue"] for e in hits
                if e["revenue"] is not None and e["revenue_currency"] == goal.currency]
        money: list[Any] = []
        if "total_revenue" in spec["metrics"]:
            money = [round(sum(paid), 2) if goal.currency else None,
                     round(sum(paid) / len(paid), 2) if goal.currency and paid else None]
        expected.append(([goal.name], [_visitors(hits), len(hits),
                                        _rate(_visitors(hits), _visitors(base)), *money]))
    expected.sort(key=lambda row: (-row[1][0], row[0][0]))

    def plain(row: tuple[list[Any], list[Any]]) -> tuple[list[Any], list[Any]]:
        metrics = [m["value"] if isinstance(m, dict) else m for m in row[1]]
        return row[0], [round(m, 2) if isinstance(m, float) else m for m in metrics]

    assert len(expected) >= 3
    assert [plain(row) for row in rows] == expected
    if not others and spec.get("date_range") != "day":
        # The closed days came from the goal rollups, today from raw events.
        assert plan_query(query).goal_rollup == ""


def _dimension(dim: str) -> Callable[[dict[str, Any]], str]:
    if dim == "page":
        return lambda e: str(e["pathname"])
    return lambda e: str(e["source"] or "Direct / None")


@pytest.mark.parametrize("dim", ["page", "source"])
@pytest.mark.parametrize("goal_name", ["Signup", "Pricing", "Home", "Docs"])
@pytest.mark.parametrize("window", [(9, 0), (3, 2)])
async def test_a_panel_under_one_goal_equals_a_fresh_count(
        rolled: Path, events: list[dict[str, Any]], dim: str, goal_name: str,
        window: tuple[int, int]) -> None:
    limit, offset = window
    spec = {"metrics": ["visitors", "group_conversion_rate"], "dimensions": [dim],
            "filters": [["is", "event:goal", [goal_name]]], "limit": limit, "offset": offset}
    query, rows = await _query(rolled, spec)
    (goal,) = [g for g in query.goals if g.name == goal_name]
    value = _dimension(dim)
    base: dict[str, list[dict[str, Any]]] = defaultdict(list)
    hits: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        if _in_period(query, e):
            base[value(e)].append(e)
            if _converts(goal)(e):
                hits[value(e)].append(e)
    expected = sorted(([v], [_visitors(h), _rate(_visitors(h), _visitors(base[v]))])
                      for v, h in hits.items())
    expected.sort(key=lambda row: -row[1][0])
    assert expected
    assert rows == expected[offset:offset + limit]


async def test_the_divisors_of_rows_shown_match_with_a_comparison(rolled: Path) -> None:
    """With a comparison, both sides' divisors read the values of the main rows shown: the
    rows equal those of the same query asked for every row."""
    spec: dict[str, Any] = {"metrics": ["visitors", "group_conversion_rate"],
                            "dimensions": ["page"], "comparison": "previous_period",
                            "filters": [["is", "event:goal", ["Signup"]]]}
    goals = await list_goals(SqliteStore(path=rolled), site_id=SITE_ID)

    async def results(**more: Any) -> list[Any]:
        query = parse_query({"site_id": SITE_ID, "date_range": "30d", **spec, **more},
                            timezone=TIMEZONE, now=NOW, goals=goals)
        return (await run_query(SqliteStore(path=rolled), query))["results"]

    every = await results(limit=1000)
    assert len(every) > 6
    assert any(row["comparison"]["metrics"][1] for row in every[2:6])
    assert await results(limit=4, offset=2) == every[2:6]


async def test_the_candidate_events_equal_a_fresh_count(rolled: Path,
                                                        events: list[dict[str, Any]]) -> None:
    """The panel's candidate events: custom events only (no pageview row), by visitors."""
    from analytics_941.web.dashboard.goal_panel import candidates_query
    from analytics_941.web.dashboard.state import DashboardState
    from bench.query import _site

    with sqlite3.connect(rolled) as conn:
        site = _site(conn)
    conn.close()
    state = DashboardState.from_params([("period", "30d"), ("f", "is,country,DE")])
    query = candidates_query(site, state, now=NOW)
    result = await run_query(SqliteStore(path=rolled), query)
    rows = [(r["dimensions"][0], r["metrics"][0]) for r in result["results"]]
    names: dict[str, list[dict[str, Any]]] = defaultdict(list)
    first = TODAY - timedelta(days=29)
    for e in events:
        if e["name"] != "pageview" and first <= _day(e["ts"]) <= TODAY:
            names[e["name"]].append(e)
    expected = sorted(((n, _visitors(rows_)) for n, rows_ in names.items()),
                      key=lambda row: (-row[1], row[0]))
    assert {n for n, _ in expected} == {"Signup", "Purchase", "Newsletter", "Retired"}
    # Any other filter is left out, and closed days come from the event:name rollups.
    assert rows == expected
    assert plan_query(query).rollup_dim == "event:name"
