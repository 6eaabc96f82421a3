"""Reading and writing the ``sites`` table: create, edit, and delete with a purge of the data.

On the D1 HTTP store ``get_site`` answers from a short-lived lookup cache (``store.caches.sites``:
every dashboard request looks its site up); editing or deleting a site here evicts it at once.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import time
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .cache import caches_of
from .exceptions import ConfigError
from .store import Param, Row, Store

__all__ = [
    "RESERVED_NAMES",
    "Site",
    "SiteError",
    "add_site",
    "clean_hostname",
    "delete_site",
    "get_site",
    "get_site_by_id",
    "list_sites",
    "update_site",
]

# A hostname as the tracker reports it: lowercase labels, no scheme, port or path.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
_ID_ALPHABET = string.ascii_lowercase + string.digits
# Every column, so a column a later migration adds reads as its default on a database that has
# not been migrated yet (``database``: migration 0015).
_COLUMNS = "*"
# The collector's limits a site may set (docs/collector.md): events per minute, and the engaged
# time that makes a one-page visit not a bounce. The defaults are schema.sql's column defaults;
# a rate_limit_site of 0 means the collector's own per-site default (RATE_LIMIT_SITE_DEFAULT in
# wrangler.toml, 10,000 a minute), a rate_limit_visitor of 0 no limit.
MAX_RATE_LIMIT = 100_000
MAX_BOUNCE_THRESHOLD_MS = 3_600_000
_DEFAULT_RATE_LIMIT_VISITOR = 120
_DEFAULT_RATE_LIMIT_SITE = 0
_DEFAULT_BOUNCE_THRESHOLD_MS = 10_000
_INSERT_COLUMNS = "id, domain, name, domains, timezone, created_at"
_BINDING = re.compile(r"DB(_[0-9]+)?")
_QUERY_KEY = re.compile(r"[A-Za-z0-9_.\[\]-]{1,64}")
MAX_KEPT_QUERY_PARAMS = 20
# Dashboard paths that a site's domain would shadow (the overview lives at {mount}/{domain}).
RESERVED_NAMES = frozenset(
    {"api", "auth", "invite", "login", "logout", "settings", "setup", "share", "static"}
)


class SiteError(ConfigError):
    """A site's setting was refused; ``field`` names the form field it came from, so a form can
    show the message next to it."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, kw_only=True)
class Site:
    """One tracked website."""

    id: str
    domain: str
    name: str
    domains: tuple[str, ...]
    timezone: str
    created_at: int
    allow_subdomains: bool = False
    excluded_paths: tuple[str, ...] = ()
    retention_days: int | None = None
    rate_limit_visitor: int = _DEFAULT_RATE_LIMIT_VISITOR
    rate_limit_site: int = _DEFAULT_RATE_LIMIT_SITE
    bounce_threshold_ms: int = _DEFAULT_BOUNCE_THRESHOLD_MS
    # Raw rows go to the collector's R2 archive before retention deletes them (docs/archive.md).
    archive_raw: bool = False
    # The D1 binding holding the site's analytics data (``DB`` or ``DB_2``…; docs/databases.md).
    database: str = "DB"
    # Query parameters the collector keeps in stored URLs besides the UTM ones (docs/collector.md).
    keep_query_params: tuple[str, ...] = ()
    # Opt-in identity and new vs returning visitors (migration 0027, docs/users.md).
    identity_enabled: bool = False
    identity_traits: tuple[str, ...] = ()
    returning_enabled: bool = False

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
            allow_subdomains=bool(int(row.get("allow_subdomains") or 0)),
            excluded_paths=_json_strings(row.get("excluded_paths")),
            keep_query_params=_json_strings(row.get("keep_query_params")),
            retention_days=(
                None if row.get("retention_days") is None else int(row["retention_days"])
            ),
            rate_limit_visitor=_count(row.get("rate_limit_visitor"), _DEFAULT_RATE_LIMIT_VISITOR),
            rate_limit_site=_count(row.get("rate_limit_site"), _DEFAULT_RATE_LIMIT_SITE),
            bounce_threshold_ms=_count(
                row.get("bounce_threshold_ms"), _DEFAULT_BOUNCE_THRESHOLD_MS
            ),
            archive_raw=bool(_count(row.get("archive_raw"), 0)),
            database=str(row.get("database") or "DB"),
            identity_enabled=bool(_count(row.get("identity_enabled"), 0)),
            identity_traits=_json_strings(row.get("identity_traits")),
            returning_enabled=bool(_count(row.get("returning_enabled"), 0)),
        )


def _count(value: object, default: int) -> int:
    # D1's HTTP API may deliver integers as strings; a NULL means the collector's default.
    return default if value is None else int(str(value))


def _json_strings(value: object) -> tuple[str, ...]:
    try:
        return tuple(str(v) for v in json.loads(str(value or "[]")))
    except (TypeError, ValueError):
        return ()


