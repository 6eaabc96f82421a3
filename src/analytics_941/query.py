"""The typed stats ``Query`` and its parser: raw input in, validated value (or ``QueryError``) out.

Shaped after Plausible's Stats API v2 (``metrics``, ``dimensions``, ``filters``, ``date_range``,
``order_by``, ``limit``). The vocabularies below are the single list of what may be asked; the SQL
builder maps each name to SQL through its own allowlist. Adding a metric, dimension or filter
operator means extending a ``Literal`` here and one mapping there.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal, Self, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .exceptions import QueryError
from .periods import Preset, resolve_period

__all__ = ["Dimension", "Filter", "FilterOp", "Metric", "Query", "parse_query"]

Metric: TypeAlias = Literal["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]
Dimension: TypeAlias = Literal["time:day", "page", "source", "country", "device"]
FilterDimension: TypeAlias = Literal["page", "source", "country", "device"]
FilterOp: TypeAlias = Literal["is", "is_not", "contains"]
Filter: TypeAlias = tuple[FilterOp, FilterDimension, tuple[str, ...]]

# Plausible's prefixed names, accepted so existing Stats API v2 clients carry over.
_DIMENSION_ALIASES = {
    "event:page": "page",
    "visit:source": "source",
    "visit:country": "country",
    "visit:device": "device",
}
# D1 binds at most 100 parameters per statement and filters appear in both subqueries.
MAX_FILTER_VALUES = 40
MAX_RANGE_DAYS = 366


class Query(BaseModel):
    """A validated stats query for one site.

    ``today`` is the site-local date the presets are resolved against; pinning it makes a query a
    pure value (the same query always means the same period).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    site_id: str = Field(min_length=1, max_length=64)
    timezone: str = "UTC"
    today: date
    date_range: Preset | tuple[date, date]
    metrics: tuple[Metric, ...] = Field(min_length=1)
    dimensions: tuple[Dimension, ...] = Field(default=(), max_length=2)
    filters: tuple[Filter, ...] = ()
    order_by: tuple[tuple[Metric | Dimension, Literal["asc", "desc"]], ...] | None = None
    limit: int = Field(default=100, ge=1, le=1000)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r}") from None
        return value

    @field_validator("date_range")
    @classmethod
    def _check_date_range(cls, value: Preset | tuple[date, date]) -> Preset | tuple[date, date]:
        if isinstance(value, tuple):
            first, last = value
            if first > last:
                raise ValueError("the first date is after the last")
            if (last - first).days >= MAX_RANGE_DAYS:
                raise ValueError(f"a custom range spans at most {MAX_RANGE_DAYS} days")
        return value

    @field_validator("metrics", "dimensions")
    @classmethod
    def _check_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("each name may appear only once")
        return value

    @field_validator("filters")
    @classmethod
    def _check_filters(cls, value: tuple[Filter, ...]) -> tuple[Filter, ...]:
        for _op, _dimension, values in value:
            if not values:
                raise ValueError("a filter needs at least one value")
            if any(len(v) > 2000 for v in values):
                raise ValueError("a filter value is longer than 2000 characters")
        if sum(len(values) for *_, values in value) > MAX_FILTER_VALUES:
            raise ValueError(f"filters may carry at most {MAX_FILTER_VALUES} values in total")
        return value

    @model_validator(mode="after")
    def _check_order_by(self) -> Self:
        for name, _direction in self.order_by or ():
            if name not in self.metrics and name not in self.dimensions:
                raise ValueError(f"{name!r} is not among the requested metrics or dimensions")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The site's timezone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

    @property
    def period(self) -> tuple[date, date]:
        """The inclusive (first, last) local dates the query covers."""
        first, last = resolve_period(self.date_range, today=self.today)
        return first, last


def _normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    raw = dict(data)
    if isinstance(raw.get("dimensions"), list | tuple):
        raw["dimensions"] = [_DIMENSION_ALIASES.get(d, d) for d in raw["dimensions"]]
    if isinstance(raw.get("filters"), list | tuple):
        raw["filters"] = [
            [f[0], _DIMENSION_ALIASES.get(f[1], f[1]), *f[2:]]
            if isinstance(f, list | tuple) and len(f) >= 2 and isinstance(f[1], str)
            else f
            for f in raw["filters"]
        ]
    return raw


def parse_query(
    data: Mapping[str, Any], *, timezone: str = "UTC", now: datetime | None = None
) -> Query:
    """Validate raw query input (e.g. a decoded JSON body) into a ``Query``.

    ``timezone`` is the site's; ``now`` (default: the current time) fixes "today" in it. Raises
    ``QueryError`` whose ``code`` is ``invalid_<field>`` and whose message names the field.
    """
    raw = _normalise(data)
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"unknown timezone {timezone!r}"
        raise QueryError(code="invalid_timezone", message=message) from None
    raw.setdefault("timezone", timezone)
    raw.setdefault("today", (now or datetime.now(UTC)).astimezone(tz).date())
    try:
        return Query.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        # The only model-level (location-less) check is the order_by cross-check.
        field = str(error["loc"][0]) if error["loc"] else "order_by"
        location = ".".join(str(part) for part in error["loc"]) or "order_by"
        message = error["msg"].removeprefix("Value error, ")
        raise QueryError(code=f"invalid_{field}", message=f"{location}: {message}") from None
