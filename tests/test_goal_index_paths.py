"""The index-friendly goal tests answer exactly what the plain match does.

A goal filter writes each goal out (``sql.goals._match_inline``): an exact page pattern as an
equality, a wildcard one bounded by its literal start before the GLOB, an event name as the
``events_name`` index's equality. The ``event:goal`` breakdown still matches every goal with the
plain GLOB / name test (``_match_row``). Each goal's filtered visitors and events must equal its
breakdown row, on paths chosen to sit at the edges of the ranges (GLOB characters, the next
string up, code points past the BMP), with typed and with string parameters (D1's typing). A
one-value ``event:name`` filter (an equality now) must equal the same filter through the
value-list path.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import NOW, TODAY, TZ, StringParamStore
from seeding import _ms, seed

from analytics_941 import SqliteStore, parse_query, run_query
from analytics_941.goals import Goal, add_goal, list_goals
from analytics_941.sql.goals import _prefix_range
from analytics_941.store import Store

PATHS = [
    "/", "/pricing", "/pricing/", "/pricing/a", "/pricing/a/b", "/pricing0", "/pricinG/a",
    "/pricing.", "/q[1]", "/q?x", "/q*", "/a\U0001f600/b", "/a\U0001f600/c/d", "/\ud7ff/x",
    "/\ue000/x", "/\ud7ffz", "/\ue000z", "/blog/x", "/blog/x/edit", "//", "/pricing/a\U0010ffff",
]
PATTERNS = [
    "/", "/pricing", "/pricing/*", "/pricing/**", "/pricing*", "/q[1]", "/q?x", "/q*",
    "/a\U0001f600/*", "/a\U0001f600/**", "/\ud7ff/*", "/\ud7ff*", "/**", "/*", "/blog/**/edit",
    "/pricing/a\U0010ffff",
]
EVENTS = ["Signup", "signup", "Outbound Link: Click", "File Download"]


def _seed(path: Path) -> Path:
    seed(path, today=TODAY, timezone=TZ)
    conn = sqlite3.connect(path)
    with conn:
        rows = [(name, "/pricing") for name in EVENTS] + [("pageview", p) for p in PATHS]
        for n, (name, pathname) in enumerate(rows):
            # Two visitors per row, on two days, one of them twice: visitors and events differ.
            for visitor, day, times in ((f"p{n}", -2, 2), (f"q{n % 3}", -1, 1)):
                for k in range(times):
                    ts = _ms(TODAY, day, f"10:{n % 60:02d}:{k:02d}", ZoneInfo(TZ))
                    conn.execute(
                        "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, "
                        "hostname, pathname, source, country, device) VALUES "
                        "(?, 's1', ?, ?, ?, ?, 'example.com', ?, 'Google', 'US', 'Desktop')",
                        (f"x{n}-{visitor}-{k}", ts, name, visitor, f"S{n}{visitor}", pathname))
    conn.close()
    return path


@pytest.fixture(params=["typed", "strings"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    plain = SqliteStore(path=_seed(tmp_path / "d1.sqlite"))
    return plain if request.param == "typed" else StringParamStore(plain)


async def _goals(store: Store) -> list[Goal]:
    for pattern in PATTERNS:
        await add_goal(store, site_id="s1", page=pattern)
    for name in EVENTS[:3]:
        await add_goal(store, site_id="s1", event=name)
    return await list_goals(store, site_id="s1")


async def _rows(store: Store, goals: list[Goal], **body: Any) -> list[tuple[Any, ...]]:
    query = parse_query({"site_id": "s1", "date_range": "7d", **body}, timezone=TZ, now=NOW,
                        goals=goals)
    result = await run_query(store, query)
    return [(*r["dimensions"], *r["metrics"]) for r in result["results"]]


async def test_each_goal_filter_equals_its_breakdown_row(store: Store) -> None:
    goals = await _goals(store)
    metrics = ["visitors", "events"]
    breakdown = {row[0]: row[1:] for row in
                 await _rows(store, goals, dimensions=["event:goal"], metrics=metrics)}
    assert len(breakdown) >= 12, "most goals convert: the comparison is not vacuous"
    for goal in goals:
        (total,) = await _rows(store, goals, metrics=metrics,
                               filters=[["is", "event:goal", [goal.name]]])
        assert tuple(total) == breakdown.get(goal.name, (0, 0)), goal.name


async def test_one_event_name_equals_the_value_list_path(store: Store) -> None:
    for name in [*EVENTS, "pageview", "none sent"]:
        one = await _rows(store, [], metrics=["visitors", "events"],
                          filters=[["is", "event:name", [name]]])
        listed = await _rows(store, [], metrics=["visitors", "events"],
                             filters=[["is", "event:name", [name, "\x01never"]]])
        assert one == listed, name


def test_prefix_range_bounds_every_path_the_pattern_starts() -> None:
    for pattern in PATTERNS:
        start, above = _prefix_range(pattern + "*" if "*" not in pattern else pattern)
        for path in PATHS:
            begins = path.startswith(pattern.split("*", 1)[0])
            inside = start.encode() <= path.encode() < above.encode()
            assert inside or not begins, (pattern, path)
