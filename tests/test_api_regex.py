"""Regular expressions in filters (``matches`` / ``matches_not``, RE2 syntax, as Plausible's):
resolved to the values they match before planning, so rolled-up and raw answers agree; wildcards
keep their own operator names; bad or pathological patterns never give a wrong number or a 500."""

from __future__ import annotations

import shutil
import sqlite3
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import NOW as SEEDED_NOW
from conftest import TZ as SEEDED_TZ
from fastapi.testclient import TestClient

from analytics_941 import SqliteStore, parse_query, run_query
from analytics_941.funnel_report import run_funnel
from analytics_941.funnels import check_steps
from analytics_941.journey_report import run_journey
from analytics_941.resolve import MAX_SCANNED_VALUES, resolve, value_statements
from analytics_941.rollups.jobs import refresh_rollups
from analytics_941.sql.plan import plan_query
from bench.datagen import SITE_ID, TIMEZONE, generate

URL = "/admin/analytics/api/v2/query"
TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


def post(client: TestClient, body: dict[str, Any]) -> httpx.Response:
    return client.post(URL, json={"site_id": "example.com", "date_range": "7d", **body})


def visitors(client: TestClient, *filters: Any) -> int:
    response = post(client, {"metrics": ["visitors"], "filters": list(filters)})
    assert response.status_code == 200, response.text
    return int(response.json()["results"][0]["metrics"][0])


# Seeded (tests/seeding.py), last 7 days: A views /, /pricing; B /; C the hostile blog page;
# D /; E /, /pricing, /. Five visitors.
@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (["matches", "event:page", ["^/pricing$"]], 2),
        (["matches", "event:page", [r"^/\w+$"]], 2),
        (["matches", "event:page", ["^/$"]], 4),
        (["matches", "event:page", ["^/PRICING$"]], 0),
        (["matches", "event:page", ["^/PRICING$"], {"case_sensitive": False}], 2),
        (["matches", "event:page", ["^/blog/", "^/pricing"]], 3),  # any pattern
        (["matches", "event:page", ["script"]], 1),  # unanchored: found anywhere
        (["matches_not", "event:page", ["^/$"]], 3),  # visits that viewed another page
        (["not", ["matches", "event:page", ["^/pricing$"]]], 5),  # events on other pages
        (["matches", "visit:source", ["^Goo"]], 3),
        (["matches_not", "visit:source", ["^Goo"]], 2),
        (["matches_wildcard", "event:page", ["/pri*"]], 2),
        (["matches_wildcard", "event:page", ["/blog/*"]], 1),
        (["matches_wildcard_not", "event:page", ["/blog/*"]], 4),
        (["has_done", ["matches", "event:page", ["^/pric"]]], 2),
    ],
)
def test_regex_and_wildcard_filters_count_exactly(
    client: TestClient, flt: list[Any], expected: int
) -> None:
    assert visitors(client, flt) == expected


def test_a_regex_breakdown_and_the_query_echo(client: TestClient) -> None:
    body = post(client, {
        "metrics": ["visitors", "pageviews"], "dimensions": ["event:page"],
        "filters": [["matches", "event:page", ["^/(pricing)?$"]]],
    }).json()
    assert [(r["dimensions"], r["metrics"]) for r in body["results"]] == [
        (["/"], [4, 5]), (["/pricing"], [2, 2])
    ]
    # The echo keeps the client's pattern and names, not the values it resolved to.
    assert body["query"]["filters"] == [["matches", "event:page", ["^/(pricing)?$"]]]


@pytest.mark.parametrize(
    "pattern", [r"(a)\1", "(?=x)", "[", "a{5000}", "(?<!x)y"]
)
def test_a_pattern_re2_refuses_is_a_400_naming_it(client: TestClient, pattern: str) -> None:
    response = post(client, {"metrics": ["visitors"],
                             "filters": [["matches", "event:page", [pattern]]]})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "invalid_filters"
    assert "RE2" in body["message"] and body["message"].startswith("filters: 0:")


def test_a_pattern_that_backtracks_for_ever_elsewhere_answers_at_once(
    client: TestClient, db: Path
) -> None:
    # (a+)+$ against "aaaa…b" takes exponential time in a backtracking engine (Python's re
    # needs hours for 40 a's); RE2 is linear.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE events SET pathname = ? WHERE id = 'e2-0'", ("/" + "a" * 5000 + "b",))
    conn.close()
    started = time.perf_counter()
    for pattern in [r"^/(a+)+$", r"^/(a|aa)+$", r"^/(a*)*b$", r"(x+x+)+y"]:
        visitors(client, ["matches", "event:page", [pattern]])
    assert time.perf_counter() - started < 5
    assert visitors(client, ["matches", "event:page", [r"^/(a*)*b$"]]) == 1
    assert visitors(client, ["matches", "event:page", [r"^/(a+)+$"]]) == 0


