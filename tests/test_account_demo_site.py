"""The demo site (examples/demo_site.py): its navigation reaches the pages that exercise custom
events, hash routing and the 404 event, and it answers /favicon.ico without a 404."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from examples.demo_site import app


def test_every_page_links_the_tour() -> None:
    client = TestClient(app)
    home = client.get("/")
    nav = re.search(r"<nav>(.*?)</nav>", home.text, re.S)
    assert nav is not None
    linked = set(re.findall(r'href="([^"]+)"', nav.group(1)))
    assert {"/features", "/hash-app", "/missing", "/app"} <= linked
    assert client.get("/features").status_code == 200
    hash_app = client.get("/hash-app")
    assert re.search(r"<script defer[^>]* data-hash", hash_app.text)
    missing = client.get("/missing")
    assert missing.status_code == 404 and re.search(r"<script defer[^>]* data-404", missing.text)


def test_the_icon_is_not_a_404() -> None:
    client = TestClient(app)
    icon = client.get("/favicon.ico")
    assert icon.status_code == 204 and "max-age" in icon.headers["cache-control"]
    assert 'rel="icon"' in client.get("/pricing").text
