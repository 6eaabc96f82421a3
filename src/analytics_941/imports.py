"""A site's imports: write an export's rows, list the imports, remove one (docs/imports.md).

Writes are bounded for D1: rows travel as ONE JSON parameter per statement (``CHUNK`` rows), a
few statements per batch. The listing row is written ``writing`` first and ``done`` last, and
readers take only ``done`` imports, so a write cut short is never read (and the next attempt of
the same file finishes it: its rows are keyed by the import's id). Removal takes the listing
out first, then deletes the rows a month at a time.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, timedelta

from .imports_csv import PARTS, ImportedRows, ImportError_
from .store import Statement, Store

__all__ = ["CHUNK", "Import", "ImportResult", "list_imports", "remove_import", "write_import"]

CHUNK = 400
_PER_BATCH = 10
_COLUMNS = ("dim", "day", "value", *PARTS)
_INSERT = (
    f"INSERT OR REPLACE INTO imported_daily (site_id, import_id, {', '.join(_COLUMNS)}) "
    "SELECT ?1, ?2, "
    + ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(_COLUMNS)))
    + " FROM json_each(?3)"
)
_FIELDS = "id, file_name, first_day, last_day, pageviews, rows, status, created_at"


@dataclass(frozen=True, kw_only=True)
class Import:
    """One import of a site, as listed in its settings."""

    id: str
    file_name: str
    first_day: str
    last_day: str
    pageviews: int
    rows: int
    done: bool
    created_at: int


@dataclass(frozen=True, kw_only=True)
class ImportResult:
    """What ``write_import`` did: the import, and False when the same data was already in."""

    entry: Import
    written: bool


def _entry(row: dict[str, object]) -> Import:
    return Import(id=str(row["id"]), file_name=str(row["file_name"]),
                  first_day=str(row["first_day"]), last_day=str(row["last_day"]),
                  pageviews=int(str(row["pageviews"])), rows=int(str(row["rows"])),
                  done=row["status"] == "done", created_at=int(str(row["created_at"])))


async def list_imports(store: Store, *, site_id: str) -> list[Import]:
    """The site's imports, newest first (unfinished ones included, marked ``done=False``)."""
    rows = await store.execute(
        f"SELECT {_FIELDS} FROM imports WHERE site_id = ?1 ORDER BY created_at DESC, id",
        [site_id])
    return [_entry(dict(row)) for row in rows]


async def write_import(
    store: Store, *, site_id: str, data: ImportedRows, file_name: str
) -> ImportResult:
    """Store ``data`` for the site; the same data a second time changes nothing.

    Raises ``ImportError_`` when its days overlap another import of the site: the two would be
    counted twice.
    """
    found = {entry.id: entry for entry in await list_imports(store, site_id=site_id)}
    same = found.get(data.id)
    if same is not None and same.done:
        return ImportResult(entry=same, written=False)
    for other in found.values():
        if other.id != data.id and other.first_day <= data.last_day \
                and data.first_day <= other.last_day:
            raise ImportError_(
                f"its days ({data.first_day} to {data.last_day}) overlap the import "
                f"{other.file_name} ({other.first_day} to {other.last_day}); remove that one "
                "first")
    now = int(time.time() * 1000)
    name = file_name[-200:]
    await store.execute(
        "INSERT OR REPLACE INTO imports (site_id, id, file_name, first_day, last_day, pageviews, "
        "rows, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'writing', ?8)",
        [site_id, data.id, name, data.first_day, data.last_day, data.pageviews,
         len(data.rows), now])
    statements: list[Statement] = [
        (_INSERT, [site_id, data.id,
                   json.dumps(data.rows[at : at + CHUNK], separators=(",", ":"),
                              ensure_ascii=False)])
        for at in range(0, len(data.rows), CHUNK)
    ]
    for at in range(0, len(statements), _PER_BATCH):
        await store.batch(statements[at : at + _PER_BATCH])
    await store.execute("UPDATE imports SET status = 'done' WHERE site_id = ?1 AND id = ?2",
                        [site_id, data.id])
    entry = Import(id=data.id, file_name=name, first_day=data.first_day,
                   last_day=data.last_day, pageviews=data.pageviews, rows=len(data.rows),
                   done=True, created_at=now)
    return ImportResult(entry=entry, written=True)


async def remove_import(store: Store, *, site_id: str, import_id: str) -> Import | None:
    """Remove one import and its rows; None when the site has no such import."""
    entry = next((e for e in await list_imports(store, site_id=site_id) if e.id == import_id),
                 None)
    if entry is None:
        return None
    # The listing goes first: from then on no reader counts the rows still being deleted.
    await store.execute("DELETE FROM imports WHERE site_id = ?1 AND id = ?2",
                        [site_id, import_id])
    first, last = date.fromisoformat(entry.first_day), date.fromisoformat(entry.last_day)
    statements: list[Statement] = []
    day = first
    while day <= last:
        end = min(day + timedelta(days=30), last)
        statements.append((
            "DELETE FROM imported_daily WHERE site_id = ?1 AND import_id = ?2 "
            "AND day >= ?3 AND day <= ?4", [site_id, import_id, day.isoformat(), end.isoformat()]))
        day = end + timedelta(days=1)
    for at in range(0, len(statements), _PER_BATCH):
        await store.batch(statements[at : at + _PER_BATCH])
    return entry
