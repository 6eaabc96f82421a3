"""`plausible-mcp` (PyPI, MIT), a real Stats API v1 client nobody here wrote, against the stack:
events go through the collector in `wrangler dev`, and the client's own tools, pointed at the
dashboard's mount with its documented PLAUSIBLE_BASE_URL, read them back through our v1 API.

Its telemetry is switched off with its documented DO_NOT_TRACK (the tests run offline).
"""

from __future__ import annotations

import importlib
import json
import os
import sqlite3
from types import ModuleType
from typing import Any

import httpx
import pytest

from .conftest import Stack, cli, localhost, wait_until

pytestmark = pytest.mark.e2e

SITE = "mcp-client-e2e.test"
BROWSER = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/156.0.0.0 Safari/537.36")
# (visitor address, page): three visitors, four pageviews.
VIEWS = [("198.51.100.31", "/"), ("198.51.100.31", "/pricing"), ("198.51.100.32", "/"),
         ("198.51.100.33", "/docs")]


@pytest.fixture(scope="module")
def tools(stack: Stack) -> Any:
    os.environ["DO_NOT_TRACK"] = "1"
    server: ModuleType = importlib.import_module("plausible_mcp.server")
    return server


@pytest.fixture(scope="module")
def token(stack: Stack) -> str:
    cli("sites", "add", SITE, "--name", "MCP client", env=stack.env)
    for address, page in VIEWS:
        sent = httpx.post(f"{stack.collector_url}/api/event",
                          json={"n": "pageview", "u": f"https://{SITE}{page}", "d": SITE},
                          headers={"User-Agent": BROWSER, "X-Forwarded-For": address})
        assert sent.status_code == 202, sent.text

    def stored() -> int:
        with sqlite3.connect(stack.db_path) as db:
            return int(db.execute("SELECT COUNT(*) FROM events e JOIN sites s ON s.id = e.site_id "
                                  "WHERE s.domain = ?", (SITE,)).fetchone()[0])

    wait_until(stored, lambda n: n == len(VIEWS), message="the events in D1")
    return cli("tokens", "create", "--site", SITE, "--name", "mcp", env=stack.env)


def call(tools: Any, monkeypatch: pytest.MonkeyPatch, stack: Stack, name: str,
         **args: Any) -> Any:
    monkeypatch.setenv("PLAUSIBLE_BASE_URL", f"{localhost(stack.site_url)}/admin/analytics")
    answer = getattr(tools, name)(site_id=SITE, **args)
    assert not answer.startswith("["), answer  # its errors start with [INPUT_FIXABLE] and such
    return json.loads(answer)


def test_aggregate(tools: Any, token: str, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    out = call(tools, monkeypatch, stack, "get_aggregate_stats", date_range="7d", token=token)
    assert out["totals"]["visitors"] == 3
    assert out["totals"]["pageviews"] == 4
    assert out["totals"]["bounce_rate"] == pytest.approx(100 * 2 / 3, abs=1)


def test_breakdown(tools: Any, token: str, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    out = call(tools, monkeypatch, stack, "get_breakdown", property_name="page",
               date_range="7d", token=token)
    assert {(r["page"], r["visitors"]) for r in out["results"]} == {
        ("/", 2), ("/pricing", 1), ("/docs", 1)}


def test_timeseries(tools: Any, token: str, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    out = call(tools, monkeypatch, stack, "get_timeseries", date_range="7d", token=token)
    text = json.dumps(out)
    # Seven days, today's holding the three visitors.
    assert '"visitors": 3' in text


def test_realtime(tools: Any, token: str, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    out = call(tools, monkeypatch, stack, "get_realtime_visitors", token=token)
    assert out["realtime_visitors"] == 3


def test_a_wrong_token_is_its_auth_error(tools: Any, token: str, stack: Stack,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAUSIBLE_BASE_URL", f"{localhost(stack.site_url)}/admin/analytics")
    answer = tools.get_aggregate_stats(site_id=SITE, token="a941_t_wrong")  # noqa: S106
    assert answer.startswith("["), answer


def test_the_simple_apis_realtime(token: str, stack: Stack) -> None:
    answer = httpx.get(f"{localhost(stack.site_url)}/admin/analytics/api/v1/realtime",
                       params={"site_id": SITE}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"site_id": SITE, "visitors": 3}
