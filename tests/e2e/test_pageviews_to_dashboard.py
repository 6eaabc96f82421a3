"""A visitor's browser → tracker → collector → Durable Object → D1 → dashboard, for real.

Two visitors browse the demo site in Chromium: one reads three pages and navigates once inside
the single-page app (pushState), the other leaves after one page. The dashboard's JSON API and
its rendered overview must then show exactly 2 visitors, 2 visits, 5 pageviews and a 50 %
bounce rate.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .conftest import DOMAIN, Stack, dashboard_context, wait_until

pytestmark = pytest.mark.e2e

DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/156.0.0.0 Safari/537.36")
PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")


def _stats(stack: Stack) -> dict[str, Any]:
    response = httpx.get(f"{stack.dashboard_url}/api/stats", params={
        "site": DOMAIN, "period": "day",
        "metrics": "visitors,visits,pageviews,bounce_rate"}, headers=stack.api_headers, timeout=10)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _totals(stack: Stack) -> dict[str, Any]:
    body = _stats(stack)
    return dict(zip(body["query"]["metrics"], body["results"][0]["metrics"], strict=True))


def _pageview_sent(response: Any) -> bool:
    """The collector's answer to a pageview (leaving a page also sends an engagement event,
    which must not be mistaken for the next page's pageview)."""
    if not response.url.endswith("/api/event"):
        return False
    body = json.loads(response.request.post_data or "{}")
    return bool(body.get("n", body.get("name")) == "pageview")


def test_browsing_shows_up_on_the_dashboard(stack: Stack, browser: Any) -> None:
    reader = browser.new_context(user_agent=DESKTOP_UA)
    page = reader.new_page()
    with page.expect_response(_pageview_sent) as first:
        page.goto(f"{stack.site_url}/")
    assert first.value.status == 202
    for path in ("/pricing", "/app"):
        with page.expect_response(_pageview_sent):
            page.goto(f"{stack.site_url}{path}")
    # A client-side navigation: no page load, only history.pushState.
    with page.expect_response(_pageview_sent) as spa:
        page.click("a[href='/app/reports']")
    assert spa.value.status == 202
    assert page.text_content("#view") == "Section: /app/reports"
    reader.close()

    bouncer = browser.new_context(user_agent=PHONE_UA, viewport={"width": 390, "height": 844})
    page = bouncer.new_page()
    with page.expect_response(_pageview_sent):
        page.goto(f"{stack.site_url}/blog/privacy")
    bouncer.close()

    expected = {"visitors": 2, "visits": 2, "pageviews": 5, "bounce_rate": 50}
    totals = wait_until(lambda: _totals(stack), lambda t: t == expected,
                        message=f"dashboard totals {expected}")
    assert totals == expected

    pages = httpx.get(f"{stack.dashboard_url}/api/stats", params={
        "site": DOMAIN, "period": "day", "metrics": "pageviews", "dimensions": "page"},
        headers=stack.api_headers, timeout=10).json()
    by_page = {row["dimensions"][0]: row["metrics"][0] for row in pages["results"]}
    assert by_page == {"/": 1, "/pricing": 1, "/app": 1, "/app/reports": 1, "/blog/privacy": 1}

    # The rendered overview shows the same numbers a person reads.
    viewer = dashboard_context(browser, stack)
    page = viewer.new_page()
    page.goto(f"{stack.dashboard_url}/{DOMAIN}?period=day")
    shown = {name: page.text_content(f"[data-metric='{name}'] [data-value]")
             for name in ("visitors", "visits", "pageviews", "bounce_rate")}
    assert shown == {"visitors": "2", "visits": "2", "pageviews": "5", "bounce_rate": "50%"}
    viewer.close()