async def list_sites(store: Store) -> list[Site]:
    """Return every site, ordered by domain (from the lookup cache, like ``get_site``)."""
    caches = caches_of(store)
    cached: list[Site] | None = caches.site_list.get("all") if caches is not None else None
    if cached is not None:
        return list(cached)
    rows = await store.execute(f"SELECT {_COLUMNS} FROM sites ORDER BY domain")
    sites = [Site.from_row(row) for row in rows]
    if caches is not None:
        caches.site_list.put("all", sites)
    return list(sites)


async def get_site(store: Store, *, domain: str) -> Site | None:
    """Return the site whose ``domain`` is ``domain``, or None."""
    caches = caches_of(store)
    cached: Site | None = caches.sites.get(domain) if caches is not None else None
    if cached is not None:
        return cached
    # Cached stores read every site in the one request: the dashboard's switcher lists them all
    # anyway. A domain not in that list is asked for on its own (it may be new).
    listed = await list_sites(store) if caches is not None else []
    site = next((s for s in listed if s.domain == domain), None)
    if site is None:
        rows = await store.execute(f"SELECT {_COLUMNS} FROM sites WHERE domain = ?", [domain])
        site = Site.from_row(rows[0]) if rows else None
    # Misses are not kept: a site added in another process must show up at once.
    if caches is not None and site is not None:
        caches.sites.put(domain, site)
    return site


async def get_site_by_id(store: Store, *, site_id: str) -> Site | None:
    """Return the site whose id is ``site_id``, or None."""
    rows = await store.execute(f"SELECT {_COLUMNS} FROM sites WHERE id = ?", [site_id])
    return Site.from_row(rows[0]) if rows else None


