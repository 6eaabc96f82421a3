"""Configuration of the dashboard library: one pydantic-settings object.

Every field can come from an ``ANALYTICS_941_*`` environment variable (``ANALYTICS_941_STORE``,
``ANALYTICS_941_CF_API_TOKEN``…) or be passed as a keyword argument.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .local_d1 import local_d1_path

__all__ = ["Settings"]

_ENV_PREFIX = "ANALYTICS_941_"
# Development only: equals REALTIME_SECRET in wrangler.toml [vars]. Production sets its own
# ANALYTICS_941_SECRET and the same value with `wrangler secret put REALTIME_SECRET`.
DEV_SECRET = "dev-insecure-941-secret-change-me"  # noqa: S105 - the documented dev default
_log = logging.getLogger("analytics_941")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


class Settings(BaseSettings):
    """Where the data lives and where the dashboard is mounted.

    ``store="sqlite"`` (the default) reads a SQLite file: ``sqlite_path`` if given, else the local
    D1 file ``wrangler dev`` persists for the project in ``project_dir``. ``store="d1"`` reads
    Cloudflare D1 over its HTTP API and needs ``cf_account_id``, ``cf_api_token`` and
    ``d1_database_id``.
    """

    model_config = SettingsConfigDict(env_prefix=_ENV_PREFIX, extra="forbid")

    store: Literal["sqlite", "d1"] = "sqlite"
    sqlite_path: Path | None = None
    project_dir: Path = Field(default_factory=Path.cwd)
    cf_account_id: str | None = None
    cf_api_token: SecretStr | None = None
    d1_database_id: str | None = None
    collector_url: str = "http://127.0.0.1:8787"
    mount_path: str = "/admin/analytics"
    # Authentication (see docs/security.md). `public_url` is the dashboard's origin as browsers
    # see it (https://stats.example.com); passkeys are bound to its host name. Unset, it is taken
    # from each request, which suits local development.
    public_url: str | None = None
    rp_name: str = "941 Analytics"
    setup_token: SecretStr | None = None
    session_idle_minutes: int = Field(default=7 * 24 * 60, ge=1)
    session_max_days: int = Field(default=30, ge=1)
    api_rate_limit: int = Field(default=600, ge=1, description="requests per token per hour")
    login_rate_limit: int = Field(default=30, ge=1, description="per client per 10 minutes")
    # HMAC key of realtime tokens (docs/realtime.md); the collector's REALTIME_SECRET.
    secret: SecretStr = SecretStr(DEV_SECRET)
    realtime_token_ttl: int = Field(default=120, ge=10, le=300, description="seconds")

    @field_validator("mount_path")
    @classmethod
    def _check_mount_path(cls, value: str) -> str:
        # Starlette mounts need a leading slash and no trailing one; "/" would shadow the host.
        if not value.startswith("/") or value.endswith("/") or len(value) < 2:
            raise ValueError("mount_path must start with '/' and not end with '/'")
        return value

    @field_validator("collector_url")
    @classmethod
    def _check_collector_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("collector_url must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("public_url must be an http:// or https:// URL")
        return value.rstrip("/") if value else None

    @model_validator(mode="after")
    def _check_d1_credentials(self) -> Self:
        if self.store == "d1":
            missing = [
                f"{_ENV_PREFIX}{name.upper()}"
                for name in ("cf_account_id", "cf_api_token", "d1_database_id")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"store='d1' needs {', '.join(missing)} to be set")
        return self

    @model_validator(mode="after")
    def _warn_dev_secret(self) -> Self:
        # The dev secret is public (it is in this file): anyone could mint realtime tokens. Warn
        # wherever the dashboard looks deployed: production data, or a public origin.
        public_host = urlsplit(self.public_url).hostname if self.public_url else None
        deployed = self.store == "d1" or public_host not in (None, *_LOCAL_HOSTS)
        if deployed and self.secret.get_secret_value() == DEV_SECRET:
            _log.warning(
                "analytics_941: %sSECRET is the development default; set your own (and the "
                "same value with `wrangler secret put REALTIME_SECRET`)", _ENV_PREFIX
            )
        return self

    def resolved_sqlite_path(self) -> Path:
        """Return the SQLite file to read: ``sqlite_path`` or wrangler's local D1 file.

        Raises ``LocalD1NotFound`` if the local D1 file has not been created yet.
        """
        if self.sqlite_path is not None:
            return self.sqlite_path
        return local_d1_path(project_dir=self.project_dir)
