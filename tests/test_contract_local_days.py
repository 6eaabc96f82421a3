"""The local-day contract: the dashboard (periods.py) and the Worker's cron (days.ts) must cut a
site's days at the same instants, or rollups and raw reads disagree by an hour on DST days.

Both languages check the one table in tests/fixtures/contracts/local_days.json (its twin is
worker/test/local-days-contract.test.ts). Its ``hours`` are stated from the zones' known rules,
not computed, so the table also checks each side against the calendar."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from analytics_941.periods import bounds_ms

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "fixtures" / "contracts" / "local_days.json").read_text()
)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['tz']}:{c['day']}" for c in CASES])
def test_periods_cuts_each_local_day_as_the_contract_says(case: dict[str, Any]) -> None:
    day = date.fromisoformat(case["day"])
    start, end = bounds_ms(day, day, tz=ZoneInfo(case["tz"]))
    assert (start, end) == (case["start_ms"], case["end_ms"])
    assert (end - start) / 3_600_000 == case["hours"]
