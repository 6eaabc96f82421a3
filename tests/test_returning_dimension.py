"""``visit:returning`` (migration 0027): a visit's new-or-returning flag as words, through the one
query path. As a breakdown it is read from the rollups once a day is rolled up, as a filter from
raw sessions; both give what the sessions hold, with typed and all-string parameters."""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, TZ, StringParamStore

from analytics_941 import SqliteStore, parse_query, run_query
from analytics_941.periods import bounds_ms
from analytics_941.rollups.jobs import refresh_rollups
from analytics_941.rollups.kinds import ROLLUP_DIMENSIONS
from analytics_941.sql.plan import plan_query
from analytics_941.store import Store
from analytics_941.web.dashboard.reports import PANELS

WORDS = {0: "New", 1: "Returning", None: "Unknown"}


@pytest.fixture
def flagged_path(seeded_path: Path) -> Path:
    with sqlite3.connect(seeded_path) as conn:
        conn.execute("UPDATE sessions SET is_returning = CASE rowid % 3 WHEN 0 THEN 0 "
                     "WHEN 1 THEN 1 END WHERE site_id = 's1'")
    conn.close()
    return seeded_path


def _query(**spec: Any) -> Any:
    return parse_query({"site_id": "s1", "date_range": "7d", **spec}, timezone=TZ, now=NOW)


async def _rows(store: Store, **spec: Any) -> dict[str, list[int]]:
    result = await run_query(store, _query(**spec))
    return {r["dimensions"][0] if r["dimensions"] else "": r["metrics"]
            for r in result["results"]}


def _expected(path: Path) -> Counter[str]:
    query = _query(metrics=["visits"])
    lo, hi = bounds_ms(*query.period, tz=query.zone)
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT is_returning, started_at FROM sessions WHERE site_id = 's1'"
                            ).fetchall()
    conn.close()
    return Counter(WORDS[flag] for flag, at in rows if lo <= at < hi)


@pytest.mark.parametrize("strings", [False, True])
async def test_breakdown_and_filter_from_raw_and_rollups_agree(
    flagged_path: Path, tmp_path: Path, strings: bool
) -> None:
    rolled_path = tmp_path / "rolled.sqlite"
    shutil.copy(flagged_path, rolled_path)
    rolled = SqliteStore(path=rolled_path)
    done = await refresh_rollups(rolled, max_days=64, now_ms=int(NOW.timestamp() * 1000))
    assert done, "the closed days were rolled up"
    raw: Store = SqliteStore(path=flagged_path)
    if strings:
        raw, rolled = StringParamStore(raw), StringParamStore(rolled)  # type: ignore[assignment]
    spec = {"metrics": ["visitors", "visits"], "dimensions": ["visit:returning"]}
    assert "returning" in ROLLUP_DIMENSIONS and plan_query(_query(**spec)).rollup_dim == "returning"
    expected = _expected(flagged_path)
    assert set(expected) == {"New", "Returning", "Unknown"}
    by_raw, by_rollups = await _rows(raw, **spec), await _rows(rolled, **spec)
    assert by_rollups == by_raw
    assert {k: v[1] for k, v in by_raw.items()} == dict(expected)
    for word in ("New", "Returning", "Unknown"):
        filtered = {"metrics": ["visitors", "visits"],
                    "filters": [["is", "visit:returning", [word]]]}
        assert plan_query(_query(**filtered)).rollup_dim is None  # per visit only: raw
        assert (await _rows(rolled, **filtered))[""] == by_raw[word]
        assert (await _rows(raw, **filtered))[""] == by_raw[word]
    # A filter on it keeps pageviews of those visits too (events joined to their visits).
    (pageviews,) = (await _rows(raw, metrics=["pageviews"],
                                filters=[["is_not", "visit:returning", ["Unknown"]]])).values()
    assert pageviews[0] > 0


def test_the_devices_panel_has_a_returning_tab() -> None:
    devices = next(p for p in PANELS if p.key == "devices")
    assert ("returning", "Returning", "returning") in devices.tabs
