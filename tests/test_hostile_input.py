"""Property-based: hostile input anywhere a caller can put it never makes the dashboard fail.

Strategies of hostile strings (lone surrogates, control characters, NUL, right-to-left marks,
huge values), far dates and nested or odd filter shapes go to the Stats API v2 (a POST body), the
older GET API, the dashboard's query parameters (whole pages, partials, details views, the CSV
export) and a public share link. Every answer must be a 200 or a 4xx with a reason (JSON
``{code, message}``, or an HTML page), never a 5xx. Runs derandomized, so it is repeatable.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest
from auth_support import signed_in_client
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from seeding import seed

from analytics_941 import Settings, SqliteStore, setup_analytics
from analytics_941.auth.share_links import create_share_link
from analytics_941.periods import PRESETS
from analytics_941.query import DIMENSIONS, METRICS

MOUNT = "/admin/analytics"
RUN = settings(max_examples=200, derandomize=True, deadline=None, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- strategies -------------------------------------------------------------------------------

_NASTY = ["\ud800", "\udfff", "x\ud800y", "\x00", "\u202e", "\u200f", "\ufeff", "\ufffd",
          "\x1b[31m", "\r\n", "'; DROP TABLE events; --", "%", "_", "*", "\\", "\"", "<script>",
          "../../etc/passwd", "\U0001f600", "\ud7ff"]
short_text = st.one_of(
    st.sampled_from(_NASTY),
    st.text(alphabet=st.characters(codec=None, categories=["Cs", "Cc", "Cf", "Zs", "Lo", "Ll"]),
            max_size=30),
    st.text(max_size=10).map(lambda s: s * 30),
)
# In a body: also values past every limit (a URL has its own, shorter, limit: see param_value).
hostile_text = st.one_of(
    short_text,
    st.builds(lambda s: s * 25_000, st.sampled_from(["a", "\u202e"])),
)
far_date = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.sampled_from(["0001-01-01", "0001-01-02", "9999-12-30", "9999-12-31", "10000-01-01",
                     "0000-00-00", "-0001-01-01", "2026-02-30", "2026-13-01", "", "1970-01-01"]),
    short_text,
)
date_range = st.one_of(
    st.sampled_from([*PRESETS, "custom", "7d "]),
    st.lists(far_date, min_size=2, max_size=2),
    st.lists(far_date, max_size=3),
    hostile_text,
)
dimension = st.one_of(st.sampled_from([*DIMENSIONS, "time", "time:day", "time:hour",
                                       "visit:country", "event:props:k", "event:goal"]),
                      hostile_text)
leaf = st.builds(
    lambda op, dim, values, extra: [op, dim, values, *extra],
    st.sampled_from(["is", "is_not", "contains", "contains_not", "matches", "matches_not",
                     "matches_wildcard", "nope"]),
    dimension,
    st.one_of(st.lists(hostile_text, max_size=4), hostile_text, st.integers(), st.none()),
    st.one_of(st.just([]), st.just([{"case_sensitive": False}]), st.lists(hostile_text,
                                                                          max_size=2)),
)
json_junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile_text),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(hostile_text, inner, max_size=3)),
    max_leaves=12,
)
filter_tree = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.builds(lambda op, kids: [op, kids], st.sampled_from(["and", "or"]),
                  st.lists(inner, max_size=4)),
        st.builds(lambda kid: ["not", kid], inner),
    ),
    max_leaves=15,
)
filters = st.one_of(st.lists(filter_tree, max_size=14), json_junk)
# Mostly well-formed, so hostile parts reach past the first check that would refuse them.
api_body = st.fixed_dictionaries(
    {"site_id": st.one_of(st.just("example.com"), st.just("example.com"), hostile_text),
     "metrics": st.one_of(st.just(["visitors"]), st.just(["visitors", "events"]),
                          st.lists(st.sampled_from([*METRICS, "bogus"]), max_size=4),
                          json_junk),
     "date_range": date_range},
    optional={
        "dimensions": st.one_of(st.lists(dimension, max_size=4), json_junk),
        "filters": filters,
        "order_by": st.one_of(st.lists(st.lists(st.one_of(dimension, st.sampled_from(
            ["visitors", "asc", "desc"])), max_size=3), max_size=3), json_junk),
        "pagination": st.one_of(st.fixed_dictionaries(
            {}, optional={"limit": json_junk, "offset": json_junk}), json_junk),
        "include": st.one_of(st.fixed_dictionaries({}, optional={
            "comparisons": st.one_of(
                st.fixed_dictionaries({"mode": st.sampled_from(
                    ["previous_period", "year_over_year", "custom", "x"])},
                    optional={"date_range": st.lists(far_date, max_size=3)}),
                json_junk),
            "time_labels": json_junk, "total_rows": json_junk}), json_junk),
    },
)
param_key = st.sampled_from(["f", "f", "f", "pages", "sources", "locations", "devices", "q",
                             "limit", "site", "compare", "interval"])
# The dashboard's own parameters, each either plausible or hostile, in every combination.
url_date = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.sampled_from(["0001-01-01", "0001-01-02", "9999-12-30", "9999-12-31", "10000-01-01"]),
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-01-01"]),
    far_date.filter(lambda d: len(d) < 100),
)


def mostly(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``valid`` three times in four, else a hostile string: hostile parts must get past the
    checks of their neighbours to reach deep code."""
    return st.one_of(valid, valid, valid, short_text)