def _check_timezone(timezone: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SiteError(f"Unknown timezone {timezone!r}: use an IANA name such as "
                        "Europe/Berlin.", field="timezone") from None


def clean_hostname(value: str, *, field: str = "domain") -> str:
    """The hostname in ``value`` as the tracker reports it: a pasted address such as
    ``https://www.Example.org:443/pricing?x=1`` becomes ``www.example.org``.

    Raises ``SiteError`` (for ``field``) when no hostname is left.
    """
    text = value.strip()
    # Without a scheme urlsplit reads "example.org/path" as a path: make it the authority.
    parts = urlsplit(text if "//" in text else f"//{text}")
    try:
        host = (parts.hostname or "").rstrip(".")
        # The tracker sends location.hostname, which browsers give in ASCII (punycode).
        host = host.encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        host = ""
    if not _HOSTNAME.match(host):
        raise SiteError(f"{value.strip() or 'An empty value'!r} is not a domain. Enter one like "
                        "example.com (a pasted address works too).", field=field)
    return host


async def add_site(
    store: Store,
    *,
    domain: str,
    name: str | None = None,
    timezone: str = "UTC",
    also_domains: tuple[str, ...] = (),
    database: str = "DB",
) -> Site:
    """Insert a site and return it. Its ``domains`` list holds ``domain`` plus ``also_domains``;
    ``database`` is the binding that will hold its data.

    ``domain`` and ``also_domains`` may be pasted addresses: each is cleaned to its hostname.
    Raises ``SiteError`` for a malformed hostname or an unknown timezone, ``ConfigError`` for an
    unknown binding name.
    """
    if not _BINDING.fullmatch(database):
        raise ConfigError(f"{database!r} is not a database binding (DB, DB_2, DB_3, …)")
    domain = clean_hostname(domain)
    if domain in RESERVED_NAMES:
        raise SiteError(f"{domain!r} is a name the dashboard uses itself. Enter the site's real "
                        "domain.", field="domain")
    hosts = tuple(dict.fromkeys(
        [domain, *(clean_hostname(h, field="also_domains") for h in also_domains)]))
    _check_timezone(timezone)
    if await get_site(store, domain=domain) is not None:
        raise SiteError(f"A site with the domain {domain!r} already exists.", field="domain")
    site = Site(
        id="".join(secrets.choice(_ID_ALPHABET) for _ in range(10)),
        domain=domain,
        name=name or domain,
        domains=hosts,
        timezone=timezone,
        created_at=int(time.time() * 1000),
        database=database,
    )
    # ``database`` only when it is not the column's default: a database not yet migrated to
    # 0015 can still take sites in DB.
    extra = ", database" if database != "DB" else ""
    values: list[Param] = [site.id, site.domain, site.name, json.dumps(list(hosts)),
                           site.timezone, site.created_at, *([database] if extra else [])]
    await store.execute(
        f"INSERT INTO sites ({_INSERT_COLUMNS}{extra}) VALUES ({', '.join('?' * len(values))})",
        values,
    )
    if caches := caches_of(store):
        caches.forget_site(site.id)
    return site


async def update_site(
    store: Store,
    *,
    site: Site,
    name: str,
    timezone: str,
    also_domains: tuple[str, ...],
    allow_subdomains: bool,
    excluded_paths: tuple[str, ...],
    retention_days: int | None,
    rate_limit_visitor: int | None = None,
    rate_limit_site: int | None = None,
    bounce_threshold_ms: int | None = None,
    archive_raw: bool | None = None,
    keep_query_params: tuple[str, ...] | None = None,
) -> Site:
    """Change a site's editable settings (not its ``domain``: the tracker snippet names it).

    The collector's limits, ``archive_raw`` and ``keep_query_params`` left None keep their
    current values.
    """
    _check_timezone(timezone)
    hosts = tuple(dict.fromkeys(
        [site.domain, *(clean_hostname(h, field="domains") for h in also_domains if h)]))
    paths = tuple(p.strip() for p in excluded_paths if p.strip())
    for path in paths:
        if not path.startswith("/") or len(path) > 200:
            raise SiteError(f"The excluded path {path!r} must start with / (like /admin/**).",
                            field="excluded_paths")
    if retention_days is not None and not 1 <= retention_days <= 36500:
        raise SiteError("Keep raw events for 1 to 36,500 days, or leave it empty to keep them "
                        "forever.", field="retention_days")
    per_visitor = site.rate_limit_visitor if rate_limit_visitor is None else rate_limit_visitor
    per_site = site.rate_limit_site if rate_limit_site is None else rate_limit_site
    bounce = site.bounce_threshold_ms if bounce_threshold_ms is None else bounce_threshold_ms
    archive = site.archive_raw if archive_raw is None else archive_raw
    keep = site.keep_query_params if keep_query_params is None else tuple(
        dict.fromkeys(k.strip() for k in keep_query_params if k.strip()))
    for key in keep:
        if not _QUERY_KEY.fullmatch(key):
            raise SiteError(f"{key!r} is not a query parameter name (letters, digits, _ . - "
                            "and [ ], up to 64).", field="keep_query_params")
    if len(keep) > MAX_KEPT_QUERY_PARAMS:
        raise SiteError(f"Keep at most {MAX_KEPT_QUERY_PARAMS} query parameters.",
                        field="keep_query_params")
    for field, label, zero, limit in (
            ("rate_limit_visitor", "Events per visitor", "no limit", per_visitor),
            ("rate_limit_site", "Events per site", "the collector's default", per_site)):
        if not 0 <= limit <= MAX_RATE_LIMIT:
            raise SiteError(f"{label} per minute must be between 0 ({zero}) and "
                            f"{MAX_RATE_LIMIT:,}.", field=field)
    if not 0 <= bounce <= MAX_BOUNCE_THRESHOLD_MS:
        raise SiteError("The bounce threshold must be between 0 and 3,600 seconds.",
                        field="bounce_threshold_s")
    await store.execute(
        "UPDATE sites SET name = ?, timezone = ?, domains = ?, allow_subdomains = ?, "
        "excluded_paths = ?, retention_days = ?, rate_limit_visitor = ?, rate_limit_site = ?, "
        "bounce_threshold_ms = ?, archive_raw = ?, keep_query_params = ? WHERE id = ?",
        [
            name.strip()[:100] or site.domain,
            timezone,
            json.dumps(list(hosts)),
            int(allow_subdomains),
            json.dumps(list(paths)),
            retention_days,
            per_visitor,
            per_site,
            bounce,
            int(archive),
            json.dumps(list(keep)),
            site.id,
        ],
    )
    if caches := caches_of(store):
        caches.forget_site(site.id)
    updated = await get_site_by_id(store, site_id=site.id)
    assert updated is not None
    return updated


async def delete_site(store: Store, *, site: Site, data: Store | None = None) -> None:
    """Delete ``site`` and purge its data from every table with a ``site_id`` column.

    ``data`` is the store holding the site's analytics data when it is not ``store`` (a data
    database): purged first, so a failure leaves the site listed and deletable again. The tables
    are found in the schema itself, so data added by later migrations (rollups, goals…) is purged
    too. API tokens naming the site simply stop reaching it.
    """
    if data is not None and data is not store:
        await _purge(data, site_id=site.id)
    await _purge(store, site_id=site.id)
    if caches := caches_of(store):
        caches.forget_site(site.id)


async def _purge(store: Store, *, site_id: str) -> None:
    rows = await store.execute(
        "SELECT m.name AS name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS c "
        "WHERE m.type = 'table' AND c.name = 'site_id' AND m.name NOT LIKE 'sqlite_%' "
        "AND m.name NOT LIKE '_cf_%' ORDER BY m.name"
    )
    tables = [str(r["name"]) for r in rows]
    statements: list[tuple[str, list[str | int | float | None]]] = [
        # Names come from sqlite_master (not from a request); quoted as identifiers anyway.
        (f'DELETE FROM "{t.replace(chr(34), chr(34) * 2)}" WHERE site_id = ?', [site_id])
        for t in tables
    ]
    statements.append(("DELETE FROM sites WHERE id = ?", [site_id]))
    await store.batch(statements)
