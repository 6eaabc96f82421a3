"""The Stats API v2 ``query`` echo in Plausible's shape: the client's names, ``time`` resolved,
``order_by`` filled with the order the rows came in, ``date_range`` as instants."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

V2 = "/admin/analytics/api/v2/query"


def _echo(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post(V2, json={"site_id": "example.com", "metrics": ["visitors"],
                                       "date_range": "7d", **body})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_names_stay_the_clients_and_order_by_is_filled(client: TestClient) -> None:
    answer = _echo(client, metrics=["visitors", "pageviews"], date_range="7d",
                   dimensions=["time", "visit:device"],
                   filters=[["is_not", "visit:country_name", ["Canada"]]])
    query = answer["query"]
    assert query["dimensions"] == ["time:day", "visit:device"]
    assert query["filters"] == [["is_not", "visit:country_name", ["Canada"]]]
    assert query["order_by"] == [["time:day", "asc"], ["visitors", "desc"]]
    # The rows come in that order: days ascending, then visitors descending within a day.
    rows = [(r["dimensions"][0], -r["metrics"][0]) for r in answer["results"]]
    assert rows == sorted(rows)
    assert _echo(client, dimensions=["event:page"])["query"]["order_by"] == [
        ["visitors", "desc"]]
    given = _echo(client, dimensions=["visit:source"], order_by=[["visit:source", "asc"]])
    assert given["query"]["order_by"] == [["visit:source", "asc"]]


def test_date_range_is_echoed_as_instants_in_the_sites_zone(client: TestClient) -> None:
    days = _echo(client, date_range=["2026-01-01", "2026-01-31"])["query"]
    assert days["date_range"] == ["2026-01-01T00:00:00+01:00", "2026-01-31T23:59:59+01:00"]
    hours = _echo(client, date_range=["2026-07-01T10:00:00Z", "2026-07-01T11:30:00Z"])["query"]
    assert hours["date_range"] == ["2026-07-01T12:00:00+02:00", "2026-07-01T13:30:00+02:00"]
    assert _echo(client, include={"total_rows": True, "imports": False})["query"][
        "include"] == {"total_rows": True}
