"""The one statement reading ``ingest_drops``: the collector's counts of rejected requests.

``ingest_drops`` (migration 0002) has no dimensions to filter or group by — only a site, a UTC
day, a reason and (for bots) a category — so it needs no builder, only this loader with bound
parameters. Its days are UTC days: the site-local dates of a period are read as UTC dates, which
is the nearest the per-day counters allow.
"""

from __future__ import annotations

from datetime import date

from ..store import Statement

__all__ = ["drops_statement"]

_SQL = (
    "SELECT reason, category, SUM(count) AS count FROM ingest_drops "
    "WHERE site_id = ?1 AND day >= ?2 AND day <= ?3 "
    "GROUP BY reason, category ORDER BY count DESC, reason, category"
)


def drops_statement(*, site_id: str, first: date, last: date) -> Statement:
    """Rejected requests of ``site_id`` from ``first`` to ``last`` (inclusive), per reason and
    category, most first. Drops counted before a site was known (``site_id = ''``) are nobody's
    and are not read."""
    return _SQL, [site_id, first.isoformat(), last.isoformat()]