dashboard_state = st.fixed_dictionaries({
    "period": st.one_of(st.just("custom"), st.just("custom"), st.just("custom"),
                        st.sampled_from(PRESETS), short_text),
    "from": url_date,
    "to": url_date,
}, optional={
    "compare": mostly(st.sampled_from(["previous_period", "year_over_year", "off"])),
    "metric": mostly(st.sampled_from(["visitors", "bounce_rate"])),
    "interval": mostly(st.sampled_from(["hour", "day", "week", "month"])),
}).map(lambda state: list(state.items()))
param_value = st.one_of(
    short_text, far_date.filter(lambda d: len(d) < 100), st.just("a" * 2_500),
    st.builds(lambda op, dim, value: f"{op},{dim},{value}",
              st.sampled_from(["is", "contains", "matches_not", "x"]),
              dimension.filter(lambda d: len(d) < 100), short_text),
    st.sampled_from([*PRESETS, "custom", "previous_period", "year_over_year", "hour", "month"]),
)
query_params = st.builds(lambda state, more: [*state, *more], dashboard_state,
                         st.lists(st.tuples(param_key, param_value), max_size=3))


def query_string(pairs: list[tuple[str, str]]) -> str:
    """Percent-encode as an attacker would: a lone surrogate becomes its (invalid) UTF-8 bytes."""
    return "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in pairs)


# --- the dashboard under test -----------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, str]:
    """One signed-in client over one seeded database (with a broken row), and a share link."""
    tmp = tmp_path_factory.mktemp("hostile")
    db = seed(tmp / "d1.sqlite", today=datetime.now(ZoneInfo("Europe/Berlin")).date(),
              timezone="Europe/Berlin")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE events SET name = CAST(X'78EDA08079' AS TEXT) WHERE id = 'e0-2'")
    conn.close()
    link = asyncio.run(create_share_link(SqliteStore(path=db), site_id="s1", name="public",
                                         password=None, created_by=None))
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp))
    return signed_in_client(app, db), link.id


def assert_answered(response: httpx.Response) -> None:
    """A 200, or a 4xx saying why (JSON with code and message, or an HTML page)."""
    assert response.status_code < 500, (response.request.url, response.text[:500])
    if response.status_code >= 400:
        if response.headers.get("content-type", "").startswith("application/json"):
            assert {"code", "message"} <= set(response.json())
        else:
            assert "<html" in response.text.lower()
    assert "Content-Security-Policy" in response.headers


@RUN
@given(body=api_body, raw=st.booleans())
@example(body={"site_id": "\ud800", "metrics": ["visitors"], "date_range": "7d"}, raw=True)
def test_stats_api_v2_never_fails(hostile: tuple[TestClient, str], body: dict[str, Any],
                                  raw: bool) -> None:
    client, _slug = hostile
    content = json.dumps(body).encode()
    if raw:  # the same body with its escapes written out: invalid UTF-8 on the wire
        content = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
    assert_answered(client.post(f"{MOUNT}/api/v2/query", content=content))


@RUN
@given(pairs=query_params)
def test_stats_api_v1_query_string_never_fails(hostile: tuple[TestClient, str],
                                               pairs: list[tuple[str, str]]) -> None:
    client, _slug = hostile
    extra = [("site", "example.com"), ("metrics", "visitors"), ("filters", json.dumps(
        [["is", "page", [value]] for _key, value in pairs[:3]]))]
    assert_answered(client.get(f"{MOUNT}/api/stats?{query_string([*extra, *pairs])}"))


@RUN
@given(path=st.sampled_from(["", "/panel/pages", "/panel/sources", "/details/pages",
                             "/details/events", "/export"]),
       pairs=query_params, htmx=st.booleans())
def test_dashboard_query_parameters_never_fail(hostile: tuple[TestClient, str], path: str,
                                               pairs: list[tuple[str, str]], htmx: bool) -> None:
    client, _slug = hostile
    headers = {"HX-Request": "true"} if htmx else {}
    url = f"{MOUNT}/example.com{path}?{query_string(pairs)}"
    assert_answered(client.get(url, headers=headers))


@RUN
@given(path=st.sampled_from(["", "/panel/pages", "/panel/locations", "/details/sources"]),
       pairs=query_params)
def test_share_pages_never_fail(hostile: tuple[TestClient, str], path: str,
                                pairs: list[tuple[str, str]]) -> None:
    client, slug = hostile
    anonymous = TestClient(client.app)
    assert_answered(anonymous.get(f"{MOUNT}/share/{slug}{path}?{query_string(pairs)}"))
