"""The funnel statement (``sql.funnel``) against a plain-Python reading of the same rule, on
random visits: the check any rewrite of the statement must pass with identical answers.

The visits are drawn (a fixed seed) to hit the tricky cases many times over: steps out of order,
pages between steps, a step repeated, two events in one millisecond (a step must come strictly
after the previous one), a custom event on a step's page (not a pageview: no page step), a
goal with a property, two segments where the pattern takes one, the funnel's pages on a visitor's
later visit (counted for that visit alone), events before the period, visits crossing local
midnight (followed within each day, as journeys are: a visit is cut at midnight), visitors
counted per day, and a filter (whole visits of one source).
"""

from __future__ import annotations

import json
import re
import sqlite3
import statistics
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import NOW, TODAY, TZ
from funnel_seeding import seed_funnel_data, seed_random_visits

from analytics_941 import parse_query
from analytics_941.funnels import check_steps, step_goals
from analytics_941.goals import Goal
from analytics_941.periods import bounds_ms
from analytics_941.sql.funnel import funnel_sql

GOALS = [
    Goal(id="g1", site_id="s1", name="Purchase", kind="event", target="Purchase"),
    Goal(id="g2", site_id="s1", name="Pro signup", kind="event", target="Signup",
         prop_key="plan", prop_value="pro"),
    Goal(id="g3", site_id="s1", name="Docs", kind="page", target="/docs/**"),
]
FUNNELS = [
    ["page:/shop", "page:/cart", "page:/checkout/*", "goal:Purchase"],
    ["page:/", "page:/docs/**", "goal:Pro signup"],
    ["goal:Docs", "page:/", "page:/cart", "goal:Purchase"],
    ["page:/cart", "page:/shop", "page:/cart", "page:/shop"],
]
FILTERS: list[list[Any]] = [[], [["is", "visit:source", ["Google"]]]]


def _pattern(target: str) -> re.Pattern[str]:
    # Page patterns as docs/goals.md words them: * within one segment, ** across.
    parts = (re.escape(p).replace(r"\*", "[^/]*") for p in target.split("**"))
    return re.compile(".*".join(parts) + r"\Z")


def _matches(goal: Goal, name: str, page: str, props: str | None) -> bool:
    if goal.kind == "page":
        return name == "pageview" and bool(_pattern(goal.target).match(page))
    if name != goal.target:
        return False
    return not goal.prop_key or json.loads(props or "{}").get(goal.prop_key) == goal.prop_value


def _expected(conn: sqlite3.Connection, steps: Sequence[Goal], period: tuple[int, int],
              source: str | None) -> list[tuple[Any, ...]]:
    """The funnel as its rule reads, one visit at a time."""
    start, end = period
    rows = conn.execute(
        "SELECT e.session_id, e.visitor_id, e.ts, e.name, e.pathname, e.props FROM events AS e "
        "JOIN sessions AS s ON s.id = e.session_id WHERE e.site_id = 's1' AND e.ts >= ? "
        "AND e.ts < ? AND (? IS NULL OR s.source = ?)", (start, end, source, source)).fetchall()
    zone = ZoneInfo(TZ)
    visits: dict[tuple[str, date], list[tuple[Any, ...]]] = {}
    for row in rows:
        day = datetime.fromtimestamp(row[2] / 1000, tz=zone).date()
        visits.setdefault((row[0], day), []).append((*row, day))
    reached: list[list[tuple[tuple[str, date], int | None]]] = [[] for _ in steps]
    for events in visits.values():
        last: int | None = None
        for k, goal in enumerate(steps):
            times = [ts for _, _, ts, name, page, props, _ in events
                     if _matches(goal, name, page, props) and (last is None or ts > last)]
            if not times:
                break
            # (visitor, day, gap): a visitor counts once a day
            gap = None if last is None else min(times) - last
            reached[k].append(((events[0][1], events[0][-1]), gap))
            last = min(times)
    out = []
    for k, visits_k in enumerate(reached):
        if not visits_k:
            continue
        gaps = [gap for _, gap in reached[k + 1] if gap is not None] if k + 1 < len(steps) else []
        median = float(statistics.median(gaps)) if gaps else None
        out.append((k + 1, len({v for v, _ in visits_k}), len(visits_k), median))
    return out


@pytest.fixture(scope="module")
def oracle_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = seed_funnel_data(tmp_path_factory.mktemp("oracle") / "d1.sqlite", today=TODAY,
                            timezone=TZ)
    seed_random_visits(path, bounds_ms(TODAY - timedelta(days=6), TODAY, tz=_query([]).zone))
    return path


def _query(filters: list[Any]) -> Any:
    return parse_query({"site_id": "s1", "date_range": "7d", "metrics": ["visitors"],
                        "filters": filters}, timezone=TZ, now=NOW, goals=GOALS)


@pytest.mark.parametrize("filters", FILTERS, ids=["unfiltered", "source"])
@pytest.mark.parametrize("funnel", FUNNELS, ids=[f"funnel{i}" for i in range(len(FUNNELS))])
def test_statement_answers_as_the_rule_reads(oracle_path: Path, funnel: list[str],
                                             filters: list[Any]) -> None:
    query = _query(filters)
    steps = step_goals(check_steps(funnel), GOALS)
    period = bounds_ms(*query.period, tz=query.zone)
    conn = sqlite3.connect(oracle_path)
    got = [tuple(row) for row in conn.execute(*funnel_sql(query, steps, period=query.period))]
    want = _expected(conn, steps, period, "Google" if filters else None)
    conn.close()
    assert got == want
    # The draw reaches every step of every funnel, so the deep steps are compared too.
    assert [row[0] for row in want] == list(range(1, len(funnel) + 1))
