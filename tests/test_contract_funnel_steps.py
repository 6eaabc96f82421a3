"""The funnel steps contract: a saved funnel's stored steps and the site's goals make one steps
parameter (``[kind, target, prop_key, prop_value]`` per step), wherever a funnel is rolled up.

Two writers make it: the Python cron job (``rollups.funnels``, also the dashboard's reader) and
the Worker's (``funnelStepsParam`` in worker/src/rollup/funnels.ts, checked against the same
table by worker/test/funnel-steps-contract.test.ts). The listing keeps the parameter's JSON and a
reader takes a day only for its own, so both must write tests/fixtures/contracts/funnel_steps.json
to the character, or the Worker's rows are never read (or a funnel naming a missing goal fails).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analytics_941.funnels import FunnelError, parse_step, step_goals
from analytics_941.goals import Goal
from analytics_941.rollups.funnels import steps_param

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "fixtures" / "contracts" / "funnel_steps.json").read_text()
)
IDS = [c["why"] for c in CASES]


def _param(case: dict[str, Any]) -> str | None:
    goals = [Goal(id=f"g{i}", site_id="s1", **g) for i, g in enumerate(case["goals"])]
    try:
        return steps_param(step_goals([parse_step(x) for x in json.loads(case["stored"])], goals))
    except FunnelError:
        return None


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_cron_job_writes_the_contract_steps(case: dict[str, Any]) -> None:
    param = _param(case)
    if case["steps"] is None:
        assert param is None
        return
    assert param is not None
    assert json.loads(param) == case["steps"]
    # The very text the Worker's JSON.stringify writes (compact, characters unescaped).
    assert param == json.dumps(case["steps"], ensure_ascii=False, separators=(",", ":"))


def test_the_table_covers_what_the_contract_promises() -> None:
    kinds = {row[0] for c in CASES if c["steps"] for row in c["steps"]}
    assert kinds == {"page", "event"}
    assert any(c["steps"] is None for c in CASES)
    assert any(row[2] for c in CASES if c["steps"] for row in c["steps"])
    assert any("**" in row[1] for c in CASES if c["steps"] for row in c["steps"])
