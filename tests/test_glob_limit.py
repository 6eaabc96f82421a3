"""D1 refuses a GLOB pattern of more than 50 bytes, and every test connection holds that limit
(conftest): page goals and funnel steps with long paths still count exactly (an exact pattern
is an equality, a wildcard one a GLOB from its first ``*`` only), through each goal path (a
goal filter, the ``event:goal`` breakdown, the goal rollups and a funnel); a pattern whose
wildcard part is too long is refused with a reason, and one stored before that check counts
nothing instead of failing the read; a wildcard filter too long is a 400-class refusal."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, TODAY, TZ
from seeding import apply_schema, insert_site, insert_visit

from analytics_941 import SqliteStore, parse_query, run_query
from analytics_941.exceptions import QueryError
from analytics_941.funnel_report import run_funnel
from analytics_941.funnels import check_steps
from analytics_941.goals import GoalError, add_goal, check_pattern, list_goals
from analytics_941.periods import bounds_ms
from analytics_941.rollups.jobs import refresh_rollups

LONG = "/documentation/getting-started/installing-on-a-new-machine"  # 59 bytes
PAGES = [LONG, f"{LONG}/linux", f"{LONG}/windows/11", "/other"]


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    path = apply_schema(tmp_path / "d1.sqlite")
    start, _ = bounds_ms(TODAY - timedelta(days=3), TODAY, tz=_query([]).zone)
    with sqlite3.connect(path) as conn:
        insert_site(conn, timezone=TZ)
        for n, page in enumerate(PAGES * 3):
            t0 = start + n * 3_600_000
            insert_visit(conn, session=f"g{n}", country="DE", started_at=t0, ended_at=t0 + 60_000,
                         events=[("0", t0, "pageview", "/"), ("1", t0 + 60_000, "pageview", page)])
    store = SqliteStore(path=path)
    await add_goal(store, site_id="s1", page=LONG, name="Exact")
    await add_goal(store, site_id="s1", page=f"{LONG}/*", name="One below")
    await add_goal(store, site_id="s1", page=f"{LONG}/**", name="Any below")
    with sqlite3.connect(path) as conn:  # an older row, from before the check
        conn.execute("INSERT INTO goals (id, site_id, name, kind, target, prop_key, prop_value, "
                     "created_at) VALUES ('old', 's1', 'Too long', 'page', ?, '', '', 0)",
                     (f"/x/*{'y' * 60}",))
    return path


def _query(goals: list[Any], **body: Any) -> Any:
    return parse_query({"site_id": "s1", "date_range": "7d", "metrics": ["visitors"], **body},
                       timezone=TZ, now=NOW, goals=goals)


async def _breakdown(store: SqliteStore) -> dict[str, int]:
    goals = await list_goals(store, site_id="s1")
    result = await run_query(store, _query(goals, dimensions=["event:goal"]))
    return {r["dimensions"][0]: r["metrics"][0] for r in result["results"]}


async def test_long_patterns_count_on_every_goal_path(db: Path) -> None:
    store = SqliteStore(path=db)
    want = {"Exact": 3, "One below": 3, "Any below": 6}
    assert await _breakdown(store) == want  # raw, matched through the goal rows
    goals = await list_goals(store, site_id="s1")
    for name, visitors in [*want.items(), ("Too long", 0)]:
        result = await run_query(store, _query(goals, filters=[["is", "event:goal", [name]]]))
        assert result["results"][0]["metrics"] == [visitors], name  # one goal, written out
    await refresh_rollups(store, now_ms=int(NOW.timestamp() * 1000), max_days=64)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM goal_rollup_days").fetchone()[0] > 0
    assert await _breakdown(store) == want  # closed days from the goal rollups
    funnel = await run_funnel(store, _query(goals), check_steps(["/", f"{LONG}/**"]),
                              goals=goals)
    assert [row["visitors"] for row in funnel["results"]] == [12, 6]


def test_a_too_long_wildcard_part_is_refused_with_a_reason() -> None:
    assert check_pattern(f"{LONG}/{LONG}") == f"{LONG}/{LONG}"  # exact: any length
    assert check_pattern(f"{LONG}{LONG}/*") == f"{LONG}{LONG}/*"  # a long start is fine
    with pytest.raises(GoalError, match="too long from its first"):
        check_pattern(f"/x/*{'y' * 60}")
    with pytest.raises(QueryError, match="wildcard pattern is longer"):
        _query([], filters=[["matches_wildcard", "event:page", [f"/*{'y' * 60}"]]])
    assert _query([], filters=[["matches_wildcard", "event:page", ["/docs/**"]]])
