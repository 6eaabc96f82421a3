"""The goal row contract: one goal, one row of ``goal_rows``, wherever goals are matched.

Three writers make the row: the reader (``sql.goals.goal_row``), the goal rollups' SQL (from
``goals_param``'s raw fields) and the Worker's reports and alerts (``goalRow``, checked against
the same table by worker/test/goal-rows-contract.test.ts). Each must write the row in
tests/fixtures/contracts/goal_rows.json, or a goal counts one way in a panel and another in a
rollup, a report or an alert.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from analytics_941.goals import Goal
from analytics_941.rollups import goals as goal_rollups
from analytics_941.sql.goals import goal_row, goal_rows_cte
from analytics_941.sql.params import Params

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "fixtures" / "contracts" / "goal_rows.json").read_text()
)
IDS = [c["why"] for c in CASES]
COLUMNS = "gkind, gtarget, gslashes, gpath, gvalue, gname, gcurrency"


def _goal(case: dict[str, Any]) -> Goal:
    return Goal(site_id="s1", **case["goal"])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_reader_writes_the_contract_row(case: dict[str, Any]) -> None:
    assert goal_row(_goal(case)) == case["row"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_reader_cte_unpacks_the_row_whole(case: dict[str, Any]) -> None:
    params = Params()
    cte = goal_rows_cte([_goal(case)], params)
    with sqlite3.connect(":memory:") as conn:
        (row,) = conn.execute(f"WITH {cte} SELECT {COLUMNS} FROM goal_rows", params.check())
    assert list(row) == case["row"]


def test_the_goal_rollups_make_the_same_rows_from_the_goals_raw_fields() -> None:
    goals = [_goal(case) for case in CASES]
    with sqlite3.connect(":memory:") as conn:
        rows = conn.execute(
            f"WITH {goal_rollups._GOAL_ROWS} SELECT {COLUMNS} FROM goal_rows ORDER BY gname",
            [None, None, None, goal_rollups.goals_param(goals)],
        ).fetchall()
    # The rollups name a goal by its id (gname), the reader by its name.
    expected = [[*c["row"][:5], c["goal"]["id"], c["row"][6]] for c in CASES]
    assert [list(r) for r in rows] == sorted(expected, key=lambda r: str(r[5]))
