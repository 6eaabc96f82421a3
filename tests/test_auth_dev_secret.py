"""The development realtime secret is public: a dashboard that looks deployed must say so."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from analytics_941 import Settings
from analytics_941.settings import DEV_SECRET

D1 = {"store": "d1", "cf_account_id": "a", "cf_api_token": SecretStr("t"), "d1_database_id": "d"}


def warned(caplog: pytest.LogCaptureFixture, **fields: object) -> bool:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="analytics_941"):
        Settings(**fields)  # type: ignore[arg-type]
    return any("SECRET is the development default" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, False),
    ({"public_url": "http://localhost:8000"}, False),
    ({"public_url": "http://127.0.0.1:8000"}, False),
    ({"public_url": "https://stats.example.com"}, True),
    (D1, True),
    ({"public_url": "https://stats.example.com", "secret": SecretStr("mine")}, False),
    ({**D1, "secret": SecretStr("mine")}, False),
])
def test_the_dev_secret_warns_when_the_dashboard_looks_deployed(
    caplog: pytest.LogCaptureFixture, fields: dict[str, object], expected: bool
) -> None:
    assert Settings().secret.get_secret_value() == DEV_SECRET
    assert warned(caplog, **fields) is expected
