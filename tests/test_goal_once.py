"""The Goal conversions panel's one-pass read (``sql.goal_once``) against a fresh count from the
raw rows: the goals' visitors, events and conversion rates, and the divisor, when today's events
are read once for both.

Data: ``test_goal_panel_reads``'s (rolled-up closed days, today raw up to 11:00 UTC), with its
visit crossing midnight into today (its visitor counts on both days, in the goals' visitors and
in the divisor) and its ``Retired`` event three days back (a goal with no match today).
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import StringParamStore
from test_goal_panel_reads import (  # noqa: F401 - the module's fixtures
    _converts,
    _day,
    _in_period,
    _rate,
    _visitors,
    events,
    rolled,
)

from analytics_941 import SqliteStore, parse_query, run_query
from analytics_941.goals import Goal, list_goals
from analytics_941.sql.goal_once import one_pass
from analytics_941.sql.plan import plan_query
from analytics_941.sql_builder import build_sql
from bench.datagen import SITE_ID, TIMEZONE

from test_goal_panel_reads import NOW, TODAY  # isort: skip

PANEL = ["visitors", "events", "conversion_rate"]
MONEY = ["total_revenue", "average_revenue"]
RETIRED = Goal(id="g-retired", site_id=SITE_ID, name="Retired", kind="event", target="Retired")


@pytest.fixture(scope="module")
def unrolled(rolled: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """The same events with no day rolled up: every unit is read in the one pass, the visit
    crossing midnight included."""
    path = tmp_path_factory.mktemp("goal_once") / "unrolled.sqlite"
    shutil.copy(rolled, path)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM rollup_days")
        conn.execute("DELETE FROM goal_rollup_days")
    conn.close()
    return path


async def _rows(path: Path, spec: dict[str, Any], *, extra: tuple[Goal, ...] = (),
                strings: bool = False) -> tuple[Any, list[Any]]:
    goals = (*await list_goals(SqliteStore(path=path), site_id=SITE_ID), *extra)
    query = parse_query({"site_id": SITE_ID, "date_range": "30d", **spec}, timezone=TIMEZONE,
                        now=NOW, goals=goals)
    store = SqliteStore(path=path)
    result = await run_query(StringParamStore(store) if strings else store, query)
    # Revenue values as numbers (Plausible's shape holds ``value``), rounded as the API's.
    return query, [(r["dimensions"], [m["value"] if isinstance(m, dict) else m
                                      for m in r["metrics"]]) for r in result["results"]]


def _expected(query: Any, stored: list[dict[str, Any]], named: set[str]) -> list[Any]:
    base = [e for e in stored if _in_period(query, e)]
    rows = []
    for goal in query.goals:
        hits = [e for e in base if _converts(goal)(e)]
        if hits and (not named or goal.name in named):
            money: list[Any] = []
            if "total_revenue" in query.metrics:
                # The goal's own currency only; NULL for a goal without one.
                paid = [e["revenue"] for e in hits if e["revenue"] is not None
                        and e["revenue_currency"] == goal.currency]
                money = [round(sum(paid), 2) if goal.currency else None,
                         round(sum(paid) / len(paid), 2) if goal.currency and paid else None]
            rows.append(([goal.name], [_visitors(hits), len(hits),
                                       _rate(_visitors(hits), _visitors(base)), *money]))
    return sorted(rows, key=lambda row: (-row[1][0], row[0][0]))


@pytest.mark.parametrize(("spec", "extra"), [
    ({}, ()),
    ({"date_range": "7d"}, ()),
    ({"date_range": "day"}, ()),
    ({"filters": [["is", "event:goal", ["Pricing", "Pro signup"]]]}, ()),
    ({}, (RETIRED,)),
    ({"date_range": "day"}, (RETIRED,)),
], ids=["30d", "7d", "today", "goal filter", "retired goal", "retired goal today"])
@pytest.mark.parametrize("strings", [False, True], ids=["typed", "strings"])
@pytest.mark.parametrize("source", ["rolled", "unrolled"])
@pytest.mark.parametrize("money", [False, True], ids=["counts", "revenue"])
async def test_the_one_pass_breakdown_equals_a_fresh_count(
        request: pytest.FixtureRequest, events: list[dict[str, Any]],  # noqa: F811
        spec: dict[str, Any], extra: tuple[Goal, ...], strings: bool, source: str,
        money: bool) -> None:
    path = request.getfixturevalue(source)
    spec = {"metrics": PANEL + MONEY * money, "dimensions": ["event:goal"], **spec}
    query, rows = await _rows(path, spec, extra=extra, strings=strings)
    named = {n for leaf in spec.get("filters", []) for n in leaf[2]}
    assert one_pass(query)
    assert "m_once" in build_sql(query)[0]
    expected = _expected(query, events, named)
    assert len(expected) >= 2
    assert rows == expected
    retired = [row for row in rows if row[0] == ["Retired"]]
    # Matched three days back only: a row over 30 days (read raw, no goal rollup holds it),
    # none today.
    assert retired == ([] if not extra or spec.get("date_range") == "day"
                       else [(["Retired"], [1, 1, retired[0][1][2], *[None] * 2 * money])])
    if not extra and "date_range" not in spec:
        assert plan_query(query).goal_rollup == ""
    if money and not named:
        # The EUR goal's amounts, summed per visitor and unit, then over units.
        (purchase,) = [row for row in rows if row[0] == ["Purchase"]]
        assert purchase[1][3] > 0 and purchase[1][4] > 0
    if source == "unrolled" and spec.get("date_range") != "day":
        # The owl's two days are two visitors, both read in the one pass.
        (pricing,) = [row for row in rows if row[0] == ["Pricing"]]
        owl = [e for e in events if e["visitor_id"] == "night-owl" and _in_period(query, e)]
        assert _visitors(owl) == 2 and pricing[1][0] >= 2


def test_the_data_holds_a_visit_crossing_midnight(events: list[dict[str, Any]]) -> None:  # noqa: F811
    """The visitor counts on both days: two visitors in the per-day sum, one in a plain count."""
    owl = [e for e in events if e["visitor_id"] == "night-owl"]
    assert {_day(e["ts"]) for e in owl} == {TODAY - timedelta(days=1), TODAY}
    assert _visitors(owl) == 2


@pytest.mark.parametrize("spec", [
    {"metrics": PANEL, "dimensions": ["event:goal"], "filters": [["is", "country", ["DE"]]]},
    {"metrics": PANEL, "dimensions": ["event:goal"], "comparison": "previous_period"},
    {"metrics": ["visitors", "group_conversion_rate"], "dimensions": ["event:goal"]},
], ids=["country filter", "comparison", "group rate"])
async def test_other_shapes_read_as_before(rolled: Path, spec: dict[str, Any]) -> None:  # noqa: F811
    """Other filters, a comparison, group rates: the two reads as before (their answers are
    checked in test_goal_panel_reads and test_goals_query)."""
    query, _ = await _rows(rolled, spec)
    assert not one_pass(query)
    assert "m_once" not in build_sql(query)[0]
