"""The reports' signatures, twins of ``worker/src/reports/tokens.ts``. Each has its own key,
``hex(HMAC-SHA256(ANALYTICS_941_SECRET, context))``, so no realtime, archive or report token is
accepted for another purpose.

* Unsubscribe links: ``base64url({"site": <id>, "email": <address>}).base64url(mac)``, made by
  the Worker for every mail, checked here; no expiry (an old mail's link still works), and good
  for one thing only: removing that address from that site's reports. An alert mail's link says
  ``"list": "alerts"`` in its payload (signed like the rest) and removes the address from the
  site's alert recipients instead.
* Control tokens: the dashboard's short-lived permission for the Worker's preview and test
  routes (realtime-token shaped, the site's id, at most five minutes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Literal

from .realtime import realtime_token

__all__ = [
    "CONTROL_CONTEXT", "UNSUBSCRIBE_CONTEXT", "MailList", "Unsubscribe", "UnsubscribeRefused",
    "control_token", "derived_key", "read_unsubscribe_token", "unsubscribe_token",
]

UNSUBSCRIBE_CONTEXT = "941-analytics report unsubscribe v1"
CONTROL_CONTEXT = "941-analytics report control v1"
# What an unsubscribe link removes the address from.
MailList = Literal["reports", "alerts"]


def derived_key(secret: str, context: str) -> str:
    """The key of ``context``: hex HMAC-SHA256(secret, context)."""
    return hmac.new(secret.encode(), context.encode(), hashlib.sha256).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or not all(c.isalnum() or c in "-_" for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def control_token(site_id: str, secret: str, ttl: int = 60) -> str:
    """A token for the Worker's report routes of ``site_id``."""
    return realtime_token(site_id, derived_key(secret, CONTROL_CONTEXT), ttl)


def unsubscribe_token(site_id: str, email: str, secret: str, *,
                      mail_list: MailList = "reports") -> str:
    """What the Worker puts in a mail's unsubscribe link (made here for tests and tools)."""
    claims = {"site": site_id, "email": email}
    if mail_list != "reports":
        claims["list"] = mail_list
    payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
    mac = hmac.new(derived_key(secret, UNSUBSCRIBE_CONTEXT).encode(), payload, hashlib.sha256)
    return f"{_b64(payload)}.{_b64(mac.digest())}"


@dataclass(frozen=True, kw_only=True)
class Unsubscribe:
    """A checked unsubscribe token: who, from which site's reports (or alerts)."""

    site_id: str
    email: str
    mail_list: MailList = "reports"


class UnsubscribeRefused(ValueError):
    """An unsubscribe token that is not ours, with the reason shown to the visitor."""


def read_unsubscribe_token(token: str, secret: str) -> Unsubscribe:
    """The site and address of a valid token; ``UnsubscribeRefused`` with why otherwise."""
    payload_part, dot, mac_part = token.partition(".")
    if not dot or "." in mac_part:
        raise UnsubscribeRefused("The link is incomplete: copy the whole address from the mail.")
    try:
        payload, mac = _unb64(payload_part), _unb64(mac_part)
    except (ValueError, binascii.Error):
        raise UnsubscribeRefused("The link is damaged: copy the whole address from the "
                                 "mail.") from None
    expected = hmac.new(derived_key(secret, UNSUBSCRIBE_CONTEXT).encode(), payload,
                        hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise UnsubscribeRefused("The link's signature does not match: it was changed or not "
                                 "made by this dashboard.")
    try:
        claims = json.loads(payload)
    except ValueError:
        raise UnsubscribeRefused("The link is damaged.") from None
    site, email = (claims.get("site"), claims.get("email")) if isinstance(claims, dict) else (
        None, None)
    mail_list = claims.get("list", "reports") if isinstance(claims, dict) else None
    if not isinstance(site, str) or not isinstance(email, str) or mail_list not in (
            "reports", "alerts"):
        raise UnsubscribeRefused("The link is damaged.")
    return Unsubscribe(site_id=site, email=email,
                       mail_list="alerts" if mail_list == "alerts" else "reports")
