"""Passkeys in real Chromium with CDP virtual authenticators.

The owner registers the first passkey through the one-time setup link, logs out, logs back in
with the passkey (no username), creates a viewer invite; the invitee opens it in a second browser
context with its own authenticator, registers, and sees the dashboard but not the settings.

Runs its own dashboard server on a fresh database (no collector needed), so the first-run state
does not depend on what other e2e tests did to the shared stack.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scripts.devstack import ROOT, start_site

from .conftest import cli, free_port

pytestmark = pytest.mark.e2e

MOUNT = "/admin/analytics"


@dataclass
class Dashboard:
    url: str
    db: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    work = tmp_path_factory.mktemp("passkeys")
    db = work / "d1.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript((ROOT / "schema.sql").read_text())
    conn.close()
    env = {"ANALYTICS_941_SQLITE_PATH": str(db)}
    cli("sites", "add", "localhost", "--name", "Passkey site", env=env)
    port = free_port()
    site = start_site(port=port, log_dir=work, env=env)
    try:
        yield Dashboard(url=f"http://localhost:{port}", db=db, env=env)
    finally:
        site.stop()


def with_authenticator(context: Any) -> Any:
    """A page whose browser has its own platform passkey authenticator (user verified)."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})
    return page


def test_setup_logout_login_invite_viewer(dashboard: Dashboard, browser: Any) -> None:
    link = cli("setup-link", "--base-url", dashboard.url, env=dashboard.env)
    owner_context = browser.new_context()
    owner = with_authenticator(owner_context)

    # Anonymous visitors are sent to the setup page while no user exists.
    owner.goto(f"{dashboard.url}{MOUNT}/")
    assert owner.url.endswith(f"{MOUNT}/setup")

    owner.goto(link)
    owner.fill("input[name=name]", "Olive Owner")
    owner.click("button[type=submit]")
    owner.wait_for_url(f"{dashboard.url}{MOUNT}/localhost")
    assert owner.text_content(".usernav") and "Olive Owner" in owner.text_content(".usernav")
    cookie = next(c for c in owner_context.cookies() if c["name"] == "a941_session")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"], cookie["secure"]) == (
        True, "Lax", MOUNT, False)

    owner.click(".usernav button:has-text('Log out')")
    owner.wait_for_url(f"{dashboard.url}{MOUNT}/login")
    owner.goto(f"{dashboard.url}{MOUNT}/localhost")
    assert f"{MOUNT}/login" in owner.url

    owner.click("button:has-text('Sign in with a passkey')")
    owner.wait_for_url(f"{dashboard.url}{MOUNT}/localhost")
    assert owner.locator("[data-metric='visitors'] [data-value]").count() == 1

    owner.goto(f"{dashboard.url}{MOUNT}/settings/sites/localhost")
    owner.select_option("select[name=role]", "viewer")
    owner.click("button:has-text('Create invite link')")
    invite = owner.text_content("#invite-link")
    assert invite and f"{MOUNT}/invite/a941_i_" in invite

    viewer_context = browser.new_context()
    viewer = with_authenticator(viewer_context)
    viewer.goto(invite.strip())
    assert "viewer" in (viewer.text_content(".grants") or "")
    viewer.fill("input[name=name]", "Vic Viewer")
    viewer.click("button[type=submit]")
    viewer.wait_for_url(f"{dashboard.url}{MOUNT}/localhost")
    assert viewer.locator("[data-metric='visitors'] [data-value]").count() == 1
    nav = viewer.text_content(".usernav") or ""
    assert "Vic Viewer" in nav and "settings" not in nav.lower()

    viewer.goto(f"{dashboard.url}{MOUNT}/settings/sites")
    assert viewer.locator(".site-tile").count() == 1
    assert viewer.locator("[data-site-settings]").count() == 0
    refused = viewer.goto(f"{dashboard.url}{MOUNT}/settings/sites/localhost")
    assert refused is not None and refused.status == 403

    # The invite was single use.
    again = browser.new_context()
    used = again.new_page().goto(invite.strip())
    assert used is not None and used.status == 404
    for context in (owner_context, viewer_context, again):
        context.close()

    users = cli("users", "list", env=dashboard.env)
    assert "Vic Viewer\tlocalhost:viewer" in users
