"""The one error vocabulary of authentication, turned into HTTP answers at the edge (``guard``).

``AuthError`` carries a stable ``code`` (snake_case, for JSON clients), a human ``message`` and the
HTTP ``status``; ``RateLimited`` adds ``retry_after`` seconds.
"""

from __future__ import annotations

from ..exceptions import AnalyticsError

__all__ = ["AuthError", "RateLimited"]


class AuthError(AnalyticsError):
    """A request is not allowed: not logged in (401), forbidden (403), not found (404)…"""

    def __init__(self, *, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class RateLimited(AuthError):
    """Too many requests for this client or token; retry after ``retry_after`` seconds."""

    def __init__(self, *, retry_after: int, message: str = "Too many requests") -> None:
        super().__init__(code="rate_limited", message=message, status=429)
        self.retry_after = max(1, retry_after)
