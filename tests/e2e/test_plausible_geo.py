"""Plausible's geo dimensions through the whole stack: events reach the collector in `wrangler
dev` with a location (the development collector's simulated geo, standing in for Cloudflare's
`request.cf` with its `regionCode`), and the Stats API answers `visit:region` with the ISO
3166-2 code the collector stored, `visit:region_name` / `visit:city` with names, in v2 and v1."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest

from .conftest import Stack, cli, localhost, wait_until

pytestmark = pytest.mark.e2e

SITE = "geo-codes-e2e.test"
BROWSER = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/156.0.0.0 Safari/537.36")
# (visitor address, simulated location as the X-941-Simulated-Geo header carries it)
VISITS = [
    ("198.51.100.41", "country=EE&region=Harjumaa&regionCode=37&city=Tallinn"),
    ("198.51.100.42", "country=DE&region=Berlin&regionCode=BE&city=Berlin"),
    ("198.51.100.43", "country=DE&region=Berlin&regionCode=BE&city=Berlin"),
]


@pytest.fixture(scope="module")
def token(stack: Stack) -> str:
    cli("sites", "add", SITE, "--name", "Geo codes", env=stack.env)
    for address, geo in VISITS:
        sent = httpx.post(f"{stack.collector_url}/api/event",
                          json={"n": "pageview", "u": f"https://{SITE}/", "d": SITE},
                          headers={"User-Agent": BROWSER, "X-Forwarded-For": address,
                                   "X-941-Simulated-Geo": geo})
        assert sent.status_code == 202, sent.text

    def stored() -> list[tuple[str, str]]:
        with sqlite3.connect(stack.db_path) as db:
            return db.execute("SELECT s.region_code, s.region FROM sessions s JOIN sites t "
                              "ON t.id = s.site_id WHERE t.domain = ? ORDER BY 1",
                              (SITE,)).fetchall()

    rows = wait_until(stored, lambda r: len(r) == len(VISITS), message="the visits in D1")
    assert rows == [("DE-BE", "Berlin"), ("DE-BE", "Berlin"), ("EE-37", "Harjumaa")]
    return cli("tokens", "create", "--site", SITE, "--name", "geo", env=stack.env)


def v2(stack: Stack, token: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{localhost(stack.site_url)}/admin/analytics/api/v2/query",
                      json={"site_id": SITE, "date_range": "7d", **body},
                      headers={"Authorization": f"Bearer {token}"})


def results(answer: httpx.Response) -> list[tuple[list[Any], list[Any]]]:
    assert answer.status_code == 200, answer.text
    return [(r["dimensions"], r["metrics"]) for r in answer.json()["results"]]


def test_v2_region_codes_and_names(stack: Stack, token: str) -> None:
    assert results(v2(stack, token, {"metrics": ["visitors"], "dimensions": ["visit:region"]})) \
        == [(["DE-BE"], [2]), (["EE-37"], [1])]
    assert results(v2(stack, token, {"metrics": ["visitors"],
                                     "dimensions": ["visit:region_name", "visit:city"]})) \
        == [(["Berlin", "Berlin"], [2]), (["Harjumaa", "Tallinn"], [1])]
    assert results(v2(stack, token, {"metrics": ["visitors"],
                                     "filters": [["is", "visit:region", ["EE-37"]]]})) \
        == [([], [1])]
    refused = v2(stack, token, {"metrics": ["visitors"],
                                "filters": [["is", "visit:city", [588409]]]})
    assert refused.status_code == 400 and "GeoNames" in refused.json()["error"]


def test_v1_breakdown_by_region(stack: Stack, token: str) -> None:
    answer = httpx.get(f"{localhost(stack.site_url)}/admin/analytics/api/v1/stats/breakdown",
                       params={"site_id": SITE, "period": "7d", "property": "visit:region"},
                       headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"] == [{"region": "DE-BE", "visitors": 2},
                                        {"region": "EE-37", "visitors": 1}]
