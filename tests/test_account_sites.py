"""Adding a site: a pasted address is cleaned to its hostname, and a refused form comes back as
typed with the message next to the field it is about."""

from __future__ import annotations

from pathlib import Path

import pytest
from auth_support import MOUNT, one_site_db, signed_in_admin
from fastapi.testclient import TestClient

from analytics_941.sites import SiteError, clean_hostname


@pytest.mark.parametrize(
    ("typed", "host"),
    [
        ("https://www.Example.org/", "www.example.org"),
        ("http://example.org:8080/pricing?plan=pro#faq", "example.org"),
        ("  Example.ORG.  ", "example.org"),
        ("example.org/blog/", "example.org"),
        ("https://user@shop.example.org", "shop.example.org"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("localhost", "localhost"),
    ],
)
def test_a_pasted_address_is_cleaned_to_its_hostname(typed: str, host: str) -> None:
    assert clean_hostname(typed) == host


@pytest.mark.parametrize("typed", ["", "https://", "exa mple.com", "-bad-.com", "a..b", "ftp://"])
def test_what_holds_no_hostname_is_refused_for_its_field(typed: str) -> None:
    with pytest.raises(SiteError) as caught:
        clean_hostname(typed, field="also_domains")
    assert caught.value.field == "also_domains"
    assert "is not a domain" in str(caught.value)


@pytest.fixture
def admin(tmp_path: Path) -> TestClient:
    return signed_in_admin(one_site_db(tmp_path))


def test_the_form_takes_a_pasted_address(admin: TestClient) -> None:
    created = admin.post(f"{MOUNT}/settings/sites", data={
        "domain": "https://www.Example.org/", "also_domains": "http://Example.org:443/x"},
        follow_redirects=False)
    assert created.headers["location"] == f"{MOUNT}/settings/sites/www.example.org?created=1"
    page = admin.get(f"{MOUNT}/settings/sites/www.example.org")
    assert page.context["site"].domains == ("www.example.org", "example.org")  # type: ignore[attr-defined]


def test_a_refused_form_keeps_what_was_typed_and_names_the_field(admin: TestClient) -> None:
    typed = {"domain": "not a domain", "name": "My shop", "timezone": "Europe/Paris",
             "also_domains": "shop.example.org"}
    page = admin.post(f"{MOUNT}/settings/sites", data=typed)
    assert page.status_code == 400
    context = page.context  # type: ignore[attr-defined]
    assert context["values"] == typed
    assert context["error_field"] == "domain"
    # The message sits under the domain field, tied to it, and not a second time at the top.
    html = page.text
    assert 'aria-describedby="domain-error"' in html
    assert html.count(context["error"].replace("'", "&#39;")) == 1
    assert 'value="My shop"' in html and 'value="Europe/Paris"' in html

    zone = admin.post(f"{MOUNT}/settings/sites", data={**typed, "domain": "shop.example",
                                                       "timezone": "Mars/Base"})
    assert zone.context["error_field"] == "timezone"  # type: ignore[attr-defined]
    taken = admin.post(f"{MOUNT}/settings/sites", data={**typed, "domain": "EXAMPLE.com"})
    assert taken.context["error_field"] == "domain"  # type: ignore[attr-defined]
    assert "already exists" in taken.context["error"]  # type: ignore[attr-defined]
