"""Raw exports: every pageview, event or goal conversion of a period as one CSV, streamed.

The rows are read in pages by keyset pagination on the events primary key ``(site_id, ts, id)``:
each page is ONE statement (``ts >= last ts`` drives the index range, ``id`` breaks ties), so a
year of 10 M events costs ~1,000 statements, none near D1's time or response-size limits,
and the process holds one page at a time. The dashboard's filters apply as in every report
(``sql.where``, after ``resolve_filters``); conversions join the site's goals (``sql.goals``).

Privacy (docs/privacy.md): no visitor id, session id, IP or user agent leaves. A visit is
named by ``visit``: an HMAC of its session id under a key drawn for this export alone, so the
rows of one visit group together in the file, but two exports (or the database) cannot be
linked through it. Cells a spreadsheet would run are escaped with ``csv_export.safe_cell``.

Before the first byte, ``expected_rows`` counts what the file will hold through the one query
path (the Stats API's totals, which the rows match), so the dashboard can show progress
(``EXPECTED_ROWS_HEADER``; docs/exports.md).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from ...filters import Condition
from ...periods import bounds_ms
from ...query import GOAL_DIMENSION, MAX_LIMIT, Query
from ...resolve import resolve_filters
from ...runner import run_query
from ...sites import Site
from ...sql.goals import goal_join, goal_rows_cte, goal_test
from ...sql.params import Params
from ...sql.where import filters_sql
from ...store import Param, Row, Store
from .csv_export import safe_cell
from .site_goals import read_goals
from .state import DashboardState

__all__ = [
    "COLUMNS", "EXPECTED_ROWS_HEADER", "EXPORT_KINDS", "PAGE_ROWS", "ExportKind", "RawExport",
    "expected_rows", "page_statement", "plan_export", "stream_csv", "stream_rows",
]

ExportKind = Literal["pageviews", "events", "conversions"]
EXPORT_KINDS: tuple[ExportKind, ...] = ("pageviews", "events", "conversions")
# Rows per statement (~0.5 KB each: ~5 MB a page). Each page is one D1 REST request, and
# Cloudflare allows 1,200 per 5 minutes per API token, shared with the dashboard: 10 M rows are
# 1,000 pages, spread over the minutes the export takes.
PAGE_ROWS = 10_000
# The response header carrying ``expected_rows``: the data rows the file will hold.
EXPECTED_ROWS_HEADER = "X-Export-Rows"

# Where a visit came from and who it was (coarsely), as the collector stored them.
_ATTRIBUTION = (
    "referrer", "source", "channel", "utm_source", "utm_medium", "utm_campaign", "utm_term",
    "utm_content", "country", "region", "city", "device", "browser", "browser_version", "os",
    "os_version", "screen",
)
# Column names in the CSV, in order, per kind (docs/exports.md describes each).
COLUMNS: dict[ExportKind, tuple[str, ...]] = {
    "pageviews": ("time", "hostname", "pathname", *_ATTRIBUTION, "engaged_ms", "scroll_depth",
                  "visit"),
    "events": ("time", "name", "hostname", "pathname", "props", "revenue", "revenue_currency",
               *_ATTRIBUTION, "visit"),
    "conversions": ("time", "goal", "name", "hostname", "pathname", "props", "revenue",
                    "revenue_currency", *_ATTRIBUTION, "visit"),
}
# Stored columns read per kind (``time`` comes from ``ts``, ``visit`` from ``session_id``).
_STORED = {
    kind: tuple(c for c in cols if c not in ("time", "visit", "goal")) for kind, cols in
    COLUMNS.items()
}


@dataclass(frozen=True, kw_only=True)
class RawExport:
    """One export's plan: what it reads, and the parts of its statement that never change."""

    kind: ExportKind
    site: Site
    first: Any
    last: Any
    start_ms: int
    end_ms: int
    query: Query

    @property
    def filename(self) -> str:
        """``example.com-pageviews-2026-01-01-2026-12-31.csv``."""
        first, last = self.first.isoformat(), self.last.isoformat()
        return f"{self.site.domain}-{self.kind}-{first}-{last}.csv"


async def plan_export(store: Store, *, kind: ExportKind, site: Site, state: DashboardState,
                      home: Store | None = None, now: datetime | None = None) -> RawExport:
    """The export of ``kind`` for the dashboard's period and filters (goals read from ``home``)."""
    state = replace(state, goals=await read_goals(store if home is None else home, site.id))
    query = state.query(site, metrics=["visitors"], compare=False, now=now)
    query = await resolve_filters(store, query)
    first, last = query.period
    start_ms, end_ms = bounds_ms(first, last, tz=query.zone)
    return RawExport(kind=kind, site=site, first=first, last=last, start_ms=start_ms,
                     end_ms=end_ms, query=query)


