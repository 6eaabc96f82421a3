"""The typed stats ``Query`` and its parser: raw input in, validated value (or ``QueryError``) out.

Shaped after Plausible's Stats API v2 (``metrics``, ``dimensions``, ``filters``, ``date_range``,
``order_by``, ``pagination``). The vocabularies (``query_names``, re-exported here) are the single
list of what may be asked; the SQL builder maps each name to SQL through its own allowlist
(``sql.columns``), and a test proves the two lists agree. Adding a metric, dimension or filter
operator means extending a vocabulary there and one mapping in the builder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from .exceptions import QueryError
from .filters import (
    MAX_FILTER_LEAVES,
    Condition,
    FilterNode,
    filter_leaves,
    filter_to_json,
    parse_filters,
)
from .goals import Goal
from .periods import (
    ALL_TIME_MAX_DAYS,
    Comparison,
    DateRange,
    Interval,
    comparison_period,
    resolve_period,
)
from .query_names import (
    CONVERSION_METRICS,
    DIMENSIONS,
    GOAL_DIMENSION,
    MAX_DATE,
    MAX_DIMENSIONS,
    MAX_HOUR_RANGE_DAYS,
    MAX_LIMIT,
    METRICS,
    MIN_DATE,
    PROP_PREFIX,
    TIME_DIMENSIONS,
    Metric,
    canonical_dimension,
    hours_fit,
)

__all__ = [
    "CONVERSION_METRICS",
    "DIMENSIONS",
    "GOAL_DIMENSION",
    "MAX_DATE",
    "MAX_DIMENSIONS",
    "MAX_HOUR_RANGE_DAYS",
    "MAX_LIMIT",
    "METRICS",
    "MIN_DATE",
    "PROP_PREFIX",
    "TIME_DIMENSIONS",
    "Metric",
    "Query",
    "canonical_dimension",
    "hours_fit",
    "make_query",
    "parse_query",
]


class Query(BaseModel):
    """A validated stats query for one site.

    ``today`` is the site-local date presets are resolved against, and ``stats_start`` the site's
    first day (for ``all``); ``goals`` are the site's goals (what ``event:goal`` names and
    breaks down by); pinning them makes a query a pure value.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    site_id: str = Field(min_length=1, max_length=64)
    timezone: str = "UTC"
    today: date
    stats_start: date | None = None
    date_range: DateRange
    comparison: Comparison | None = None
    metrics: tuple[Metric, ...] = Field(min_length=1)
    dimensions: tuple[str, ...] = Field(default=(), max_length=MAX_DIMENSIONS)
    filters: tuple[FilterNode, ...] = ()
    order_by: tuple[tuple[str, Literal["asc", "desc"]], ...] | None = None
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    total_rows: bool = False
    goals: tuple[Goal, ...] = ()
    # Plausible's include.imports: imported history answers the days without native data.
    include_imports: bool = False
    # A range finer than days (``24h``, date-times; ``instants``): the UTC ms it runs between,
    # inside the local days of ``date_range``.
    clip_ms: tuple[int, int] | None = None

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r}") from None
        return value

    @field_validator("date_range", "comparison")
    @classmethod
    def _check_range(cls, value: Any) -> Any:
        if isinstance(value, tuple):
            first, last = value
            if not (MIN_DATE <= first <= MAX_DATE and MIN_DATE <= last <= MAX_DATE):
                raise ValueError(
                    f"dates must lie between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}"
                )
            if first > last:
                raise ValueError("the first date is after the last")
            if (last - first).days >= ALL_TIME_MAX_DAYS:
                raise ValueError(f"a custom range spans at most {ALL_TIME_MAX_DAYS} days")
        return value

    @field_validator("metrics")
    @classmethod
    def _check_metrics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("each metric may appear only once")
        return value

    @field_validator("dimensions", mode="before")
    @classmethod
    def _check_dimensions(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value
        names = tuple(canonical_dimension(str(d)) for d in value)
        if len(set(names)) != len(names):
            raise ValueError("each dimension may appear only once")
        if sum(1 for d in names if d in TIME_DIMENSIONS) > 1:
            raise ValueError("at most one time dimension")
        return names

    @field_validator("filters", mode="before")
    @classmethod
    def _parse_filters(cls, value: Any) -> Any:
        return parse_filters(value, canonical=canonical_dimension)

    @field_validator("order_by", mode="before")
    @classmethod
    def _canonical_order(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value
        out = []
        for item in value:
            if isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str):
                name = item[0] if item[0] in METRICS else canonical_dimension(item[0])
                out.append((name, item[1]))
            else:
                out.append(item)
        return out

    @field_serializer("filters")
    def _dump_filters(self, value: tuple[FilterNode, ...]) -> list[Any]:
        return [filter_to_json(node) for node in value]

    @model_validator(mode="after")
    def _check_together(self) -> Self:
        for name, _direction in self.order_by or ():
            if name not in self.metrics and name not in self.dimensions:
                raise ValueError(f"order_by: {name!r} is not among the metrics or dimensions")
        if "percentage" in self.metrics and not self.non_time_dimensions:
            raise ValueError("metrics: percentage needs a non-time dimension")
        if self.interval == "hour" and not hours_fit(*self.period):
            raise ValueError(
                f"dimensions: time:hour needs a range of at most {MAX_HOUR_RANGE_DAYS} days"
            )
        if self.clip_ms is not None and self.comparison is not None:
            raise ValueError("comparison: not with a date-time range (compare whole days)")
        if len(filter_leaves(self.filters)) > MAX_FILTER_LEAVES:
            raise ValueError(f"filters: at most {MAX_FILTER_LEAVES} conditions")
        self._check_goals()
        return self

    def _check_goals(self) -> None:
        names = {goal.name for goal in self.goals}
        for leaf in filter_leaves(self.filters):
            if leaf.dimension != GOAL_DIMENSION:
                continue
            if leaf.op not in ("is", "contains"):
                raise ValueError("filters: event:goal takes the operators is and contains")
            if leaf.op == "is":
                folded = names if leaf.case_sensitive else {n.lower() for n in names}
                unknown = [
                    v for v in leaf.values
                    if (v if leaf.case_sensitive else v.lower()) not in folded
                ]
                if unknown:
                    known = ", ".join(sorted(names)) or "none yet"
                    raise ValueError(f"filters: the site has no goal named {unknown[0]!r} "
                                     f"(its goals: {known})")
        asked = [m for m in self.metrics if m in CONVERSION_METRICS]
        if asked and GOAL_DIMENSION not in self.dimensions and not self.goal_filters:
            raise ValueError(f"metrics: {asked[0]} needs an event:goal filter (at the top "
                             "level) or the event:goal dimension")

    @property
    def goal_filters(self) -> tuple[Condition, ...]:
        """The top-level conditions on ``event:goal``: what conversion rates leave out of their
        divisor."""
        return tuple(
            node for node in self.filters
            if isinstance(node, Condition) and node.dimension == GOAL_DIMENSION
        )

    @property
    def uses_goals(self) -> bool:
        """True when goals are asked for: such a query reads raw events only."""
        return GOAL_DIMENSION in self.dimensions or any(
            leaf.dimension == GOAL_DIMENSION for leaf in filter_leaves(self.filters)
        )

    @property
    def zone(self) -> ZoneInfo:
        """The site's timezone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

    @property
    def period(self) -> tuple[date, date]:
        """The inclusive (first, last) local dates the query covers."""
        return resolve_period(self.date_range, today=self.today, stats_start=self.stats_start)

    @property
    def comparison_period(self) -> tuple[date, date] | None:
        """The (first, last) local dates of the comparison, or None without one."""
        if self.comparison is None:
            return None
        return comparison_period(self.period, self.comparison)

    @property
    def interval(self) -> Interval | None:
        """The time dimension's interval, or None when time is not a dimension."""
        for name in self.dimensions:
            if name in TIME_DIMENSIONS:
                return TIME_DIMENSIONS[name]
        return None

    @property
    def non_time_dimensions(self) -> tuple[str, ...]:
        """The dimensions other than time."""
        return tuple(d for d in self.dimensions if d not in TIME_DIMENSIONS)

    def includes_today(self) -> bool:
        """True when the period (or its comparison) reaches today, so its numbers still move."""
        last = max(self.period[1], (self.comparison_period or self.period)[1])
        return last >= self.today


def _normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    raw = dict(data)
    pagination = raw.pop("pagination", None)
    if isinstance(pagination, Mapping):
        for key in ("limit", "offset"):
            if key in pagination:
                raw[key] = pagination[key]
    elif pagination is not None:
        raw["pagination"] = pagination  # refused below, naming the field
    for field in ("date_range", "comparison"):
        value = raw.get(field)
        if isinstance(value, list):
            raw[field] = tuple(value)
    return raw


def _error_field(error: Mapping[str, Any]) -> tuple[str, str]:
    location = [str(part) for part in error["loc"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    if location:
        return location[0], ".".join(location)
    # Model-level checks name their field at the start of the message ("order_by: ...").
    field = message.split(":", 1)[0] if ":" in message else "query"
    return field, ""


def parse_query(
    data: Mapping[str, Any],
    *,
    timezone: str = "UTC",
    now: datetime | None = None,
    stats_start: date | None = None,
    goals: Sequence[Goal] = (),
) -> Query:
    """Validate raw query input (e.g. a decoded JSON body) into a ``Query``.

    ``timezone`` is the site's; ``now`` (default: the current time) fixes "today" in it;
    ``stats_start`` is the site's first day, where ``all`` begins; ``goals`` are the site's.
    Raises ``QueryError`` whose ``code`` is ``invalid_<field>`` and whose message names the
    field.
    """
    raw = _normalise(data)
    if goals:
        raw["goals"] = tuple(goals)
    return _validated(raw, timezone=timezone, now=now, stats_start=stats_start)


def make_query(
    *,
    site_id: str,
    date_range: DateRange,
    metrics: Sequence[str],
    dimensions: Sequence[str] = (),
    filters: Sequence[FilterNode] = (),
    comparison: Comparison | None = None,
    limit: int = 100,
    offset: int = 0,
    total_rows: bool = False,
    timezone: str = "UTC",
    now: datetime | None = None,
    stats_start: date | None = None,
    goals: Sequence[Goal] = (),
    include_imports: bool = False,
) -> Query:
    """A ``Query`` from parts already typed (the dashboard's state), checked as ``parse_query``
    checks raw input, with the same ``QueryError`` on a bad combination (e.g. a range too long
    for ``time:hour``)."""
    raw: dict[str, Any] = {
        "site_id": site_id, "date_range": date_range, "metrics": tuple(metrics),
        "dimensions": tuple(dimensions), "filters": tuple(filters), "limit": limit,
        "offset": offset, "total_rows": total_rows, "include_imports": include_imports,
    }
    if comparison is not None:
        raw["comparison"] = comparison
    if goals:
        raw["goals"] = tuple(goals)
    return _validated(raw, timezone=timezone, now=now, stats_start=stats_start)


def _validated(
    raw: dict[str, Any], *, timezone: str, now: datetime | None, stats_start: date | None
) -> Query:
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"timezone: unknown timezone {timezone!r}"
        raise QueryError(code="invalid_timezone", message=message) from None
    raw.setdefault("timezone", timezone)
    raw.setdefault("today", (now or datetime.now(UTC)).astimezone(tz).date())
    if stats_start is not None:
        raw.setdefault("stats_start", stats_start)
    try:
        return Query.model_validate(raw)
    except ValidationError as exc:
        field, location = _error_field(exc.errors()[0])
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        text = message if not location else f"{location}: {message}"
        raise QueryError(code=f"invalid_{field}", message=text) from None
