"""The spans: a day's batch rebuilds the month and the ISO week holding it from their days'
rows, for every kind that keeps that span (``kinds``), once all their days are listed. Their
rows are plain sums of daily rows, so they are exact by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..sql.arms import week_of
from ..sql.metrics import PARTS
from .arms import RollupStatement, day_statement
from .kinds import KINDS

__all__ = ["SPANS", "Span", "span_statements"]


@dataclass(frozen=True, kw_only=True)
class Span:
    """A span of whole local days summed into coarser rollups (its tables: ``RollupKind.spans``):
    its key column and, as SQL on the date expression ``?3``, its key, its first day, the day
    after it and its number of days."""

    key_column: str
    key: str
    first: str
    after: str
    days: str


SPANS: tuple[Span, ...] = (
    Span(
        key_column="month",
        key="substr(?3, 1, 7)",
        first="date(?3, 'start of month')",
        after="date(?3, 'start of month', '+1 month')",
        days="CAST(strftime('%d', date(?3, 'start of month', '+1 month', '-1 day')) AS INTEGER)",
    ),
    Span(
        key_column="week",
        key=week_of("?3"),
        first=week_of("?3"),
        after=f"date({week_of('?3')}, '+7 days')",
        days="7",
    ),
)


def span_statements() -> list[RollupStatement]:
    """Rebuild the month and the week of the recomputed day from their days' rows, once all
    their days are rolled up (and listed) for timezone ?4 (this day included: these statements
    run after it is listed). Their rows are plain sums of the daily rows, so they are exact by
    construction.
    """
    sums = ", ".join(f"SUM({part})" for part in PARTS)
    out: list[RollupStatement] = []
    for span in SPANS:
        key = span.key_column
        for kind in KINDS:
            if kind.held or key not in kind.spans:
                continue
            rows, listed = kind.spans[key]
            # A listing either names what its rows hold (its days must name the same) or
            # stamps when they were computed.
            column, value, same = "computed_at", "?5", ""
            if kind.marked is not None:
                column, value = kind.marked[0], f"'{kind.marked[1]}'"
                same = f" AND d.{column} = {value}"
            daily, days, keys = kind.daily, kind.days, kind.keys
            complete = (
                f"(SELECT COUNT(*) FROM {days} AS d WHERE d.site_id = ?1 "
                f"AND d.day >= {span.first} AND d.day < {span.after} AND d.tz = ?4{same}) "
                f"= {span.days}"
            )
            out += [
                day_statement(
                    f"DELETE FROM {listed} WHERE site_id = ?1 AND {key} = {span.key}"
                ),
                day_statement(
                    f"DELETE FROM {rows} WHERE site_id = ?1 AND {key} = {span.key}"
                ),
                day_statement(
                    
                        f"INSERT INTO {rows} (site_id, {keys}, {key}, value, {', '.join(PARTS)}) "
                        f"SELECT ?1, {keys}, {span.key}, value, {sums} FROM {daily} "
                        f"WHERE site_id = ?1 AND day >= {span.first} AND day < {span.after} "
                        f"AND {complete} GROUP BY {keys}, value"
                    
                ),
                day_statement(
                    
                        f"INSERT INTO {listed} (site_id, {key}, tz, {column}) "
                        f"SELECT ?1, {span.key}, ?4, {value} WHERE {complete}"
                    
                ),
            ]
    return out
