"""Plausible's CSV export read into rows of ``imported_daily``: parts per dimension, day, value.

Plausible's export is a zip of up to ten files named ``imported_<table>_<YYYYMMDD>_<YYYYMMDD>.csv``
(its docs' "CSV format guidelines"). Each table becomes rows of one or more of our dimensions,
with the values stored as the collector stores them (``Desktop`` → ``desktop``, an empty source →
``Direct / None``), so native and imported rows group and filter alike.

Everything in the files is untrusted: counts must be whole numbers within ``MAX_COUNT``, days
within ``MIN_DAY`` and tomorrow, strings at most ``MAX_TEXT`` characters without control
characters; the first bad cell refuses the whole import with a message naming file and line.
Sizes are bounded before reading (``MAX_UNPACKED``, ``MAX_ROWS``) so a zip bomb cannot exhaust
memory.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

from .exceptions import AnalyticsError
from .plausible_values import view_for
from .unsafe_chars import UNSAFE

__all__ = [
    "IMPORTED_DIMENSIONS",
    "IMPORTED_PROPS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "MAX_UNPACKED",
    "PARTS",
    "ImportError_",
    "ImportedRows",
    "prop_dim",
    "read_export",
]

# The parts an imported row holds (rollup_daily's sums that imported aggregates can give).
PARTS = ("visitors", "pageviews", "events", "visits", "bounces", "duration_ms",
         "visit_pageviews")
# The largest export accepted, as uploaded or given to the command line.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNPACKED = 200 * 1024 * 1024
MAX_ROWS = 2_000_000
MAX_TEXT = 2000
MAX_COUNT = 10**12
MIN_DAY = date(2000, 1, 1)
_NAME = re.compile(r"^(?:.*/)?(imported_[a-z_]+)_(\d{8})_(\d{8})\.csv$")

# Plausible table -> {our dimension: its column} (None: the table holds totals, dim '').
_DIMS: dict[str, dict[str, str]] = {
    "imported_visitors": {"": ""},
    "imported_sources": {"source": "source", "referrer": "referrer",
                         **{f"utm_{k}": f"utm_{k}"
                            for k in ("source", "medium", "campaign", "content", "term")}},
    "imported_pages": {"page": "page", "hostname": "hostname"},
    "imported_entry_pages": {"entry_page": "entry_page"},
    "imported_exit_pages": {"exit_page": "exit_page"},
    "imported_custom_events": {"event:name": "name"},
    # Plausible's region is the ISO 3166-2 code (visit:region); its city, a GeoNames id, has no
    # name to join the collector's city names with, so it is not imported (docs/imports.md).
    "imported_locations": {"country": "country", "region_code": "region"},
    "imported_devices": {"device": "device"},
    "imported_browsers": {"browser": "browser", "browser_version": "browser_version"},
    "imported_operating_systems": {"os": "operating_system",
                                   "os_version": "operating_system_version"},
}
IMPORTED_DIMENSIONS = frozenset(d for dims in _DIMS.values() for d in dims if d)
# The event properties Plausible exports with its custom events (column -> property key): the
# link of its link and file goals, the path of its 404 and form goals. Kept per event name, as
# ``prop_dim(key, name)`` rows, since they mean something only under the event's name.
_PROPS = {"link_url": "url", "path": "path"}
IMPORTED_PROPS: dict[str, tuple[str, ...]] = {
    "url": ("Outbound Link: Click", "Cloaked Link: Click", "File Download"),
    "path": ("404", "WP Form Completions", "Form: Submission"),
}
# What an empty value is stored as (the collector's missing labels).
_MISSING = {"source": "Direct / None", "referrer": "Direct / None", "country": "Unknown",
            "region_code": "Unknown", "device": "Unknown", "browser": "Unknown", "os": "Unknown",
            "browser_version": "Unknown", "os_version": "Unknown",
            **{f"utm_{k}": "(none)" for k in ("source", "medium", "campaign", "content", "term")}}
# Versions as the collector stores them: the major version (``131.0`` -> ``131``).
_MAJOR = frozenset({"browser_version", "os_version"})
# Plausible's names for our dimensions, whose values it shows its own way (plausible_values).
_PLAUSIBLE_NAME = {"device": "visit:device", "browser": "visit:browser", "os": "visit:os"}


class ImportError_(AnalyticsError):
    """The file cannot be imported; the message says what to fix."""


@dataclass(frozen=True)
class ImportedRows:
    """An export read: rows ``(dim, day, value, *PARTS)``, the days covered and an id."""

    rows: tuple[tuple[object, ...], ...]
    first_day: str
    last_day: str
    pageviews: int

    @cached_property
    def id(self) -> str:
        """A hash of the rows: the same data imported twice has the same id (computed once)."""
        text = json.dumps(self.rows, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _count(value: str, *, where: str) -> int:
    text = (value or "0").strip()
    if not text.isdigit() or int(text) > MAX_COUNT:
        raise ImportError_(f"{where}: {text[:20]!r} is not a whole number from 0 to {MAX_COUNT:,}")
    return int(text)


def _text(value: str, *, where: str) -> str:
    if len(value) > MAX_TEXT:
        raise ImportError_(f"{where}: a value is longer than {MAX_TEXT} characters")
    if UNSAFE.search(value):
        raise ImportError_(f"{where}: a value holds control characters (or bidi controls, line "
                           "separators, lone surrogates)")
    return value.strip()


def prop_dim(key: str, name: str) -> str:
    """The ``imported_daily.dim`` of property ``key`` under the custom event ``name``."""
    return f"event:props:{key}@{name}"


def _stored(dim: str, value: str) -> str:
    """The value as the collector would store it."""
    if not value or value == "(not set)":
        return _MISSING.get(dim, "")
    if dim in ("country", "region_code"):
        return value.upper()
    if dim in _MAJOR:
        return value.split(".", 1)[0]
    view = view_for(_PLAUSIBLE_NAME.get(dim, ""))
    stored = view.stored_for(value) if view is not None else None
    return sorted(stored)[0] if stored else value


def _parts(table: str, row: Mapping[str, str], *, where: str) -> dict[str, int]:
    get = {k: _count(row.get(k, ""), where=f"{where} column {k}")
           for k in ("visitors", "visits", "pageviews", "bounces", "visit_duration", "entrances",
                     "exits", "events")}
    visits = get["entrances"] if table == "imported_entry_pages" else (
        get["exits"] if table == "imported_exit_pages" else get["visits"])
    pageviews = get["pageviews"]
    events = get["events"] if table == "imported_custom_events" else pageviews
    return {"visitors": get["visitors"], "pageviews": pageviews, "events": events,
            "visits": visits, "bounces": get["bounces"],
            "duration_ms": get["visit_duration"] * 1000, "visit_pageviews": pageviews}


def _keys(table: str, row: Mapping[str, str], *, where: str) -> list[tuple[str, str]]:
    """The ``(dim, value)`` rows one line of ``table`` adds to."""
    keys = [(dim, "" if not dim else _stored(dim, _text(row.get(column) or "", where=where)))
            for dim, column in _DIMS[table].items()]
    if table == "imported_custom_events":
        name = _text(row.get("name") or "", where=where)
        for column, key in _PROPS.items():
            value = _text(row.get(column) or "", where=where)
            if value:
                keys.append((prop_dim(key, name), value))
    return keys


def _read_table(table: str, text: str, *, file: str, today: date,
                into: dict[tuple[str, str, str], list[int]], budget: list[int]) -> None:
    reader = csv.DictReader(io.StringIO(text))
    for line, row in enumerate(reader, start=2):
        where = f"{file} line {line}"
        budget[0] -= 1
        if budget[0] < 0:
            raise ImportError_(f"the export has more than {MAX_ROWS:,} rows")
        if None in row:
            raise ImportError_(f"{where}: more cells than columns")
        try:
            day = date.fromisoformat(_text(row.get("date") or "", where=where))
        except ValueError:
            raise ImportError_(f"{where}: the date is not YYYY-MM-DD") from None
        if not MIN_DAY <= day <= today + timedelta(days=1):
            raise ImportError_(f"{where}: {day.isoformat()} is outside {MIN_DAY.isoformat()} "
                               "to tomorrow")
        parts = _parts(table, row, where=where)
        for dim, value in _keys(table, row, where=where):
            key = (dim, day.isoformat(), value)
            sums = into.setdefault(key, [0] * len(PARTS))
            for i, part in enumerate(PARTS):
                sums[i] = min(sums[i] + parts[part], MAX_COUNT)


def read_files(files: Iterable[tuple[str, bytes]], *, today: date) -> ImportedRows:
    """Read Plausible CSV files given as ``(name, content)``; raise ``ImportError_``."""
    into: dict[tuple[str, str, str], list[int]] = {}
    budget = [MAX_ROWS]
    seen = []
    for name, content in files:
        match = _NAME.match(name)
        if match is None:
            continue  # a README or a folder entry: not a table
        table = match.group(1)
        if table not in _DIMS:
            raise ImportError_(f"{name}: {table} is not one of Plausible's ten tables")
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportError_(f"{name}: not UTF-8 text") from None
        try:
            _read_table(table, text, file=name.rsplit("/", 1)[-1], today=today, into=into,
                        budget=budget)
        except csv.Error as exc:
            raise ImportError_(f"{name}: not a readable CSV file ({exc})") from None
        seen.append(table)
    if not seen:
        raise ImportError_("no imported_<table>_<YYYYMMDD>_<YYYYMMDD>.csv file was found")
    if "imported_visitors" not in seen:
        raise ImportError_("imported_visitors_….csv is missing: it holds the totals")
    rows = tuple((*key, *into[key]) for key in sorted(into))
    days = sorted({day for _, day, _ in into})
    if not days:
        raise ImportError_("the files hold no rows")
    at = PARTS.index("pageviews")
    pageviews = sum(sums[at] for (dim, _, _), sums in into.items() if dim == "")
    return ImportedRows(rows=rows, first_day=str(days[0]), last_day=str(days[-1]),
                        pageviews=pageviews)


def read_export(data: bytes, *, file_name: str, today: date) -> ImportedRows:
    """Read a Plausible export: a zip of CSV files, or one CSV file."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return read_files([(file_name, data)], today=today)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if sum(i.file_size for i in infos) > MAX_UNPACKED:
            raise ImportError_(f"the zip unpacks to more than {MAX_UNPACKED // 2**20} MB")
        # Read at most the declared size: a forged header cannot make a member larger.
        files = [(i.filename, archive.open(i).read(i.file_size + 1)[: i.file_size + 1])
                 for i in infos]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError):
        raise ImportError_("the zip file cannot be read") from None
    if any(len(content) > info.file_size for (_, content), info in zip(files, infos,
                                                                        strict=True)):
        raise ImportError_("the zip file's sizes do not match its content")
    return read_files(files, today=today)
