"""Accessibility: axe-core (npm devDependency) run in Chromium over every dashboard view — the
dashboard (with its menus open too), a details view, realtime, the sites list, each settings
page and a share link — in the light and the dark theme. A serious or critical violation fails.

Runs on its own site (a11y.example) so other tests' numbers stay theirs.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, Stack, dashboard_context

pytestmark = pytest.mark.e2e

SITE = "a11y.example"
DAY_MS = 86_400_000
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
THEMES = ("light", "dark")


def _seed(stack: Stack) -> str:
    """The site, a few visits from three countries, and a share link; returns the link's path."""
    from analytics_941.auth.share_links import create_share_link
    from analytics_941.sqlite_store import SqliteStore

    now = int(time.time() * 1000)
    with sqlite3.connect(stack.db_path, timeout=10) as conn:
        conn.execute(
            "INSERT OR IGNORE INTO sites (id, domain, name, domains, timezone, created_at) "
            "VALUES ('a11y', ?, 'Accessible', ?, 'UTC', ?)",
            (SITE, json.dumps([SITE]), now - 60 * DAY_MS),
        )
        for n, (path, country, device) in enumerate(
            [("/", "US", "desktop"), ("/docs", "DE", "mobile"), ("/", "JP", "desktop")]
        ):
            ts = now - (n + 1) * DAY_MS
            conn.execute(
                "INSERT OR IGNORE INTO events (id, site_id, ts, name, visitor_id, session_id, "
                "hostname, pathname, country, device) "
                "VALUES (?, 'a11y', ?, 'pageview', ?, ?, ?, ?, ?, ?)",
                (f"a11y-e{n}", ts, f"a11y-v{n}", f"a11y-s{n}", SITE, path, country, device),
            )
            conn.execute(
                "INSERT OR IGNORE INTO sessions (id, site_id, visitor_id, started_at, ended_at, "
                "hostname, entry_page, exit_page, pageviews, events, duration_ms, is_bounce, "
                "country, device) VALUES (?, 'a11y', ?, ?, ?, ?, ?, ?, 1, 1, 0, 1, ?, ?)",
                (f"a11y-s{n}", f"a11y-v{n}", ts, ts, SITE, path, path, country, device),
            )
    conn.close()

    async def share() -> str:
        store = SqliteStore(path=Path(stack.db_path))
        link = await create_share_link(store, site_id="a11y", name="a11y", password=None,
                                       created_by=None)
        await store.aclose()
        return f"/share/{link.id}"

    # Playwright's sync API runs its own event loop in this thread: the link is made in another.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, share()).result()


def _violations(page: Any) -> list[str]:
    """axe's serious and critical violations on the page as it stands, one line each."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => {
          const result = await axe.run(document, { resultTypes: ["violations"] });
          return result.violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.id} (${v.impact}): `
              + v.nodes.map((n) => n.target.join(" ")).join(", "));
        }"""
    )
    return list(found)


def _dashboard_ready(page: Any) -> None:
    # The map draws once it scrolls into view: bring it in, so its markup is checked too.
    page.locator(".map").scroll_into_view_if_needed()
    page.wait_for_selector(".map-svg")
    page.wait_for_selector(".chart canvas")


def _menus_open(page: Any) -> None:
    _dashboard_ready(page)
    page.click("[data-filter-builder] summary")
    page.wait_for_selector("[data-filter-dimension]")
    page.click("[data-shortcuts-open]")
    page.wait_for_selector("#shortcuts dl")


@pytest.fixture(scope="module")
def share(stack: Stack) -> str:
    return _seed(stack)


@pytest.mark.parametrize("theme", THEMES)
def test_no_serious_violations_in_any_view(
    stack: Stack, browser: Any, share: str, theme: str
) -> None:
    base = stack.dashboard_url
    views: list[tuple[str, str, Any]] = [
        ("dashboard", f"/{SITE}?period=7d&compare=previous_period", _dashboard_ready),
        ("dashboard, menus open", f"/{SITE}?period=7d&f=contains,page,/", _menus_open),
        ("details", f"/{SITE}/details/pages?period=7d&compare=previous_period", None),
        ("realtime", f"/{SITE}/realtime", None),
        ("sites list", "/", None),
        ("settings: sites", "/settings/sites", None),
        ("settings: site", f"/settings/sites/{SITE}", None),
        ("settings: tokens", "/settings/tokens", None),
        ("settings: account", "/settings/account", None),
        ("settings: audit", "/settings/audit", None),
        ("share link", f"{share}?period=7d", _dashboard_ready),
    ]
    # The page's CSP allows only its own scripts; axe is injected from outside it.
    context = dashboard_context(browser, stack, viewport={"width": 1280, "height": 900},
                                color_scheme=theme, bypass_csp=True)
    context.add_cookies([{"name": "a941_theme", "value": theme, "url": stack.dashboard_url + "/"}])
    page = context.new_page()
    failures: dict[str, list[str]] = {}
    try:
        for name, path, ready in views:
            response = page.goto(base + path)
            assert response is not None and response.status == 200, f"{name}: {path}"
            assert page.evaluate("document.documentElement.dataset.theme") == theme
            if ready is not None:
                ready(page)
            found = _violations(page)
            if found:
                failures[name] = found
    finally:
        context.close()
    assert not failures, json.dumps(failures, indent=2)
