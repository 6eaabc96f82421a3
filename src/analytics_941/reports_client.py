"""Asking the collector for a report (``worker/src/reports/routes.ts``): the preview the
settings page shows and "send a test now". The Worker renders every report, the cron's and
these, so the preview is the mail itself; nothing is stored here. The same signed calls ask for
a webhook test event or a redelivery (``worker/src/webhooks/routes.ts``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from .exceptions import AnalyticsError
from .reports import ReportKind
from .reports_tokens import control_token

__all__ = ["Preview", "ReportsClient"]


@dataclass(frozen=True, kw_only=True)
class Preview:
    """The next report as the collector would send it now."""

    subject: str
    html: str
    text: str
    first: str
    last: str
    ready: bool
    configured: bool
    problem: str | None


@dataclass(frozen=True, kw_only=True)
class ReportsClient:
    """Calls ``{collector_url}/api/reports/{site_id}/…``."""

    collector_url: str
    secret: str
    site_id: str
    transport: httpx.AsyncBaseTransport | None = None

    async def _call(self, action: str, body: dict[str, Any],
                    route: str = "reports") -> dict[str, Any]:
        url = (f"{self.collector_url.rstrip('/')}/api/{route}/"
               f"{quote(self.site_id, safe='')}/{action}")
        headers = {"Authorization": f"Bearer {control_token(self.site_id, self.secret)}"}
        async with httpx.AsyncClient(transport=self.transport, timeout=45) as client:
            try:
                response = await client.post(url, json=body, headers=headers)
            except httpx.HTTPError as exc:
                raise AnalyticsError(f"The collector at {self.collector_url} could not be "
                                     f"reached ({type(exc).__name__}).") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code != 200 or not isinstance(answer, dict):
            message = answer.get("message") if isinstance(answer, dict) else None
            raise AnalyticsError(f"The collector answered {response.status_code}: "
                                 f"{str(message or response.reason_phrase)[:300]}")
        return answer

    async def preview(self, kind: ReportKind) -> Preview:
        """The next ``kind`` report (the last closed period), rendered by the collector."""
        a = await self._call("preview", {"kind": kind})
        return Preview(subject=str(a.get("subject", "")), html=str(a.get("html", "")),
                       text=str(a.get("text", "")), first=str(a.get("first", "")),
                       last=str(a.get("last", "")), ready=bool(a.get("ready")),
                       configured=bool(a.get("configured")),
                       problem=None if a.get("problem") is None else str(a["problem"]))

    async def send_test(self, kind: ReportKind, email: str) -> None:
        """Have the collector send the ``kind`` report now, marked [Test], to ``email`` (one of
        the site's recipients); ``AnalyticsError`` with the provider's reason when it fails."""
        await self._call("test", {"kind": kind, "email": email})

    async def webhook_test(self, endpoint_id: str) -> str:
        """Have the collector send a ``webhook.test`` event to the endpoint; its delivery id."""
        answer = await self._call("test", {"endpoint": endpoint_id}, route="webhooks")
        return str(answer.get("delivery", ""))

    async def alert_test(self, rule_id: str) -> dict[str, Any]:
        """Have the collector measure the alert rule now and deliver it as a test; its answer
        (``reason``, ``fires``, ``mail``, ``mail_error``, ``deliveries``)."""
        return await self._call("test", {"rule": rule_id}, route="alerts")

    async def webhook_redeliver(self, delivery_id: str) -> None:
        """Have the collector deliver a logged message again, from its first attempt."""
        await self._call("redeliver", {"delivery": delivery_id}, route="webhooks")
