"""941 Analytics: privacy-first web analytics on Cloudflare, read from your own FastAPI site.

``setup_analytics(app)`` mounts the dashboard; the rest of the public API is the read pipeline
(``parse_query`` → ``build_sql`` → ``run_query``), the two stores and the exceptions.
"""

from .d1_http_store import D1HttpStore
from .exceptions import (
    AnalyticsError,
    ConfigError,
    D1Error,
    LocalD1NotFound,
    QueryError,
    StoreError,
    StoreUnavailable,
)
from .local_d1 import local_d1_path
from .query import Query, parse_query
from .runner import run_queries, run_query
from .settings import Settings
from .sites import Site, add_site, get_site, list_sites
from .sql_builder import build_sql
from .sqlite_store import SqliteStore
from .store import Store
from .stores import open_store
from .web import setup_analytics

__all__ = [
    "AnalyticsError",
    "ConfigError",
    "D1Error",
    "D1HttpStore",
    "LocalD1NotFound",
    "Query",
    "QueryError",
    "Settings",
    "Site",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "add_site",
    "build_sql",
    "get_site",
    "list_sites",
    "local_d1_path",
    "open_store",
    "parse_query",
    "run_queries",
    "run_query",
    "setup_analytics",
]
