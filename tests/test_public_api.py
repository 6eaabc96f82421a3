"""Pins the package's public API: changing it must be a deliberate act."""

import analytics_941


def test_all_is_pinned_and_sorted() -> None:
    assert analytics_941.__all__ == [
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
    assert analytics_941.__all__ == sorted(analytics_941.__all__)
    for name in analytics_941.__all__:
        assert getattr(analytics_941, name).__doc__, f"{name} has no docstring"
