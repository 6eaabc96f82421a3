"""The collector's raw archive routes, as ``analytics-941 archive`` calls them (docs/archive.md).

The Worker keeps the archive files in R2, which only it can read; these calls list a site's
files, download one as stored, or have the Worker insert a day's rows back. Each request carries
a short-lived token: a realtime token (``realtime.realtime_token``) for the site's id, signed
with a key derived from ``ANALYTICS_941_SECRET`` for archives alone (``archive_token_key``), so
neither kind of token opens the other's routes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from .exceptions import AnalyticsError
from .realtime import realtime_token

__all__ = ["ARCHIVE_TOKEN_CONTEXT", "ArchiveClient", "archive_token", "archive_token_key"]

# The Worker's twin: ARCHIVE_TOKEN_CONTEXT in worker/src/collector/archive-routes.ts.
ARCHIVE_TOKEN_CONTEXT = "941-analytics archive token v1"  # noqa: S105 - a label, not a secret
_TTL = 60


def archive_token_key(secret: str) -> str:
    """The HMAC key of archive tokens: hex HMAC-SHA256(secret, ``ARCHIVE_TOKEN_CONTEXT``)."""
    return hmac.new(secret.encode(), ARCHIVE_TOKEN_CONTEXT.encode(), hashlib.sha256).hexdigest()


def archive_token(site_id: str, secret: str, ttl: int = _TTL, *, now: float | None = None) -> str:
    """A token for the archive routes of ``site_id``, valid ``ttl`` seconds (at most 300)."""
    return realtime_token(site_id, archive_token_key(secret), ttl, now=now)


@dataclass(frozen=True, kw_only=True)
class ArchiveClient:
    """Calls ``{collector_url}/api/archive/…`` for one site."""

    collector_url: str
    secret: str
    site_id: str
    transport: httpx.AsyncBaseTransport | None = None

    def _url(self, *parts: str) -> str:
        path = "/".join(quote(p, safe="") for p in (self.site_id, *parts))
        return f"{self.collector_url.rstrip('/')}/api/archive/{path}"

    async def _call(self, method: str, url: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {archive_token(self.site_id, self.secret)}"}
        async with httpx.AsyncClient(transport=self.transport, timeout=120) as client:
            try:
                response = await client.request(method, url, headers=headers)
            except httpx.HTTPError as exc:
                raise AnalyticsError(f"cannot reach the collector at {url}: {exc}") from exc
        if response.status_code != 200:
            try:
                message = str(response.json().get("message", ""))
            except ValueError:
                message = response.text[:200]
            raise AnalyticsError(f"the collector answered {response.status_code}: {message}")
        return response

    async def days(self) -> list[dict[str, Any]]:
        """The site's archived days, oldest first (``day``, ``events``, ``bytes``…)."""
        body = (await self._call("GET", self._url())).json()
        return list(body.get("archives", []))

    async def download(self, day: str, out: Path) -> int:
        """Write the ``day``'s file, as stored (gzip NDJSON), to ``out``; return its size."""
        content = (await self._call("GET", self._url(day))).content
        out.write_bytes(content)
        return len(content)

    async def restore(self, day: str) -> dict[str, Any]:
        """Have the collector insert the ``day``'s rows back; its answer (rows inserted)."""
        return dict((await self._call("POST", self._url(day, "restore"))).json())
