"""Realtime on the Python side: tokens the collector accepts, the token route and the realtime
page behind the page auth, the dashboard badge, the CSP's connect-src and the secret's default.
(The collector's checks of the same tokens are in worker/test/realtime.test.ts.) And the page's
socket renewal on the collector's ``reauth`` message (static/src/realtime.js, run in Node)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from auth_support import MOUNT, add_user, sign_in
from fastapi import FastAPI
from fastapi.testclient import TestClient
from seeding import ROOT, seed

from analytics_941 import Settings, setup_analytics
from analytics_941.realtime import realtime_token
from analytics_941.settings import DEV_SECRET

TZ = "Europe/Berlin"


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_token_is_payload_dot_hmac_of_the_payload() -> None:
    token = realtime_token("example.com", "s3cret", ttl=60, now=1_000_000)
    payload_part, signature_part = token.split(".")
    payload = _b64(payload_part)
    assert json.loads(payload) == {"site": "example.com", "exp": 1_000_060}
    assert _b64(signature_part) == hmac.new(b"s3cret", payload, hashlib.sha256).digest()
    assert "=" not in token and "+" not in token and "/" not in token


def test_token_lifetime_is_at_most_five_minutes() -> None:
    with pytest.raises(ValueError):
        realtime_token("example.com", "s", ttl=301)
    with pytest.raises(ValueError):
        realtime_token("example.com", "s", ttl=0)


def test_dev_secret_matches_wrangler() -> None:
    # The collector's development REALTIME_SECRET is the dashboard's default, so local
    # development works unconfigured; both sides refuse it when deployed (test_auth_dev_secret.py,
    # worker/test/realtime.test.ts).
    assert f'REALTIME_SECRET = "{DEV_SECRET}"' in (ROOT / "wrangler.toml").read_text()
    assert Settings().secret.get_secret_value() == DEV_SECRET
    worker_token = (ROOT / "worker/src/collector/realtime/token.ts").read_text()
    assert f'export const DEV_SECRET = "{DEV_SECRET}";' in worker_token


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return seed(tmp_path / "d1.sqlite", today=datetime.now(ZoneInfo(TZ)).date(), timezone=TZ)


@pytest.fixture
def app(db: Path) -> FastAPI:
    app = FastAPI()
    settings = Settings(sqlite_path=db, project_dir=db.parent, secret="k" * 32,  # type: ignore[arg-type]
                        collector_url="https://collect.example.net")
    setup_analytics(app, settings)
    return app


@pytest.fixture
def viewer(app: FastAPI, db: Path) -> TestClient:
    """A viewer of example.com (s1) only."""
    client = TestClient(app)
    sign_in(client, db, user_id=add_user(db, name="Val", is_admin=False, roles={"s1": "viewer"}))
    return client


def test_token_route_signs_for_the_site(viewer: TestClient) -> None:
    before = int(time.time())
    response = viewer.get(f"{MOUNT}/example.com/realtime/token")
    assert response.status_code == 200
    body = response.json()
    assert body["socket_url"] == "wss://collect.example.net/api/realtime/example.com"
    assert body["snapshot_url"] == "https://collect.example.net/api/realtime/example.com/snapshot"
    payload_part, signature_part = body["token"].split(".")
    payload = _b64(payload_part)
    claims = json.loads(payload)
    assert claims["site"] == "example.com"
    assert before + 10 <= claims["exp"] <= before + 300 + 1
    assert _b64(signature_part) == hmac.new(b"k" * 32, payload, hashlib.sha256).digest()
    assert response.headers["Cache-Control"] == "no-store"


def test_token_route_and_page_need_access(app: FastAPI, viewer: TestClient) -> None:
    anonymous = TestClient(app)
    for path in ("/example.com/realtime", "/example.com/realtime/token"):
        response = anonymous.get(f"{MOUNT}{path}", follow_redirects=False)
        assert response.status_code == 303
    # A site the viewer may not see looks missing.
    assert viewer.get(f"{MOUNT}/other.org/realtime/token").status_code == 404
    assert viewer.get(f"{MOUNT}/other.org/realtime").status_code == 404


def test_realtime_page_and_badge(viewer: TestClient) -> None:
    page = viewer.get(f"{MOUNT}/example.com/realtime")
    assert page.status_code == 200
    assert page.template.name == "analytics_941/realtime.html"  # type: ignore[attr-defined]
    assert f'data-token-url="{MOUNT}/example.com/realtime/token"' in page.text
    csp = page.headers["Content-Security-Policy"]
    assert "connect-src 'self' https://collect.example.net wss://collect.example.net" in csp
    assert "script-src 'self'" in csp
    dashboard = viewer.get(f"{MOUNT}/example.com")
    assert f'href="{MOUNT}/example.com/realtime"' in dashboard.text
    assert "data-realtime-badge" in dashboard.text


def test_the_page_renews_its_socket_on_reauth_without_a_gap() -> None:
    # tests/js/realtime_renewal.mjs drives static/src/realtime.js with fake sockets and fetch:
    # a second socket with a fresh token replaces the first once live; a revoked user's socket
    # ends at its token's expiry and no new one opens.
    node = shutil.which("node") or shutil.which("node", path=str(Path(sys.executable).parent))
    assert node, "Node is needed to run the realtime client check: run `make deps`"
    result = subprocess.run(
        [node, str(ROOT / "tests/js/realtime_renewal.mjs")],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "realtime renewal: ok" in result.stdout
