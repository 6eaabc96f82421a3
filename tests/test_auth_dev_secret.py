"""The development realtime secret is public: a dashboard that looks deployed refuses to start
with it (or with any secret too short to be an HMAC key); local development keeps working."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from analytics_941 import ConfigError, Settings, setup_analytics
from analytics_941.settings import DEV_SECRET, MIN_SECRET_BYTES

D1 = {"store": "d1", "cf_account_id": "a", "cf_api_token": SecretStr("t"), "d1_database_id": "d"}
PUBLIC = {"public_url": "https://stats.example.com"}
STRONG = SecretStr("x" * MIN_SECRET_BYTES)
SHORT = SecretStr("x" * (MIN_SECRET_BYTES - 1))


@pytest.mark.parametrize(("fields", "refused"), [
    ({}, None),
    ({"public_url": "http://localhost:8000"}, None),
    ({"public_url": "http://127.0.0.1:8000"}, None),
    ({"public_url": "http://[::1]:8000"}, None),
    ({"public_url": "http://localhost:8000", "secret": SecretStr("short")}, None),
    (PUBLIC, "public development default"),
    (D1, "public development default"),
    ({**D1, "public_url": "http://localhost:8000"}, "public development default"),
    ({**PUBLIC, "secret": SHORT}, f"shorter than {MIN_SECRET_BYTES} bytes"),
    ({**D1, "secret": SecretStr("mine")}, f"shorter than {MIN_SECRET_BYTES} bytes"),
    ({**PUBLIC, "secret": STRONG}, None),
    ({**D1, "secret": STRONG}, None),
])
def test_setup_analytics_refuses_a_weak_secret_when_deployed(
    tmp_path: Path, fields: dict[str, object], refused: str | None
) -> None:
    assert Settings().secret.get_secret_value() == DEV_SECRET
    settings = Settings(project_dir=tmp_path, sqlite_path=tmp_path / "x.sqlite",
                        **fields)  # type: ignore[arg-type]
    app = FastAPI()
    if refused is None:
        setup_analytics(app, settings)
        assert app.routes
        return
    with pytest.raises(ConfigError) as caught:
        setup_analytics(app, settings)
    message = str(caught.value)
    # It names both places the secret lives, and nothing was mounted.
    assert refused in message
    assert "ANALYTICS_941_SECRET" in message and "wrangler secret put REALTIME_SECRET" in message
    assert DEV_SECRET not in message
    assert not [r for r in app.routes if "analytics" in getattr(r, "path", "")]


def test_the_cli_still_works_with_d1_and_no_secret() -> None:
    # Validation alone does not refuse: the CLI never signs realtime tokens.
    assert Settings(**D1).secret.get_secret_value() == DEV_SECRET  # type: ignore[arg-type]
