"""Web vitals metrics through the one query path: the nearest-rank 75th percentile and Google's
shares per page, device and day equal a computation in Python over the same rows, with typed
and all-string parameters; filters apply as on events; nothing measured is null, not 0."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, TZ
from vitals_seeding import p75, seed_vitals

from analytics_941 import QueryError, parse_query, run_query
from analytics_941.sql.vitals import VITALS
from analytics_941.sql_builder import build_sql
from analytics_941.store import Store


@pytest.fixture
def vitals_path(seeded_path: Path) -> Path:
    assert seed_vitals(seeded_path) > 5
    return seeded_path


def _rows(path: Path, where: str = "1", params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(
            "SELECT e.pathname, e.device, e.country, v.* FROM web_vitals AS v JOIN events AS e "
            "ON e.site_id = v.site_id AND e.ts = v.ts AND e.id = v.event_id "
            f"WHERE v.site_id = 's1' AND v.ts >= ? AND {where}",
            (_start_ms(), *params)).fetchall()


def _start_ms() -> int:
    query = parse_query({"site_id": "s1", "date_range": "7d", "metrics": ["lcp"]},
                        timezone=TZ, now=NOW)
    from analytics_941.periods import bounds_ms
    return bounds_ms(*query.period, tz=query.zone)[0]


def _expected(rows: list[sqlite3.Row]) -> list[Any]:
    out: list[Any] = [len(rows)]
    for vital in VITALS:
        values = [r[vital.column] for r in rows if r[vital.column] is not None]
        value = p75(values)
        out.append(None if value is None else (value / vital.scale if vital.scale != 1 else value))
        good = vital.stored(vital.good)
        poor = vital.stored(vital.poor)
        out.append(round(100 * sum(v <= good for v in values) / len(values), 1)
                   if values else None)
        out.append(round(100 * sum(v > poor for v in values) / len(values), 1)
                   if values else None)
    return out


METRICS = ["vitals_pageviews", *(m for v in VITALS for m in (v.name, f"{v.name}_good",
                                                               f"{v.name}_poor"))]


async def _run(store: Store, **spec: Any) -> dict[str, Any]:
    query = parse_query({"site_id": "s1", "date_range": "7d", **spec}, timezone=TZ, now=NOW)
    return await run_query(store, query)


async def test_totals_and_per_page_equal_python(vitals_path: Path, any_store: Store) -> None:
    (total,) = (await _run(any_store, metrics=METRICS))["results"]
    assert total["metrics"] == _expected(_rows(vitals_path))
    pages = (await _run(any_store, metrics=METRICS, dimensions=["event:page"]))["results"]
    assert pages, "pages with vitals"
    for row in pages:
        (path,) = row["dimensions"]
        assert row["metrics"] == _expected(_rows(vitals_path, "e.pathname = ?", (path,))), path


async def test_a_filter_applies_as_on_events(vitals_path: Path, any_store: Store) -> None:
    result = await _run(any_store, metrics=METRICS, dimensions=["visit:device"],
                        filters=[["is", "visit:country", ["US"]]])
    assert result["results"]
    for row in result["results"]:
        (device,) = row["dimensions"]
        expected = _expected(_rows(vitals_path, "e.country = 'US' AND e.device = ?", (device,)))
        assert row["metrics"] == expected


async def test_days_without_vitals_are_null_and_mix_with_counts(
        vitals_path: Path, any_store: Store) -> None:
    result = await _run(any_store, metrics=["pageviews", "lcp", "vitals_pageviews"],
                        dimensions=["time:day"])
    by_day = {r["dimensions"][0]: r["metrics"] for r in result["results"]}
    assert len(by_day) == 7
    for day, (pageviews, lcp, samples) in by_day.items():
        if samples == 0:
            assert lcp is None, day
        else:
            assert pageviews >= samples and lcp is not None, day
    assert any(m[2] == 0 for m in by_day.values()), "some day has no vitals"


async def test_with_a_comparison_nothing_measured_has_no_change(
        vitals_path: Path, any_store: Store) -> None:
    result = await _run(any_store, metrics=["lcp", "lcp_good"],
                        comparison=["2020-01-01", "2020-01-07"])
    (row,) = result["results"]
    assert row["metrics"][0] is not None
    assert row["comparison"]["metrics"] == [None, None]
    assert row["comparison"]["change"] == [None, None]


def test_never_from_rollups_and_refused_for_visit_only_dimensions() -> None:
    query = parse_query({"site_id": "s1", "date_range": "12mo", "metrics": ["lcp"]},
                        timezone=TZ, now=NOW)
    sql, _params = build_sql(query)
    assert "rollup" not in sql and "web_vitals" in sql
    for dimension in ("visit:entry_page", "event:goal"):
        with pytest.raises(QueryError, match="cannot be broken down"):
            build_sql(parse_query({"site_id": "s1", "date_range": "7d", "metrics": ["inp"],
                                   "dimensions": [dimension]}, timezone=TZ, now=NOW))
