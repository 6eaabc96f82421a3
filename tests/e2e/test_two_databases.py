"""Two sites in two databases, for real: the collector in `wrangler dev` writes each site's events
to the D1 database the site is placed in (`DB`, or `DB_2`), and the dashboard reads each site
from its own database, in the JSON API and in the rendered page.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.devstack import ROOT

from .conftest import DOMAIN, Stack, cli, dashboard_context, wait_until

pytestmark = pytest.mark.e2e

SECOND = "second.test"
UAS = [f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
       f"Chrome/{version}.0.0.0 Safari/537.36" for version in (150, 151, 152)]


def _count(path: Path, sql: str, *params: Any) -> int:
    with sqlite3.connect(path) as conn:
        (count,) = conn.execute(sql, params).fetchone()
    conn.close()
    return int(count)


def _pageview(stack: Stack, url: str, domain: str, user_agent: str) -> None:
    response = httpx.post(f"{stack.collector_url}/api/event",
                          content=f'{{"n":"pageview","u":"{url}","d":"{domain}"}}',
                          headers={"Content-Type": "text/plain", "User-Agent": user_agent},
                          timeout=10)
    assert response.status_code == 202, response.text


def _visitors(stack: Stack, site: str, token: str, page: str) -> Any:
    response = httpx.get(
        f"{stack.dashboard_url}/api/stats",
        params={"site": site, "period": "day", "metrics": "visitors,pageviews",
                "filters": json.dumps([["is", "page", [page]]])},
        headers={"Authorization": f"Bearer {token}"}, timeout=10)
    response.raise_for_status()
    return response.json()["results"][0]["metrics"]


def test_each_site_is_written_to_and_read_from_its_own_database(
    stack: Stack, browser: Any
) -> None:
    from analytics_941.local_d1 import local_d1_path

    second_db = local_d1_path(project_dir=ROOT, state_dir=stack.state_dir, binding="DB_2")
    cli("sites", "add", SECOND, "--name", "Second site", "--database", "DB_2", env=stack.env)
    second_token = cli("tokens", "create", "--site", SECOND, "--name", "e2e-db2", env=stack.env)
    second_id = str(sqlite3.connect(stack.db_path).execute(
        "SELECT id FROM sites WHERE domain = ?", (SECOND,)).fetchone()[0])

    for user_agent in UAS:
        _pageview(stack, f"https://{SECOND}/in-db-2", SECOND, user_agent)
    _pageview(stack, f"http://{DOMAIN}/in-home-db", DOMAIN, UAS[0])

    assert wait_until(lambda: _visitors(stack, SECOND, second_token, "/in-db-2"),
                      lambda m: m == [3, 3], message="the second site's 3 visitors") == [3, 3]
    assert wait_until(lambda: _visitors(stack, DOMAIN, stack.api_token, "/in-home-db"),
                      lambda m: m == [1, 1], message="the first site's visitor") == [1, 1]
    # Each site's rows are in its own database only.
    assert _count(second_db, "SELECT COUNT(*) FROM events WHERE site_id = ?", second_id) == 3
    assert _count(stack.db_path, "SELECT COUNT(*) FROM events WHERE site_id = ?", second_id) == 0
    assert _count(second_db, "SELECT COUNT(*) FROM events WHERE pathname = '/in-home-db'") == 0

    # Both dashboards, as a member sees them.
    context = dashboard_context(browser, stack, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{stack.dashboard_url}/{SECOND}?period=day")
    assert page.text_content("[data-metric='visitors'] [data-value]").strip() == "3"
    assert page.locator("#panel-pages a.name:text-is('/in-db-2')").count() == 1
    page.goto(f"{stack.dashboard_url}/{DOMAIN}?period=day&f=is,page,/in-home-db")
    assert page.text_content("[data-metric='visitors'] [data-value]").strip() == "1"
    context.close()
