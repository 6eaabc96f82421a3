"""Every exception the library raises, in one place.

The hierarchy, drawn the way httpx draws its own::

    AnalyticsError                  base class: catch this to catch everything below
    ├── ConfigError                 settings are missing or contradictory
    │   └── LocalD1NotFound         wrangler's local D1 file does not exist (yet)
    ├── QueryError                  a stats query is invalid; carries ``code`` and ``message``,
    │                               becomes an HTTP 400 at the edge
    └── StoreError                  the store could not answer
        ├── StoreUnavailable        the database cannot be reached or opened
        │   └── DatabaseUnknown     a site's data is in a database (binding) the dashboard
        │                           is not configured for; carries ``code`` and ``binding``
        ├── QueryTimeout            a query ran past its time budget (``query_timeout_s``)
        └── D1Error                 Cloudflare's D1 API answered with an error; carries
                                    Cloudflare's ``code``, ``message`` and the HTTP status
"""

from __future__ import annotations

__all__ = [
    "AnalyticsError",
    "ConfigError",
    "D1Error",
    "DatabaseUnknown",
    "LocalD1NotFound",
    "QueryError",
    "QueryTimeout",
    "StoreError",
    "StoreUnavailable",
]


class AnalyticsError(Exception):
    """Base class of every error raised by analytics_941."""


class ConfigError(AnalyticsError):
    """The settings are missing something or contradict themselves."""


class LocalD1NotFound(ConfigError):
    """The SQLite file that ``wrangler dev`` persists for the D1 binding does not exist."""


class QueryError(AnalyticsError):
    """A stats query failed validation.

    ``code`` is a stable machine-readable string (``invalid_metric``, ``invalid_date_range``…) and
    ``message`` names the offending field, so API clients can show it as is.
    """

    def __init__(self, *, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """Return the ``{code, message}`` body used by the JSON API."""
        return {"code": self.code, "message": self.message}


class StoreError(AnalyticsError):
    """The store (local SQLite or D1) could not answer a query."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened at all."""


class DatabaseUnknown(StoreUnavailable):
    """A site's ``database`` names a binding this dashboard has no store for (an HTTP 503
    ``database_unknown`` at the edge): the deployer's settings lag behind wrangler.toml."""

    code = "database_unknown"

    def __init__(self, binding: str, hint: str) -> None:
        super().__init__(f"the site's data is in the database {binding!r}, which this dashboard "
                         f"does not know: {hint}")
        self.binding = binding


class QueryTimeout(StoreError):
    """A query (or batch) ran longer than its budget and was stopped; an HTTP 503 at the edge."""


class D1Error(StoreError):
    """Cloudflare's D1 HTTP API reported a failure.

    ``code`` and ``message`` are Cloudflare's own (e.g. 7500 for an SQL error); ``status`` is the
    HTTP status of the last attempt (0 when no response arrived).
    """

    def __init__(self, *, code: int, message: str, status: int) -> None:
        super().__init__(f"D1 error {code} (HTTP {status}): {message}")
        self.code = code
        self.message = message
        self.status = status
