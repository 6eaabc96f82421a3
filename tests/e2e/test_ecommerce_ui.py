"""The Ecommerce view in Chromium, from events sent to the collector in `wrangler dev` through
the Events API with Plausible's `{amount, currency}` revenue: the currency reaches D1, a revenue
goal made with the CLI answers in the Stats API, and the view (opened from the dashboard's row of
views) shows orders, EUR and USD apart, cart abandonment and the products, with no serious axe
finding in either theme.

Runs on its own site (shop-e2e.test) so other tests' numbers stay theirs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import Stack, cli, dashboard_context, wait_until
from .test_a11y import THEMES, _violations

pytestmark = pytest.mark.e2e

SITE = "shop-e2e.test"
UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/156.0.0.0 Safari/537.36")
EUR = {"amount": "20.00", "currency": "EUR"}
USD = {"amount": 15, "currency": "usd"}
# (forwarded address, [(event, path, product, revenue)]): three visitors, two buy, one leaves
# a cart behind.
VISITS = [
    ("198.51.100.30", [("pageview", "/shop", None, None), ("Product view", "/mug", "Mug", None),
                       ("Add to cart", "/mug", "Mug", None), ("Begin checkout", "/pay", None, None),
                       ("Purchase", "/pay", "Mug", EUR)]),
    ("198.51.100.31", [("Product view", "/tee", "Tee", None), ("Add to cart", "/tee", "Tee", None),
                       ("Purchase", "/pay", "Tee", USD)]),
    ("198.51.100.32", [("Product view", "/mug", "Mug", None),
                       ("Add to cart", "/mug", "Mug", None)]),
]
EVENTS = sum(len(events) for _, events in VISITS)


@pytest.fixture(scope="module")
def shop(stack: Stack) -> Stack:
    cli("sites", "add", SITE, "--name", "Shop", env=stack.env)
    cli("goals", "add", "--site", SITE, "--event", "Purchase", "--currency", "EUR",
        env=stack.env)
    with httpx.Client(base_url=stack.collector_url, timeout=10) as http:
        for address, events in VISITS:
            for name, path, product, revenue in events:
                body: dict[str, Any] = {"name": name, "url": f"https://{SITE}{path}",
                                        "domain": SITE}
                if product:
                    body["props"] = {"product": product}
                if revenue:
                    body["revenue"] = revenue
                response = http.post("/api/event", json=body, headers={
                    "User-Agent": UA, "X-Forwarded-For": address})
                assert response.status_code == 202, response.text
    wait_until(lambda: _rows(stack), lambda rows: len(rows) >= EVENTS, message="shop events")
    return stack


def _rows(stack: Stack) -> list[tuple[Any, ...]]:
    with sqlite3.connect(stack.db_path, timeout=10) as db:
        return db.execute(
            "SELECT e.name, e.revenue, e.revenue_currency FROM events AS e JOIN sites AS s "
            "ON s.id = e.site_id WHERE s.domain = ? ORDER BY e.ts, e.id", (SITE,)).fetchall()


@pytest.fixture
def page(shop: Stack, browser: Any) -> Iterator[Any]:
    context = dashboard_context(browser, shop, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors


def test_the_currency_reaches_d1_and_the_api(shop: Stack) -> None:
    paid = [(r, c) for name, r, c in _rows(shop) if name == "Purchase"]
    assert paid == [(20.0, "EUR"), (15.0, "USD")]
    token = cli("tokens", "create", "--site", SITE, "--name", "shop", env=shop.env)
    response = httpx.post(f"{shop.dashboard_url}/api/v2/query", json={
        "site_id": SITE, "date_range": "day", "metrics": ["events", "total_revenue"],
        "filters": [["is", "event:goal", ["Purchase"]]]},
        headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    # Two orders; the USD one is not added to the EUR goal's revenue.
    assert response.json()["results"][0]["metrics"] == [
        2, {"short": "€20", "long": "€20.00", "value": 20.0, "currency": "EUR"}]


def test_the_ecommerce_view_from_the_dashboard(page: Any, shop: Stack) -> None:
    page.goto(f"{shop.dashboard_url}/{SITE}?period=day")
    page.get_by_role("navigation", name="More views of this site").get_by_role(
        "link", name="Ecommerce").click()
    expect(page.get_by_role("heading", name="Ecommerce")).to_be_visible()
    expect(page.locator('[data-shop="orders"]')).to_have_text("2")
    expect(page.locator('[data-shop="revenue-EUR"]')).to_have_text("€20.00")
    expect(page.locator('[data-shop="revenue-USD"]')).to_have_text("$15.00")
    expect(page.locator('[data-shop="abandonment"]')).to_contain_text("33.3")
    products = page.locator("[data-shop-products] tbody tr")
    expect(products).to_have_count(2)
    expect(products.first).to_contain_text("Mug")
    expect(page.locator("[data-shop-funnel] tbody tr")).to_have_count(4)
    expect(page.get_by_text("Lifetime value and returning customers")).to_be_visible()


def test_no_serious_axe_finding_on_the_ecommerce_view(shop: Stack, browser: Any) -> None:
    for theme in THEMES:
        # axe is injected as a script: the page's CSP would refuse it.
        context = dashboard_context(browser, shop, viewport={"width": 1280, "height": 800},
                                    color_scheme=theme, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{shop.dashboard_url}/{SITE}/ecommerce?period=day")
        expect(page.locator('[data-shop="orders"]')).to_have_text("2")
        assert _violations(page) == [], theme
        context.close()
