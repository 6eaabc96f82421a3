"""Account and settings flows in Chromium: adding a site by pasting its address (a refusal keeps
what was typed, the message under the field), revoking an invite (its link then says so), and
the install snippet following its checkboxes.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from .conftest import Stack, dashboard_context

pytestmark = pytest.mark.e2e


def test_add_a_site_by_pasting_its_address(stack: Stack, browser: Browser) -> None:
    context = dashboard_context(browser, stack)
    page = context.new_page()
    page.goto(f"{stack.dashboard_url}/settings/sites")
    form = page.locator("form[action$='/settings/sites']")
    # First a value with no hostname in it: refused next to the field, the rest kept.
    form.get_by_label(re.compile("^Domain")).fill("not a domain")
    form.get_by_label("Name", exact=True).fill("Pasted shop")
    form.get_by_role("button", name="Add site").click()
    domain = page.locator("input[name=domain]")
    expect(domain).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#domain-error")).to_contain_text("is not a domain")
    expect(page.locator("input[name=name]")).to_have_value("Pasted shop")
    # Then the address as copied from the browser's bar.
    domain.fill("https://www.Pasted-Shop.example/pricing?utm_source=x")
    page.get_by_role("button", name="Add site").click()
    expect(page).to_have_url(re.compile(r"/settings/sites/www\.pasted-shop\.example\?created=1$"))
    expect(page.locator("h1.site-title")).to_contain_text("Pasted shop")
    expect(page.locator("#site-snippet")).to_contain_text('data-domain="www.pasted-shop.example"')
    context.close()


def test_a_revoked_invite_link_says_it_was_withdrawn(stack: Stack, browser: Browser) -> None:
    context = dashboard_context(browser, stack)
    page = context.new_page()
    page.goto(f"{stack.dashboard_url}/settings/sites/localhost")
    page.get_by_role("button", name="Create invite link").click()
    link = page.locator("#invite-link").inner_text().strip()
    invite_id = page.locator("[data-invite]").first.get_attribute("data-invite")
    row = page.locator(f"[data-invite='{invite_id}']")
    row.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(page.locator(f"[data-invite='{invite_id}']")).to_have_count(0)
    # The person invited, in a browser of their own.
    stranger = browser.new_context()
    invited = stranger.new_page()
    answer = invited.goto(link)
    assert answer is not None and answer.status == 404
    expect(invited.locator("main")).to_contain_text("This invite was withdrawn.")
    stranger.close()
    context.close()


def test_the_snippet_follows_its_checkboxes(stack: Stack, browser: Browser) -> None:
    context = dashboard_context(browser, stack)
    page = context.new_page()
    page.goto(f"{stack.dashboard_url}/settings/sites/localhost")
    snippet = page.locator("#site-snippet")
    expect(snippet).to_contain_text("/script.js")
    page.get_by_label("Form submissions").check()
    page.get_by_label(re.compile("routed by the URL hash")).check()
    # htmx swaps the snippet in place; without it the button reloads the page with the same tag.
    expect(snippet).to_contain_text("/script.form-submissions.js")
    expect(snippet).to_contain_text("data-hash")
    expect(page).to_have_url(re.compile(r"feature=form-submissions"))
    page.reload()
    expect(page.get_by_label("Form submissions")).to_be_checked()
    context.close()
