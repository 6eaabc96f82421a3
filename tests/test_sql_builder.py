"""Golden tests: the exact SQL text and parameters the builder makes for representative queries.

If one of these fails after an intended change, read the new SQL, then update the golden text.
"""

from __future__ import annotations

import json

import pytest
from conftest import NOW, TZ

from analytics_941 import QueryError, build_sql, parse_query

# 2026-03-04 00:00 and 2026-03-11 00:00 in New York (EST and EDT), as UTC ms.
START, END = 1772600400000, 1773201600000


def q(**spec: object):  # type: ignore[no-untyped-def]
    return parse_query({"site_id": "s1", "date_range": "7d", **spec}, timezone=TZ, now=NOW)


def test_totals_join_event_and_session_aggregates() -> None:
    sql, params = build_sql(
        q(metrics=["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"])
    )
    assert sql == (
        "SELECT e.visitors AS visitors, COALESCE(s.visits, 0) AS visits, "
        "e.pageviews AS pageviews, COALESCE(s.bounce_rate, 0) AS bounce_rate, "
        "COALESCE(s.visit_duration, 0) AS visit_duration\n"
        "FROM (SELECT COUNT(DISTINCT visitor_id) AS visitors, "
        "COUNT(CASE WHEN name = 'pageview' THEN 1 END) AS pageviews "
        "FROM events WHERE site_id = ? AND ts >= ? AND ts < ?) AS e\n"
        "CROSS JOIN (SELECT COUNT(*) AS visits, "
        "COALESCE(CAST(ROUND(100.0 * AVG(is_bounce)) AS INTEGER), 0) AS bounce_rate, "
        "COALESCE(CAST(ROUND(AVG(duration_ms) / 1000.0) AS INTEGER), 0) AS visit_duration "
        "FROM sessions WHERE site_id = ? AND started_at >= ? AND started_at < ?) AS s"
    )
    assert params == ["s1", START, END, "s1", START, END]


def test_time_day_passes_local_day_buckets_as_one_json_parameter() -> None:
    sql, params = build_sql(q(metrics=["visitors", "pageviews"], dimensions=["time:day"]))
    assert sql == (
        "WITH buckets AS (SELECT json_extract(value, '$[0]') AS start_ms, "
        "json_extract(value, '$[1]') AS end_ms, json_extract(value, '$[2]') AS label "
        "FROM json_each(?))\n"
        "SELECT e.d0 AS d0, e.visitors AS visitors, e.pageviews AS pageviews\n"
        "FROM (SELECT buckets.label AS d0, COUNT(DISTINCT visitor_id) AS visitors, "
        "COUNT(CASE WHEN name = 'pageview' THEN 1 END) AS pageviews "
        "FROM events JOIN buckets ON ts >= buckets.start_ms AND ts < buckets.end_ms "
        "WHERE site_id = ? AND ts >= ? AND ts < ? GROUP BY d0) AS e\n"
        "ORDER BY d0 ASC"
    )
    buckets = json.loads(str(params[0]))
    assert params[1:] == ["s1", START, END]
    assert [b[2] for b in buckets] == [f"2026-03-{d:02d}" for d in range(4, 11)]
    assert buckets[0][0] == START and buckets[-1][1] == END
    hours = [(end - start) / 3_600_000 for start, end, _ in buckets]
    # 2026-03-08 is the US spring-forward day: 23 hours long.
    assert hours == [24, 24, 24, 24, 23, 24, 24]


def test_dimension_with_both_tables_and_filters() -> None:
    sql, params = build_sql(
        q(
            metrics=["visitors", "visits", "bounce_rate"],
            dimensions=["page"],
            filters=[["is", "source", ["Google", "Direct / None"]], ["contains", "page", ["/"]]],
            limit=5,
        )
    )
    assert sql == (
        "SELECT e.d0 AS d0, e.visitors AS visitors, COALESCE(s.visits, 0) AS visits, "
        "COALESCE(s.bounce_rate, 0) AS bounce_rate\n"
        "FROM (SELECT pathname AS d0, COUNT(DISTINCT visitor_id) AS visitors FROM events "
        "WHERE site_id = ? AND ts >= ? AND ts < ? AND COALESCE(source, 'Direct / None') IN (?, ?) "
        "AND (instr(pathname, ?) > 0) GROUP BY d0) AS e\n"
        "LEFT JOIN (SELECT entry_page AS d0, COUNT(*) AS visits, "
        "COALESCE(CAST(ROUND(100.0 * AVG(is_bounce)) AS INTEGER), 0) AS bounce_rate FROM sessions "
        "WHERE site_id = ? AND started_at >= ? AND started_at < ? "
        "AND COALESCE(source, 'Direct / None') IN (?, ?) AND (instr(entry_page, ?) > 0) "
        "GROUP BY d0) AS s ON s.d0 = e.d0\n"
        "ORDER BY visitors DESC, d0 ASC\n"
        "LIMIT 5"
    )
    filter_params = ["Google", "Direct / None", "/"]
    assert params == ["s1", START, END, *filter_params, "s1", START, END, *filter_params]


def test_session_only_query_uses_sessions_alone_and_explicit_order() -> None:
    sql, params = build_sql(
        q(metrics=["visits"], dimensions=["device"], order_by=[["device", "asc"]], limit=3)
    )
    assert sql == (
        "SELECT s.d0 AS d0, s.visits AS visits\n"
        "FROM (SELECT COALESCE(device, 'Unknown') AS d0, COUNT(*) AS visits FROM sessions "
        "WHERE site_id = ? AND started_at >= ? AND started_at < ? GROUP BY d0) AS s\n"
        "ORDER BY d0 ASC\n"
        "LIMIT 3"
    )
    assert params == ["s1", START, END]


def test_hostile_values_only_ever_become_parameters() -> None:
    hostile = "x') OR 1=1; DROP TABLE events; --"
    sql, params = build_sql(q(metrics=["visitors"], filters=[["is_not", "page", [hostile]]]))
    assert hostile not in sql
    assert hostile in params


def test_too_many_parameters_for_d1_is_a_query_error() -> None:
    values = [f"/p{i}" for i in range(20)]
    filters = [["is", dim, values] for dim in ("page", "source")]
    # 40 filter values appear in both subqueries: 80 + 6 = 86 parameters, still fine...
    build_sql(q(metrics=["visitors", "visits"], filters=filters))
    # ...but the per-query cap on filter values keeps D1's 100-parameter limit out of reach.
    with pytest.raises(QueryError) as info:
        q(metrics=["visitors"], filters=[*filters, ["is", "country", ["DE"]]])
    assert info.value.code == "invalid_filters"
