"""The dimensions, described once, and the `events`/`sessions` columns they are read from.

Everything else takes them from here: the query model (``query.DIMENSIONS`` and Plausible's
aliases), the SQL allowlist (``sql.columns``), the plain rollups (one row set per dimension),
the dashboard's reports, tabs and CSV files (``web.dashboard.reports``), the generated Worker
module ``worker/src/rows.ts`` (row types, column lists, the attribution copy), and the generated
reference ``docs/dimensions.md``. ``scripts/generate.py`` writes the generated files; a test
fails while one is stale, and ``tests/test_schema.py`` checks the columns against schema.sql.
docs/ARCHITECTURE.md walks through adding a dimension.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ATTRIBUTION_COLUMNS",
    "COLUMN_TYPES",
    "DIMENSIONS",
    "EVENT_COLUMNS",
    "PRIMARY_KEYS",
    "SESSION_COLUMNS",
    "Dimension",
    "Report",
    "Tab",
]

# Each column's SQLite declaration (as in schema.sql) and the TypeScript type of its value; a
# name means the same thing in every table.
_T, _T0, _I, _I0 = "TEXT NOT NULL", "TEXT", "INTEGER NOT NULL", "INTEGER"
_S, _S0, _N, _N0 = "string", "string | null", "number", "number | null"
COLUMN_TYPES: dict[str, tuple[str, str]] = {
    "id": (_T, _S),
    "site_id": (_T, _S),
    "visitor_id": (_T, _S),
    "session_id": (_T, _S),
    "ts": (_I, _N),
    "name": (_T, _S),
    "hostname": (_T, _S),
    "pathname": (_T, _S),
    **{c: (_T0, _S0) for c in ("referrer", "source", "channel")},
    **{f"utm_{k}": (_T0, _S0) for k in ("source", "medium", "campaign", "term", "content")},
    **{c: (_T0, _S0) for c in ("country", "region", "city")},
    # The region's ISO 3166-2 code (``DE-BE``; migration 0030, per visit): ``visit:region``.
    "region_code": (_T0, _S0),
    **{c: (_T0, _S0) for c in ("device", "browser", "browser_version", "os", "os_version")},
    "screen": (_T0, _S0),
    "timezone": (_T0, _S0),
    "props": (_T0, _S0),
    "revenue": ("REAL", _N0),
    # ISO 4217 code of ``revenue`` (migration 0024); NULL, one header byte, on other events.
    "revenue_currency": (_T0, _S0),
    "engaged_ms": (_I0, _N0),
    "scroll_depth": (_I0, _N0),
    "started_at": (_I, _N),
    "ended_at": (_I, _N),
    "entry_page": (_T, _S),
    "exit_page": (_T, _S),
    "pageviews": (_I, _N),
    "events": (_I, _N),
    "duration_ms": (_I, _N),
    "is_bounce": (_I, "0 | 1"),
    # The browser's language, per visit only (migration 0026): a visit keeps its first one.
    "language": (_T0, _S0),
    # Opt-in, per site (migration 0027): the identify() id's keyed hash, and whether the browser
    # had visited before (0 | 1; NULL when unknown or the site has it off).
    "user_id": (_T0, _S0),
    "is_returning": (_I0, "0 | 1 | null"),
}
# Each table's primary key: events are clustered by site and time (migration 0016).
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {"events": ("site_id", "ts", "id"), "sessions": ("id",)}
# What a visit takes from its first event and every event of it carries (the visitor's
# timezone is kept for the future, not a dimension yet). A new column goes at the end of each
# table: ALTER TABLE appends it there, and schema.sql must say the same.
ATTRIBUTION_COLUMNS: tuple[str, ...] = (
    "referrer", "source", "channel",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "country", "region", "city",
    "device", "browser", "browser_version", "os", "os_version", "screen", "timezone",
)  # fmt: skip
EVENT_COLUMNS: tuple[str, ...] = (
    "id", "site_id", "ts", "name", "visitor_id", "session_id", "hostname", "pathname",
    *ATTRIBUTION_COLUMNS[:-1],
    "props", "revenue", "engaged_ms", "scroll_depth", "timezone", "revenue_currency",
)  # fmt: skip
SESSION_COLUMNS: tuple[str, ...] = (
    "id", "site_id", "visitor_id", "started_at", "ended_at", "hostname", "entry_page",
    "exit_page", "pageviews", "events", "duration_ms", "is_bounce",
    *ATTRIBUTION_COLUMNS, "language", "user_id", "is_returning", "region_code",
)  # fmt: skip

_VISIT = ("visitors", "visits", "bounce_rate", "visit_duration")


@dataclass(frozen=True, kw_only=True)
class Report:
    """A breakdown the dashboard shows (details view, CSV file): ``key`` names it in URLs."""

    key: str
    title: str
    label: str
    metrics: tuple[str, ...] = _VISIT
    csv: bool = True


@dataclass(frozen=True, kw_only=True)
class Tab:
    """Where a report shows on the overview: ``panel``'s tab ``key``, at ``position`` (tabs of a
    panel are ordered by it). ``site_flag`` names a ``Site`` setting the tab needs: a site with
    it off would read nothing but the missing label there."""

    panel: str
    key: str
    label: str
    position: int
    site_flag: str | None = None


@dataclass(frozen=True, kw_only=True)
class Dimension:
    """One dimension. ``events``/``sessions`` are the columns it groups those tables by (None:
    the table lacks it); ``missing`` is the label a NULL reads as, so rows can be joined and
    filtered on it. ``viewed`` marks the one dimension whose *filter* keeps the visits that
    viewed a matching page, while its visit rows group by the entry page (Plausible's rule).
    ``lookup`` is SQL read at query time instead of the ``events`` column (which it is keyed
    by): its values change after the fact, so it is never rolled up. ``labels`` name the values
    of an integer flag column (``is_returning``: 0 New, 1 Returning); any other value reads as
    ``missing``."""

    name: str
    events: str | None
    sessions: str | None
    missing: str | None = None
    aliases: tuple[str, ...] = ()
    report: Report | None = None
    tabs: tuple[Tab, ...] = ()
    viewed: bool = False
    lookup: str | None = None
    labels: tuple[tuple[int, str], ...] = ()


def _visit(
    name: str, missing: str, report: Report, *tabs: Tab, aliases: tuple[str, ...] = ()
) -> Dimension:
    """An attribution dimension: the same column on events and sessions, labelled when missing,
    also accepted by Plausible's ``visit:`` name."""
    aliases = (f"visit:{name}", *aliases)
    return Dimension(
        name=name, events=name, sessions=name, missing=missing, aliases=aliases, report=report,
        tabs=tabs,
    )


def _utm(key: str, tab: str, label: str, position: int) -> Dimension:
    return _visit(
        f"utm_{key}", "(none)", Report(key=f"utm_{key}s", title=f"UTM {key}s", label=f"UTM {key}"),
        Tab(panel="sources", key=tab, label=label, position=position),
    )


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        name="page", events="pathname", sessions="entry_page", aliases=("event:page",),
        viewed=True,
        report=Report(key="pages", title="Top pages", label="Page",
                      metrics=("visitors", "pageviews", "bounce_rate", "time_on_page",
                               "scroll_depth")),
        tabs=(Tab(panel="pages", key="top", label="Top pages", position=0),),
    ),
    Dimension(
        name="entry_page", events=None, sessions="entry_page", aliases=("visit:entry_page",),
        report=Report(key="entry_pages", title="Entry pages", label="Entry page"),
        tabs=(Tab(panel="pages", key="entry", label="Entry", position=1),),
    ),
    Dimension(
        name="exit_page", events=None, sessions="exit_page", aliases=("visit:exit_page",),
        report=Report(key="exit_pages", title="Exit pages", label="Exit page",
                      metrics=("visitors", "visits")),
        tabs=(Tab(panel="pages", key="exit", label="Exit", position=2),),
    ),
    Dimension(
        name="hostname", events="hostname", sessions="hostname",
        aliases=("event:hostname", "visit:hostname", "visit:entry_page_hostname"),
        report=Report(key="hostnames", title="Hostnames", label="Hostname"),
        tabs=(Tab(panel="pages", key="hostnames", label="Hostname", position=3),),
    ),
    _visit("source", "Direct / None", Report(key="sources", title="Sources", label="Source"),
           Tab(panel="sources", key="sources", label="Sources", position=1)),
    _visit("channel", "Direct", Report(key="channels", title="Channels", label="Channel"),
           Tab(panel="sources", key="channels", label="Channels", position=0)),
    _visit("referrer", "Direct / None",
           Report(key="referrers", title="Referrers", label="Referrer")),
    # The UTM tab keys "campaigns" and "mediums" predate the UTM menu: kept for old URLs.
    _utm("source", "utm_sources", "Source", 4),
    _utm("medium", "mediums", "Medium", 3),
    _utm("campaign", "campaigns", "Campaign", 2),
    _utm("term", "terms", "Term", 5),
    _utm("content", "contents", "Content", 6),
    _visit("country", "Unknown", Report(key="countries", title="Countries", label="Country"),
           Tab(panel="locations", key="map", label="Map", position=0),
           Tab(panel="locations", key="globe", label="Globe", position=1),
           Tab(panel="locations", key="countries", label="Countries", position=2),
           aliases=("visit:country_name",)),
    # Plausible's visit:region is the ISO 3166-2 code (region_code below); names are
    # visit:region_name.
    Dimension(
        name="region", events="region", sessions="region", missing="Unknown",
        aliases=("visit:region_name",),
        report=Report(key="regions", title="Regions", label="Region"),
        tabs=(Tab(panel="locations", key="regions", label="Regions", position=3),),
    ),
    # API-only (the dashboard shows names), and per visit only like the language: no event row
    # carries its bytes.
    Dimension(
        name="region_code", events=None, sessions="region_code", missing="Unknown",
        aliases=("visit:region",),
    ),
    _visit("city", "Unknown", Report(key="cities", title="Cities", label="City"),
           Tab(panel="locations", key="cities", label="Cities", position=4),
           aliases=("visit:city_name",)),
    _visit("device", "Unknown", Report(key="devices", title="Devices", label="Device"),
           Tab(panel="devices", key="devices", label="Device", position=3)),
    _visit("browser", "Unknown", Report(key="browsers", title="Browsers", label="Browser"),
           Tab(panel="devices", key="browsers", label="Browser", position=0)),
    _visit("browser_version", "Unknown",
           Report(key="browser_versions", title="Browser versions", label="Browser version"),
           Tab(panel="devices", key="browser_versions", label="Browser", position=4)),
    _visit("os", "Unknown", Report(key="os", title="Operating systems", label="OS"),
           Tab(panel="devices", key="os", label="OS", position=1)),
    _visit("os_version", "Unknown",
           Report(key="os_versions", title="OS versions", label="OS version"),
           Tab(panel="devices", key="os_versions", label="OS", position=5)),
    _visit("screen", "Unknown", Report(key="screens", title="Screen sizes", label="Screen size"),
           Tab(panel="devices", key="screens", label="Size", position=2)),
    Dimension(
        name="language", events=None, sessions="language", missing="Unknown",
        aliases=("visit:language",),
        report=Report(key="languages", title="Languages", label="Language"),
        tabs=(Tab(panel="devices", key="languages", label="Language", position=6),),
    ),
    # Whether the visit's browser had visited before (migration 0027; opt-in per site, so most
    # visits read Unknown). Per visit only, like the language.
    Dimension(
        name="returning", events=None, sessions="is_returning", missing="Unknown",
        aliases=("visit:returning",), labels=((0, "New"), (1, "Returning")),
        report=Report(key="returning", title="New vs returning", label="New or returning"),
        tabs=(Tab(panel="devices", key="returning", label="Returning", position=7,
                  site_flag="returning_enabled"),),
    ),
    # The path's latest title (migration 0026: one row per path, not a column per event). Bare
    # outer names: the events table is aliased in some statements; page_titles' own columns are
    # named so that ``site_id`` and ``pathname`` can only mean the events row's.
    Dimension(
        name="page_title", events="pathname", sessions=None, missing="(none)",
        aliases=("event:page_title",),
        lookup="(SELECT title FROM page_titles WHERE site = site_id AND path = pathname)",
    ),
    Dimension(
        name="event:name", events="name", sessions=None,
        report=Report(key="events", title="Events", label="Event", metrics=("visitors", "events")),
    ),
)

assert set(ATTRIBUTION_COLUMNS) <= set(EVENT_COLUMNS) & set(SESSION_COLUMNS)
assert set(EVENT_COLUMNS) | set(SESSION_COLUMNS) <= set(COLUMN_TYPES)
assert all(
    (d.events is None or d.events in EVENT_COLUMNS)
    and (d.sessions is None or d.sessions in SESSION_COLUMNS)
    for d in DIMENSIONS
), "a dimension reads a column the tables lack"
assert len({d.name for d in DIMENSIONS}) == len(DIMENSIONS)
