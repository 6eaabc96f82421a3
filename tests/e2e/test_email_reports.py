"""Email reports for real: the collector in `wrangler dev` (SMTP driver over cloudflare:sockets,
MAIL_DEV so it may reach a loopback server) mails a local SMTP server (aiosmtpd). The cron,
run twice, sends the closed week once, with hostile paths escaped; "send a test now" in the
site's settings reaches the same server; screenshots of the settings section and of the mail.
The `send_email` driver goes through Miniflare's own binding, read back from its local email
output (the Local Explorer's list of sent mail); the `resend` driver posts to a loopback fake of
the provider's HTTP API, which fails once (500) and is retried with the same idempotency key."""

from __future__ import annotations

import base64
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.devstack import BIN, ROOT, apply_migrations, start_collector, start_site

from .conftest import Stack, admin_session, dashboard_context, free_port, local_d1_file, wait_until

pytestmark = pytest.mark.e2e

DOMAIN = "shop.example"
HOSTILE_PATH = "/<img src=x onerror=alert(1)>"
HOSTILE_SOURCE = "Evil\u0007Source\u202e"
SHOTS = Path(os.environ.get("REPORT_SHOTS", "")) if os.environ.get("REPORT_SHOTS") else None


@dataclass
class Sink:
    """What the local SMTP server received."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for _, rcpt, m in self.messages if address in rcpt]


@dataclass
class MailStack:
    stack: Stack
    sink: Sink
    site_id: str


def _last_week() -> datetime:
    """Noon UTC of the Tuesday of the last closed ISO week."""
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=6)


def _seed(db: Path, site_id: str) -> None:
    at = int(_last_week().timestamp() * 1000)
    visits = [("a", at, ["/", HOSTILE_PATH], HOSTILE_SOURCE, "DE"),
              ("b", at + 86_400_000, ["/pricing"], "News", "FR")]
    with sqlite3.connect(db) as conn:
        for v, ts, paths, source, country in visits:
            for i, path in enumerate(paths):
                conn.execute(
                    "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
                    "pathname, source, channel, country) VALUES (?, ?, ?, 'pageview', ?, ?, ?, ?, "
                    "?, 'Referral', ?)",
                    (f"e2e-{v}{i}", site_id, ts + i * 1000, f"v-{v}", f"s-{v}", DOMAIN, path,
                     source, country))
            conn.execute(
                "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, "
                "entry_page, exit_page, pageviews, events, duration_ms, is_bounce, source, "
                "country) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?)",
                (f"s-{v}", site_id, f"v-{v}", ts, ts, DOMAIN, paths[0], paths[-1], len(paths),
                 len(paths), source, country))
    conn.close()


def _subscribe(db: Path, site_id: str, email: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO report_subscriptions (site_id, email, weekly, monthly, "
                     "created_at) VALUES (?, ?, 1, 0, 0)", (site_id, email))
    conn.close()


def _start(work: Path, mail_vars: dict[str, str], *, site_port: int,
           config: Path | None = None) -> Iterator[tuple[Stack, str]]:
    """A collector with `mail_vars` and a dashboard, over fresh local D1 with one site."""
    import subprocess

    state = work / "state"
    apply_migrations(persist_to=state)
    db_path = local_d1_file(state)
    env = {"ANALYTICS_941_SQLITE_PATH": str(db_path),
           "ANALYTICS_941_WRANGLER_STATE_DIR": str(state)}
    subprocess.run([str(BIN / "analytics-941"), "sites", "add", DOMAIN, "--name", "Shop"],
                   cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True)
    with sqlite3.connect(db_path) as conn:
        (site_id,) = conn.execute("SELECT id FROM sites WHERE domain = ?", (DOMAIN,)).fetchone()
    conn.close()
    args = ["--test-scheduled", *[a for k, v in mail_vars.items() for a in ("--var", f"{k}:{v}")]]
    if config is not None:
        args += ["--config", str(config)]
    collector = start_collector(port=free_port(), log_dir=work, persist_to=state, args=args)
    try:
        site = start_site(port=site_port, log_dir=work,
                          env={**env, "ANALYTICS_941_COLLECTOR_URL": collector.url})
        try:
            yield (Stack(collector_url=collector.url, site_url=site.url, db_path=db_path,
                         state_dir=state, env=env, session_token=admin_session(db_path)),
                   site_id)
        finally:
            site.stop()
    finally:
        collector.stop()


@pytest.fixture(scope="module")
def mail_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailStack]:
    from aiosmtpd.controller import Controller

    sink = Sink()
    smtp_port = free_port()
    smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    site_port = free_port()
    mail_vars = {"MAIL_DRIVER": "smtp", "MAIL_DEV": "1", "SMTP_HOST": "127.0.0.1",
                 "SMTP_PORT": str(smtp_port), "SMTP_SECURITY": "none",
                 "MAIL_FROM": "reports@941.test",
                 "REPORTS_DASHBOARD_URL": f"http://localhost:{site_port}/admin/analytics"}
    try:
        for stack, site_id in _start(tmp_path_factory.mktemp("mail"), mail_vars,
                                     site_port=site_port):
            yield MailStack(stack=stack, sink=sink, site_id=site_id)
    finally:
        smtp.stop()


def _run_cron(stack: Stack) -> None:
    answer = httpx.get(f"{stack.collector_url}/__scheduled", params={"cron": "*/15 * * * *"},
                       timeout=30)
    assert answer.status_code == 200, answer.text


def _parts(message: EmailMessage) -> tuple[str, str]:
    html, text = message.get_body(("html",)), message.get_body(("plain",))
    assert html is not None and text is not None
    return str(html.get_content()), str(text.get_content())


def test_the_cron_mails_the_closed_week_once_with_hostile_strings_escaped(
    mail_stack: MailStack,
) -> None:
    stack, sink = mail_stack.stack, mail_stack.sink
    _seed(stack.db_path, mail_stack.site_id)
    _subscribe(stack.db_path, mail_stack.site_id, "owner@example.com")
    _run_cron(stack)  # rolls the seeded days up, then sends
    (mail,) = wait_until(lambda: sink.to("owner@example.com"), timeout=90,
                         message="the weekly report at the SMTP server")
    (sender,) = mail["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("941 Analytics", "reports@941.test")
    assert mail["Subject"].startswith(f"{DOMAIN}: weekly report, ")
    assert mail["List-Unsubscribe"].startswith(f"<{stack.dashboard_url}/reports/unsubscribe?t=")
    html, text = _parts(mail)
    assert "Visitors   2 (new vs previous week)" in text
    assert "Pageviews  3 (new vs previous week)" in text
    assert HOSTILE_PATH in text and "EvilSource" not in text and "Evil Source" in text
    assert not any(ord(c) < 32 and c not in "\r\n" for c in text)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "\u202e" not in html and "\u0007" not in html
    # A second run — with a new recipient, whose mail says the run got that far — sends the
    # first recipient nothing more.
    _subscribe(stack.db_path, mail_stack.site_id, "zed@example.com")
    _run_cron(stack)
    wait_until(lambda: sink.to("zed@example.com"), timeout=90, message="the second run's mail")
    assert len(sink.to("owner@example.com")) == 1
    with sqlite3.connect(stack.db_path) as conn:
        rows = conn.execute("SELECT email, status, attempts FROM report_sends ORDER BY email"
                            ).fetchall()
    conn.close()
    assert rows == [("owner@example.com", "sent", 1), ("zed@example.com", "sent", 1)]
    if SHOTS:
        _shoot_mail(html)


def _shoot_mail(html: str) -> None:
    from playwright.sync_api import sync_playwright

    from .conftest import CHROMIUM, CHROMIUM_ARGS

    assert SHOTS is not None
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, size in (("laptop", (1280, 800)), ("phone", (390, 844))):
            page = chromium.new_page(viewport={"width": size[0], "height": size[1]})
            page.set_content(html)
            page.screenshot(path=str(SHOTS / f"mail-{name}.png"), full_page=True)
            page.close()
        chromium.close()


def test_send_a_test_now_from_the_settings(mail_stack: MailStack, browser: Any) -> None:
    stack, sink = mail_stack.stack, mail_stack.sink
    with sqlite3.connect(stack.db_path) as conn:
        conn.execute("INSERT OR IGNORE INTO report_subscriptions (site_id, email, weekly, "
                     "monthly, created_at) VALUES (?, 'tester@example.com', 1, 1, ?)",
                     (mail_stack.site_id, int(time.time() * 1000)))
    conn.close()
    context = dashboard_context(browser, stack)
    page = context.new_page()
    page.goto(f"{stack.dashboard_url}/settings/sites/{DOMAIN}")
    row = page.locator('[data-recipient="tester@example.com"]')
    row.get_by_role("button", name="Send a test report now to tester@example.com").click()
    page.get_by_role("status").filter(has_text="is on its way to tester@example.com").wait_for()
    (mail,) = wait_until(lambda: sink.to("tester@example.com"), timeout=60,
                         message="the test report")
    assert mail["Subject"].startswith(f"[Test] {DOMAIN}: weekly report, ")
    # The preview frame holds the mail as the collector renders it.
    page.goto(f"{stack.dashboard_url}/settings/sites/{DOMAIN}")
    frame = page.frame_locator("[data-report-preview]")
    frame.get_by_text("Open the dashboard for this week").wait_for()
    assert frame.locator("img").count() == 0
    context.close()
    if SHOTS:
        for theme in ("light", "dark"):
            for name, size in (("laptop", (1280, 800)), ("phone", (390, 844))):
                shot = dashboard_context(browser, stack, color_scheme=theme,
                                         viewport={"width": size[0], "height": size[1]})
                view = shot.new_page()
                view.goto(f"{stack.dashboard_url}/settings/sites/{DOMAIN}")
                # The frame loads lazily: below the fold on a phone until scrolled to.
                view.locator("[data-report-preview]").scroll_into_view_if_needed()
                view.frame_locator("[data-report-preview]").get_by_text(
                    "Open the dashboard for this week").wait_for()
                view.locator("#reports").screenshot(
                    path=str(SHOTS / f"settings-{name}-{theme}.png"))
                shot.close()


def _binding_config(folder: Path) -> Path:
    """wrangler.toml with the send_email binding uncommented, its paths made absolute."""
    text = (ROOT / "wrangler.toml").read_text()
    text = text.replace('main = "worker/src/index.ts"', f'main = "{ROOT}/worker/src/index.ts"')
    text = text.replace('migrations_dir = "migrations"', f'migrations_dir = "{ROOT}/migrations"')
    text = text.replace('directory = "worker/tracker/dist"',
                        f'directory = "{ROOT}/worker/tracker/dist"')
    text = text.replace('watch_dir = "worker/tracker"',
                        f'watch_dir = "{ROOT}/worker/tracker"\ncwd = "{ROOT}"')
    text = text.replace("[triggers]", '[[send_email]]\nname = "SEND_EMAIL"\n\n[triggers]', 1)
    path = folder / "wrangler.toml"
    path.write_text(text)
    return path


def test_the_send_email_driver_hands_the_report_to_the_binding(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    work = tmp_path_factory.mktemp("binding")
    site_port = free_port()
    mail_vars = {"MAIL_DRIVER": "send_email", "MAIL_DEV": "1", "MAIL_FROM": "reports@941.test",
                 "REPORTS_DASHBOARD_URL": f"http://localhost:{site_port}/admin/analytics"}
    for stack, site_id in _start(work, mail_vars, site_port=site_port,
                                 config=_binding_config(work)):
        _seed(stack.db_path, site_id)
        _subscribe(stack.db_path, site_id, "owner@example.com")
        _run_cron(stack)
        url = f"{stack.collector_url}/cdn-cgi/local/explorer/api/local/email/sending"
        (item,) = wait_until(lambda u=url: httpx.get(u, timeout=10).json()["result"],
                             timeout=90, message="the report in Miniflare's sent mail")
        sent = httpx.get(url, params={"email_id": item["messageId"]}, timeout=10).json()["result"]
        assert sent["from"] == "reports@941.test" and sent["to"] == ["owner@example.com"]
        assert sent["subject"].startswith(f"{DOMAIN}: weekly report, ")
        raw = sent["raw"].encode() if sent.get("raw") else base64.b64decode(sent["rawBase64"])
        mail = message_from_bytes(raw, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        html, text = _parts(mail)
        assert "Visitors   2 (new vs previous week)" in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
        with sqlite3.connect(stack.db_path) as conn:
            rows = conn.execute("SELECT email, status FROM report_sends").fetchall()
        conn.close()
        assert rows == [("owner@example.com", "sent")]


def _test_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate it signed for localhost: (ca, cert, key) PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = name("941 test CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def test_smtp_starttls_with_a_test_ca_and_auth(tmp_path_factory: pytest.TempPathFactory,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    work = tmp_path_factory.mktemp("starttls")
    ca, cert, key = _test_ca(work)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    logins: list[tuple[str, bool]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"reports", b"s3cret-pass")
        logins.append((mechanism, ok))
        return AuthResult(success=ok)

    sink = Sink()
    port = free_port()
    smtp = Controller(sink, hostname="127.0.0.1", port=port, server_hostname="localhost",
                      tls_context=tls, require_starttls=True, authenticator=authenticator,
                      auth_require_tls=True, auth_required=True)
    smtp.start()
    # workerd trusts the test CA as Node does: NODE_EXTRA_CA_CERTS, read by wrangler dev's child.
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(ca))
    site_port = free_port()
    mail_vars = {"MAIL_DRIVER": "smtp", "MAIL_DEV": "1", "SMTP_HOST": "localhost",
                 "SMTP_PORT": str(port), "SMTP_SECURITY": "starttls", "SMTP_USER": "reports",
                 "SMTP_PASSWORD": "s3cret-pass", "MAIL_FROM": "reports@941.test",
                 "REPORTS_DASHBOARD_URL": f"http://localhost:{site_port}/admin/analytics"}
    try:
        for stack, site_id in _start(work, mail_vars, site_port=site_port):
            _seed(stack.db_path, site_id)
            _subscribe(stack.db_path, site_id, "owner@example.com")
            _run_cron(stack)
            (mail,) = wait_until(lambda: sink.to("owner@example.com"), timeout=90,
                                 message="the report over STARTTLS")
            assert mail["Subject"].startswith(f"{DOMAIN}: weekly report, ")
            assert logins == [("PLAIN", True)]
    finally:
        smtp.stop()


def test_the_http_api_driver_retries_a_500_with_the_same_idempotency_key(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    calls: list[tuple[dict[str, str], dict[str, Any]]] = []

    class FakeApi(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            calls.append((dict(self.headers), body))
            status, answer = (500, b'{"message":"busy"}') if len(calls) == 1 else (
                200, b'{"id":"fake-1"}')
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    api = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    site_port = free_port()
    mail_vars = {"MAIL_DRIVER": "resend", "MAIL_DEV": "1", "RESEND_API_KEY": "re_test_key",
                 "MAIL_API_URL": f"http://127.0.0.1:{api.server_address[1]}/emails",
                 "MAIL_FROM": "reports@941.test",
                 "REPORTS_DASHBOARD_URL": f"http://localhost:{site_port}/admin/analytics"}
    try:
        for stack, site_id in _start(tmp_path_factory.mktemp("api"), mail_vars,
                                     site_port=site_port):
            _seed(stack.db_path, site_id)
            _subscribe(stack.db_path, site_id, "owner@example.com")

            def send_row(db: Path = stack.db_path) -> Any:
                with sqlite3.connect(db) as conn:
                    row = conn.execute("SELECT status, attempts, last_error FROM report_sends"
                                       ).fetchone()
                conn.close()
                return row

            _run_cron(stack)
            failed = wait_until(send_row, lambda r: r is not None and r[0] == "failed",
                                timeout=90, message="the failed first attempt")
            assert failed == ("failed", 1, 'the mail API answered 500: {"message":"busy"}')
            # The backoff is over (as if 15 minutes had passed): the next run retries.
            with sqlite3.connect(stack.db_path) as conn:
                conn.execute("UPDATE report_sends SET next_attempt_at = 1")
            conn.close()
            _run_cron(stack)
            wait_until(send_row, lambda r: r[0] == "sent", timeout=90, message="the retry")
            assert len(calls) == 2
            (first_headers, body), (second_headers, _) = calls
            assert first_headers["Authorization"] == "Bearer re_test_key"
            assert first_headers["Idempotency-Key"] == second_headers["Idempotency-Key"]
            assert first_headers["Idempotency-Key"].startswith("report.weekly.")
            assert body["from"] == '"941 Analytics" <reports@941.test>'
            assert body["to"] == ["owner@example.com"]
            assert body["subject"].startswith(f"{DOMAIN}: weekly report, ")
            assert "&lt;img src=x onerror=alert(1)&gt;" in body["html"]
            assert "Visitors   2 (new vs previous week)" in body["text"]
            assert body["headers"]["List-Unsubscribe"].startswith(f"<{stack.dashboard_url}/")
    finally:
        api.shutdown()
        api.server_close()
