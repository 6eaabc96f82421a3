"""The Clicks page: rage and dead clicks (the clicks add-on's custom events) per page and
element through the one query path, under the page's filters, selectors escaped."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

BASE = "/admin/analytics/example.com"


def add_clicks(db: Path, clicks: list[tuple[str, str, str]]) -> None:
    """Adds (name, path, selector) events, each a copy of a recent pageview of that path (its
    visit and attribution) a second later."""
    with sqlite3.connect(db) as conn:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(events)")]
        for i, (name, path, selector) in enumerate(clicks):
            picked = ", ".join(
                {"id": "id || ?", "ts": "ts + 1000", "name": "?", "props": "?"}.get(c, c)
                for c in columns)
            conn.execute(
                f"INSERT INTO events ({', '.join(columns)}) SELECT {picked} FROM events "
                "WHERE site_id = 's1' AND name = 'pageview' AND pathname = ? "
                "ORDER BY ts DESC LIMIT 1",
                (f"c{i}", name, f'{{"selector": "{selector}"}}', path))
    conn.close()


def test_clicks_per_page_and_element(client: TestClient, db: Path) -> None:
    add_clicks(db, [
        ("Rage click", "/pricing", "button#buy.cta"),
        ("Rage click", "/pricing", "button#buy.cta"),
        ("Dead click", "/pricing", "a.plan-card"),
        ("Dead click", "/", "span.<b>x</b>"),
    ])
    html = client.get(f"{BASE}/clicks?period=7d").text
    assert "Rage and dead clicks" in html
    assert html.index(">/pricing</h2>") < html.index(">/</h2>"), "the most clicked page first"
    assert "2 rage clicks, 1 dead click" in html
    assert '<code class="name">button#buy.cta</code>' in html
    assert "span.&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    # A filter applies: only the home page's click under page is /.
    only_home = client.get(f"{BASE}/clicks?period=7d&f=is,page,/").text
    assert "button#buy.cta" not in only_home and "span.&lt;b&gt;" in only_home


def test_no_clicks_explains_the_add_on(client: TestClient) -> None:
    html = client.get(f"{BASE}/clicks?period=7d").text
    assert "No rage or dead clicks in this period." in html and "script.clicks.js" in html


def test_the_dashboard_links_the_clicks_page(client: TestClient) -> None:
    assert f'<a href="{BASE}/clicks?period=7d">Clicks</a>' in client.get(
        f"{BASE}?period=7d").text
