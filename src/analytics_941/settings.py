"""Configuration of the dashboard library: one pydantic-settings object.

Every field can come from an ``ANALYTICS_941_*`` environment variable (``ANALYTICS_941_STORE``,
``ANALYTICS_941_CF_API_TOKEN``…) or be passed as a keyword argument.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .exceptions import ConfigError
from .local_d1 import local_d1_path

__all__ = ["DEV_SECRET", "MIN_SECRET_BYTES", "Settings", "is_loopback"]

_ENV_PREFIX = "ANALYTICS_941_"
# Development only: equals REALTIME_SECRET in wrangler.toml [vars]. Production sets its own
# ANALYTICS_941_SECRET and the same value with `wrangler secret put REALTIME_SECRET`.
DEV_SECRET = "dev-insecure-941-secret-change-me"  # noqa: S105 - the documented dev default
# Shorter secrets are refused when deployed (the collector refuses them too): an HMAC key.
MIN_SECRET_BYTES = 32
# The data databases' bindings (docs/databases.md); ``DB``, the home database, is d1_database_id.
_DATA_BINDING = re.compile(r"DB_[0-9]+")


def is_loopback(host: str | None) -> bool:
    """True for ``localhost``, ``127.x.x.x`` and ``::1`` (brackets allowed): this machine only."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    # wrangler's --persist-to folder, where every binding's local file is (default:
    # <project_dir>/.wrangler/state).
    wrangler_state_dir: Path | None = None
    cf_account_id: str | None = None
    cf_api_token: SecretStr | None = None
    d1_database_id: str | None = None
    # Data databases (issue #14): binding -> D1 database id, e.g. {"DB_2": "…"}; JSON in the env.
    d1_databases: dict[str, str] = Field(default_factory=dict)
    collector_url: str = "http://127.0.0.1:8787"
    # The Ecommerce page's event names per site domain (docs/goals.md#ecommerce), JSON in the
    # env: {"shop.example": {"purchase": "Order completed", "product_prop": "sku"}}.
    ecommerce_events: dict[str, dict[str, str]] = Field(default_factory=dict)
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
    api_simple_rate_limit: int = Field(
        default=100, ge=1, description="requests per token per minute on the simple GET API")
    login_rate_limit: int = Field(default=30, ge=1, description="per client per 10 minutes")
    # HMAC key of realtime tokens (docs/realtime.md); the collector's REALTIME_SECRET.
    secret: SecretStr = SecretStr(DEV_SECRET)
    realtime_token_ttl: int = Field(default=120, ge=10, le=300, description="seconds")
    # Limits that keep one member from slowing every tenant (docs/security.md, "Limits").
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="per request body")
    query_timeout_s: float = Field(default=10.0, gt=0, le=30, description="per query batch")
    max_concurrent_queries: int = Field(default=4, ge=1, description="per user, token or link")
    query_queue_wait_s: float = Field(default=2.0, ge=0, description="wait for a free slot")

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

    @field_validator("d1_databases")
    @classmethod
    def _check_d1_databases(cls, value: dict[str, str]) -> dict[str, str]:
        for binding, database_id in value.items():
            if not _DATA_BINDING.fullmatch(binding):
                raise ValueError(f"d1_databases: {binding!r} is not a data database binding "
                                 "(DB_2, DB_3, …; DB is d1_database_id)")
            if not database_id.strip():
                raise ValueError(f"d1_databases: {binding!r} needs its D1 database id")
        return {binding: database_id.strip() for binding, database_id in value.items()}

    @field_validator("ecommerce_events")
    @classmethod
    def _check_ecommerce_events(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        known = ("product_view", "add_to_cart", "begin_checkout", "purchase", "product_prop")
        for domain, names in value.items():
            unknown = sorted(set(names) - set(known))
            if unknown:
                raise ValueError(f"ecommerce_events: {domain!r} names {unknown[0]!r}; the keys "
                                 f"are {', '.join(known)}")
            if not all(str(v).strip() for v in names.values()):
                raise ValueError(f"ecommerce_events: {domain!r} has an empty name")
        return {d: {k: v.strip() for k, v in names.items()} for d, names in value.items()}

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

    def looks_deployed(self) -> bool:
        """True when this dashboard serves production data or a public origin: a D1 store, or a
        ``public_url`` whose host is not loopback."""
        public_host = urlsplit(self.public_url).hostname if self.public_url else None
        return self.store == "d1" or (public_host is not None and not is_loopback(public_host))

    def check_secret(self) -> None:
        """Refuse (``ConfigError``) the public development secret, or one shorter than
        ``MIN_SECRET_BYTES``, when the dashboard looks deployed (``looks_deployed``).

        Not a validator: the CLI never signs realtime tokens, so it keeps working with D1 and no
        secret; ``setup_analytics`` calls this before mounting anything.
        """
        if not self.looks_deployed():
            return
        value = self.secret.get_secret_value()
        # The dev secret is public (it is in this file): anyone could mint realtime tokens.
        if value == DEV_SECRET:
            problem = "is the public development default"
        elif len(value.encode()) < MIN_SECRET_BYTES:
            problem = f"is shorter than {MIN_SECRET_BYTES} bytes"
        else:
            return
        raise ConfigError(
            f"{_ENV_PREFIX}SECRET {problem}, and this dashboard looks deployed (store=d1 or a "
            f"public ANALYTICS_941_PUBLIC_URL). Set {_ENV_PREFIX}SECRET to a random value of at "
            f"least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -base64 32`) and the same value "
            "with `wrangler secret put REALTIME_SECRET`."
        )

    def resolved_sqlite_path(self) -> Path:
        """Return the SQLite file to read: ``sqlite_path`` or wrangler's local D1 file.

        Raises ``LocalD1NotFound`` if the local D1 file has not been created yet.
        """
        if self.sqlite_path is not None:
            return self.sqlite_path
        return self.local_d1_path("DB")

    def local_d1_path(self, binding: str, *, must_exist: bool = True) -> Path:
        """The local file ``wrangler dev`` keeps for ``binding`` (``local_d1.local_d1_path``)."""
        return local_d1_path(project_dir=self.project_dir, state_dir=self.wrangler_state_dir,
                             binding=binding, must_exist=must_exist)
