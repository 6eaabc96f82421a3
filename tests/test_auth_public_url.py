"""Without ANALYTICS_941_PUBLIC_URL, passkeys would be bound to whatever Host header arrives: every
ceremony is refused (503, naming the setting) unless the request came to a loopback host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from auth_support import MOUNT, add_user, sign_in
from fastapi import FastAPI
from fastapi.testclient import TestClient
from seeding import apply_schema

from analytics_941 import Settings, setup_analytics

CEREMONIES = ["/auth/setup/options", "/auth/invite/options", "/auth/register/verify",
              "/auth/login/options", "/auth/login/verify"]
BODY: dict[str, Any] = {"token": "t", "secret": "s", "challenge_id": "c", "credential": {}}


def make_app(db: Path, **fields: Any) -> FastAPI:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent, **fields))
    return app


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return apply_schema(tmp_path / "d1.sqlite")


def client_for(app: FastAPI, base: str) -> TestClient:
    return TestClient(app, base_url=base, headers={"Origin": base})


@pytest.mark.parametrize("base", ["http://stats.example.com", "https://10.0.0.5:8443",
                                  "http://localhost.evil.example"])
@pytest.mark.parametrize("path", CEREMONIES)
def test_ceremonies_are_refused_on_a_public_host_without_public_url(
    db: Path, base: str, path: str
) -> None:
    response = client_for(make_app(db), base).post(f"{MOUNT}{path}", json=BODY)
    assert response.status_code == 503
    assert response.json()["code"] == "public_url_required"
    assert "ANALYTICS_941_PUBLIC_URL" in response.json()["message"]


def test_adding_a_passkey_is_refused_too(db: Path) -> None:
    client = client_for(make_app(db), "http://stats.example.com")
    sign_in(client, db)
    response = client.post(f"{MOUNT}/settings/passkeys/options", json={})
    assert (response.status_code, response.json()["code"]) == (503, "public_url_required")


@pytest.mark.parametrize(("base", "rp_id"), [
    ("http://localhost:8000", "localhost"), ("http://127.0.0.1", "127.0.0.1"),
    ("http://127.8.9.10:9000", "127.8.9.10"), ("http://[::1]:8000", "::1"),
])
def test_loopback_hosts_keep_working_without_it(db: Path, base: str, rp_id: str) -> None:
    add_user(db)
    response = client_for(make_app(db), base).post(f"{MOUNT}/auth/login/options", json={})
    assert response.status_code == 200, response.text
    assert response.json()["publicKey"]["rpId"] == rp_id


def test_with_public_url_the_host_header_no_longer_matters(db: Path) -> None:
    add_user(db)
    app = make_app(db, public_url="https://stats.example.com",
                   secret="s" * 32)
    client = client_for(app, "https://stats.example.com")
    response = client.post(f"{MOUNT}/auth/login/options", json={})
    assert response.status_code == 200, response.text
    assert response.json()["publicKey"]["rpId"] == "stats.example.com"
