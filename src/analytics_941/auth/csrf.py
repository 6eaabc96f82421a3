"""Cross-site request forgery: what a state-changing request must carry to be believed.

Two independent checks, both required on a cookie-authenticated POST/PUT/PATCH/DELETE:

1. **Origin**: the ``Origin`` header (or, failing that, ``Sec-Fetch-Site: same-origin``) must be
   the dashboard's own origin. Browsers set these; a page elsewhere cannot forge them.
2. **Token**: an ``X-CSRF-Token`` header (HTMX, fetch) or ``csrf_token`` form field equal to
   ``csrf_token(session_token)``, a hash of the HttpOnly session cookie that script on another
   origin can neither read nor compute.

Requests without a session (login, setup, invite, share password) get the Origin check only; bearer
token requests carry no ambient authority and need neither.
"""

from __future__ import annotations

import hashlib
import hmac

from .errors import AuthError

__all__ = ["SAFE_METHODS", "check_origin", "check_token", "csrf_token"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(session_token: str) -> str:
    """The CSRF token belonging to a session cookie value."""
    return hashlib.sha256(f"csrf:{session_token}".encode()).hexdigest()[:40]


def check_origin(*, origin: str | None, fetch_site: str | None, expected: str) -> None:
    """Raise unless the request came from a page on ``expected`` (scheme://host[:port])."""
    if origin is not None and origin != "null":
        # A present Origin decides alone: it is the browser's own statement of who is asking.
        if origin.rstrip("/") != expected:
            raise AuthError(code="csrf", message="This request came from another site, so it was "
                            "refused.", status=403)
        return
    # Without Origin, only a browser-set Sec-Fetch-Site of same-origin is accepted.
    if fetch_site != "same-origin":
        raise AuthError(code="csrf", message="The browser did not say which page sent this "
                        "request, so it was refused.", status=403)


def check_token(*, sent: str | None, session_token: str) -> None:
    """Raise unless ``sent`` is the CSRF token of ``session_token``."""
    if not sent or not hmac.compare_digest(sent, csrf_token(session_token)):
        raise AuthError(
            code="csrf", status=403,
            message="This page is out of date. Reload it and try again."
        )
