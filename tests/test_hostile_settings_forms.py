"""Property-based: hostile definitions are refused with a reason or stored harmlessly.

Goals, funnels and segments are what an owner types, and then every view reads them back. Each
example posts one of the three forms with hostile fields (lone surrogates sent as raw bytes,
control characters, bidi overrides, huge values, GLOB and JSON-path characters, formula
prefixes), which must answer below 500, and then opens the settings page, the overview, the goal
panel, the funnels view and the conversions export, which must still answer 200 whatever the
form stored before them: one odd definition never breaks a reader.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from auth_support import signed_in_client
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from seeding import seed
from test_hostile_input import RUN, assert_answered, query_string, short_text

from analytics_941 import Settings, setup_analytics

MOUNT = "/admin/analytics"
SETTINGS = f"{MOUNT}/settings/sites/example.com"
BASE = f"{MOUNT}/example.com"
# Characters each definition's checks or SQL give a meaning to.
_SPECIAL = ["/", "*", "**", "/*/", "[", "]", "?", "%", "_", "\\", '"', "'", "$.", "=", "+",
            "@", "-", ",", "goal:", "page:", "\x01", "\x1b[31m", "\u202e", "\ud800"]
piece = st.one_of(st.sampled_from(_SPECIAL), short_text, st.just("a" * 3000))
field = st.one_of(st.just(""), st.lists(piece, min_size=1, max_size=4).map("".join))
# Printable but meaningful somewhere (markup, SQL, GLOB, CSV, JSON): what checks let through.
odd = st.lists(st.sampled_from(["*", "%", "_", "'", '"', "=", "@", "+", "[x]", "?", "$.a", "<b>",
                                "&amp;", "é", "☕", "\\", ",", ";"]),
               min_size=1, max_size=5).map("".join)
page_like = st.one_of(st.sampled_from(["/", "/blog/*", "/docs/**"]),
                      st.builds(lambda p: "/" + p, st.one_of(odd, field)))
# Mostly a name checks accept, so the rest of the form is checked and stored too.
name = st.one_of(st.builds(lambda tail: "N " + tail, odd), field)

goal_form = st.fixed_dictionaries({}, optional={
    "page": page_like, "event": st.one_of(st.just("Signup"), odd, field),
    "prop": st.one_of(st.just("plan=pro"), st.builds(lambda k, v: f"{k}={v}", field, field),
                      field),
    "currency": st.one_of(st.sampled_from(["EUR", "usd", "XXXX"]), field),
    "name": name,
}).map(lambda form: list(form.items()))
funnel_form = st.builds(
    lambda name, steps: [("name", name), *(("step", s) for s in steps)],
    name,
    st.one_of(
        st.lists(st.one_of(page_like, page_like, st.just("goal:Signup")), min_size=2, max_size=8),
        st.lists(st.one_of(page_like, st.builds(lambda g: "goal:" + g, field), field),
                 max_size=10)),
)
segment_form = st.builds(
    lambda name, scope, filters: [("name", name), ("scope", scope), *(("f", f) for f in filters)],
    name, st.sampled_from(["site", "personal", "x"]),
    st.lists(st.one_of(st.builds(lambda op, dim, v: f"{op},{dim},{v}",
                                 st.sampled_from(["is", "is", "contains", "x"]),
                                 st.sampled_from(["page", "source", "country", "goal",
                                                  "props:plan", "y"]),
                                 st.one_of(odd, odd, field)), field), min_size=1, max_size=3),
)
form = st.one_of(st.tuples(st.just("goals"), goal_form),
                 st.tuples(st.just("funnels"), funnel_form),
                 st.tuples(st.just("segments"), segment_form))


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """A signed-in administrator over one seeded site, kept across examples: what one example
    stores, the next reads."""
    tmp = tmp_path_factory.mktemp("hostile-forms")
    db = seed(tmp / "d1.sqlite", today=datetime.now(ZoneInfo("Europe/Berlin")).date(),
              timezone="Europe/Berlin")
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp))
    client = signed_in_client(app, db)
    client.post(f"{SETTINGS}/goals", data={"event": "Signup", "name": "Signup"})
    return client


@RUN
@given(posted=form)
def test_hostile_definitions_never_break_a_reader(admin: TestClient,
                                                  posted: tuple[str, list[tuple[str, str]]]
                                                  ) -> None:
    section, fields = posted
    response = admin.post(f"{SETTINGS}/{section}", content=query_string(fields),
                          headers={"Content-Type": "application/x-www-form-urlencoded"},
                          follow_redirects=False)
    assert_answered(response)
    for url in (SETTINGS, f"{BASE}?period=7d", f"{BASE}/goals?period=7d",
                f"{BASE}/funnels?period=7d", f"{BASE}/export/conversions.csv?period=7d"):
        read = admin.get(url)
        assert read.status_code == 200, (section, fields, url, read.text[:300])
