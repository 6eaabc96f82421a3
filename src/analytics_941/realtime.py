"""Realtime tokens: what lets a dashboard open the collector's realtime WebSocket.

A token is ``base64url(payload).base64url(HMAC-SHA256(secret, payload))`` where ``payload`` is the
JSON ``{"site": <domain>, "exp": <unix seconds>}``. The collector
(``worker/src/collector/realtime/token.ts``) checks it with ``REALTIME_SECRET``, which must equal
``ANALYTICS_941_SECRET``, and refuses tokens that claim to live longer than five minutes. A
socket lives no longer than its token: the collector asks the page to renew it (``reauth``) and
closes it at ``exp``, so a user whose access is removed loses the live view within one token
lifetime (the token route refuses them).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

__all__ = ["MAX_TTL", "realtime_token", "websocket_url"]

MAX_TTL = 300


def websocket_url(url: str) -> str:
    """``url`` (the collector's, http or https) with the matching WebSocket scheme (ws, wss)."""
    scheme, _, rest = url.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def realtime_token(site: str, secret: str, ttl: int = 120, *, now: float | None = None) -> str:
    """Return a token for ``site`` (its domain) valid for ``ttl`` seconds (at most 300)."""
    if not 0 < ttl <= MAX_TTL:
        raise ValueError(f"ttl must be between 1 and {MAX_TTL} seconds")
    exp = int(time.time() if now is None else now) + ttl
    payload = json.dumps({"site": site, "exp": exp}, separators=(",", ":")).encode()
    signature = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    return f"{_b64url(payload)}.{_b64url(signature)}"
