"""Property-based: hostile input to the conversion views never makes them fail.

The Stats API and the overview are fuzzed in test_hostile_input.py; this file sends the same
hostile strings (lone surrogates, control characters, huge values, far dates, odd shapes) to
what came later: ``POST /api/v2/funnel`` (steps, a saved funnel's name, filters, periods) and
the query parameters of the goal panel, funnels, journeys, properties, ecommerce, errors,
clicks, performance and users pages. Every answer must be a 200 or a 4xx with a reason, never a
5xx, over a site that has goals (page, event with a prop, revenue) and a saved funnel.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from auth_support import signed_in_client
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st
from seeding import seed
from test_hostile_input import (
    RUN,
    assert_answered,
    date_range,
    filters,
    hostile_text,
    json_junk,
    query_params,
    query_string,
    short_text,
)

from analytics_941 import Settings, SqliteStore, setup_analytics
from analytics_941.funnels import add_funnel
from analytics_941.goals import add_goal

MOUNT = "/admin/analytics"
BASE = f"{MOUNT}/example.com"


@pytest.fixture(scope="module")
def conversions(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """A signed-in client over a seeded site with goals of every kind and a saved funnel."""
    tmp = tmp_path_factory.mktemp("hostile-conversions")
    db = seed(tmp / "d1.sqlite", today=datetime.now(ZoneInfo("Europe/Berlin")).date(),
              timezone="Europe/Berlin")
    store = SqliteStore(path=db)

    async def setup() -> None:
        await add_goal(store, site_id="s1", page="/blog/*", name="Blog")
        await add_goal(store, site_id="s1", event="Signup", prop=("plan", "pro"), name="Pro")
        await add_goal(store, site_id="s1", event="Purchase", currency="EUR", name="Buy")
        await add_funnel(store, site_id="s1", name="Through",
                         steps=[{"page": "/"}, {"page": "/blog/**"}, {"goal": "Buy"}])

    asyncio.run(setup())
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp))
    return signed_in_client(app, db)


# A step: mostly of the right shape, so the hostile value reaches the pattern and goal checks.
step = st.one_of(
    st.builds(lambda v: {"page": v}, st.one_of(st.sampled_from(["/", "/blog/*", "/**"]),
                                               hostile_text)),
    st.builds(lambda v: {"goal": v}, st.one_of(st.sampled_from(["Buy", "Pro", "Blog"]),
                                               hostile_text)),
    st.dictionaries(hostile_text, json_junk, max_size=2),
    json_junk,
)
funnel_body = st.fixed_dictionaries(
    {"site_id": st.one_of(st.just("example.com"), st.just("example.com"), hostile_text),
     "date_range": date_range},
    optional={
        "steps": st.one_of(st.lists(step, max_size=10), json_junk),
        "funnel": st.one_of(st.just("Through"), hostile_text, json_junk),
        "filters": filters,
        "include": st.one_of(st.just({"comparisons": {"mode": "previous_period"}}), json_junk),
        "metrics": json_junk,
    },
)


@RUN
@given(body=funnel_body, raw=st.booleans())
# A site named by a lone surrogate's raw bytes (not an escape) once reached the site lookup: 500.
@example(body={"site_id": "\ud800", "date_range": "7d"}, raw=True)
def test_funnel_api_never_fails(conversions: TestClient, body: dict[str, Any],
                                raw: bool) -> None:
    content = json.dumps(body).encode()
    if raw:  # its escapes written out: invalid UTF-8 on the wire
        content = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
    assert_answered(conversions.post(f"{MOUNT}/api/v2/funnel", content=content))


# Each view's own parameter, plausible or hostile, beside the dashboard's period and filters.
view_param = st.one_of(
    st.tuples(st.just("/journeys"), st.just("page"),
              st.one_of(st.sampled_from(["/", "/blog/a"]), short_text, st.just("/" * 3000))),
    st.tuples(st.just("/funnels"), st.just("funnel"), st.one_of(st.just("Through"), short_text)),
    st.tuples(st.just("/properties"), st.just("key"),
              st.one_of(st.sampled_from(["plan", "product"]), short_text)),
    st.tuples(st.just("/errors"), st.just("error"), short_text),
    st.tuples(st.just("/clicks"), st.just("by"), st.one_of(st.sampled_from(["page", "x"]),
                                                           short_text)),
    st.tuples(st.sampled_from(["/goals", "/ecommerce", "/performance", "/users", "/realtime"]),
              st.sampled_from(["f", "goal", "q"]), short_text),
)


@RUN
@given(view=view_param, pairs=query_params, htmx=st.booleans())
def test_conversion_views_never_fail(conversions: TestClient, view: tuple[str, str, str],
                                     pairs: list[tuple[str, str]], htmx: bool) -> None:
    path, key, value = view
    headers = {"HX-Request": "true"} if htmx else {}
    url = f"{BASE}{path}?{query_string([(key, value), *pairs])}"
    assert_answered(conversions.get(url, headers=headers))
