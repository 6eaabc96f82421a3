"""Webhooks for real: the collector in `wrangler dev` (WEBHOOK_DEV, so a loopback receiver is
allowed) delivers a test event from the site's settings to a local receiver, which checks the
Standard Webhooks signature with the secret the settings show, answers 500 once and so gets the
same message again after the first backoff; "Redeliver" sends it once more."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .conftest import dashboard_context, free_port, wait_until
from .test_a11y import _violations
from .test_email_reports import DOMAIN, _start

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ["REPORT_SHOTS"]) if os.environ.get("REPORT_SHOTS") else None


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check, as docs/webhooks.md shows it."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    sent = headers["webhook-signature"].split()
    return any(hmac.compare_digest(f"v1,{expected}", s) for s in sent)


def test_a_test_event_is_signed_retried_after_a_500_and_redelivered(
    tmp_path_factory: pytest.TempPathFactory, browser: Any,
) -> None:
    calls: list[tuple[dict[str, str], bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(500 if len(calls) == 1 else 204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hooks/941"
    try:
        for stack, site_id in _start(tmp_path_factory.mktemp("hooks"), {"WEBHOOK_DEV": "1"},
                                      site_port=free_port()):
            context = dashboard_context(browser, stack)
            page = context.new_page()
            page.goto(f"{stack.dashboard_url}/settings/sites/{DOMAIN}")
            section = page.locator("#webhooks")
            section.get_by_label("Endpoint URL").fill(hook)
            section.get_by_role("button", name="Add endpoint").click()
            secret = page.locator("#webhooks [data-secret]").inner_text()
            page.locator("#webhooks").get_by_role(
                "button", name=f"Send a test event to {hook}").click()
            page.get_by_role("status").filter(has_text="A test event is on its way").wait_for()
            # The first attempt gets a 500; the collector tries again five seconds later.
            wait_until(lambda: len(calls), lambda n: n >= 2, timeout=60,
                       message="the retry after a 500")
            (h1, b1), (h2, b2) = calls[:2]
            assert h1["webhook-id"] == h2["webhook-id"] and b1 == b2
            assert verify(secret, h1, b1) and verify(secret, h2, b2)
            assert not verify("whsec_" + base64.b64encode(b"x" * 24).decode(), h1, b1)
            event = json.loads(b1)
            assert event["type"] == "webhook.test" and event["data"]["site"] == DOMAIN
            page.goto(f"{stack.dashboard_url}/settings/sites/{DOMAIN}")
            row = page.locator("#webhooks [data-delivery]")
            row.filter(has_text="delivered · HTTP 204").wait_for()
            row.get_by_role("button", name="Redeliver").click()
            page.get_by_role("status").filter(has_text="being delivered again").wait_for()
            wait_until(lambda: len(calls), lambda n: n >= 3, timeout=30, message="redelivery")
            assert calls[2][0]["webhook-id"] == h1["webhook-id"]
            # The site's settings with both sections (and the report preview frame) pass axe,
            # and so does the public unsubscribe page, in both themes.
            from analytics_941.reports_tokens import unsubscribe_token
            from analytics_941.settings import DEV_SECRET

            unsubscribe = (f"{stack.dashboard_url}/reports/unsubscribe?t="
                           f"{unsubscribe_token(site_id, 'a@example.com', DEV_SECRET)}")
            context.close()
            context = dashboard_context(browser, stack, bypass_csp=True)  # axe is injected
            page = context.new_page()
            for theme in ("light", "dark"):
                page.emulate_media(color_scheme=theme)
                page.goto(f"{stack.dashboard_url}/settings/sites/{DOMAIN}")
                page.locator("#webhooks [data-deliveries]").wait_for()
                page.locator("[data-report-preview]").scroll_into_view_if_needed()
                page.frame_locator("[data-report-preview]").locator("body").wait_for()
                assert _violations(page) == [], theme
                page.goto(unsubscribe)
                assert _violations(page) == [], theme
            context.close()
            if SHOTS:
                for theme in ("light", "dark"):
                    for name, size in (("laptop", (1280, 800)), ("phone", (390, 844))):
                        shot = dashboard_context(browser, stack, color_scheme=theme,
                                                 viewport={"width": size[0], "height": size[1]})
                        view = shot.new_page()
                        view.goto(f"{stack.dashboard_url}/settings/sites/{DOMAIN}")
                        view.locator("#webhooks [data-deliveries]").wait_for()
                        view.locator("#webhooks").screenshot(
                            path=str(SHOTS / f"webhooks-{name}-{theme}.png"))
                        view.goto(unsubscribe)
                        view.screenshot(path=str(SHOTS / f"unsubscribe-{name}-{theme}.png"))
                        shot.close()
    finally:
        receiver.shutdown()
        receiver.server_close()
