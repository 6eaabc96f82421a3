"""The rollup job's contract: which days a run recomputes from the dirty quarter-hours.

``rollups.jobs.choose_days`` and the Worker's ``chooseDays`` (worker/src/rollup/cron.ts) both
check the one table in tests/fixtures/contracts/dirty_days.json (its twin is
worker/test/dirty-days-contract.test.ts); the SQL and defaults around them are generated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analytics_941.rollups.jobs import choose_days

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "fixtures" / "contracts" / "dirty_days.json").read_text()
)


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
def test_choose_days_keeps_the_contract(case: dict[str, Any]) -> None:
    chosen = choose_days(case["rows"], now_ms=case["now_ms"], max_days=case["max_days"])
    assert [
        {"site_id": site_id, "day": day.isoformat(), "tz": tz} for site_id, day, tz in chosen
    ] == case["days"]
