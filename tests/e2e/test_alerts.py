"""Alerts for real: the collector in `wrangler dev` (SMTP driver to a local aiosmtpd, WEBHOOK_DEV
for a loopback receiver). A spike is seeded in local D1 (the last hour against four quiet weeks),
a rule and its recipient are set up in the site's settings, an endpoint subscribes to
`threshold.exceeded`; the cron mails the alert once (a second run is held back by the cooldown)
and delivers the signed webhook; "Send a test alert" mails a [Test]. Screenshots of the section
(REPORT_SHOTS)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .conftest import dashboard_context, free_port, wait_until
from .test_a11y import _violations
from .test_email_reports import DOMAIN, SHOTS, Sink, _parts, _run_cron, _start
from .test_webhooks import verify

pytestmark = pytest.mark.e2e

WEEK_MS = 7 * 24 * 3_600_000


def _seed_spike(db: Path, site_id: str) -> None:
    """120 pageviews in the last half hour; 20 in the same half hour of each of four weeks."""
    now = int(time.time() * 1000)
    rows = []
    for week, count in ((0, 120), (1, 20), (2, 20), (3, 20), (4, 20)):
        for i in range(count):
            ts = now - 30 * 60_000 + i * 10_000 - week * WEEK_MS
            rows.append((f"spike-{week}-{i}", site_id, ts, f"v{week}-{i}", f"s{week}-{i}"))
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
            "pathname) VALUES (?, ?, ?, 'pageview', ?, ?, 'shop.example', '/')", rows)
        # The site has existed for longer than the baseline's four weeks.
        conn.execute("UPDATE sites SET created_at = 0 WHERE id = ?", (site_id,))
    conn.close()


def test_a_seeded_spike_is_mailed_once_and_sent_as_a_signed_webhook(
    tmp_path_factory: pytest.TempPathFactory, browser: Any,
) -> None:
    from aiosmtpd.controller import Controller

    calls: list[tuple[dict[str, str], bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hooks/alerts"
    sink = Sink()
    smtp_port = free_port()
    smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    site_port = free_port()
    mail_vars = {"MAIL_DRIVER": "smtp", "MAIL_DEV": "1", "SMTP_HOST": "127.0.0.1",
                 "SMTP_PORT": str(smtp_port), "SMTP_SECURITY": "none",
                 "MAIL_FROM": "alerts@941.test", "WEBHOOK_DEV": "1",
                 "REPORTS_DASHBOARD_URL": f"http://localhost:{site_port}/admin/analytics"}
    try:
        for stack, site_id in _start(tmp_path_factory.mktemp("alerts"), mail_vars,
                                     site_port=site_port):
            _seed_spike(stack.db_path, site_id)
            context = dashboard_context(browser, stack)
            page = context.new_page()
            page.goto(f"{stack.dashboard_url}/settings/sites/{DOMAIN}")
            hooks = page.locator("#webhooks")
            hooks.get_by_label("Endpoint URL").fill(hook)
            for box in hooks.get_by_role("checkbox").all():
                if box.get_attribute("value") != "threshold.exceeded":
                    box.uncheck()
            hooks.get_by_role("button", name="Add endpoint").click()
            secret = page.locator("#webhooks [data-secret]").inner_text()
            alerts = page.locator("#alerts")
            alerts.get_by_label("Alert emails").fill("owner@example.com")
            alerts.get_by_role("button", name="Save").click()
            alerts = page.locator("#alerts")
            alerts.get_by_label("Kind").select_option("spike")
            alerts.get_by_role("button", name="Add rule").click()
            page.locator("#alerts [data-rule]").wait_for()
            _run_cron(stack)
            (mail,) = wait_until(lambda: sink.to("owner@example.com"), timeout=90,
                                 message="the alert at the SMTP server")
            assert mail["Subject"] == f"{DOMAIN}: traffic spike"
            html, text = _parts(mail)
            assert "120 pageviews in the last 1 h against a median of 20" in text
            assert f"http://localhost:{site_port}/admin/analytics/{DOMAIN}?period=custom" in text
            assert "<img" not in html
            assert "in the same hours of the 4 week(s) before (+500 %)" in html
            wait_until(lambda: len(calls), lambda n: n >= 1, timeout=60, message="the webhook")
            headers, body = calls[0]
            assert verify(secret, headers, body)
            event = json.loads(body)
            assert event["type"] == "threshold.exceeded"
            assert event["data"]["values"]["pageviews"] == 120
            assert event["data"]["rule"]["kind"] == "spike" and event["data"]["test"] is False
            # A second run inside the cooldown sends nothing more.
            _run_cron(stack)  # answers once its step ran: its mail would be at the sink by now
            assert len(sink.to("owner@example.com")) == 1
            with sqlite3.connect(stack.db_path) as conn:
                logged = conn.execute("SELECT (SELECT COUNT(*) FROM alert_log), (SELECT COUNT(*) "
                                      "FROM webhook_deliveries WHERE event = 'threshold.exceeded')"
                                      ).fetchone()
            conn.close()
            assert logged == (1, 1)
            page.goto(f"{stack.dashboard_url}/settings/sites/{DOMAIN}")
            page.locator("#alerts [data-fired]").filter(has_text="120 pageviews").wait_for()
            page.locator("#alerts").get_by_role("button", name="Send a test alert").click()
            page.get_by_role("status").filter(has_text="Test alert sent").wait_for()
            wait_until(lambda: sink.to("owner@example.com"), lambda m: len(m) == 2, timeout=60,
                       message="the test alert")
            assert sink.to("owner@example.com")[1]["Subject"] == f"[Test] {DOMAIN}: traffic spike"
            context.close()
            context = dashboard_context(browser, stack, bypass_csp=True)  # axe is injected
            page = context.new_page()
            for theme in ("light", "dark"):
                page.emulate_media(color_scheme=theme)
                page.goto(f"{stack.dashboard_url}/settings/sites/{DOMAIN}/alerts")
                page.locator("#alerts [data-fired]").wait_for()
                assert _violations(page) == [], theme
            context.close()
            if SHOTS:
                for theme in ("light", "dark"):
                    for name, size in (("laptop", (1280, 800)), ("phone", (390, 844))):
                        shot = dashboard_context(browser, stack, color_scheme=theme,
                                                 viewport={"width": size[0], "height": size[1]})
                        view = shot.new_page()
                        view.goto(f"{stack.dashboard_url}/settings/sites/{DOMAIN}")
                        view.locator("#alerts [data-fired]").wait_for()
                        view.locator("#alerts").screenshot(
                            path=str(SHOTS / f"alerts-{name}-{theme}.png"))
                        shot.close()
                (SHOTS / "alert-mail.html").write_text(html)
    finally:
        smtp.stop()
        receiver.shutdown()
        receiver.server_close()
