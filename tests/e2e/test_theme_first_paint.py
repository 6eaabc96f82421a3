"""The chosen theme is in the page before any script runs: with JavaScript off, a browser whose
system asks for light still paints a dark page when the theme button's cookie says dark (and
the other way round), so nothing flashes in the wrong theme while dashboard.js loads.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Stack, dashboard_context

pytestmark = pytest.mark.e2e

BACKGROUND = {"light": "rgb(246, 247, 251)", "dark": "rgb(15, 17, 23)"}  # dashboard.css --bg


@pytest.mark.parametrize(("system", "chosen"), [("light", "dark"), ("dark", "light")])
def test_the_chosen_theme_paints_without_script(
    stack: Stack, browser: Any, system: str, chosen: str
) -> None:
    context = dashboard_context(browser, stack, color_scheme=system, java_script_enabled=False)
    context.add_cookies([{"name": "a941_theme", "value": chosen,
                          "url": stack.dashboard_url + "/"}])
    page = context.new_page()
    try:
        page.goto(f"{stack.dashboard_url}/settings/account")
        assert page.evaluate("document.documentElement.dataset.theme") == chosen
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == BACKGROUND[chosen]
        # Without the cookie the system's theme holds, still without script.
        context.clear_cookies(name="a941_theme")
        page.goto(f"{stack.dashboard_url}/settings/account")
        assert page.evaluate("document.documentElement.dataset.theme") is None
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == BACKGROUND[system]
    finally:
        context.close()
