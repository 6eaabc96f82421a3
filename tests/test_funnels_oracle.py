"""The funnel statement (``sql.funnel``) against a plain-Python reading of the same rule, on
random visits: the check any rewrite of the statement must pass with identical answers.

The visits are drawn (a fixed seed) to hit the tricky cases many times over: steps out of order,
pages between steps, a step repeated, two events in one millisecond (a step must come strictly
after the previous one), a custom event on a step's page (not a pageview: no page step), a
goal with a property, two segments where the pattern takes one, the funnel's pages on a visitor's
later visit (counted for that visit alone), events before the period, and a filter (whole
visits of one source).
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import statistics
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, TODAY, TZ
from funnel_seeding import seed_funnel_data

from analytics_941 import parse_query
from analytics_941.funnels import check_steps, step_goals
from analytics_941.goals import Goal
from analytics_941.periods import bounds_ms
from analytics_941.sql.funnel import funnel_sql

PAGES = ["/", "/shop", "/cart", "/checkout/pay", "/checkout/pay/x", "/docs/a", "/docs/a/b",
         "/about"]
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
# Sessions and events of this test use their own ids (``z…``), beside the seeded site's.
VISITS = 1500


def _events(rng: random.Random, start: int) -> list[tuple[int, str, str, str | None]]:
    """One visit's events: (ts, name, pathname, props)."""
    out: list[tuple[int, str, str, str | None]] = []
    ts = start
    for _ in range(rng.randint(1, 12)):
        ts += rng.choice([0, 0, 1, 500, 60_000, 240_000])  # 0: the same millisecond
        page = rng.choice(PAGES[:6] if rng.random() < 0.8 else PAGES)
        roll = rng.random()
        if roll < 0.12:
            out.append((ts, "Purchase", page, json.dumps({"total": "10"})))
        elif roll < 0.2:
            plan = rng.choice(["pro", "free"])
            out.append((ts, "Signup", page, json.dumps({"plan": plan})))
        else:
            out.append((ts, "pageview", page, None))
    return out


def _seed(path: Path, period: tuple[int, int]) -> None:
    rng = random.Random(941)  # noqa: S311 - a fixed draw of test data, not a secret
    start, end = period
    conn = sqlite3.connect(path)
    with conn:
        for n in range(VISITS):
            visitor = f"zv{rng.randint(0, VISITS // 3)}"  # some visitors come back
            source = rng.choice(["Google", "Twitter", None])
            # Some visits begin an hour before the period: their earlier events do not count.
            begin = rng.randint(start - 3_600_000, end - 3_600_000)
            events = _events(rng, begin)
            for i, (ts, name, page, props) in enumerate(events):
                conn.execute(
                    "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
                    "pathname, source, props) VALUES (?, 's1', ?, ?, ?, ?, 'example.com', ?, ?, ?)",
                    (f"z{n}-{i}", ts, name, visitor, f"z{n}", page, source, props))
            conn.execute(
                "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, "
                "entry_page, exit_page, source) VALUES (?, 's1', ?, ?, ?, 'example.com', ?, ?, ?)",
                (f"z{n}", visitor, events[0][0], events[-1][0], events[0][2], events[-1][2],
                 source))
    conn.close()


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
    visits: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        visits.setdefault(row[0], []).append(row)
    reached: list[list[tuple[str, int | None]]] = [[] for _ in steps]  # (visitor, gap)
    for events in visits.values():
        last: int | None = None
        for k, goal in enumerate(steps):
            times = [ts for _, _, ts, name, page, props in events
                     if _matches(goal, name, page, props) and (last is None or ts > last)]
            if not times:
                break
            reached[k].append((events[0][1], None if last is None else min(times) - last))
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
    _seed(path, bounds_ms(TODAY - timedelta(days=6), TODAY, tz=_query([]).zone))
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
