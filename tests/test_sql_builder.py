"""Golden tests: the exact SQL text and parameters the builder makes for representative queries.

The golden statements live in tests/golden/sql/<name>.sql (+ .json for the parameters). If one
fails after an intended change, read the new SQL, then rewrite the files with
``GOLDEN_UPDATE=1 pytest tests/test_sql_builder.py``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, TZ

from analytics_941 import QueryError, build_sql, parse_query
from analytics_941.sql.params import MAX_PARAMS
from analytics_941.sql.where import glob_pattern

GOLDEN = Path(__file__).parent / "golden" / "sql"
# 2026-03-04 00:00 and 2026-03-11 00:00 in New York (EST and EDT), as UTC ms.
START, END = 1772600400000, 1773201600000
DAY_MS = 86_400_000


def q(**spec: Any):  # type: ignore[no-untyped-def]
    return parse_query({"site_id": "s1", "date_range": "7d", **spec}, timezone=TZ, now=NOW)


CASES: dict[str, dict[str, Any]] = {
    # Totals: rollup-eligible: raw rows of units not rolled up UNION ALL rollup rows of the rest.
    "totals": {"metrics": ["visitors", "visits", "bounce_rate"]},
    # A breakdown filtered on another dimension: raw only; a page filter reaches sessions through
    # their events.
    "page_filtered": {
        "metrics": ["visitors", "visits"],
        "dimensions": ["page"],
        "filters": [["is", "country", ["US", "CA"]], ["contains", "page", ["/blog"]]],
        "limit": 5,
    },
    # A visit-only dimension: sessions drive, with order, offset and the total row count.
    "entry_page": {
        "metrics": ["visitors", "visits"],
        "dimensions": ["entry_page"],
        "filters": [["matches_wildcard", "page", ["/docs/*"]]],
        "order_by": [["visits", "asc"]],
        "limit": 3,
        "offset": 6,
        "total_rows": True,
    },
    # The chart: time alone with a comparison, every bucket index of either period kept.
    "chart_compare": {
        "metrics": ["visitors"],
        "dimensions": ["time:day"],
        "comparison": "previous_period",
    },
    # A breakdown compared with the same dimension values a year earlier.
    "source_compare": {
        "metrics": ["visitors", "bounce_rate"],
        "dimensions": ["source"],
        "comparison": "year_over_year",
        "filters": [["not", ["is", "source", ["Direct / None"]]]],
    },
    # One page filter value over six months, by country: rollups per filter value (whole months
    # from rollup_filtered_monthly, the other days from rollup_filtered_daily, no weeks), raw
    # rows of the rest with the page filter reaching sessions through their events.
    "page_value_by_country": {
        "date_range": "6mo",
        "metrics": ["visitors", "visits"],
        "dimensions": ["country"],
        "filters": [["is", "page", ["/pricing"]]],
        "limit": 10,
    },
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_statements(name: str) -> None:
    sql, params = build_sql(q(**CASES[name]))
    sql_file, params_file = GOLDEN / f"{name}.sql", GOLDEN / f"{name}.json"
    if os.environ.get("GOLDEN_UPDATE"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        sql_file.write_text(sql + "\n")
        params_file.write_text(json.dumps(params, indent=1) + "\n")
    assert sql == sql_file.read_text().removesuffix("\n")
    assert params == json.loads(params_file.read_text())
    assert len(params) <= MAX_PARAMS


def test_units_are_local_days_as_one_json_parameter() -> None:
    _sql, params = build_sql(q(metrics=["visitors"], dimensions=["time:day"]))
    units = json.loads(str(params[1]))
    assert params[0] == "s1"
    assert [u[3] for u in units] == [f"2026-03-{d:02d}" for d in range(4, 11)]
    assert [u[2] for u in units] == list(range(7))  # bucket index per day
    assert units[0][0] == START and units[-1][1] == END
    hours = [(end - start) / 3_600_000 for start, end, *_ in units]
    # 2026-03-08 is the US spring-forward day: 23 hours long.
    assert hours == [24, 24, 24, 24, 23, 24, 24]


def test_weeks_keep_day_units_and_group_them() -> None:
    _sql, params = build_sql(q(metrics=["visitors"], dimensions=["time:week"]))
    units = json.loads(str(params[1]))
    assert [u[2] for u in units] == [0, 0, 0, 0, 0, 1, 1]


def test_where_clause_per_operator() -> None:
    def where(flt: list[Any]) -> str:
        # Placeholder numbers depend on the rest of the statement; the clause shape is the point.
        sql, _ = build_sql(q(metrics=["visitors"], filters=[flt]))
        raw = sql.split(" CROSS JOIN ", 1)[1]  # the first raw arm (CTEs before it have WHEREs)
        return re.sub(r"\?\d+", "?", raw.split(" WHERE ", 1)[1].split(" GROUP BY", 1)[0])

    col = "COALESCE(country, 'Unknown')"
    assert where(["is", "country", ["DE"]]).startswith(f"{col} IN (SELECT value FROM json_each(?))")
    assert where(["is_not", "country", ["DE"]]).startswith(f"{col} NOT IN (SELECT value FROM")
    assert where(["contains", "page", ["x"]]).startswith(
        "EXISTS (SELECT 1 FROM json_each(?) WHERE instr(pathname, value) > 0)"
    )
    assert where(["contains_not", "page", ["x"]]).startswith("NOT EXISTS (SELECT 1 FROM")
    assert where(["matches_wildcard", "page", ["/a*"]]).startswith(
        "EXISTS (SELECT 1 FROM json_each(?) WHERE pathname GLOB value)"
    )
    assert where(["contains", "page", ["X"], {"case_sensitive": False}]).startswith(
        "EXISTS (SELECT 1 FROM json_each(?) WHERE instr(lower(pathname), value) > 0)"
    )
    both = where(["or", [["is", "device", ["Mobile"]], ["not", ["is", "os", ["iOS"]]]]])
    assert both.startswith(
        "(COALESCE(device, 'Unknown') IN (SELECT value FROM json_each(?)) OR "
        "NOT (COALESCE(os, 'Unknown') IN (SELECT value FROM json_each(?))))"
    )
    visit_level = where(["is", "entry_page", ["/"]])
    assert visit_level.startswith(
        "session_id IN (SELECT id FROM sessions WHERE site_id = ? AND started_at >= ? AND "
        "started_at < ? AND entry_page IN (SELECT value FROM json_each(?)))"
    )


def test_wildcards_match_literally_except_the_star() -> None:
    assert glob_pattern("/docs/*") == "/docs/*"
    assert glob_pattern("/a?b[1]*") == "/a[?]b[[]1]*"


def test_hostile_values_only_ever_become_parameters() -> None:
    hostile = "x') OR 1=1; DROP TABLE events; --"
    query = q(
        metrics=["visitors"],
        dimensions=["event:props:plan"],
        filters=[["is_not", "page", [hostile]], ["contains", "event:props:plan", [hostile]]],
    )
    sql, params = build_sql(query)
    assert hostile not in sql and "plan" not in sql
    assert json.dumps([hostile]) in params
    assert '$."plan"' in params


def test_long_value_lists_cost_one_parameter() -> None:
    values = [f"/p{i}" for i in range(900)]
    _sql, params = build_sql(
        q(
            metrics=["visitors", "visits"],
            filters=[["is", "page", values]],
            comparison="previous_period",
        )
    )
    assert len(params) < 12
    assert json.dumps(values, separators=(",", ":")) in params


def test_many_filters_stay_within_d1s_parameter_limit() -> None:
    filters = [["is", "country", [f"C{i}"]] for i in range(12)]
    query = q(metrics=["visitors", "visits"], filters=filters, comparison="previous_period")
    _sql, params = build_sql(query)
    assert len(params) <= MAX_PARAMS
    with pytest.raises(QueryError) as info:
        q(metrics=["visitors"], filters=[*filters, ["is", "country", ["X"]]])
    assert info.value.code == "invalid_filters"


def test_subquery_bounds_widen_by_a_day() -> None:
    _sql, params = build_sql(q(metrics=["visits"], filters=[["is", "page", ["/", "/a"]]]))
    assert START in params and END + DAY_MS in params
    _sql, params = build_sql(q(metrics=["visitors"], filters=[["is", "exit_page", ["/"]]]))
    assert START - DAY_MS in params and END in params


def test_subqueries_of_rollup_queries_scan_only_the_raw_units() -> None:
    # Rollups answer the closed days: the raw part's filter subquery spans the units left.
    sql, params = build_sql(q(metrics=["visits"], dimensions=["country"],
                              filters=[["is", "page", ["/"]]]))
    # Each raw unit bounds its own range, so a raw day months before today adds one day's scan,
    # not the months between.
    raw = "(SELECT start_ms, end_ms FROM m_units WHERE i NOT IN (SELECT i FROM m_done))"
    assert (f"FROM {raw} AS u CROSS JOIN events AS e ON e.site_id = ?1 AND e.ts >= u.start_ms "
            f"AND e.ts < u.end_ms + {DAY_MS}") in sql
    assert START not in params and END + DAY_MS not in params


_EVENTS_RANGE = "SEARCH events USING PRIMARY KEY (site_id=? AND ts>? AND ts<?)"


@pytest.mark.parametrize(
    ("spec", "index"),
    [
        # The raw part (today) of a country-filtered breakdown reads the day's range of the
        # table, clustered by (site_id, ts) since migration 0016; sessions keep their expression
        # index (migration 0007).
        ({"metrics": ["visitors", "visits"], "dimensions": ["region"],
          "filters": [["is", "country", ["DE"]]]}, _EVENTS_RANGE),
        ({"metrics": ["visits"], "dimensions": ["source"],
          "filters": [["is", "country", ["DE"]]]}, "sessions_site_country_started"),
        # Visits filtered by a viewed page find their sessions in the page index alone.
        ({"metrics": ["visits", "bounce_rate"], "filters": [["is", "page", ["/"]]]},
         "COVERING INDEX events_path"),
        # Raw parts of rollup queries (today) read the clustered table's range: it holds every
        # column, so no tab needs a lookup per row.
        ({"metrics": ["visitors", "pageviews", "time_on_page", "scroll_depth"]}, _EVENTS_RANGE),
        *(({"metrics": ["visitors"], "dimensions": [d]}, _EVENTS_RANGE)
          for d in ("page", "channel", "country", "browser", "region", "os")),
        ({"metrics": ["visits", "bounce_rate", "visit_duration", "views_per_visit"]},
         "COVERING INDEX sessions_site_started"),
    ],
)
def test_the_statements_use_the_indexes_made_for_them(
    spec: dict[str, Any], index: str, tmp_path: Path
) -> None:
    import sqlite3

    conn = sqlite3.connect(tmp_path / "plan.sqlite")
    conn.executescript((Path(__file__).parent.parent / "schema.sql").read_text())
    sql, params = build_sql(q(**spec))
    plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    conn.close()
    assert index in plan, plan