async def expected_rows(store: Store, plan: RawExport) -> int:
    """The data rows the export will hold, as the Stats API counts them: ``pageviews`` or
    ``events`` over the same period and filters, and for conversions the ``events`` of each goal
    summed (one row per goal an event reaches). Collected rows only, as the export reads."""
    query = plan.query.model_copy(update={"include_imports": False, "comparison": None})
    if plan.kind == "conversions":
        if not query.goals:
            return 0
        query = query.model_copy(update={"metrics": ("events",), "dimensions": (GOAL_DIMENSION,),
                                         "limit": MAX_LIMIT})
        result = await run_query(store, query)
        return sum(int(r["metrics"][0] or 0) for r in result["results"])
    metric = "pageviews" if plan.kind == "pageviews" else "events"
    result = await run_query(store, query.model_copy(update={"metrics": (metric,)}))
    return sum(int(r["metrics"][0] or 0) for r in result["results"])


def page_statement(plan: RawExport, *, after: tuple[int, str] | None,
                   limit: int = PAGE_ROWS) -> tuple[str, list[Param]]:
    """The statement reading the page of rows after ``after`` (``(ts, id)`` of the last row)."""
    params = Params()
    site = params.ref(plan.site.id)
    lo, hi = params.ref(plan.start_ms), params.ref(plan.end_ms)
    where = [f"site_id = {site}", f"ts >= {lo}", f"ts < {hi}"]
    if after is not None:
        ts, last_id = params.ref(after[0]), params.ref(after[1])
        # ts >= bounds the index range; the OR skips the rows of that ms already sent.
        where += [f"ts >= {ts}", f"(ts > {ts} OR id > {last_id})"]
    if plan.kind == "pageviews":
        where.append("name = 'pageview'")
    where += filters_sql(plan.query.filters, table="events", site=site,
                         bounds=(plan.start_ms, plan.end_ms), params=params,
                         goals=plan.query.goals)
    columns = ", ".join(("id", "ts", "session_id", *_STORED[plan.kind]))
    if plan.kind != "conversions":
        sql = (f"SELECT {columns} FROM events WHERE {' AND '.join(where)} "
               f"ORDER BY ts, id LIMIT {int(limit)}")
        return sql, params.check()
    # Conversions: a page of converting events, then one row per goal each converts; the
    # cursor stays on events, so an event's goals never straddle two pages.
    goals = [g.name for g in plan.query.goals]
    any_goal = goal_test(Condition(dimension=GOAL_DIMENSION, op="is", values=tuple(goals)),
                         plan.query.goals, params) if goals else "0"
    cte = goal_rows_cte(plan.query.goals, params)
    sql = (f"WITH {cte}, page AS (SELECT {columns} FROM events "
           f"WHERE {' AND '.join(where)} AND {any_goal} ORDER BY ts, id LIMIT {int(limit)}) "
           f"SELECT page.*, g.gname AS goal FROM page {goal_join()} "
           f"ORDER BY page.ts, page.id, g.gname")
    return sql, params.check()


async def stream_rows(store: Store, plan: RawExport, *,
                      page_rows: int = PAGE_ROWS) -> AsyncIterator[list[Row]]:
    """Yield the export's stored rows, one page (one statement) at a time."""
    after: tuple[int, str] | None = None
    while True:
        sql, params = page_statement(plan, after=after, limit=page_rows)
        rows = await store.execute(sql, params)
        if not rows:
            return
        yield rows
        last = rows[-1]
        # D1's HTTP API may hand numbers back as they were bound: normalise the cursor.
        after = (int(last["ts"]), str(last["id"]))
        distinct = len({r["id"] for r in rows}) if plan.kind == "conversions" else len(rows)
        if distinct < page_rows:
            return


def _time(ts: Any) -> str:
    return datetime.fromtimestamp(int(ts) / 1000, tz=UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


def _cells(kind: ExportKind, row: Row, visit: dict[str, str], visit_key: bytes) -> list[Any]:
    """One CSV row: ``time`` first, ``visit`` last (``COLUMNS``), the stored values between
    (``None`` is written as an empty cell by the csv module)."""
    session = str(row["session_id"])
    if session not in visit:  # a visit's events are mostly on one page
        visit[session] = hmac.new(visit_key, session.encode(), hashlib.sha256).hexdigest()[:16]
    values = [row[c] for c in COLUMNS[kind][1:-1]]
    return [_time(row["ts"]), *[v if v is None else safe_cell(v) for v in values], visit[session]]


def _encode(rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


async def stream_csv(store: Store, plan: RawExport, *,
                     page_rows: int = PAGE_ROWS) -> AsyncIterator[bytes]:
    """The export as CSV bytes: the header, then one chunk per page as it is read."""
    visit_key = secrets.token_bytes(32)
    yield _encode([COLUMNS[plan.kind]])
    async for rows in stream_rows(store, plan, page_rows=page_rows):
        visit: dict[str, str] = {}  # per page: memory stays flat
        yield _encode([_cells(plan.kind, row, visit, visit_key) for row in rows])
