"""Stats API refusals read as sentences naming the field and what it takes, never the
validator's internals (``date_range.literal[…]``), and keep their codes."""

from __future__ import annotations

from typing import Any

import pytest
from auth_support import MOUNT, one_site_db, signed_in_admin
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return signed_in_admin(one_site_db(tmp_path_factory.mktemp("api")))


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"date_range": "8d"}, "invalid_date_range",
         'date_range must be one of day, 7d, 28d, 30d, 91d, month, 6mo, 12mo, year, all, 24h, or '
         'two dates ["YYYY-MM-DD", "YYYY-MM-DD"] or date-times ["YYYY-MM-DDThh:mm:ss+00:00", …].'),
        ({"date_range": ["2024-13-01", "2024-01-02"]}, "invalid_date_range", "date_range must"),
        ({"metrics": ["visitors", "visits2"]}, "invalid_metrics",
         "metrics (entry 2) must be a list of one or more of visitors, visits,"),
        ({"metrics": []}, "invalid_metrics", "metrics must be a list of one or more of"),
        ({"pagination": {"limit": "ten"}}, "invalid_limit",
         "pagination.limit must be a whole number from 1 to 10,000."),
        ({"order_by": [["visitors", "up"]]}, "invalid_order_by",
         'order_by (entry 1) must be a list of [metric or dimension, "asc" or "desc"] pairs.'),
        ({"comparison": "bogus"}, "invalid_comparison",
         "comparison must be previous_period, year_over_year or two dates"),
        ({"colour": "red"}, "invalid_colour", "colour is not a field of a query."),
        # Already ours: passed through as written.
        ({"dimensions": ["visit:planet"]}, "invalid_dimensions",
         "dimensions: unknown dimension 'visit:planet'"),
    ],
)
def test_refusals_are_sentences(admin: TestClient, body: dict[str, Any], code: str,
                                message: str) -> None:
    response = admin.post(f"{MOUNT}/api/v2/query",
                          json={"site_id": "example.com", "metrics": ["visitors"],
                                "date_range": "7d", **body})
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == code
    assert answer["message"].startswith(message)
    for internal in ("literal[", "Input should", "Tuple should", "function-"):
        assert internal not in answer["message"]


def test_not_json_is_said_plainly(admin: TestClient) -> None:
    garbage = admin.post(f"{MOUNT}/api/v2/query", content=b"{",
                         headers={"content-type": "application/json"})
    assert garbage.json() == {"code": "invalid_body",
                              "message": "The request body is not valid JSON.",
                              "error": "The request body is not valid JSON."}
