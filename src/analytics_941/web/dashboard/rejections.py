"""What the collector turned away in a period, shaped for the dashboard's Rejected events card."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...store import Row as StoreRow
from ...words import category_label, reason_label

__all__ = ["DropGroup", "Rejections", "rejections"]


@dataclass(frozen=True, kw_only=True)
class DropGroup:
    """Rejected requests of one reason, and per category (bot kind, rate-limit bucket) the counts,
    most first."""

    reason: str
    label: str
    count: int
    categories: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Rejections:
    """What the collector turned away in the period (UTC days): the total and each reason."""

    total: int
    groups: list[DropGroup]


def rejections(rows: list[StoreRow]) -> Rejections:
    """Shape ``drops_statement`` rows (reason, category, count; most first) for the template."""
    counts: dict[str, int] = {}
    categories: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        reason, category = str(row["reason"]), str(row["category"] or "")
        count = int(row["count"] or 0)
        if count <= 0:
            continue
        counts[reason] = counts.get(reason, 0) + count
        if category:
            categories.setdefault(reason, []).append((category_label(reason, category), count))
    groups = [
        DropGroup(reason=reason, count=count, categories=categories.get(reason, []),
                  label=reason_label(reason, count=count))
        for reason, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return Rejections(total=sum(counts.values()), groups=groups)
