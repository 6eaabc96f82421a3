"""Plausible's Stats API v1 query parameters, read into a v2 query body.

v1 names a period relative to ``date`` (``day``, ``7d``, ``30d``, ``month``, ``6mo``, ``12mo``,
``year``, ``all``, ``custom`` with ``date=FIRST,LAST``) and writes filters as one string:
``visit:source==Google|Twitter;event:page==/blog*``; ``segment==ID`` names a saved segment
(v2's ``["is", "segment", [ID]]``, expanded as v2 expands it). Both become the v2 body the one
query path already parses, so v1 answers the numbers v2 answers. The periods follow Plausible's
v1 code, quirks included: ``30d`` is the 30 days *before* ``date`` plus ``date`` itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from ..exceptions import QueryError

__all__ = ["breakdown_key", "v1_body", "v1_date_range", "v1_filters"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# v1's timeseries buckets and the v2 time dimension of each.
_INTERVALS = {"date": "time:day", "day": "time:day", "week": "time:week", "month": "time:month"}
_MONTHLY_PERIODS = {"6mo", "12mo", "year"}
# A filter: property, operator, values ('|' separated, '\|' a literal bar).
_FILTER = re.compile(r"^\s*([a-z_]+:[A-Za-z0-9_.:-]+|segment)\s*(==|!=)(.*)$", re.DOTALL)


def _bad(field: str, message: str) -> QueryError:
    return QueryError(code=f"invalid_{field}", message=message)


def _day(text: str, field: str = "date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        message = f"{field} must be a date written YYYY-MM-DD, not {text[:40]!r}."
        raise _bad(field, message) from None


def _month_start(day: date, months_back: int) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _month_end(day: date) -> date:
    return _month_start(day, -1) - timedelta(days=1)


def v1_date_range(period: str, when: str | None, *, today: date) -> list[str] | str:
    """The v2 ``date_range`` of a v1 ``period`` and ``date`` (``today`` is the site's)."""
    if period == "custom":
        parts = (when or "").split(",")
        if len(parts) != 2:
            raise _bad("date", "With period=custom, date takes two dates joined by a comma: "
                               "date=2024-01-01,2024-01-31.")
        first, last = (_day(p) for p in parts)
        return [first.isoformat(), last.isoformat()]
    if period == "all":
        return "all"
    day = today if when in (None, "", "today") else _day(when or "")
    try:
        spans = _spans(day)
    except (ValueError, OverflowError):
        raise _bad("date", "date is too far in the past or the future.") from None
    if period not in spans:
        known = ", ".join([*spans, "all", "custom"])
        raise _bad("period", f"period must be one of {known}, not {period[:40]!r}.")
    first, last = spans[period]
    return [first.isoformat(), last.isoformat()]


def _spans(day: date) -> dict[str, tuple[date, date]]:
    return {
        "day": (day, day),
        "7d": (day - timedelta(days=6), day),
        "30d": (day - timedelta(days=30), day),
        "month": (_month_start(day, 0), _month_end(day)),
        "6mo": (_month_start(day, 5), _month_end(day)),
        "12mo": (_month_start(day, 11), _month_end(day)),
        "year": (date(day.year, 1, 1), date(day.year, 12, 31)),
    }


def _values(text: str) -> list[str]:
    return [v.replace("\\|", "|") for v in re.split(r"(?<!\\)\|", text)]


def v1_filters(text: str) -> list[list[Any]]:
    """v1's filter string as v2 filters: ``==`` is ``is`` (``matches_wildcard`` with a ``*``),
    ``!=`` its negation, ``|`` several values, ``;`` one more condition."""
    filters: list[list[Any]] = []
    for part in (p for p in text.split(";") if p.strip()):
        found = _FILTER.match(part)
        if found is None:
            raise _bad("filters", f"Cannot read the filter {part[:60]!r}: write property==value "
                                  "or property!=value, such as visit:country==DE.")
        prop, op, raw = found.groups()
        values = _values(raw)
        if prop == "segment":
            filters.append(_segment_filter(values, negated=op == "!="))
            continue
        wildcard = any("*" in v for v in values)
        negated = op == "!="
        if wildcard:
            name = "matches_wildcard_not" if negated else "matches_wildcard"
        else:
            name = "is_not" if negated else "is"
        filters.append([name, prop, values])
    return filters


def _segment_filter(values: list[str], *, negated: bool) -> list[Any]:
    """``segment==4|7`` as v2's segment filter; ids are whole numbers (v2 names them so)."""
    if not all(v.strip().isdigit() for v in values):
        raise _bad("filters", "segment takes the ids of saved segments, such as segment==4 "
                              "(a site's settings list them).")
    found: list[Any] = ["is", "segment", [int(v) for v in values]]
    return ["not", found] if negated else found


def breakdown_key(prop: str) -> str:
    """The key v1 names a breakdown's values by: ``visit:source`` → ``source``,
    ``event:props:method`` → ``method``."""
    return prop.rsplit(":", 1)[-1]


def _limit(params: Mapping[str, str]) -> dict[str, int]:
    try:
        limit = int(params.get("limit") or DEFAULT_LIMIT)
        page = int(params.get("page") or 1)
    except ValueError:
        raise _bad("limit", "limit and page must be whole numbers.") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad("limit", f"limit must be between 1 and {MAX_LIMIT}.")
    if page < 1:
        raise _bad("page", "page numbers start at 1.")
    return {"limit": limit, "offset": (page - 1) * limit}


def v1_body(kind: str, params: Mapping[str, str], *, today: date) -> dict[str, Any]:
    """The v2 body for a v1 ``kind`` of request (``aggregate``, ``timeseries``, ``breakdown``)."""
    period = params.get("period") or "30d"
    body: dict[str, Any] = {
        "site_id": params.get("site_id", ""),
        "date_range": v1_date_range(period, params.get("date"), today=today),
        "metrics": [m.strip() for m in (params.get("metrics") or "visitors").split(",")
                    if m.strip()],
    }
    if params.get("filters"):
        body["filters"] = v1_filters(params["filters"])
    if params.get("with_imported") == "true":
        # Imported history, as v2's include.imports (v1 has no meta to warn in).
        body.setdefault("include", {})["imports"] = True
    if kind == "aggregate" and params.get("compare"):
        if params["compare"] != "previous_period":
            raise _bad("compare", "compare takes previous_period.")
        body.setdefault("include", {})["comparisons"] = {"mode": "previous_period"}
    if kind == "timeseries":
        default = "month" if period in _MONTHLY_PERIODS else "day"
        if period == "day":
            default = "hour"
        interval = params.get("interval") or default
        if interval == "hour":
            body["dimensions"] = ["time:hour"]
        elif interval in _INTERVALS:
            body["dimensions"] = [_INTERVALS[interval]]
        else:
            raise _bad("interval", "interval must be date or month.")
        body.setdefault("include", {})["time_labels"] = True
        body["pagination"] = {"limit": 10_000}
    if kind == "breakdown":
        prop = params.get("property") or ""
        if not prop:
            raise _bad("property", "property is required: the property to break down by, "
                                   "such as event:page or visit:source.")
        body["dimensions"] = [prop]
        body["pagination"] = _limit(params)
    return body
