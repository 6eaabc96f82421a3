"""Webhook endpoints of a site (docs/webhooks.md) and the delivery log the Worker writes. The
collector signs and delivers (``worker/src/webhooks/``); the dashboard keeps the endpoints, shows
the log and asks the collector for a test event or a redelivery (``webhooks_client``)."""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from .auth.crypto import new_id
from .exceptions import AnalyticsError
from .store import Store

__all__ = [
    "EVENT_TYPES", "MAX_ENDPOINTS", "Delivery", "Endpoint", "WebhookError", "add_endpoint",
    "check_url", "list_deliveries", "list_endpoints", "remove_endpoint",
]

# What an endpoint may subscribe to: the events the collector emits today.
EVENT_TYPES = ("report.sent", "threshold.exceeded", "conversion.completed", "cart.abandoned")
MAX_ENDPOINTS = 10
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


class WebhookError(AnalyticsError):
    """An endpoint the settings refuse, with a message for the form."""


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """Where a site's events go, which ones, and the secret that signs them."""

    id: str
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: int


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """One message to one endpoint, as the collector last left it."""

    id: str
    endpoint_id: str
    event: str
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: int
    created_at: int
    delivered_at: int | None


def _private(host: str) -> bool:
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host.isdigit() or host.startswith("0x")  # 2130706433 is 127.0.0.1
    return not address.is_global


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL, or ``WebhookError``: https to a public host (``allow_private``, for local
    development, also lets http and loopback/private hosts through)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise WebhookError(f"{url[:80]!r} is not a URL.") from None
    if parts.scheme not in ("https", "http") or not host or len(url) > 2000:
        raise WebhookError("Give an https:// URL (such as https://example.com/hooks/941).")
    if parts.username or parts.password:
        raise WebhookError("A webhook URL may not carry a user name or password.")
    if not allow_private and parts.scheme != "https":
        raise WebhookError("Webhooks go to https:// URLs only.")
    if not allow_private and _private(host):
        raise WebhookError("Webhooks never go to loopback, private or local addresses.")
    return url


def _endpoint(row: dict[str, object]) -> Endpoint:
    events = json.loads(str(row["events"]))
    return Endpoint(id=str(row["id"]), url=str(row["url"]), secret=str(row["secret"]),
                    events=tuple(str(e) for e in events), created_at=int(str(row["created_at"])))


async def list_endpoints(store: Store, *, site_id: str) -> list[Endpoint]:
    """The site's endpoints, oldest first."""
    rows = await store.execute(
        "SELECT id, url, events, secret, created_at FROM webhook_endpoints WHERE site_id = ? "
        "ORDER BY created_at, id", [site_id])
    return [_endpoint(row) for row in rows]


async def add_endpoint(store: Store, *, site_id: str, url: str, events: list[str],
                       allow_private: bool) -> Endpoint:
    """A new endpoint with a fresh signing secret (``whsec_`` and 24 random bytes)."""
    checked = check_url(url, allow_private=allow_private)
    chosen = tuple(e for e in EVENT_TYPES if e in events)
    if not chosen:
        raise WebhookError(f"Choose at least one event ({', '.join(EVENT_TYPES)}).")
    existing = await list_endpoints(store, site_id=site_id)
    if len(existing) >= MAX_ENDPOINTS:
        raise WebhookError(f"A site has at most {MAX_ENDPOINTS} webhook endpoints.")
    if any(e.url == checked for e in existing):
        raise WebhookError("This site already sends webhooks to that URL.")
    endpoint = Endpoint(id=new_id(), url=checked, events=chosen,
                        secret="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
                        created_at=int(time.time() * 1000))
    await store.execute(
        "INSERT INTO webhook_endpoints (id, site_id, url, events, secret, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [endpoint.id, site_id, endpoint.url, json.dumps(list(chosen)), endpoint.secret,
         endpoint.created_at])
    return endpoint


async def remove_endpoint(store: Store, *, site_id: str, endpoint_id: str) -> Endpoint | None:
    """Delete the endpoint and its log (the collector then drops its pending deliveries)."""
    for endpoint in await list_endpoints(store, site_id=site_id):
        if endpoint.id == endpoint_id:
            await store.batch([
                ("DELETE FROM webhook_deliveries WHERE site_id = ? AND endpoint_id = ?",
                 [site_id, endpoint_id]),
                ("DELETE FROM webhook_endpoints WHERE site_id = ? AND id = ?",
                 [site_id, endpoint_id]),
            ])
            return endpoint
    return None


async def list_deliveries(store: Store, *, site_id: str, limit: int = 20) -> list[Delivery]:
    """The site's latest deliveries, newest first."""
    rows = await store.execute(
        "SELECT id, endpoint_id, event, status, attempts, last_status, last_error, "
        "next_attempt_at, created_at, delivered_at FROM webhook_deliveries WHERE site_id = ? "
        f"ORDER BY created_at DESC, id DESC LIMIT {int(limit)}", [site_id])
    return [Delivery(
        id=str(r["id"]), endpoint_id=str(r["endpoint_id"]), event=str(r["event"]),
        status=str(r["status"]), attempts=int(r["attempts"]),
        last_status=None if r["last_status"] is None else int(r["last_status"]),
        last_error=None if r["last_error"] is None else str(r["last_error"]),
        next_attempt_at=int(r["next_attempt_at"]), created_at=int(r["created_at"]),
        delivered_at=None if r["delivered_at"] is None else int(r["delivered_at"]),
    ) for r in rows]
