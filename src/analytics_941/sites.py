"""Reading and writing the ``sites`` table (the tracked websites)."""

from __future__ import annotations

import json
import re
import secrets
import string
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .exceptions import ConfigError
from .store import Row, Store

__all__ = ["Site", "add_site", "get_site", "list_sites"]

# A hostname as the tracker reports it: lowercase labels, no scheme, port or path.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
_ID_ALPHABET = string.ascii_lowercase + string.digits
_COLUMNS = "id, domain, name, domains, timezone, created_at"


@dataclass(frozen=True, kw_only=True)
class Site:
    """One tracked website."""

    id: str
    domain: str
    name: str
    domains: tuple[str, ...]
    timezone: str
    created_at: int

    @classmethod
    def from_row(cls, row: Row) -> Site:
        """Build a ``Site`` from a ``sites`` row."""
        try:
            domains = tuple(str(d) for d in json.loads(row["domains"] or "[]"))
        except (TypeError, ValueError):
            domains = ()
        return cls(
            id=str(row["id"]),
            domain=str(row["domain"]),
            name=str(row["name"]),
            domains=domains,
            timezone=str(row["timezone"] or "UTC"),
            created_at=int(row["created_at"]),
        )


async def list_sites(store: Store) -> list[Site]:
    """Return every site, ordered by domain."""
    rows = await store.execute(f"SELECT {_COLUMNS} FROM sites ORDER BY domain")
    return [Site.from_row(row) for row in rows]


async def get_site(store: Store, *, domain: str) -> Site | None:
    """Return the site whose ``domain`` is ``domain``, or None."""
    rows = await store.execute(f"SELECT {_COLUMNS} FROM sites WHERE domain = ?", [domain])
    return Site.from_row(rows[0]) if rows else None


def _check_hostname(value: str) -> str:
    host = value.strip().lower()
    if not _HOSTNAME.match(host):
        raise ConfigError(f"{value!r} is not a hostname like example.com (no scheme, port, path)")
    return host


async def add_site(
    store: Store,
    *,
    domain: str,
    name: str | None = None,
    timezone: str = "UTC",
    also_domains: tuple[str, ...] = (),
) -> Site:
    """Insert a site and return it. Its ``domains`` list holds ``domain`` plus ``also_domains``.

    Raises ``ConfigError`` for a malformed hostname or an unknown timezone.
    """
    domain = _check_hostname(domain)
    hosts = tuple(dict.fromkeys([domain, *(_check_hostname(h) for h in also_domains)]))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown IANA timezone {timezone!r} (e.g. Europe/Berlin)") from None
    site = Site(
        id="".join(secrets.choice(_ID_ALPHABET) for _ in range(10)),
        domain=domain,
        name=name or domain,
        domains=hosts,
        timezone=timezone,
        created_at=int(time.time() * 1000),
    )
    await store.execute(
        f"INSERT INTO sites ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        [site.id, site.domain, site.name, json.dumps(list(hosts)), site.timezone, site.created_at],
    )
    return site
