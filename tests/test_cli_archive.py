"""``analytics-941 archive``: the collector's archive routes as the CLI calls them. Only the HTTP
exchange is mocked, shaped like worker/src/collector/archive-routes.ts (worker/test/archive.test.ts
proves the Worker's side, and verifies the tokens of tests/fixtures/contracts/archive_tokens.json
that the last test here proves are what the CLI signs)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock
from seeding import apply_schema

from analytics_941.archive_client import archive_token, archive_token_key
from analytics_941.cli import main

COLLECTOR = "https://collector.example"
SECRET = "cli-archive-test-secret-0123456789abcdef"  # noqa: S105
SITE_ID = "abc123defg"
CONTRACT: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "contracts" / "archive_tokens.json").read_text("utf-8")
)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = apply_schema(tmp_path / "d1.sqlite")
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO sites (id, domain, name, created_at) VALUES (?, 'example.com', "
                 "'Example', 0)", (SITE_ID,))
    conn.commit()
    conn.close()
    monkeypatch.setenv("ANALYTICS_941_SQLITE_PATH", str(path))
    monkeypatch.setenv("ANALYTICS_941_COLLECTOR_URL", COLLECTOR)
    monkeypatch.setenv("ANALYTICS_941_SECRET", SECRET)
    return path


def _unpad(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _authorized(request: httpx.Request) -> bool:
    """The Worker's check: an archive-key signature over {site, exp}, this site, not expired."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    payload, _, signature = token.partition(".")
    key = archive_token_key(SECRET).encode()
    good = hmac.compare_digest(hmac.new(key, _unpad(payload), hashlib.sha256).digest(),
                               _unpad(signature))
    claims = json.loads(_unpad(payload)) if good else {}
    return (scheme == "Bearer" and claims.get("site") == SITE_ID
            and time.time() < claims["exp"] <= time.time() + 300)


def _route(answer: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    def callback(request: httpx.Request) -> httpx.Response:
        if not _authorized(request):
            return httpx.Response(401, json={"code": "unauthorized", "message": "bad token"})
        return answer
    return callback


def test_list_download_and_restore(db: Path, tmp_path: Path, httpx_mock: HTTPXMock,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    base = f"{COLLECTOR}/api/archive/{SITE_ID}"
    listing = {"site_id": SITE_ID, "domain": "example.com", "archives": [
        {"day": "2026-01-10", "key": f"raw/{SITE_ID}/2026-01-10.ndjson.gz", "events": 3,
         "sessions": 2, "bytes": 412, "archived_at": 1768867200000}]}
    httpx_mock.add_callback(_route(httpx.Response(200, json=listing)), url=base, method="GET")
    assert main(["archive", "list", "example.com"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == ("2026-01-10\t3\t2\t412\t2026-01-20 00:00:00\t"
                      f"raw/{SITE_ID}/2026-01-10.ndjson.gz")

    gz = b"\x1f\x8b\x08\x00 not really gzip"
    httpx_mock.add_callback(_route(httpx.Response(200, content=gz)), url=f"{base}/2026-01-10",
                            method="GET")
    target = tmp_path / "day.ndjson.gz"
    assert main(["archive", "download", "example.com", "2026-01-10", "--out", str(target)]) == 0
    assert target.read_bytes() == gz
    assert capsys.readouterr().out.strip() == str(target)

    restored = {"day": "2026-01-10", "events": 3, "sessions": 1,
                "archived": {"events": 3, "sessions": 2}}
    httpx_mock.add_callback(_route(httpx.Response(200, json=restored)),
                            url=f"{base}/2026-01-10/restore", method="POST")
    assert main(["archive", "restore", "example.com", "2026-01-10"]) == 0
    assert "restored 3 events and 1 sessions" in capsys.readouterr().out


def test_refusals_are_clear_errors(db: Path, httpx_mock: HTTPXMock,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    past = {"code": "past_retention", "message": "2026-01-10 is past the site's retention"}
    httpx_mock.add_callback(_route(httpx.Response(409, json=past)),
                            url=f"{COLLECTOR}/api/archive/{SITE_ID}/2026-01-10/restore")
    assert main(["archive", "restore", "example.com", "2026-01-10"]) == 1
    assert "409: 2026-01-10 is past the site's retention" in capsys.readouterr().err
    assert main(["archive", "list", "nope.example"]) == 1
    assert "no site 'nope.example'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["archive", "download", "example.com", "2026-13-01"])


@pytest.mark.parametrize("case", CONTRACT["cases"], ids=[c["site"] for c in CONTRACT["cases"]])
def test_tokens_are_signed_as_the_contract_says(case: dict[str, Any]) -> None:
    assert archive_token_key(CONTRACT["secret"]) == CONTRACT["key"]
    assert archive_token(case["site"], CONTRACT["secret"], case["ttl"], now=case["now"]) == \
        case["token"]
