"""Settings: defaults, ``ANALYTICS_941_*`` environment variables and clear validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from analytics_941 import D1HttpStore, LocalD1NotFound, Settings, SqliteStore, open_store


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.store == "sqlite"
    assert settings.project_dir == tmp_path
    assert settings.collector_url == "http://127.0.0.1:8787"
    assert settings.mount_path == "/admin/analytics"
    assert settings.public_url is None and settings.api_rate_limit == 600


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANALYTICS_941_STORE", "d1")
    monkeypatch.setenv("ANALYTICS_941_CF_ACCOUNT_ID", "acc")
    monkeypatch.setenv("ANALYTICS_941_CF_API_TOKEN", "secret-token")
    monkeypatch.setenv("ANALYTICS_941_D1_DATABASE_ID", "db")
    monkeypatch.setenv("ANALYTICS_941_MOUNT_PATH", "/stats")
    settings = Settings()
    assert settings.store == "d1" and settings.mount_path == "/stats"
    assert "secret-token" not in repr(settings)
    assert isinstance(open_store(settings), D1HttpStore)


def test_d1_without_credentials_names_the_missing_variables() -> None:
    with pytest.raises(ValidationError) as info:
        Settings(store="d1", cf_account_id="acc")
    message = str(info.value)
    assert "ANALYTICS_941_CF_API_TOKEN" in message and "ANALYTICS_941_D1_DATABASE_ID" in message
    assert "ANALYTICS_941_CF_ACCOUNT_ID" not in message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mount_path", "admin"),
        ("mount_path", "/admin/"),
        ("collector_url", "ftp://x"),
        ("store", "postgres"),
    ],
)
def test_invalid_values_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(**{field: value})


async def test_sqlite_store_defaults_to_the_local_d1_file(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text(
        '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "x"\ndatabase_id = "abc"\n'
    )
    store = open_store(Settings(project_dir=tmp_path))
    assert isinstance(store, SqliteStore)
    # The file is located lazily: a missing one is a clear error at query time, not at startup.
    with pytest.raises(LocalD1NotFound, match="make demo"):
        await store.execute("SELECT 1")
