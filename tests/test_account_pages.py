"""Pages reached outside the usual flow: the installation check opened directly is a whole
page (htmx gets the fragment), and the icon paths answer without a 404."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from auth_support import MOUNT, one_site_db, signed_in_admin
from fastapi.testclient import TestClient


@pytest.fixture
def admin(tmp_path: Path) -> TestClient:
    return signed_in_admin(one_site_db(tmp_path))


def test_verify_opened_directly_is_a_whole_page(admin: TestClient) -> None:
    direct = admin.get(f"{MOUNT}/settings/sites/example.com/verify")
    assert direct.template.name == "analytics_941/settings/verify.html"  # type: ignore[attr-defined]
    assert direct.text.lstrip().startswith("<!doctype html>")
    assert 'rel="stylesheet"' in direct.text and 'id="verify-result"' in direct.text
    swapped = admin.get(f"{MOUNT}/settings/sites/example.com/verify",
                        headers={"HX-Request": "true"})
    assert swapped.template.name == "analytics_941/settings/_verify.html"  # type: ignore[attr-defined]
    assert swapped.text.lstrip().startswith('<p id="verify-result"')


def test_the_icon_is_served_and_linked(admin: TestClient) -> None:
    icon = admin.get(f"{MOUNT}/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert "max-age" in icon.headers["cache-control"]
    assert "Content-Security-Policy" in icon.headers
    ico = admin.get(f"{MOUNT}/favicon.ico")
    assert ico.status_code == 204 and "max-age" in ico.headers["cache-control"]
    page = admin.get(f"{MOUNT}/settings/sites")
    assert f'<link rel="icon" href="{MOUNT}/favicon.svg"' in page.text
    # Signed out too: the login page links it and the icon needs no session.
    stranger = TestClient(admin.app, base_url="http://localhost")
    assert stranger.get(f"{MOUNT}/favicon.svg").status_code == 200
    assert 'rel="icon"' in stranger.get(f"{MOUNT}/login").text


def test_an_error_page_says_its_title_once(admin: TestClient) -> None:
    missing = admin.get(f"{MOUNT}/settings/nothing-here")
    assert missing.status_code == 404
    assert missing.text.count("Not found") == 2  # the <title> and the heading, no shouted copy
    assert "NOT FOUND" not in missing.text and "Error 404" in missing.text


def test_every_tokens_column_has_a_header(admin: TestClient) -> None:
    admin.post(f"{MOUNT}/settings/tokens", data={"name": "Script", "site": "s1", "scope": "stats"})
    page = admin.get(f"{MOUNT}/settings/tokens")
    headers = re.findall(r"<th scope=\"col\">(.*?)</th>", page.text)
    assert len(headers) == 5 and all(re.sub(r"<[^>]+>", "", h).strip() for h in headers)
