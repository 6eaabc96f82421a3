"""Asking the collector for an identified user's stored hash (``worker/src/collector/
user-hash-route.ts``): D1 holds only the keyed hash of an ``identify()`` id, and the key lives in
the site's Durable Object, so erasure and access requests start here (``user_data``).

Each request carries a realtime-token-shaped token for the site's id, signed with a key of its
own (``hex(HMAC-SHA256(ANALYTICS_941_SECRET, USER_HASH_CONTEXT))``), so no realtime, archive or
report token opens the route, nor this token theirs.

``forget`` is an erasure's first step: ``/api/users/:site/forget`` makes the site's Durable
Object drop the user's live visits and their rows still waiting for a flush, so that none of
them reaches D1 after ``user_data.erase_user`` has deleted theirs there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from .exceptions import AnalyticsError
from .realtime import realtime_token
from .reports_tokens import derived_key
from .user_data import UserIdRefused, check_user_id

__all__ = ["USER_HASH_CONTEXT", "Forgotten", "UserHashClient", "user_hash_token"]

# The Worker's twin: USER_HASH_CONTEXT in worker/src/collector/user-hash-route.ts.
USER_HASH_CONTEXT = "941-analytics user hash v1"


def user_hash_token(site_id: str, secret: str, ttl: int = 60) -> str:
    """A token for the user hash route of ``site_id``, valid ``ttl`` seconds (at most 300)."""
    return realtime_token(site_id, derived_key(secret, USER_HASH_CONTEXT), ttl)


@dataclass(frozen=True)
class Forgotten:
    """What the site's Durable Object dropped of a user: live visits, and waiting outbox rows."""

    sessions: int
    rows: int


@dataclass(frozen=True, kw_only=True)
class UserHashClient:
    """Calls ``{collector_url}/api/users/{site_id}/hash`` and ``…/forget``."""

    collector_url: str
    secret: str
    site_id: str
    transport: httpx.AsyncBaseTransport | None = None

    async def hash(self, user_id: str) -> str:
        """The value ``sessions.user_id`` holds for ``user_id`` on the site. ``UserIdRefused``
        for an id the collector refuses (checked here first, so it never leaves the host)."""
        check_user_id(user_id)
        answer = await self._post("hash", {"id": user_id})
        user_hash = answer.get("user_id")
        if not isinstance(user_hash, str):
            raise AnalyticsError("The collector answered 200 without a user hash.")
        return user_hash

    async def forget(self, user_hash: str) -> Forgotten:
        """Has the site's Durable Object drop ``user_hash``'s live visits and waiting rows; it
        answers once none of them can reach D1 any more (see the module docstring)."""
        answer = await self._post("forget", {"user_id": user_hash})
        sessions, rows = answer.get("sessions"), answer.get("rows")
        if not isinstance(sessions, int) or not isinstance(rows, int):
            raise AnalyticsError("The collector answered 200 without what it forgot.")
        return Forgotten(sessions=sessions, rows=rows)

    async def _post(self, action: str, body: dict[str, str]) -> dict[str, Any]:
        url = (f"{self.collector_url.rstrip('/')}/api/users/"
               f"{quote(self.site_id, safe='')}/{action}")
        headers = {"Authorization": f"Bearer {user_hash_token(self.site_id, self.secret)}"}
        async with httpx.AsyncClient(transport=self.transport, timeout=30) as client:
            try:
                response = await client.post(url, json=body, headers=headers)
            except httpx.HTTPError as exc:
                raise AnalyticsError(f"The collector at {self.collector_url} could not be "
                                     f"reached ({type(exc).__name__}).") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if response.status_code == 400 and answer.get("code") == "bad_user_id":
            raise UserIdRefused(str(answer.get("message", "the collector refused the id")))
        if response.status_code != 200:
            message = answer.get("message") or response.reason_phrase
            raise AnalyticsError(f"The collector answered {response.status_code}: "
                                 f"{str(message)[:300]}")
        return answer