def test_too_many_distinct_values_is_refused_not_guessed(client: TestClient, db: Path) -> None:
    with sqlite3.connect(db) as conn:
        site, ts, visitor, session = conn.execute(
            "SELECT site_id, ts, visitor_id, session_id FROM events WHERE id = 'e4-0'").fetchone()
        conn.executemany(
            "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
            "pathname) VALUES (?, ?, ?, 'pageview', ?, ?, 'example.com', ?)",
            [(f"x{n}", site, ts, visitor, session, f"/p/{n}")
             for n in range(MAX_SCANNED_VALUES + 1)],
        )
    conn.close()
    response = post(client, {"metrics": ["visitors"],
                             "filters": [["matches", "event:page", ["^/p/1$"]]]})
    assert response.status_code == 400, response.text
    assert "too many" in response.json()["message"]
    # Other operators still answer.
    assert visitors(client, ["matches_wildcard", "event:page", ["/p/1"]]) == 1


# Rolled up and raw: the same numbers, and the rolled-up file answers from its rollups.
@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("regex") / "raw.sqlite"
    generate(path, events=4000, days=40, today=TODAY, rollups=False)
    return path


def query(**spec: Any):  # type: ignore[no-untyped-def]
    return parse_query({"site_id": SITE_ID, "date_range": "30d", **spec},
                       timezone=TIMEZONE, now=NOW)


SPECS: list[dict[str, Any]] = [
    {"metrics": ["visitors", "pageviews"], "dimensions": ["event:page"],
     "filters": [["matches", "event:page", [r"^/docs/[0-9a-f]{6}-\d*[37]$"]]]},
    {"metrics": ["visitors", "pageviews"], "dimensions": ["event:page"],
     "filters": [["matches_not", "event:page", ["^/(blog|docs|guides)/"]]], "limit": 50},
    {"metrics": ["visitors", "visits", "bounce_rate"], "dimensions": ["visit:device"],
     "filters": [["matches", "visit:device", ["^(Mobile|Tablet)$"]]]},
    {"metrics": ["visitors", "visits"], "dimensions": ["visit:os"],
     "filters": [["matches", "visit:os", ["^(Mac|iOS)$"]]]},
    {"metrics": ["visitors", "pageviews"], "filters": [["matches", "event:page", ["^/$"]]]},
    {"metrics": ["visitors", "visits"], "dimensions": ["visit:source"],
     "filters": [["matches", "visit:source", ["(?i)^(google|bing)$"]]]},
    # Plausible's values: one stored value each, so the rollups per filter value still answer.
    {"metrics": ["visitors", "visits"], "filters": [["is", "visit:device", ["Mobile"]]]},
    {"metrics": ["visitors", "pageviews"], "dimensions": ["event:page"], "limit": 20,
     "filters": [["is", "visit:country_name", ["Germany"]]]},
]


async def test_rolled_up_and_raw_regex_answers_agree(generated: Path, tmp_path: Path) -> None:
    raw, rolled = tmp_path / "raw.sqlite", tmp_path / "rolled.sqlite"
    shutil.copy(generated, raw)
    shutil.copy(generated, rolled)
    store = SqliteStore(path=rolled)
    await refresh_rollups(store, max_days=64, now_ms=NOW_MS)
    for spec in SPECS:
        q = query(**spec)
        statements = value_statements(q)
        rows = await store.batch([st for _, st in statements])
        ready = resolve(q, {dim: list(r) for (dim, _), r in zip(statements, rows, strict=True)})
        assert plan_query(ready).rollup_dim is not None, spec
        assert plan_query(q.model_copy(update={"filters": ()})).rollup_dim is not None
    expected = [(await run_query(SqliteStore(path=raw), query(**s)))["results"] for s in SPECS]
    assert all(expected), "every spec matches something"
    got = [(await run_query(store, query(**s)))["results"] for s in SPECS]
    assert got == expected
    # Without the raw rows of the rolled-up days (a retention purge), the values are still found
    # (in the rollups) and the numbers stay the same.
    with sqlite3.connect(rolled) as conn:
        start, end = conn.execute("SELECT MIN(start_ms), MAX(end_ms) FROM rollup_days").fetchone()
        conn.execute("DELETE FROM events WHERE ts >= ? AND ts < ?", (start, end))
        conn.execute("DELETE FROM sessions WHERE started_at >= ? AND started_at < ?", (start, end))
    conn.close()
    assert [(await run_query(store, query(**s)))["results"] for s in SPECS] == expected


async def test_funnels_and_journeys_resolve_regexes_too(store: SqliteStore) -> None:
    """Statements written outside the runner (funnels, journeys) resolve the same way."""
    def seeded(flt: list[Any]):  # type: ignore[no-untyped-def]
        return parse_query({"site_id": "s1", "date_range": "7d", "metrics": ["visitors"],
                            "filters": [flt]}, timezone=SEEDED_TZ, now=SEEDED_NOW)

    regex = seeded(["matches", "event:page", ["^/pric"]])
    plain = seeded(["is", "event:page", ["/pricing"]])
    steps = check_steps(["/", "/pricing"])
    funnel = await run_funnel(store, regex, steps, goals=())
    assert funnel["results"] == (await run_funnel(store, plain, steps, goals=()))["results"]
    assert [row["visitors"] for row in funnel["results"]] == [2, 2]  # A and E
    journey = await run_journey(store, regex, "/")
    assert journey == await run_journey(store, plain, "/")
    assert journey.went_to
