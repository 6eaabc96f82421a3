"""Funnels in SQL: order within a visit, pages between steps, steps done on a later visit, goal
steps, filters, the comparison and median times — exact numbers on seeded data
(tests/funnel_seeding.py), with typed and with string parameters (D1's typing)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, TODAY, TZ, StringParamStore
from funnel_seeding import FUNNEL_STEPS, seed_funnel_data

from analytics_941 import SqliteStore, parse_query
from analytics_941.funnel_report import run_funnel
from analytics_941.funnels import FunnelError, check_steps, step_goals
from analytics_941.goals import add_goal, list_goals
from analytics_941.sql.funnel import funnel_sql
from analytics_941.store import Store


@pytest.fixture
def funnel_path(tmp_path: Path) -> Path:
    return seed_funnel_data(tmp_path / "d1.sqlite", today=TODAY, timezone=TZ)


@pytest.fixture(params=["typed", "strings"])
def funnel_store(request: pytest.FixtureRequest, funnel_path: Path) -> Store:
    store = SqliteStore(path=funnel_path)
    return store if request.param == "typed" else StringParamStore(store)


async def _report(store: Store, steps: list[str], **body: Any) -> dict[str, Any]:
    if not any(g.name == "Purchase" for g in await list_goals(store, site_id="s1")):
        await add_goal(store, site_id="s1", event="Purchase")
    goals = await list_goals(store, site_id="s1")
    query = parse_query({"site_id": "s1", "date_range": "7d", "metrics": ["visitors"], **body},
                        timezone=TZ, now=NOW, goals=goals)
    return await run_funnel(store, query, check_steps(steps), goals=goals)


def _columns(result: dict[str, Any], *names: str) -> list[tuple[Any, ...]]:
    return [tuple(row[name] for name in names) for row in result["results"]]


async def test_steps_in_order_within_a_visit(funnel_store: Store) -> None:
    result = await _report(funnel_store, FUNNEL_STEPS)
    assert _columns(result, "step", "label", "visitors", "visits") == [
        (1, "/shop", 5, 5),  # K, L, M, N, P
        (2, "/cart", 3, 3),  # K, L, P: M's /cart came before its /shop
        (3, "/checkout/*", 2, 2),  # K and L (not /checkout/pay/x); N's visitor did it in O
        (4, "Purchase", 1, 1),  # K: O's purchase is another visit, without /shop
    ]
    assert _columns(result, "conversion_rate", "drop_off", "drop_off_rate") == [
        (100.0, 0, 0.0), (60.0, 2, 40.0), (40.0, 1, 33.3), (20.0, 1, 50.0),
    ]
    # Medians over the visits that went on: (120, 60, 240) s, (180, 120) s, (60) s.
    assert [row["median_seconds_to_next"] for row in result["results"]] == [
        120.0, 150.0, 60.0, None]


async def test_eight_steps_run_within_d1s_compound_limit(funnel_store: Store) -> None:
    # One arm per step would be a compound of eight terms, which D1 (and SqliteStore, which
    # holds its limits) refuses.
    steps = [*FUNNEL_STEPS, "page:/nowhere", "page:/nowhere", "page:/nowhere", "page:/nowhere"]
    result = await _report(funnel_store, steps)
    assert _columns(result, "step", "visitors")[:5] == [(1, 5), (2, 3), (3, 2), (4, 1), (5, 0)]
    assert len(result["results"]) == 8


async def test_filters_keep_whole_visits(funnel_store: Store) -> None:
    twitter = await _report(funnel_store, FUNNEL_STEPS,
                            filters=[["is", "visit:source", ["Twitter"]]])
    assert _columns(twitter, "visitors") == [(3,), (2,), (1,), (1,)]  # K, N, P
    # Our name and the stored value: the seed stores "Mobile", while visit:device takes
    # Plausible's "Mobile" to mean the collector's "mobile".
    mobile = await _report(funnel_store, FUNNEL_STEPS, filters=[["is", "device", ["Mobile"]]])
    assert _columns(mobile, "visitors") == [(2,), (2,), (1,), (0,)]  # L, P
    assert [r["median_seconds_to_next"] for r in mobile["results"]] == [150.0, 120.0, None, None]
    # A page filter keeps the visits that viewed the page, with all their events.
    about = await _report(funnel_store, FUNNEL_STEPS, filters=[["is", "event:page", ["/about"]]])
    assert _columns(about, "visitors") == [(1,), (1,), (1,), (1,)]  # K
    buyers = await _report(funnel_store, FUNNEL_STEPS,
                           filters=[["is", "event:goal", ["Purchase"]]])
    assert _columns(buyers, "visitors") == [(1,), (1,), (1,), (1,)]  # K (O has no /shop)


async def test_goal_steps_and_wildcards(funnel_store: Store) -> None:
    await add_goal(funnel_store, site_id="s1", page="/checkout/**", name="Checkout")
    result = await _report(funnel_store, ["/shop", "goal:Checkout", "goal:Purchase"])
    # /checkout/** also matches L's /checkout/pay/x (09:02), one minute earlier than /pay:
    # from /shop, K takes 300 s and L 120 s.
    assert _columns(result, "visitors") == [(5,), (2,), (1,)]
    assert [r["median_seconds_to_next"] for r in result["results"]] == [210.0, 60.0, None]
    # A step may repeat: /shop twice needs two /shop views, in order.
    twice = await _report(funnel_store, ["/shop", "/shop"])
    assert _columns(twice, "visitors") == [(5,), (1,)]  # P (11:00, 11:05)


async def test_comparison_reports_the_previous_period(funnel_store: Store) -> None:
    result = await _report(funnel_store, ["/shop", "/cart"], comparison="previous_period")
    first, second = result["results"]
    assert (first["comparison"]["visitors"], second["comparison"]["visitors"]) == (1, 1)  # R
    assert second["comparison"]["median_seconds_to_next"] is None
    assert first["comparison"]["change"] == {"visitors": 400, "conversion_rate": 0.0,
                                             "drop_off_rate": 0.0}
    assert second["comparison"]["change"]["conversion_rate"] == -40.0
    assert result["meta"]["comparison_date_range"] == ["2026-02-25", "2026-03-03"]


async def test_unknown_goal_and_step_counts_are_refused(funnel_store: Store) -> None:
    with pytest.raises(FunnelError, match="no goal named 'Nope'"):
        step_goals(check_steps(["/shop", "goal:Nope"]), [])
    with pytest.raises(FunnelError, match="2 to 8 steps, not 1"):
        check_steps(["/shop"])
    with pytest.raises(FunnelError, match="2 to 8 steps, not 9"):
        check_steps(["/shop"] * 9)
    with pytest.raises(FunnelError, match=r"Step 2: .*mixes \* and \*\*"):
        check_steps(["/shop", "/a/*/**"])


def test_statement_binds_every_value(funnel_path: Path) -> None:
    hostile = "/x'OR'1'='1"
    query = parse_query({"site_id": "s1", "date_range": "7d", "metrics": ["visitors"],
                         "filters": [["is", "visit:source", ["Twitter'--"]]]},
                        timezone=TZ, now=NOW)
    goals = step_goals(check_steps([hostile, "/shop"]), [])
    sql, params = funnel_sql(query, goals, period=query.period)
    assert hostile not in sql and "Twitter" not in sql and "'s1'" not in sql
    assert hostile in params and '["Twitter\'--"]' in params
    with sqlite3.connect(funnel_path) as conn:
        assert conn.execute(sql, params).fetchall() == []
    conn.close()
