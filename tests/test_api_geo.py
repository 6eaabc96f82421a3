"""Plausible's geo dimensions: ``visit:region`` answers and filters ISO 3166-2 codes (the
collector's ``region_code``, from Cloudflare's ``regionCode``), ``visit:region_name`` and
``visit:city_name`` names; ``visit:city`` answers names too (no GeoNames ids: docs/api.md), and a
GeoNames id in its filter is a 400 that says so instead of a silent 0."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

URL = "/admin/analytics/api/v2/query"
# Seeded visit -> (region name, ISO 3166-2 code, city); visit D keeps none (collected before
# migration 0030, or where Cloudflare knew no region).
GEO = {
    "A": ("Texas", "US-TX", "Austin"),
    "B": ("Harjumaa", "EE-37", "Tallinn"),
    "C": ("Berlin", "DE-BE", "Berlin"),
    "E": ("California", "US-CA", "San Francisco"),
}


def post(client: TestClient, body: dict[str, Any]) -> httpx.Response:
    return client.post(URL, json={"site_id": "example.com", "date_range": "7d", **body})


def rows(client: TestClient, body: dict[str, Any]) -> list[tuple[list[Any], list[Any]]]:
    response = post(client, body)
    assert response.status_code == 200, response.text
    return [(r["dimensions"], r["metrics"]) for r in response.json()["results"]]


@pytest.fixture
def located(db: Path) -> Path:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE events SET country = 'EE' WHERE session_id = 'B'")
        conn.execute("UPDATE sessions SET country = 'EE' WHERE id = 'B'")
        for visit, (region, code, city) in GEO.items():
            conn.execute("UPDATE events SET region = ?, city = ? WHERE session_id = ?",
                         (region, city, visit))
            # The code is the visit's only (migration 0030).
            conn.execute("UPDATE sessions SET region = ?, region_code = ?, city = ? "
                         "WHERE id = ?", (region, code, city, visit))
    conn.close()
    return db


def test_region_is_the_iso_code_and_region_name_the_name(client: TestClient,
                                                         located: Path) -> None:
    by_code = rows(client, {"metrics": ["visitors"], "dimensions": ["visit:region"],
                            "order_by": [["visit:region", "asc"]]})
    assert by_code == [(["DE-BE"], [1]), (["EE-37"], [1]), (["US-CA"], [1]), (["US-TX"], [1]),
                       (["Unknown"], [1])]
    by_name = rows(client, {"metrics": ["visitors"], "dimensions": ["visit:region_name"],
                            "order_by": [["visit:region_name", "asc"]]})
    assert [d for d, _ in by_name] == [["Berlin"], ["California"], ["Harjumaa"], ["Texas"],
                                       ["Unknown"]]
    # Filters as Plausible's docs write them: the code for visit:region, the name otherwise.
    assert rows(client, {"metrics": ["visitors", "pageviews"],
                         "filters": [["is", "visit:region", ["EE-37"]]]}) == [([], [1, 1])]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["is", "visit:region", ["US-TX", "US-CA"]]]}) == [([], [2])]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["is", "visit:region_name", ["Harjumaa"]]]}) == [([], [1])]
    # A name is no code: nothing matches, as in Plausible.
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["is", "visit:region", ["Harjumaa"]]]}) == [([], [0])]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["matches", "visit:region", ["^US-"]]]}) == [([], [2])]
    # The echo keeps the client's names.
    answer = post(client, {"metrics": ["visitors"], "dimensions": ["visit:region"]}).json()
    assert answer["query"]["dimensions"] == ["visit:region"]


def test_docs_country_and_city_example(client: TestClient, located: Path) -> None:
    """Plausible's docs' first example, sent as written."""
    found = rows(client, {
        "metrics": ["visitors", "pageviews", "bounce_rate"],
        "filters": [["is_not", "visit:country_name", [""]]],
        "dimensions": ["visit:country_name", "visit:city_name"],
    })
    assert (["Estonia", "Tallinn"], [1, 1, 100]) in found
    assert (["Germany", "Berlin"], [1, 1, 100]) in found
    assert {tuple(d) for d, _ in found} >= {("United States", "Austin"),
                                            ("United States", "San Francisco")}


def test_city_answers_names_and_refuses_geonames_ids(client: TestClient, located: Path) -> None:
    by_city = rows(client, {"metrics": ["visitors"], "dimensions": ["visit:city"],
                            "filters": [["is", "visit:country", ["EE", "DE"]]],
                            "order_by": [["visit:city", "asc"]]})
    assert by_city == [(["Berlin"], [1]), (["Tallinn"], [1])]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["is", "visit:city", ["Tallinn"]]]}) == [([], [1])]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["is", "visit:city_name", ["Tallinn"]]]}) == [([], [1])]
    # Plausible's docs give Tallinn's GeoNames id, 588409: refused with the reason, never 0.
    for value in ("588409", 588409):
        refused = post(client, {"metrics": ["visitors"],
                                "filters": [["is", "visit:city", [value]]]})
        assert refused.status_code == 400, refused.text
        assert "not GeoNames ids" in refused.json()["error"]
