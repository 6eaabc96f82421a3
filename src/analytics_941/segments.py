"""Saved segments: named filter sets of a site, personal or site-wide (docs/segments.md).

A segment holds Stats API v2 filters (JSON). The API names one as ``["is", "segment", [id]]``;
``expand_segments`` replaces that condition by the segment's own filters (joined with ``and``)
before the query is parsed, so the one query path never sees segments. A personal segment is
seen (and used) by its owner only, a site-wide one by everyone who can read the site.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .exceptions import AnalyticsError, QueryError
from .store import Store

__all__ = [
    "MAX_SEGMENTS",
    "Segment",
    "SegmentError",
    "add_segment",
    "expand_request_segments",
    "expand_segments",
    "list_segments",
    "mentions_segments",
    "remove_segment",
]

MAX_SEGMENTS = 100  # per site
_NAME_MAX = 80


class SegmentError(AnalyticsError):
    """A segment that cannot be saved; the message says why."""


@dataclass(frozen=True, kw_only=True)
class Segment:
    """One saved segment: ``owner_id`` None means site-wide."""

    id: int
    site_id: str
    name: str
    filters: tuple[Any, ...]
    owner_id: str | None

    @property
    def personal(self) -> bool:
        """True when only its owner sees it."""
        return self.owner_id is not None


def _segment(row: Mapping[str, Any]) -> Segment:
    return Segment(id=int(row["id"]), site_id=str(row["site_id"]), name=str(row["name"]),
                   filters=tuple(json.loads(str(row["filters"]))),
                   owner_id=None if row["owner_id"] is None else str(row["owner_id"]))


async def list_segments(store: Store, *, site_id: str, user_id: str | None) -> list[Segment]:
    """The site's segments ``user_id`` may see (site-wide ones, and their own), by name."""
    rows = await store.execute(
        "SELECT id, site_id, name, filters, owner_id FROM segments WHERE site_id = ?1 "
        "AND (owner_id IS NULL OR owner_id = ?2) ORDER BY name, id", [site_id, user_id or ""])
    return [_segment(row) for row in rows]


async def add_segment(
    store: Store, *, site_id: str, name: str, filters: Sequence[Any], owner_id: str | None
) -> Segment:
    """Save a segment; ``filters`` must already be valid v2 filters (the caller parsed them)."""
    name = " ".join(name.split())
    if not name or len(name) > _NAME_MAX:
        raise SegmentError(f"Give the segment a name of 1 to {_NAME_MAX} characters.")
    if not filters:
        raise SegmentError("A segment needs at least one filter: filter the dashboard first.")
    (count,) = await store.execute("SELECT COUNT(*) AS n FROM segments WHERE site_id = ?1",
                                   [site_id])
    if int(count["n"]) >= MAX_SEGMENTS:
        raise SegmentError(f"A site keeps at most {MAX_SEGMENTS} segments: remove one first.")
    rows = await store.execute(
        "INSERT INTO segments (site_id, name, filters, owner_id, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id, site_id, name, filters, owner_id",
        [site_id, name, json.dumps(list(filters), ensure_ascii=False), owner_id,
         int(time.time() * 1000)])
    return _segment(rows[0])


async def remove_segment(
    store: Store, *, site_id: str, segment_id: int, user_id: str, may_remove_shared: bool
) -> Segment | None:
    """Remove a segment the user owns (or a site-wide one, when ``may_remove_shared``)."""
    found = next((s for s in await list_segments(store, site_id=site_id, user_id=user_id)
                  if s.id == segment_id), None)
    if found is None or (not found.personal and not may_remove_shared):
        return None
    await store.execute("DELETE FROM segments WHERE site_id = ?1 AND id = ?2",
                        [site_id, segment_id])
    return found


def mentions_segments(filters: Any) -> bool:
    """True when a request's filters name ``segment`` anywhere."""
    return '"segment"' in json.dumps(filters, ensure_ascii=False)


def expand_segments(filters: Any, segments: Sequence[Segment]) -> Any:
    """``filters`` with each ``["is", "segment", [ids]]`` replaced by its segments' filters
    (``and`` within a segment, ``or`` across several ids); raise ``QueryError`` for an id the
    caller cannot see. Anything else is left for the query's own parser to judge."""
    known = {segment.id: segment for segment in segments}

    def one(segment_id: Any) -> Any:
        found = known.get(segment_id) if isinstance(segment_id, int) else None
        if found is None:
            raise QueryError(code="invalid_filters", message=f"filters: no segment {segment_id!r}"
                             " of this site that you may use")
        return ["and", list(found.filters)]

    def walk(node: Any) -> Any:
        if not isinstance(node, list) or not node:
            return node
        if node[0] == "is" and len(node) >= 3 and node[1] == "segment":
            ids = node[2] if isinstance(node[2], list) else [node[2]]
            if not ids:
                raise QueryError(code="invalid_filters",
                                 message="filters: a segment filter names a segment id")
            parts = [one(i) for i in ids]
            return parts[0] if len(parts) == 1 else ["or", parts]
        if node[0] in ("and", "or") and len(node) == 2 and isinstance(node[1], list):
            return [node[0], [walk(child) for child in node[1]]]
        if node[0] == "not" and len(node) == 2:
            return ["not", walk(node[1])]
        return node

    return [walk(node) for node in filters] if isinstance(filters, list) else filters


async def expand_request_segments(
    store: Store, body: Mapping[str, Any], *, site_id: str, user_id: str | None
) -> Mapping[str, Any]:
    """A v2 request ``body`` with its segment filters expanded for ``user_id`` (the body itself
    when it names none: no look-up then). Both the v2 and the v1 endpoints call this."""
    if not mentions_segments(body.get("filters")):
        return body
    segments = await list_segments(store, site_id=site_id, user_id=user_id)
    return {**body, "filters": expand_segments(body.get("filters"), segments)}
