"""Goals in queries: page goals with * and **, event goals with and without a property match,
conversion rates with and without other filters, the event:goal breakdown — exact numbers on
seeded data (tests/goal_seeding.py), with typed and with string parameters (D1's typing)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, TODAY, TZ, StringParamStore
from goal_seeding import VISITORS_7D, seed_goal_data

from analytics_941 import SqliteStore, build_sql, parse_query, run_query
from analytics_941.exceptions import QueryError
from analytics_941.goals import Goal, add_goal, list_goals
from analytics_941.rollups.jobs import refresh_rollups
from analytics_941.sql.plan import plan_query
from analytics_941.store import Store


@pytest.fixture
def goal_path(tmp_path: Path) -> Path:
    return seed_goal_data(tmp_path / "d1.sqlite", today=TODAY, timezone=TZ)


@pytest.fixture(params=["typed", "strings"])
def goal_store(request: pytest.FixtureRequest, goal_path: Path) -> Store:
    store = SqliteStore(path=goal_path)
    return store if request.param == "typed" else StringParamStore(store)


async def _goals(store: Store) -> list[Goal]:
    for page in ("/blog/*", "/blog/**", "/docs/**/edit", "/pricing"):
        await add_goal(store, site_id="s1", page=page)
    await add_goal(store, site_id="s1", event="Signup")
    await add_goal(store, site_id="s1", event="Signup", prop=("plan", "pro"))
    return await list_goals(store, site_id="s1")


async def _rows(store: Store, goals: list[Goal], **body: Any) -> list[tuple[list[Any], list[Any]]]:
    query = parse_query({"site_id": "s1", "date_range": "7d", **body}, timezone=TZ, now=NOW,
                        goals=goals)
    result = await run_query(store, query)
    return [(r["dimensions"], r["metrics"]) for r in result["results"]]


async def test_breakdown_by_goal_counts_each_kind_of_goal(goal_store: Store) -> None:
    goals = await _goals(goal_store)
    rows = await _rows(goal_store, goals, dimensions=["event:goal"],
                       metrics=["visitors", "events", "conversion_rate", "group_conversion_rate"])
    assert rows == [
        # /blog/a, /blog/a/b (v8), /blog/x (v9), /blog/<script>alert(1)</script> (v3)
        (["Visit /blog/**"], [3, 4, 37.5, 37.5]),
        # Signup with plan=pro (v8) and plan=free (v9); the lower-case "signup" of v1 is not it
        (["Signup"], [2, 2, 25.0, 25.0]),
        # one segment only: /blog/a and /blog/x, not /blog/a/b nor the path with </script>
        (["Visit /blog/*"], [2, 2, 25.0, 25.0]),
        # pageviews of /pricing (v1, v5); v8's Signup sent from /pricing is no pageview
        (["Visit /pricing"], [2, 2, 25.0, 25.0]),
        (["Signup (plan=pro)"], [1, 1, 12.5, 12.5]),
        (["Visit /docs/**/edit"], [1, 1, 12.5, 12.5]),
    ]


async def test_conversion_rate_with_and_without_another_filter(goal_store: Store) -> None:
    goals = await _goals(goal_store)
    signup = ["is", "event:goal", ["Signup"]]
    assert await _rows(goal_store, goals, metrics=["visitors", "events", "conversion_rate"],
                       filters=[signup]) == [([], [2, 2, 100 * 2 / VISITORS_7D])]
    # Visitors from Twitter: v8 (converted) and v10.
    twitter = ["is", "visit:source", ["Twitter"]]
    assert await _rows(goal_store, goals, metrics=["visitors", "conversion_rate"],
                       filters=[signup, twitter]) == [([], [1, 50.0])]
    pro = ["is", "event:goal", ["Signup (plan=pro)"]]
    assert await _rows(goal_store, goals, metrics=["visitors", "conversion_rate"],
                       filters=[pro]) == [([], [1, 12.5])]


async def test_group_conversion_rate_per_source(goal_store: Store) -> None:
    goals = await _goals(goal_store)
    rows = await _rows(goal_store, goals, dimensions=["visit:source"],
                       metrics=["visitors", "conversion_rate", "group_conversion_rate"],
                       filters=[["is", "event:goal", ["Signup"]]])
    # Google had 4 visitors (v1, v4, v5, v9), Twitter 2 (v8, v10); one converted in each.
    assert rows == [(["Google"], [1, 12.5, 25.0]), (["Twitter"], [1, 12.5, 50.0])]


async def test_goal_filter_keeps_converting_visits(goal_store: Store) -> None:
    goals = await _goals(goal_store)
    # Visits of v3 (a bounce), v8 and v9.
    assert await _rows(goal_store, goals, metrics=["visitors", "visits", "bounce_rate"],
                       filters=[["is", "event:goal", ["Visit /blog/**"]]]) == [([], [3, 3, 33])]
    # contains picks goals by part of their name: both Signup goals, v8 and v9.
    assert await _rows(goal_store, goals, metrics=["visitors"],
                       filters=[["contains", "event:goal", ["signup"],
                                 {"case_sensitive": False}]]) == [([], [2])]


async def test_a_goal_filter_breaks_down_to_its_own_goal(goal_store: Store) -> None:
    goals = await _goals(goal_store)
    rows = await _rows(goal_store, goals, dimensions=["event:goal"], metrics=["visitors"],
                       filters=[["is", "event:goal", ["Visit /blog/*"]]])
    assert rows == [(["Visit /blog/*"], [2])]


async def test_goals_count_events_stored_before_them(goal_path: Path) -> None:
    store = SqliteStore(path=goal_path)
    body = {"metrics": ["visitors"], "filters": [["is", "event:goal", ["Docs edit"]]]}
    with pytest.raises(QueryError) as refused:
        await _rows(store, await list_goals(store, site_id="s1"), **body)
    assert refused.value.code == "invalid_filters"
    assert "no goal named 'Docs edit'" in refused.value.message
    await add_goal(store, site_id="s1", page="/docs/**", name="Docs edit")
    assert await _rows(store, await list_goals(store, site_id="s1"), **body) == [([], [1])]


async def test_time_series_of_a_goal(goal_store: Store) -> None:
    goals = await _goals(goal_store)
    rows = await _rows(goal_store, goals, dimensions=["time:day"],
                       metrics=["visitors", "group_conversion_rate"],
                       filters=[["is", "event:goal", ["Signup"]]])
    # Both Signups on 03-07, whose 2 visitors both converted.
    assert [metrics for _, metrics in rows] == [[0, 0]] * 3 + [[2, 100.0]] + [[0, 0]] * 3


def _query(goals: list[Goal], **body: Any) -> Any:
    return parse_query({"site_id": "s1", "date_range": "12mo", **body}, timezone=TZ, now=NOW,
                       goals=goals)


def test_goal_queries_read_raw_events_and_bind_every_value() -> None:
    goal = Goal(id="g1", site_id="s1", name="Odd", kind="page", target="/a'?[b]/**")
    query = _query([goal], metrics=["visitors", "conversion_rate"],
                   filters=[["is", "event:goal", ["Odd"]]])
    assert plan_query(query).rollup_kind is None
    sql, params = build_sql(query)
    assert "/a'" not in sql and "Odd" not in sql
    # The start before the first * is compared as text (GLOB's own characters in it are plain),
    # the rest is a GLOB: ** spans segments.
    assert "/a'?[b]/" in params and "*" in params


def test_conversion_rate_needs_a_goal() -> None:
    with pytest.raises(QueryError) as refused:
        _query([], metrics=["conversion_rate"])
    assert refused.value.code == "invalid_metrics"
    with pytest.raises(QueryError) as refused:
        _query([], metrics=["visitors"], filters=[["is_not", "event:goal", ["x"]]])
    assert "is and contains" in refused.value.message
    goal = Goal(id="g1", site_id="s1", name="Signup", kind="event", target="Signup")
    assert _query([goal], metrics=["visitors"],
                  filters=[["is", "event:goal", ["SIGNUP"], {"case_sensitive": False}]])
    with pytest.raises(QueryError) as refused:
        _query([goal], metrics=["visitors"],
               filters=[["is", "event:goal", ["Sign"], {"case_sensitive": False}]])
    assert "no goal named 'Sign'" in refused.value.message


def test_glob_escapes_match_literally(goal_path: Path) -> None:
    conn = sqlite3.connect(goal_path)
    # The pattern of "/a[1]/*" with its bracket escaped, against paths SQLite really compares.
    matches = [
        conn.execute("SELECT ? GLOB ?", (path, "/a[[]1]/*")).fetchone()[0]
        for path in ("/a[1]/x", "/a1/x")
    ]
    conn.close()
    assert matches == [1, 0]


def test_behavioural_filters_read_raw_events_and_echo_in_our_names() -> None:
    sent = ["has_not_done", ["is", "event:page", ["/pricing"]]]
    query = _query([], metrics=["visitors"], dimensions=["event:page"], filters=[sent])
    # A lone page filter on a page breakdown would read rollups; this one needs visits' events.
    assert plan_query(query).rollup_kind is None
    assert query.model_dump(mode="json")["filters"] == [
        ["has_not_done", ["is", "page", ["/pricing"]]]
    ]


async def test_has_done_keeps_visits_with_the_event(goal_store: Store) -> None:
    goals = await _goals(goal_store)
    rows = await _rows(goal_store, goals, metrics=["visitors", "pageviews"],
                       dimensions=["event:page"],
                       filters=[["has_done", ["is", "event:goal", ["Signup (plan=pro)"]]]])
    # v8's visit: its two blog pages (and no pageview of /pricing).
    assert rows == [(["/blog/a"], [1, 1]), (["/blog/a/b"], [1, 1]), (["/pricing"], [1, 0])]


async def test_a_filter_naming_many_goals_matches_as_a_few_do(goal_store: Store) -> None:
    goals = await _goals(goal_store)
    for n in range(9):  # more goals than are written out one by one
        await add_goal(goal_store, site_id="s1", event=f"Never {n}")
    goals = await list_goals(goal_store, site_id="s1")
    many = [g.name for g in goals if g.name.startswith("Never")] + ["Visit /blog/*", "Signup"]
    for names in (many, ["Visit /blog/*", "Signup"]):
        # v8 and v9 converted both; nobody sent a "Never" event.
        assert await _rows(goal_store, goals, metrics=["visitors", "events"],
                           filters=[["is", "event:goal", names]]) == [([], [2, 4])]


async def test_conversion_rates_agree_before_and_after_the_rollups(goal_path: Path) -> None:
    store = SqliteStore(path=goal_path)
    goals = await _goals(store)
    bodies: list[dict[str, Any]] = [
        {"metrics": ["visitors", "conversion_rate"], "filters": [["is", "event:goal", ["Signup"]]]},
        {"metrics": ["visitors", "group_conversion_rate"], "dimensions": ["visit:source"],
         "filters": [["is", "event:goal", ["Visit /blog/**"]]]},
        {"metrics": ["events", "conversion_rate"], "dimensions": ["event:goal"]},
    ]
    raw = [await _rows(store, goals, **body) for body in bodies]
    # The divisors (queries without goals) may now read rollups; goals still read raw events.
    while await refresh_rollups(store, now_ms=int(NOW.timestamp() * 1000), max_days=400):
        pass
    divisor = parse_query({"site_id": "s1", "date_range": "7d", "metrics": ["visitors"]},
                          timezone=TZ, now=NOW)
    assert plan_query(divisor).rollup_kind is not None
    (listed,) = await store.execute("SELECT COUNT(*) AS n FROM rollup_days WHERE site_id = 's1'")
    assert int(listed["n"] or 0) >= 4  # the closed days with events
    assert [await _rows(store, goals, **body) for body in bodies] == raw
