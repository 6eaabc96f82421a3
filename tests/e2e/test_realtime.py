"""Realtime, for real: the realtime page is open in one (logged-in) browser context while a
visitor browses the demo site in another; the live count, the top pages and the event feed
change without a reload, over the collector's WebSocket. The dashboard's badge shows the count.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import DOMAIN, Stack, dashboard_context

pytestmark = pytest.mark.e2e


def _visitor_ua() -> str:
    # A Chrome UA of its own, so the visitor hash is new whatever other tests sent (same IP).
    build = uuid.uuid4().int % 10_000
    return ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/156.0.{build}.0 Safari/537.36")


def _count(page: Any) -> int:
    text = page.locator(".realtime-count").inner_text()
    return int(text.replace(",", ""))


def test_realtime_page_updates_while_a_visitor_browses(stack: Stack, browser: Any) -> None:
    viewer = dashboard_context(browser, stack)
    sockets: list[Any] = []
    page = viewer.new_page()
    page.on("websocket", lambda ws: sockets.append(ws))
    page.goto(f"{stack.dashboard_url}/{DOMAIN}/realtime")
    # Connected over the WebSocket (not the polling fallback) and showing the initial state.
    expect(page.locator("[data-realtime-status]")).to_have_text("Live", timeout=15_000)
    expect(page.locator(".realtime-count")).to_have_text(re.compile(r"^\d+$"))
    assert any("/api/realtime/" in ws.url for ws in sockets)
    before = _count(page)

    path = f"/app/rt-{uuid.uuid4().hex[:8]}"
    visitor = browser.new_context(user_agent=_visitor_ua())
    try:
        site_page = visitor.new_page()
        site_page.goto(f"{stack.site_url}{path}")
        # No reload of the realtime page: the pushed delta brings the visit.
        feed_item = page.locator("[data-realtime-feed] li", has_text=path)
        expect(feed_item).to_be_visible(timeout=10_000)
        expect(feed_item.first).to_contain_text("pageview")
        expect(page.locator('[data-realtime-list="page"] li', has_text=path)).to_be_visible()
        expect(page.locator(".realtime-count")).to_have_text(str(before + 1))
        bars = page.locator("[data-realtime-bars] .bar")
        expect(bars).to_have_count(30)
    finally:
        visitor.close()

    # The overview's badge links here and shows the same live count.
    page.goto(f"{stack.dashboard_url}/{DOMAIN}")
    badge = page.locator("[data-realtime-badge]")
    expect(badge).to_have_attribute("href", re.compile(r"/realtime$"))
    count = badge.locator("[data-realtime-count]")
    expect(count).to_have_text(re.compile(r"^[1-9]\d*$"), timeout=10_000)
    viewer.close()


def test_realtime_page_falls_back_to_polling(stack: Stack, browser: Any) -> None:
    viewer = dashboard_context(browser, stack)
    page = viewer.new_page()
    snapshots: list[str] = []
    page.on("request", lambda r: snapshots.append(r.url) if "/snapshot?" in r.url else None)
    # Every socket is refused before it says anything (a proxy that drops WebSockets, say).
    page.route_web_socket(re.compile(r"/api/realtime/"), lambda ws: ws.close(code=1011))
    page.goto(f"{stack.dashboard_url}/{DOMAIN}/realtime")
    expect(page.locator("[data-realtime-status]")).to_have_text("Live (polling)", timeout=15_000)
    expect(page.locator(".realtime-count")).to_have_text(re.compile(r"^\d+$"))
    assert snapshots

    path = f"/app/poll-{uuid.uuid4().hex[:8]}"
    visitor = browser.new_context(user_agent=_visitor_ua())
    try:
        visitor.new_page().goto(f"{stack.site_url}{path}")
        # The next poll (every 5 s) brings it, still without a reload.
        expect(page.locator("[data-realtime-feed] li", has_text=path)).to_be_visible(timeout=15_000)
    finally:
        visitor.close()
    viewer.close()
